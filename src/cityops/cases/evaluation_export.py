"""An evaluation as a table — what the page shows, and the same table as CSV and Excel: the page's columns with
their headings in the viewer's language, names (never codes or logins), rates as percentages, the rank, score and
grade of a scored evaluation (样本不足 below the minimum of due items), and a title row with the period and the
time it was generated."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal

from django.http import HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _

from cityops.accounts.models import OrgUnit
from cityops.cases.evaluation import EVALUATIONS, INSUFFICIENT
from cityops.core.spreadsheet import csv_text, defuse

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PERCENT_FORMAT = "0.0%"
SCORE_FORMAT = "0.00"


@dataclass(frozen=True)
class Cell:
    value: object  # a number, a text, or None (nothing to show)
    fmt: str = ""  # "rate" (a fraction shown as a percentage), "score", "grade", "rank" or ""

    @property
    def text(self) -> str:
        """The cell as the page and the CSV show it: a rate as 93.5% (rounded half up, as Excel rounds)."""
        if self.value is None or self.value == "":
            return ""
        if self.fmt == "rate":
            return f"{Decimal(str(self.value * 100)).quantize(Decimal('0.1'), ROUND_HALF_UP)}%"
        if self.fmt == "score":
            return f"{self.value:.2f}"
        return str(self.value)


@dataclass(frozen=True)
class Table:
    title: str
    headers: list[str]
    rows: list[list[Cell]]
    sheet: str = ""  # the worksheet's name when a file holds several tables


def _tables(tables: Table | Sequence[Table]) -> list[Table]:
    return [tables] if isinstance(tables, Table) else list(tables)


def title(kind: str, *, start: date, end: date, generated: datetime) -> str:
    return _("%(name)s 综合评价 %(start)s–%(end)s  生成于 %(generated)s") % {
        "name": EVALUATIONS[kind].label, "start": start.isoformat(), "end": end.isoformat(),
        "generated": timezone.localtime(generated).strftime("%Y-%m-%d %H:%M"),
    }


def _value(row: dict, key: str, fmt: str):
    value = row.get(key)
    if fmt == "kind" and value:
        return str(OrgUnit.Kind(value).label) if value in OrgUnit.Kind.values else value
    return value


def grade_text(row: dict) -> str:
    if not row.get("sample_ok", True):
        return str(INSUFFICIENT)
    return row.get("grade") or ""


def evaluation_table(kind: str, rows: list[dict], *, start: date, end: date, generated: datetime | None = None) -> Table:
    """The table of evaluation `kind` for rows the viewer may read (cases.selectors.evaluation_rows)."""
    chosen = EVALUATIONS[kind]
    headers = [str(c.label) for c in chosen.columns]
    if chosen.scored:
        headers = [_("排名"), *headers, _("得分"), _("等级")]
    body = []
    for row in rows:
        cells = [Cell(_value(row, c.key, c.fmt), "rate" if c.fmt == "rate" else "") for c in chosen.columns]
        if chosen.scored:
            cells = [Cell(row.get("rank"), "rank"), *cells, Cell(row.get("score"), "score"),
                     Cell(grade_text(row), "grade")]
        body.append(cells)
    return Table(title(kind, start=start, end=end, generated=generated or timezone.now()), headers, body)


def to_csv(tables: Table | Sequence[Table]) -> str:
    """UTF-8 with a BOM, so that Excel opens the Chinese text correctly: the title row, the headings, the rows;
    several tables one after another, an empty row between them."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for n, table in enumerate(_tables(tables)):
        if n:
            writer.writerow([])
        writer.writerow([table.title])
        writer.writerow(table.headers)
        for row in table.rows:
            writer.writerow([csv_text(cell.text) if isinstance(cell.value, str) else cell.text for cell in row])
    return "\ufeff" + buffer.getvalue()


def to_xlsx(tables: Table | Sequence[Table], *, sheet: str = "evaluation") -> bytes:
    """One sheet per table (named `sheet`, or the table's own sheet name): the title row (merged over the columns),
    the headings, the rows — numbers as numbers, rates as fractions shown in percent format, scores with two
    decimals."""
    from openpyxl import Workbook

    wb = Workbook()
    for n, table in enumerate(_tables(tables)):
        ws = wb.active if n == 0 else wb.create_sheet()
        ws.title = (table.sheet or (sheet if n == 0 else f"{sheet}{n + 1}"))[:31]
        _fill(ws, table)
    defuse(wb)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _fill(ws, table: Table) -> None:
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    ws.append([table.title])
    ws.cell(row=1, column=1).font = Font(bold=True, size=13)
    if len(table.headers) > 1:
        ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(table.headers))
    ws.append(table.headers)
    for cell in ws[2]:
        cell.font = Font(bold=True)
    for row in table.rows:
        ws.append([cell.value if cell.value != "" else None for cell in row])
        for cell, out in zip(row, ws[ws.max_row], strict=True):
            if cell.fmt == "rate":
                out.number_format = PERCENT_FORMAT
            elif cell.fmt == "score":
                out.number_format = SCORE_FORMAT
    for n, heading in enumerate(table.headers, start=1):
        ws.column_dimensions[get_column_letter(n)].width = max(8, 2 * len(heading) + 2)
    ws.freeze_panes = "A3"


def export_response(tables: Table | Sequence[Table], fmt: str, *, filename: str) -> HttpResponse:
    """The table (or tables) as a download: fmt "csv" or "xlsx"."""
    if fmt == "csv":
        response = HttpResponse(to_csv(tables), content_type="text/csv; charset=utf-8")
    else:
        response = HttpResponse(to_xlsx(tables), content_type=XLSX_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{filename}.{fmt}"'
    return response
