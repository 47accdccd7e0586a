"""The Excel and CSV exports are the page's table (issue 12 §2): its columns and headings (Chinese, English with
the English UI), names not codes, rates as percentages, rank/score/grade with 样本不足, and a title row with the
period and the generation time — opened with openpyxl and the csv module and compared cell by cell with the page."""

import csv
import io
from decimal import ROUND_HALF_UP, Decimal
from html.parser import HTMLParser

import pytest
from django.test import Client
from openpyxl import load_workbook

from cityops.cases.tests.test_evaluation import at, scenario  # noqa: F401 — the hand-computed scenario

pytestmark = pytest.mark.django_db
NOV = {"from": "2026-11-01", "to": "2026-11-30"}
KINDS = ("departments", "dispatchers", "shift_leads", "field_workers", "regions", "hotline")


@pytest.fixture(autouse=True)
def _three_due_items_suffice(settings):
    # HW (3 due) is graded, CG (1 due) is 样本不足: both kinds of row in one table.
    settings.CITYOPS_CASE_EVAL_MIN_DUE = 3


class _Table(HTMLParser):
    """The caption, headings and cell texts of the page's #evaluation-table."""

    def __init__(self):
        super().__init__()
        self.inside, self.cell, self.caption, self.headers, self.rows = False, None, "", [], []

    def handle_starttag(self, tag, attrs):
        if tag == "table" and dict(attrs).get("id") == "evaluation-table":
            self.inside = True
        elif self.inside and tag in ("caption", "th", "td"):
            self.cell = [tag, ""]
        elif self.inside and tag == "tr" and self.headers:
            self.rows.append([])

    def handle_endtag(self, tag):
        if tag == "table":
            self.inside = False
        elif self.inside and self.cell and tag == self.cell[0]:
            kind, text = self.cell
            text = text.strip()
            if kind == "caption":
                self.caption = text
            elif kind == "th":
                self.headers.append(text)
            else:
                self.rows[-1].append(text)
            self.cell = None

    def handle_data(self, data):
        if self.cell is not None:
            self.cell[1] += data


def page_table(client, kind, params=None, **extra):
    parser = _Table()
    parser.feed(client.get("/cases/evaluation/", {"kind": kind, **NOV, **(params or {})}, **extra).content.decode())
    return parser.caption, parser.headers, [r for r in parser.rows if r and "该时段没有数据" not in r[0]]


def shown(cell) -> str:
    """An Excel cell as Excel shows it: percent format → 66.7%, two decimals for scores, nothing → the page's —."""
    if cell.value is None:
        return "—"
    if "%" in cell.number_format:
        return f"{Decimal(str(cell.value * 100)).quantize(Decimal('0.1'), ROUND_HALF_UP)}%"
    if cell.number_format == "0.00":
        return f"{cell.value:.2f}"
    return str(cell.value)


def workbook_table(data: bytes):
    sheet = load_workbook(io.BytesIO(data)).active
    rows = list(sheet.iter_rows())
    return rows[0][0].value, [c.value for c in rows[1]], rows[2:], sheet


def csv_table(text: str):
    assert text.startswith("\ufeff")  # Excel opens UTF-8 Chinese with the BOM
    rows = list(csv.reader(io.StringIO(text[1:])))
    return rows[0][0], rows[1], [[value or "—" for value in row] for row in rows[2:]]


@pytest.fixture
def leader_client(scenario, leader, clock):  # noqa: F811
    clock(at(30, 16, 5))  # when the tables are generated
    client = Client()
    client.force_login(leader)
    return client


def test_the_workbook_is_the_page(leader_client, api_client_for, leader):
    for kind in KINDS:
        caption, headers, rows = page_table(leader_client, kind)
        title, xlsx_headers, xlsx_rows, _sheet = workbook_table(
            leader_client.get("/cases/evaluation/export.xlsx", {"kind": kind, **NOV}).content)
        assert title == caption, kind
        assert xlsx_headers == headers, kind
        assert [[shown(c) for c in row] for row in xlsx_rows] == rows, kind
        assert rows, kind  # the scenario gives every evaluation rows
        api = api_client_for(leader).get(f"/api/v1/evaluation/{kind}", {**NOV, "format": "xlsx"})
        assert api["Content-Type"].startswith("application/vnd.openxmlformats")
        _title, api_headers, api_rows, _ = workbook_table(api.content)
        assert api_headers == headers and [[shown(c) for c in row] for row in api_rows] == rows, kind


def test_the_csv_is_the_page(leader_client, api_client_for, leader):
    for kind in KINDS:
        caption, headers, rows = page_table(leader_client, kind)
        response = leader_client.get("/cases/evaluation/export.csv", {"kind": kind, **NOV})
        assert response["Content-Type"].startswith("text/csv")
        assert csv_table(response.content.decode("utf-8")) == (caption, headers, rows), kind
        api = api_client_for(leader).get(f"/api/v1/evaluation/{kind}", {**NOV, "format": "csv"})
        assert csv_table(api.content.decode("utf-8"))[1:] == (headers, rows), kind


def test_the_department_table_by_hand(leader_client):
    title, headers, rows, sheet = workbook_table(
        leader_client.get("/cases/evaluation/export.xlsx", {"kind": "departments", **NOV}).content)
    assert title == "专业部门 综合评价 2026-11-01–2026-11-30  生成于 2026-11-30 16:05"
    assert headers == ["排名", "单位", "类型", "应处置", "其中协办", "已处置", "处置率", "按期处置率", "结案率", "返工率",
                       "超期待处置", "超期待处置率", "延期率", "收到督办", "得分", "等级"]
    hw, cg = ([c.value for c in row] for row in rows)
    # HW (test_evaluation.test_department_scores): 3 due, 2 handled, 1 on time, 2 closed, 1 rework, 1 overdue
    # unhandled, 1 extension → 60 points, grade C; names, never codes; rates as fractions in percent format.
    # No supervision order (督办单) was issued in this scenario: 0 received, beside the score (not part of it).
    assert hw == [1, "环境卫生管理处", "专业部门", 3, 0, 2, 0.6667, 0.3333, 0.6667, 0.3333, 1, 0.3333, 0.3333, 0, 60.0,
                  "C"]
    assert [c.number_format for c in rows[0][6:13]] == ["0.0%"] * 4 + ["General", "0.0%", "0.0%"]
    # CG: one case, handled in time — 100 points, but 样本不足: no rank, no grade.
    assert cg == [None, "城市管理执法局", "专业部门", 1, 0, 1, 1.0, 1.0, 0.0, 0.0, 0, 0.0, 0.0, 0, 100.0, "样本不足"]
    _caption, _headers, page_rows = page_table(leader_client, "departments")
    assert page_rows[0][6:8] == ["66.7%", "33.3%"] and page_rows[1][0] == "—" and page_rows[1][-1] == "样本不足"
    assert [str(r) for r in sheet.merged_cells.ranges] == ["A1:P1"]


def test_english_headings_with_the_english_ui(leader_client):
    caption, headers, rows = page_table(leader_client, "departments", HTTP_ACCEPT_LANGUAGE="en")
    title, xlsx_headers, xlsx_rows, _ = workbook_table(leader_client.get(
        "/cases/evaluation/export.xlsx", {"kind": "departments", **NOV}, HTTP_ACCEPT_LANGUAGE="en").content)
    assert xlsx_headers == headers and title == caption
    assert title == "Department evaluation 2026-11-01–2026-11-30  generated 2026-11-30 16:05"
    assert headers[:4] == ["Rank", "Unit", "Kind", "Due"] and "Handling rate" in headers and headers[-1] == "Grade"
    assert [shown(c) for c in xlsx_rows[0]][1:3] == ["Sanitation Department", "Department"]
    assert [shown(c) for c in xlsx_rows[1]][-1] == "Insufficient sample"


def _scored_cells(rows) -> list[list[str]]:
    """Rank, name, score and grade of each row of a regions table as the page shows them."""
    return [[row[0], row[1], row[-2], row[-1]] for row in rows]


@pytest.mark.parametrize("level", ["district", "grid"])
def test_the_regions_carry_the_score_of_score_regions_on_the_page_and_in_the_exports(leader_client, level):
    """The regions' score (evaluation.score_regions, the one that colours the dashboard's areas) is on the regions
    page, its workbook and its CSV as on the departments' page: rank first, score and grade last, ranked among all
    regions of the level. District: 420106 — 结案率 2/6, 按期结案率 2/6, 监督举报率 5/6 → 13.33 + 13.33 + 3.33 = 30.00,
    E. Grids: 42010600100101 (5 registered) ranked; 42010600100201 (1 registered) 样本不足 (the minimum here: 3)."""
    from datetime import date

    from cityops.cases.evaluation import evaluate_regions, score_regions

    expected = score_regions(evaluate_regions(start=date(2026, 11, 1), end=date(2026, 11, 30), level=level))
    want = [[str(r["rank"]) if r["rank"] else "—", r["name"], f"{r['score']:.2f}",
             r["grade"] if r["sample_ok"] else "样本不足"] for r in expected]
    _caption, headers, rows = page_table(leader_client, "regions", {"level": level})
    assert headers[:2] == ["排名", "区域"] and headers[-2:] == ["得分", "等级"]
    assert _scored_cells(rows) == want
    query = {"kind": "regions", "level": level, **NOV}
    _title, xlsx_headers, xlsx_rows, _sheet = workbook_table(
        leader_client.get("/cases/evaluation/export.xlsx", query).content)
    assert xlsx_headers == headers and _scored_cells([[shown(c) for c in row] for row in xlsx_rows]) == want
    csv_rows = csv_table(leader_client.get("/cases/evaluation/export.csv", query).content.decode("utf-8"))[2]
    assert _scored_cells(csv_rows) == want
    if level == "district":
        assert want == [["1", "武昌区", "30.00", "E"]]
    else:
        # 东社区01号网格: 5 registered (all public), 2 closed on time → 16 + 16 + 0; 西社区01号网格: 1 (a field
        # report), none closed → 0 + 0 + 20, below the minimum.
        assert want == [["1", "东社区01号网格", "32.00", "E"],
                        ["—", "西社区01号网格", "20.00", "样本不足"]]


def test_the_regions_page_says_how_the_score_is_made(leader_client, settings):
    page = leader_client.get("/cases/evaluation/", {"kind": "regions", **NOV}).content.decode()
    assert "区域得分 = 结案率 × 40 + 按期结案率 × 40 + (1 − 监督举报率) × 20" in page and "本平台选定" in page
    assert "不评等级" in page and "应处置（办理）少于" not in page  # the regions' own note, not the units'
    english = leader_client.get("/cases/evaluation/", {"kind": "regions", **NOV}, HTTP_ACCEPT_LANGUAGE="en").content
    assert "Region score = close rate × 40 + on-time close rate × 40 + (1 − public report rate) × 20" in english.decode()
    # The weights in force (CITYOPS_CASE_EVAL_WEIGHTS) are the ones stated, and the ones scored with.
    settings.CITYOPS_CASE_EVAL_WEIGHTS = {"region": {"close": 30, "close_on_time": 30, "public_report": 40}}
    page = leader_client.get("/cases/evaluation/", {"kind": "regions", **NOV}).content.decode()
    assert "结案率 × 30 + 按期结案率 × 30 + (1 − 监督举报率) × 40" in page
    _caption, _headers, rows = page_table(leader_client, "regions")
    assert _scored_cells(rows) == [["1", "武昌区", "26.67", "E"]]  # 30/3 + 30/3 + 40/6
    departments = leader_client.get("/cases/evaluation/", {"kind": "departments", **NOV}).content.decode()
    assert 'id="region-score-rule"' not in departments and "应处置（办理）少于" in departments
