"""The evaluation page (/disputes/evaluation/) and API (GET /api/v1/disputes/evaluation): names not codes,
percentages, the scope of each role, and bad input refused with a code."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from cityops.disputes.models import Campaign
from cityops.disputes.tests.test_evaluation import agreed, world  # noqa: F401 — the fixture

pytestmark = pytest.mark.django_db
TODAY = timezone.localdate()
QUERY = {"from": (TODAY - timedelta(days=1)).isoformat(), "to": TODAY.isoformat()}


def page_for(user, **params):
    client = Client()
    client.force_login(user)
    return client.get("/disputes/evaluation/", params or QUERY)


@pytest.fixture
def played(world):  # noqa: F811
    agreed(world, "k1", "m1")
    agreed(world, "k1", "m1", late=True)
    agreed(world, "k2", "m2")
    Campaign.objects.create(code="PC-P1", name="汉阳区秋季矛盾纠纷排查", starts_on=TODAY - timedelta(days=3),
                            ends_on=TODAY, region_codes=["420105"])
    return world


def test_the_leaders_page_names_every_row_and_shows_percentages(played):
    html = page_for(played["leader"]).content.decode()
    for name in ("汉阳区矛盾纠纷多元化解中心", "翠微街团结社区人民调解委员会", "翠微街人民调解委员会", "调解员 甲", "调解员 丙",
                 "汉阳区秋季矛盾纠纷排查"):
        assert name in html
    for code in ("T-CENTRE", "T-K1", "T-K2", "PC-P1"):
        assert code not in html
    assert "50.0%" in html  # 调解员 甲: one of two agreements on time
    assert "100.0%" in html


def test_a_mediator_sees_their_committee_only(played):
    html = page_for(played["m1"]).content.decode()
    assert "翠微街团结社区人民调解委员会" in html and "调解员 甲" in html
    assert "调解员 丙" not in html and ">翠微街人民调解委员会<" not in html
    assert "汉阳区矛盾纠纷多元化解中心" not in html
    assert 'id="evaluation-campaigns"' not in html


def test_an_empty_table_says_so(world):  # noqa: F811
    html = page_for(world["staff"]).content.decode()
    assert "该时段没有数据" in html and "该时段没有排查化解行动" in html


def test_a_resident_is_refused(world):  # noqa: F811
    assert page_for(world["resident"]).status_code == 403
    assert Client().get("/disputes/evaluation/").status_code == 302  # to the login page


@pytest.mark.parametrize("params", [{"from": "2026-13-01"}, {"to": "9" * 40}, {"from": "0001-01-01"},
                                    {"from": TODAY.isoformat(), "to": (TODAY - timedelta(days=3)).isoformat()}])
def test_bad_dates_are_said_on_the_page(world, params):  # noqa: F811
    r = page_for(world["leader"], **params)
    assert r.status_code == 200
    assert 'role="alert"' in r.content.decode()


def test_a_nul_byte_is_refused_not_a_server_error(world):  # noqa: F811
    assert page_for(world["leader"], **{"from": "2026-01-01\x00"}).status_code == 400


def test_english_page(played):
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(played["leader"])
    html = client.get("/disputes/evaluation/", QUERY).content.decode()
    assert 'lang="en"' in html or "lang=en" in html


def test_api_rows_and_rates(played, api_client_for):
    r = api_client_for(played["leader"]).get("/api/v1/disputes/evaluation", QUERY)
    assert r.status_code == 200, r.content
    body = r.json()
    k1 = next(row for row in body["committees"] if row["key"] == "T-K1")
    assert (k1["name"], k1["agreements"], k1["on_time_rate"], k1["local_rate"]) == (
        "翠微街团结社区人民调解委员会", 2, 0.5, 1.0)
    assert body["campaigns"][0]["name"] == "汉阳区秋季矛盾纠纷排查"
    mine = api_client_for(played["m2"]).get("/api/v1/disputes/evaluation", QUERY).json()
    assert [row["key"] for row in mine["committees"]] == ["T-K2"]


@pytest.mark.parametrize("params, status, code", [
    ({"from": "2026-11-30", "to": "2026-11-01"}, 400, "invalid_period"),
    ({"from": "1999-01-01", "to": "2026-11-01"}, 400, None),
    ({"from": "x", "to": "2026-11-01"}, 400, None),
    ({"to": "2026-11-01"}, 400, None),
])
def test_api_bad_input(world, api_client_for, params, status, code):  # noqa: F811
    r = api_client_for(world["leader"]).get("/api/v1/disputes/evaluation", params)
    assert r.status_code == status, r.content
    if code:
        assert r.json()["code"] == code
    assert r.json().get("code")


def test_api_refuses_a_resident(world, api_client_for):  # noqa: F811
    r = api_client_for(world["resident"]).get("/api/v1/disputes/evaluation", QUERY)
    assert r.status_code == 403 and r.json()["code"] == "evaluation_not_allowed"
