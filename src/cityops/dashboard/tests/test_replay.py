"""The replay API (/api/v1/dashboard/replay/): a day's events of cases from the timeline in the order they happened,
compact, paged, scoped like the live feed (a district sees only its own), and bad dates and numbers refused with a
code."""

from datetime import datetime, timedelta

import pytest
from django.test import Client
from django.utils import timezone

from cityops.cases.tests import conftest as cases_fixtures
from cityops.cases.tests.conftest import POINT_JIANGAN, POINT_WUCHANG_A, TZ
from cityops.core import roles

pytestmark = pytest.mark.django_db

geography, reference, district_units = cases_fixtures.geography, cases_fixtures.reference, cases_fixtures.district_units
district_dispatcher, new_case, clock = cases_fixtures.district_dispatcher, cases_fixtures.new_case, cases_fixtures.clock

URL = "/api/v1/dashboard/replay/"
DAY = datetime(2026, 11, 24, tzinfo=TZ)  # a Tuesday


@pytest.fixture
def day_of_cases(clock, new_case, operator):
    """On DAY: a case in 武昌 at 08:00 registered at 08:30, one in 江岸 at 23:59; one in 武昌 the evening before and
    one just after midnight (the next day)."""
    from cityops.core.workflow import transition

    clock(DAY - timedelta(hours=1))
    before = new_case(point=POINT_WUCHANG_A)
    clock(DAY.replace(hour=8))
    morning = new_case(point=POINT_WUCHANG_A)
    clock(DAY.replace(hour=8, minute=30))
    transition(morning, "register", actor=operator)
    clock(DAY.replace(hour=23, minute=59))
    night = new_case(point=POINT_JIANGAN)
    clock(DAY + timedelta(days=1, minutes=1))
    after = new_case(point=POINT_WUCHANG_A)
    return {"before": before, "morning": morning, "night": night, "after": after}


def _rows(body):
    return [dict(zip(body["fields"], row, strict=True)) for row in body["events"]]


def _client(user):
    client = Client()
    client.force_login(user)
    return client


def test_the_day_in_order_with_state_changes(day_of_cases, leader):
    body = _client(leader).get(URL, {"day": "2026-11-24"}).json()
    events = _rows(body)
    morning, night = day_of_cases["morning"], day_of_cases["night"]
    assert [(e["type"], e["code"], e["action"]) for e in events] == [
        ("case", morning.code, "report"), ("state", morning.code, "register"), ("case", night.code, "report")]
    assert body["next_after"] is None
    assert timezone.localtime(datetime.fromisoformat(body["start"])) == DAY
    first = events[0]
    assert first["kind"] == "case" and first["url"] == f"/cases/{morning.code}/"
    assert first["state_label"] and first["label"] == morning.category.name_zh
    assert (first["lon"], first["lat"]) == pytest.approx((morning.lon, morning.lat))
    assert datetime.fromisoformat(first["at"]) == DAY.replace(hour=8)
    assert "org_id" not in body["fields"] and "description" not in body["fields"]


def test_a_district_replays_only_its_own_district(day_of_cases, district_dispatcher, make_user):
    codes = {e["code"] for e in _rows(_client(district_dispatcher).get(URL, {"day": "2026-11-24"}).json())}
    assert codes == {day_of_cases["morning"].code}
    jiangan = make_user("t_district_ja", roles.DISTRICT_DISPATCHER, region_codes=["420102"])
    codes = {e["code"] for e in _rows(_client(jiangan).get(URL, {"day": "2026-11-24"}).json())}
    assert codes == {day_of_cases["night"].code}


def test_pages_follow_the_cursor(day_of_cases, leader, api_client_for):
    client = api_client_for(leader)  # a bearer token works as well as the session
    first = client.get(URL, {"day": "2026-11-24", "limit": 2}).json()
    assert len(first["events"]) == 2 and first["next_after"] == int(first["events"][-1][0])
    second = client.get(URL, {"day": "2026-11-24", "limit": 2, "after": first["next_after"]}).json()
    assert [e["code"] for e in _rows(second)] == [day_of_cases["night"].code] and second["next_after"] is None


def test_english(day_of_cases, leader):
    client = _client(leader)
    body = client.get(URL, {"day": "2026-11-24"}, HTTP_ACCEPT_LANGUAGE="en").json()
    morning = day_of_cases["morning"]
    first = _rows(body)[0]
    assert first["label"] == (morning.category.name_en or morning.category.name_zh)
    assert first["state_label"].isascii()


def test_a_quiet_day_is_empty(reference, leader):
    body = _client(leader).get(URL, {"day": "2026-01-01"}).json()
    assert body["events"] == [] and body["next_after"] is None


@pytest.mark.parametrize("params", [
    {"day": "2026-13-01"}, {"day": "2026-02-30"}, {"day": "yesterday"}, {"day": "1900-01-01"}, {"day": "9999-12-31"},
    {"day": "2026-11-24\x00"}, {}, {"day": "2026-11-24", "after": "-1"}, {"day": "2026-11-24", "after": str(10**30)},
    {"day": "2026-11-24", "limit": "0"}, {"day": "2026-11-24", "limit": "5001"}, {"day": "2026-11-24", "limit": "1e9"},
])
def test_bad_input_is_refused_with_a_code(reference, leader, params):
    answer = _client(leader).get(URL, params)
    assert 400 <= answer.status_code < 500
    assert answer.json()["code"]


def test_who_may_replay(reference, resident):
    answer = Client().get(URL, {"day": "2026-11-24"})
    assert answer.status_code == 401
    answer = _client(resident).get(URL, {"day": "2026-11-24"})
    assert (answer.status_code, answer.json()["code"]) == (403, "replay_forbidden")
