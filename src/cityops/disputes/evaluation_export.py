"""The evaluation of dispute resolution as tables — what the page shows (/disputes/evaluation/), and the same tables
as CSV and Excel through the cases evaluation's helpers (cases.evaluation_export: Cell, Table, the files): one table
per centre, committee, mediator and campaign block, headings in the viewer's language, names (never codes), rates as
percentages (the same rounding on the page and in the files), a title row with the period and the time it was
generated."""

from __future__ import annotations

from datetime import date, datetime

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext

from cityops.cases.evaluation_export import Cell, Table

# (key in evaluation.evaluate's rows, heading, format) — the page's columns.
ROW_COLUMNS = (
    ("name", gettext_lazy("名称"), ""), ("finished", gettext_lazy("调解结束"), ""),
    ("agreements", gettext_lazy("达成协议"), ""), ("success_rate", gettext_lazy("调解成功率"), "rate"),
    ("on_time_rate", gettext_lazy("按期调解率"), "rate"), ("confirmation_rate", gettext_lazy("司法确认率"), "rate"),
    ("performance_rate", gettext_lazy("履行率"), "rate"), ("escalations", gettext_lazy("升级"), ""),
    ("local_rate", gettext_lazy("属地化解率"), "rate"),
)
CAMPAIGN_COLUMNS = (
    ("name", gettext_lazy("行动"), ""), ("starts_on", gettext_lazy("开始日期"), ""),
    ("ends_on", gettext_lazy("结束日期"), ""), ("visits", gettext_lazy("走访次数"), ""),
    ("households_visited", gettext_lazy("走访户数"), ""), ("households", gettext_lazy("总户数"), ""),
    ("coverage", gettext_lazy("覆盖率"), "rate"), ("disputes_found", gettext_lazy("发现纠纷"), ""),
    ("cases_found", gettext_lazy("发现城市事件"), ""),
    ("yield_per_100", gettext_lazy("每百次走访发现"), "score"),  # two decimals, on the page and in Excel
    ("note", gettext_lazy("备注"), ""),
)


def _blocks() -> list[tuple[str, str]]:
    """(key of evaluation.evaluate's result, the block's name), in the page's order."""
    return [("centres", pgettext("evaluation table", "调处中心")),
            ("committees", pgettext("evaluation table", "调解组织")),
            ("mediators", pgettext("evaluation table", "调解员")),
            ("campaigns", _("排查化解行动"))]


def _title(block: str, *, start: date, end: date, generated: datetime) -> str:
    return _("%(block)s 调解工作评价 %(start)s–%(end)s  生成于 %(generated)s") % {
        "block": block, "start": start.isoformat(), "end": end.isoformat(),
        "generated": timezone.localtime(generated).strftime("%Y-%m-%d %H:%M"),
    }


def _campaign_row(row: dict) -> dict:
    return {**row, "note": _("户数含估算") if row.get("households_estimated") else ""}


def evaluation_tables(rows: dict, *, start: date, end: date, campaigns: bool,
                      generated: datetime | None = None) -> list[tuple[str, Table]]:
    """(block key, table) for each block of evaluation.evaluate's `rows` the viewer may read; the campaigns' block
    only when `campaigns` (the centre's and the city's work, not a committee's)."""
    generated = generated or timezone.now()
    out = []
    for key, name in _blocks():
        if key == "campaigns" and not campaigns:
            continue
        columns = CAMPAIGN_COLUMNS if key == "campaigns" else ROW_COLUMNS
        listed = [_campaign_row(r) for r in rows.get(key, [])] if key == "campaigns" else rows.get(key, [])
        body = [[Cell(r.get(column), fmt) for column, _heading, fmt in columns] for r in listed]
        out.append((key, Table(_title(name, start=start, end=end, generated=generated),
                               [str(heading) for _column, heading, _fmt in columns], body, sheet=name)))
    return out
