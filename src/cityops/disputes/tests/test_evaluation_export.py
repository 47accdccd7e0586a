# ruff: noqa: F811  (pytest fixtures imported from the other evaluation tests are parameters here)
"""The dispute evaluation's CSV and Excel files are the page's tables (as the cases evaluation's are): every block
the page shows — centres, committees, mediators, campaigns — with its headings and cells, names not codes, rates as
percentages, in the user's scope; opened with the csv module and openpyxl and compared cell by cell with the page."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal
from html.parser import HTMLParser

import pytest
from django.test import Client
from django.utils import timezone
from openpyxl import load_workbook

from cityops.disputes.models import Campaign
from cityops.disputes.tests.test_evaluation import agreed, world  # noqa: F401 — the fixture
from cityops.disputes.tests.test_evaluation_pages import QUERY, played  # noqa: F401 — the fixture

pytestmark = pytest.mark.django_db
EMPTY = ("该时段没有数据", "该时段没有排查化解行动")


class _Blocks(HTMLParser):
    """{block key: (caption, headings, rows of cell texts)} of the page's section.evaluation-block tables."""

    def __init__(self):
        super().__init__()
        self.blocks, self.key, self.cell = {}, None, None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "section" and "evaluation-block" in (attrs.get("class") or ""):
            self.key = attrs["id"].removeprefix("evaluation-")
            self.blocks[self.key] = ["", [], []]
        elif self.key and tag in ("caption", "th", "td"):
            self.cell = [tag, ""]
        elif self.key and tag == "tr" and self.blocks[self.key][1]:
            self.blocks[self.key][2].append([])

    def handle_endtag(self, tag):
        if tag == "section":
            self.key = None
        elif self.key and self.cell and tag == self.cell[0]:
            kind, text = self.cell
            block = self.blocks[self.key]
            if kind == "caption":
                block[0] = text.strip()
            elif kind == "th":
                block[1].append(text.strip())
            else:
                block[2][-1].append(text.strip())
            self.cell = None

    def handle_data(self, data):
        if self.cell is not None:
            self.cell[1] += data


def client_for(user, **extra) -> Client:
    client = Client(**extra)
    client.force_login(user)
    return client


def page_blocks(client) -> dict:
    parser = _Blocks()
    parser.feed(client.get("/disputes/evaluation/", QUERY).content.decode())
    return {key: (caption, headers, [r for r in rows if r and r[0] not in EMPTY])
            for key, (caption, headers, rows) in parser.blocks.items()}


def csv_blocks(text: str) -> list[tuple[str, list[str], list[list[str]]]]:
    """(title, headings, rows) of each table of the CSV: the tables are separated by an empty row."""
    assert text.startswith("\ufeff")  # Excel opens UTF-8 Chinese with the BOM
    lines = list(csv.reader(io.StringIO(text[1:])))
    out, chunk = [], []
    for line in [*lines, []]:
        if line:
            chunk.append(line)
        elif chunk:
            out.append((chunk[0][0], chunk[1], [[value or "—" for value in row] for row in chunk[2:]]))
            chunk = []
    return out


def shown(cell) -> str:
    """An Excel cell as Excel shows it: percent format → 66.7%, two decimals, a date as the page writes it,
    nothing → —."""
    if cell.value is None:
        return "—"
    if "%" in cell.number_format:
        return f"{Decimal(str(cell.value * 100)).quantize(Decimal('0.1'), ROUND_HALF_UP)}%"
    if cell.number_format == "0.00":
        return f"{cell.value:.2f}"
    if hasattr(cell.value, "date"):
        return cell.value.date().isoformat()
    return str(cell.value)


def xlsx_blocks(data: bytes) -> list[tuple[str, str, list[str], list[list[str]]]]:
    """(sheet name, title, headings, rows shown) of each sheet."""
    out = []
    for sheet in load_workbook(io.BytesIO(data)).worksheets:
        rows = list(sheet.iter_rows())
        out.append((sheet.title, rows[0][0].value, [c.value for c in rows[1]],
                    [[shown(c) for c in row] for row in rows[2:]]))
    return out


@pytest.fixture
def with_visits(played):
    """A campaign with figures beside the played agreements: 2 visits of 1 household (coverage unknown: no 户数)."""
    from cityops.disputes.models import Visit

    campaign = Campaign.objects.get(code="PC-P1")
    worker = played["staff"]
    for n in range(2):
        Visit.objects.create(campaign=campaign, visitor=worker, client_id=f"00000000-0000-0000-0000-00000000000{n}",
                             place="青和居 5-501", region_code="420105001001", visited_at=timezone.now(),
                             received_at=timezone.now())
    return played


def test_the_csv_and_the_workbook_are_the_leaders_page(with_visits, api_client_for):
    leader = with_visits["leader"]
    client = client_for(leader)
    page = page_blocks(client)
    assert list(page) == ["centres", "committees", "mediators", "campaigns"]
    assert all(rows for _caption, _headers, rows in page.values())  # the scenario fills every block

    response = client.get("/disputes/evaluation/export.csv", QUERY)
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    assert 'filename="dispute-evaluation-' in response["Content-Disposition"]
    tables = csv_blocks(response.content.decode("utf-8"))
    assert [(headers, rows) for _title, headers, rows in tables] == [
        (headers, rows) for _caption, headers, rows in page.values()]
    for (title, _h, _r), (caption, _headers, _rows) in zip(tables, page.values(), strict=True):
        assert title.startswith(f"{caption} 调解工作评价 {QUERY['from']}–{QUERY['to']}  生成于 ")

    response = client.get("/disputes/evaluation/export.xlsx", QUERY)
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    sheets = xlsx_blocks(response.content)
    assert [(name, headers, rows) for name, _title, headers, rows in sheets] == [
        (caption, headers, rows) for caption, headers, rows in page.values()]

    # The API gives the same files.
    api = api_client_for(leader).get("/api/v1/disputes/evaluation", {**QUERY, "format": "xlsx"})
    assert api.status_code == 200 and xlsx_blocks(api.content) == sheets
    api = api_client_for(leader).get("/api/v1/disputes/evaluation", {**QUERY, "format": "csv"})
    assert [t[1:] for t in csv_blocks(api.content.decode("utf-8"))] == [t[1:] for t in tables]


def test_the_figures_by_hand(with_visits):
    """The committee 翠微街团结社区: two agreements, one on time (50%), both local; the campaign's 2 visits."""
    sheets = {name: (headers, rows) for name, _title, headers, rows in
              xlsx_blocks(client_for(with_visits["leader"]).get("/disputes/evaluation/export.xlsx", QUERY).content)}
    headers, rows = sheets["调解组织"]
    assert headers == ["名称", "调解结束", "达成协议", "调解成功率", "按期调解率", "司法确认率", "履行率", "升级",
                       "属地化解率"]
    assert ["翠微街团结社区人民调解委员会", "2", "2", "100.0%", "50.0%", "0.0%", "—", "0", "100.0%"] in rows
    workbook = load_workbook(io.BytesIO(client_for(with_visits["leader"]).get(
        "/disputes/evaluation/export.xlsx", QUERY).content))
    k1 = next(row for row in workbook["调解组织"].iter_rows(min_row=3) if row[0].value.startswith("翠微街团结"))
    assert (k1[4].value, k1[4].number_format) == (0.5, "0.0%")  # a number in percent format, not a text
    _headers, campaign_rows = sheets["排查化解行动"]
    assert campaign_rows[0][:6] == ["汉阳区秋季矛盾纠纷排查", (timezone.localdate() - timedelta(days=3)).isoformat(),
                                    timezone.localdate().isoformat(), "2", "1", "—"]
    for code in ("T-CENTRE", "T-K1", "PC-P1"):
        assert all(code not in cell for _h, rows in sheets.values() for row in rows for cell in row)


def test_a_mediator_exports_their_committee_only(played):
    client = client_for(played["m1"])
    page = page_blocks(client)
    assert "campaigns" not in page
    tables = csv_blocks(client.get("/disputes/evaluation/export.csv", QUERY).content.decode("utf-8"))
    assert [(h, r) for _t, h, r in tables] == [(h, r) for _c, h, r in page.values()]
    text = "\n".join(",".join(row) for _t, _h, rows in tables for row in rows)
    assert "翠微街团结社区人民调解委员会" in text and "调解员 甲" in text
    assert "调解员 丙" not in text and "翠微街人民调解委员会," not in text and "汉阳区矛盾纠纷多元化解中心" not in text


def test_english_headings_with_the_english_ui(played):
    client = client_for(played["leader"], HTTP_ACCEPT_LANGUAGE="en")
    page = page_blocks(client)
    sheets = xlsx_blocks(client.get("/disputes/evaluation/export.xlsx", QUERY).content)
    assert [headers for _n, _t, headers, _r in sheets] == [headers for _c, headers, _r in page.values()]
    assert sheets[0][2][:4] == ["Name", "Mediations ended", "Agreements", "Success rate"]
    assert sheets[0][1].startswith("Resolution centre mediation evaluation ")
    assert "Households visited" in sheets[-1][2]


def test_refusals(world, api_client_for):
    assert client_for(world["resident"]).get("/disputes/evaluation/export.csv", QUERY).status_code == 403
    answer = api_client_for(world["resident"]).get("/api/v1/disputes/evaluation", {**QUERY, "format": "csv"})
    assert answer.status_code == 403 and answer.json()["code"] == "evaluation_not_allowed"
    assert Client().get("/disputes/evaluation/export.csv", QUERY).status_code == 302  # to the login page
    leader = client_for(world["leader"])
    assert leader.get("/disputes/evaluation/export.pdf", QUERY).status_code == 404
    bad = leader.get("/disputes/evaluation/export.csv", {"from": "2026-13-01"})
    assert bad.status_code == 302 and bad["Location"] == "/disputes/evaluation/"  # the page says what was wrong
    answer = api_client_for(world["leader"]).get("/api/v1/disputes/evaluation", {**QUERY, "format": "pdf"})
    assert answer.status_code == 400 and answer.json().get("code")
