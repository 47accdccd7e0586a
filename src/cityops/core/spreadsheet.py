"""Files a spreadsheet opens (CSV, xlsx) carry text typed by users — a campaign's name, a case's place, a dispute's
title. A text that begins like a formula would run as one in the reader's Excel or WPS (=HYPERLINK(…) sending the
row elsewhere, =cmd|… in old versions): OWASP's "CSV injection". Every export passes its text through here."""

from __future__ import annotations

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_text(value):
    """A CSV field: a text beginning like a formula is given a leading apostrophe, which spreadsheets show as text
    (numbers, already numbers, are left alone)."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def defuse(workbook) -> None:
    """No cell of the workbook is a formula: openpyxl stores a text beginning with "=" as one; it is kept as the
    text it is. (cityops's workbooks hold figures and text only; a chart reads its cells, not formulas.)"""
    for ws in workbook.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                if cell.data_type == "f":
                    cell.data_type = "s"
