"""The map's API (dashboard/map_api.py) on a small city whose counts are known by hand: two districts (武昌区 with
two communities side by side, 江岸区 to the north-west: cases/tests/conftest.py), six open cases and one closed.
Runs on SQLite and on PostgreSQL (DATABASE_URL=postgres://… pytest …).

At zoom 10 a bin is 2⁻⁴ = 0.0625° wide (48 px of 256-px tiles, rounded to a power of two), so
- 武昌 A (114.31, 30.55) is in bin (1828, 488), 武昌 B (114.35, 30.55) in (1829, 488), 江岸 (114.28, 30.63) in
  (1828, 490)."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from cityops.cases.tests import conftest as city
from cityops.cases.tests.conftest import POINT_JIANGAN, POINT_WUCHANG_A, POINT_WUCHANG_B
from cityops.core import roles
from cityops.dashboard import aggregation

# Fixtures of the cases' tests: the two-district city, its reference data, 武昌区's district dispatcher.
geography, reference, district_units = city.geography, city.reference, city.district_units
district_dispatcher = city.district_dispatcher

CITY = "113.9,29.9,115.1,31.1"
API = "/api/v1/dashboard/map"

GRIDS = {POINT_WUCHANG_A: "42010600100101", POINT_WUCHANG_B: "42010600100201", POINT_JIANGAN: "42010200100101"}


@pytest.fixture(autouse=True)
def _no_cache(settings):
    """Every request counts afresh (the short-lived cache of aggregation.cached has a test of its own)."""
    settings.CITYOPS_DASHBOARD_CACHE_S = 0


@pytest.fixture
def cases(reference):
    """Three open cases at 武昌 A, two at 武昌 B (one overdue), one at 江岸 (reported by hotline), one closed at A."""
    from cityops.cases.models import Case, Category

    category = Category.objects.get(code="E0101")
    now = timezone.now()
    rows = []
    plan = [(POINT_WUCHANG_A, "dispatched", False, "field")] * 3 + [
        (POINT_WUCHANG_B, "dispatched", False, "field"), (POINT_WUCHANG_B, "accepted", True, "field"),
        (POINT_JIANGAN, "registered", False, "hotline"), (POINT_WUCHANG_A, "archived", False, "field")]
    for i, (point, state, overdue, source) in enumerate(plan, start=1):
        grid = GRIDS[point]
        rows.append(Case(
            code=f"T{i:06d}", source=source, category=category, lon=point[0], lat=point[1], region_code=grid,
            district_code=grid[:6], street_code=grid[:9], community_code=grid[:12], grid_code=grid,
            description="测试", state=state, overdue=overdue, created_at=now - timedelta(hours=i),
            deadline_at=now + timedelta(days=1),
        ))
    return Case.objects.bulk_create(rows)


@pytest.fixture
def leader_client(make_user):
    client = Client()
    client.force_login(make_user("t_map_leader", roles.LEADER))
    return client


@pytest.fixture
def wuchang_client(district_dispatcher):
    client = Client()
    client.force_login(district_dispatcher)
    return client


def _bins(answer: dict) -> dict:
    size = answer["size"]
    return {(int(b["lon"] // size), int(b["lat"] // size)): (b["n"], b["late"]) for b in answer["bins"]}


def test_few_cases_come_as_points_with_their_cards(cases, leader_client):
    got = leader_client.get(f"{API}/layers/cases", {"bbox": CITY, "zoom": "10"}).json()
    assert got["kind"] == "points" and got["total"] == 6  # the closed one is not open
    codes = {p["code"] for p in got["points"]}
    assert codes == {f"T{i:06d}" for i in range(1, 7)}
    late = next(p for p in got["points"] if p["code"] == "T000005")
    assert late["light"] == "red" and late["url"] == "/cases/T000005/" and late["category"]
    closed = leader_client.get(f"{API}/layers/cases", {"bbox": CITY, "zoom": "10", "status": "closed"}).json()
    assert [p["code"] for p in closed["points"]] == ["T000007"]


def test_many_cases_are_counted_per_bin_in_the_database(cases, leader_client, monkeypatch):
    monkeypatch.setattr(aggregation, "POINTS_MAX", 3)
    got = leader_client.get(f"{API}/layers/cases", {"bbox": CITY, "zoom": "10"}).json()
    assert got["kind"] == "bins" and got["size"] == 0.0625 and got["total"] == 6
    assert _bins(got) == {(1828, 488): (3, 0), (1829, 488): (2, 1), (1828, 490): (1, 0)}
    # The bin's circle is at the mean of its cases.
    a = next(b for b in got["bins"] if b["n"] == 3)
    assert (a["lon"], a["lat"]) == pytest.approx(POINT_WUCHANG_A)
    # Only the box: 武昌 alone.
    east = leader_client.get(f"{API}/layers/cases", {"bbox": "114.3,30.5,114.4,30.6", "zoom": "10", "status": "all"})
    assert _bins(east.json()) == {(1828, 488): (4, 0), (1829, 488): (2, 1)}
    late = leader_client.get(f"{API}/layers/cases", {"bbox": CITY, "zoom": "10", "late": "1"}).json()
    assert late["kind"] == "points" and [p["code"] for p in late["points"]] == ["T000005"]


def test_a_district_never_counts_another_districts_cases(cases, wuchang_client, monkeypatch):
    monkeypatch.setattr(aggregation, "POINTS_MAX", 3)
    got = wuchang_client.get(f"{API}/layers/cases", {"bbox": CITY, "zoom": "10"}).json()
    assert _bins(got) == {(1828, 488): (3, 0), (1829, 488): (2, 1)}  # no 江岸 bin
    area = wuchang_client.get(f"{API}/area").json()
    assert [(c["code"], c["n"]) for c in area["children"]] == [("420106001", 5)]  # starts at 武昌区, its street
    assert area["region"]["code"] == "420106" and [b["code"] for b in area["breadcrumb"]] == ["420106"]
    for path in (f"{API}/area?region=420102", f"{API}/kpis?region=420102",
                 f"{API}/layers/cases?bbox={CITY}&zoom=10&region=420102001"):
        answer = wuchang_client.get(path)
        assert answer.status_code == 403 and answer.json()["code"] == "region_outside_scope", path
    figures = wuchang_client.get(f"{API}/kpis").json()["cases"]
    assert figures["today"]["open"] == 5 and figures["today"]["overdue"] == 1


def test_drill_down_from_the_city_to_a_grid(cases, leader_client):
    city = leader_client.get(f"{API}/area").json()
    assert city["region"] is None and city["child_level"] == "district"
    assert {c["code"]: (c["n"], c["late"]) for c in city["children"]} == {"420102": (1, 0), "420106": (5, 1)}
    assert all(c["shape"]["type"] in ("Polygon", "MultiPolygon") for c in city["children"])
    street = leader_client.get(f"{API}/area", {"region": "420106001"}).json()
    assert street["child_level"] == "community"
    assert {c["code"]: c["n"] for c in street["children"]} == {"420106001001": 3, "420106001002": 2}
    assert [b["name"] for b in street["breadcrumb"]] == ["武昌区", "武昌区一街道"]
    community = leader_client.get(f"{API}/area", {"region": "420106001002", "status": "all"}).json()
    assert [(c["code"], c["n"], c["late"]) for c in community["children"]] == [("42010600100201", 2, 1)]


def test_kpis_count_intake_by_channel_open_and_overdue(cases, leader_client):
    got = leader_client.get(f"{API}/kpis").json()
    today, period = got["cases"]["today"], got["cases"]["period"]
    assert today["open"] == 6 and today["overdue"] == 1
    assert period["intake"] == 7
    assert {c["key"]: c["n"] for c in period["channels"]} == {"field": 6, "hotline": 1}
    assert period["top_categories"][0]["code"] == "E0101" and period["top_categories"][0]["n"] == 7
    assert len(got["cases"]["trend"]["days"]) == 7 and sum(got["cases"]["trend"]["intake"]) == 7
    district = leader_client.get(f"{API}/kpis", {"region": "420102"}).json()["cases"]
    assert district["period"]["intake"] == 1 and district["today"]["open"] == 1


def test_layers_listed_and_drawn(cases, leader_client):
    listed = leader_client.get(f"{API}/layers").json()
    keys = [layer["key"] for layer in listed]
    assert {"cases", "heat", "areas", "warnings", "devices", "alarms", "disputes", "campaigns", "decisions"} <= set(keys)
    for key in keys:
        answer = leader_client.get(f"{API}/layers/{key}", {"bbox": CITY, "zoom": "11"})
        assert answer.status_code == 200, (key, answer.content[:300])
    areas = leader_client.get(f"{API}/layers/areas", {"bbox": CITY, "zoom": "11"}).json()
    assert {f["properties"]["code"]: f["properties"]["n"] for f in areas["features"]} == {"420102": 1, "420106": 5}


@pytest.mark.parametrize(("path", "code"), [
    (f"{API}/layers/cases?bbox=a,b,c,d&zoom=10", "invalid_bbox"),
    (f"{API}/layers/cases?bbox=115,30,114,31&zoom=10", "invalid_bbox"),
    (f"{API}/layers/cases?bbox=114,30,115,31%00&zoom=10", "invalid_characters"),  # NUL: refused before the view
    (f"{API}/layers/cases?bbox=114,30,nan,31&zoom=10", "invalid_bbox"),
    (f"{API}/layers/cases?bbox=114,30,1e400,31&zoom=10", "invalid_bbox"),
    (f"{API}/layers/cases?bbox={CITY}&zoom=99", "invalid_zoom"),
    (f"{API}/layers/cases?bbox={CITY}&zoom=1e9", "invalid_zoom"),
    (f"{API}/layers/cases?bbox={CITY}&zoom=1%00", "invalid_characters"),
    (f"{API}/layers/cases?bbox={CITY}&zoom=10&status=maybe", "invalid_status"),
    (f"{API}/layers/cases?bbox={CITY}&zoom=10&category=E0%00", "invalid_characters"),
    (f"{API}/layers/cases?bbox={CITY}&zoom=10&category=E0-1", "invalid_category"),
    (f"{API}/layers/cases?bbox={CITY}&zoom=10&from=2026-13-40", "invalid_date"),
    (f"{API}/layers/nothing?bbox={CITY}&zoom=10", "layer_not_found"),
    (f"{API}/area?region=4201%0006", "invalid_characters"),
    (f"{API}/area?region=4201a", "invalid_region"),
    (f"{API}/area?region=" + "4" * 30, "invalid_region"),
    (f"{API}/area?region=999999", "region_not_found"),
    (f"{API}/kpis?from=2026-10-10&to=2026-10-01", "invalid_range"),
    (f"{API}/kpis?from=2020-01-01&to=2026-10-01", "period_too_long"),
    (f"{API}/kpis?from=x", "invalid_date"),
])
def test_bad_input_is_refused_with_a_code(cases, leader_client, path, code):
    answer = leader_client.get(path)
    assert 400 <= answer.status_code < 500, (path, answer.status_code, answer.content[:200])
    assert answer.json()["code"] == code


def test_no_login_no_map(cases):
    answer = Client().get(f"{API}/layers/cases", {"bbox": CITY, "zoom": "10"})
    assert answer.status_code == 401


def test_the_page_is_a_shell_around_the_api(cases, leader_client, client):
    page = leader_client.get("/dashboard/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'id="dmap-map"' in html and "dashboard/map.js" in html and '"api": "/api/v1/dashboard/map"' in html
    assert "dash-wall" not in html.split("<body", 1)[1].split(">", 1)[0]
    assert 'class="dmap dmap-wall"' in leader_client.get("/dashboard/?wall=1").content.decode()
    assert client.get("/dashboard/").status_code == 302  # the login first


def test_the_map_speaks_english(cases, leader_client):
    layers = {layer["key"]: layer["label"] for layer in leader_client.get(f"{API}/layers", HTTP_ACCEPT_LANGUAGE="en").json()}
    assert layers["cases"] == "Cases" and layers["disputes"] == "Disputes (by risk)"
    areas = leader_client.get(f"{API}/layers/areas", {"bbox": CITY, "zoom": "10"}, HTTP_ACCEPT_LANGUAGE="en").json()
    assert "5 cases, 1 of them overdue" in {f["properties"]["lines"][0] for f in areas["features"]}
    page = leader_client.get("/dashboard/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "The city on one map" in page and "Wall mode" in page


def test_the_map_api_is_documented(leader_client):
    spec = leader_client.get("/api/v1/openapi.json").json()
    paths = spec["paths"]
    for path in ("layers", "layers/{key}", "area", "kpis"):
        assert f"/api/v1/dashboard/map/{path}" in paths
    params = {p["name"] for p in paths["/api/v1/dashboard/map/layers/{key}"]["get"]["parameters"]}
    assert {"key", "bbox", "zoom", "region", "status", "category", "from", "to", "late"} <= params


def test_answers_are_kept_briefly_per_scope(cases, leader_client, wuchang_client, settings):
    from django.core.cache import cache

    from cityops.cases.models import Case

    settings.CITYOPS_DASHBOARD_CACHE_S = 30
    cache.clear()
    view = {"bbox": CITY, "zoom": "10"}
    first = leader_client.get(f"{API}/layers/cases", view).json()
    assert wuchang_client.get(f"{API}/layers/cases", view).json()["total"] == 5  # not the city's answer
    Case.objects.filter(code="T000001").update(state="archived")
    assert leader_client.get(f"{API}/layers/cases", view).json() == first  # within the 30 s
    assert leader_client.get(f"{API}/layers/cases", {**view, "bbox": "113.91,29.9,115.1,31.1"}).json() == first  # same bins
    cache.clear()
    assert leader_client.get(f"{API}/layers/cases", view).json()["total"] == 5
