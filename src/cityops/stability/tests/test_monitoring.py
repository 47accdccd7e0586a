"""Monitoring after publication: the city cases and disputes of the decision's area created after it was published
are linked to it, shown on its page and counted per week."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from cityops.core.workflow import create_with_timeline
from cityops.stability import selectors
from cityops.stability.tests.conftest import STREET

pytestmark = pytest.mark.django_db
TZ = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def report_case(db, operator):
    from cityops.cases.demo import load_categories
    from cityops.cases.models import Case, Category

    load_categories()
    category = Category.objects.get(code="E0101")
    n = iter(range(1, 100))

    def make(region_code, when, at=(114.21, 30.55)):
        case = Case(code=f"ST{next(n):06d}", source="hotline", category=category, lon=at[0], lat=at[1],
                    region_code=region_code, district_code=region_code[:6], description="施工噪音扰民", created_at=when)
        return create_with_timeline(case, actor=operator)

    return make


def test_cases_and_disputes_after_publication_in_the_area(client, walk, report_case, clock, assessor, operator,
                                                         make_user):
    d = walk("monitoring", start=datetime(2026, 3, 2, 9, 0))
    published = d.published_at
    inside, outside = STREET + "001", "420106001001"
    before = report_case(inside, published - timedelta(days=1))
    first = report_case(inside, published + timedelta(days=1))
    later = report_case(STREET, published + timedelta(days=8))
    report_case(outside, published + timedelta(days=2))
    assert set(selectors.linked_cases(decision=d)) == {first, later} and before not in selectors.linked_cases(decision=d)

    disputes = []
    model = selectors.dispute_model()
    if model is not None:  # the disputes app is built beside this one
        for code, region, days in (("D1", inside, 2), ("D0", inside, -3), ("D2", outside, 2)):
            disputes.append(create_with_timeline(model(code=f"STD{code}", title="拆迁补偿纠纷", description="补偿",
                                                       kind="other", source="walk_in", region_code=region,
                                                       created_at=published + timedelta(days=days)), actor=operator))
        assert list(selectors.linked_disputes(decision=d)) == [disputes[0]]

    clock(published + timedelta(days=15))
    weeks = selectors.weekly_counts(decision=d)
    assert sum(w["cases"] for w in weeks) == 2 and weeks[0]["week"].weekday() == 0
    assert [w["cases"] for w in weeks if w["cases"]] == [1, 1]  # one in the week of publication, one the week after
    if model is not None:
        assert sum(w["disputes"] for w in weeks) == 1
    client.force_login(assessor)
    html = client.get(f"/stability/{d.pk}/").content.decode()
    assert first.code in html and later.code in html and before.code not in html
    assert "公布后区域内的案件与矛盾纠纷" in html
    # A resident reads the published decision and its weekly counts, never which cases and disputes they are.
    client.force_login(make_user("resident_watch", "resident"))
    html = client.get(f"/stability/{d.pk}/").content.decode()
    assert "公布后区域内的案件与矛盾纠纷" in html and first.code not in html and later.code not in html
    client.force_login(assessor)
    r = client.get(f"/api/v1/stability/decisions/{d.pk}/monitoring?weeks=4")
    assert r.status_code == 200 and set(r.json()["cases"]) == {first.code, later.code}
    assert len(r.json()["weeks"]) <= 4


def test_nothing_is_linked_before_publication(walk):
    d = walk("decided")
    assert not selectors.linked_cases(decision=d).exists() and selectors.weekly_counts(decision=d) == []


# A triangle inside 鹦鹉街道: its bounding box is 114.20–114.23 × 30.54–30.56, its hypotenuse runs from the
# south-east corner to the north-west one, so the box's north-east half is outside it.
TRIANGLE = {"type": "Polygon", "coordinates": [[[114.20, 30.54], [114.23, 30.54], [114.20, 30.56], [114.20, 30.54]]]}
IN, IN_BOX_ONLY, FAR = (114.205, 30.545), (114.225, 30.555), (114.30, 30.60)


def test_with_a_polygon_the_area_is_the_polygon_not_the_region(client, walk, report_case, assessor, operator):
    """A decision with its own polygon links what lies inside the polygon, whatever its region code: a case in
    the polygon but coded to another district is linked; one coded to the decision's street but outside the
    polygon (even inside its bounding box) is not; before publication nothing."""
    d = walk("monitoring", area=TRIANGLE)
    published = d.published_at
    other_district = "420106001001"
    inside = report_case(other_district, published + timedelta(days=1), at=IN)
    edge = report_case(other_district, published + timedelta(days=1), at=(114.215, 30.54))  # on the boundary
    report_case(STREET + "001", published + timedelta(days=1), at=IN_BOX_ONLY)
    report_case(STREET + "001", published + timedelta(days=1), at=FAR)
    report_case(other_district, published - timedelta(days=1), at=IN)
    assert set(selectors.linked_cases(decision=d)) == {inside, edge}

    model = selectors.dispute_model()
    if model is not None:
        def dispute(code, at, days):
            lon, lat = at if at else (None, None)
            return create_with_timeline(model(code=code, title="拆迁补偿纠纷", description="补偿", kind="other",
                                              source="walk_in", region_code=STREET + "001", lon=lon, lat=lat,
                                              created_at=published + timedelta(days=days)), actor=operator)

        found = dispute("STP1", IN, 2)
        dispute("STP2", IN_BOX_ONLY, 2)
        dispute("STP3", None, 2)  # registered without a position: not placed in any polygon
        dispute("STP4", IN, -2)
        assert list(selectors.linked_disputes(decision=d)) == [found]

    client.force_login(assessor)
    r = client.get(f"/api/v1/stability/decisions/{d.pk}/monitoring")
    assert r.status_code == 200 and set(r.json()["cases"]) == {inside.code, edge.code}


def test_without_a_polygon_the_region_code_decides(walk, report_case):
    d = walk("published")
    linked = report_case(STREET + "001", d.published_at + timedelta(hours=1), at=FAR)
    report_case("420106001001", d.published_at + timedelta(hours=1), at=IN)
    assert list(selectors.linked_cases(decision=d)) == [linked]


def _map_config(html: str):
    import json
    import re

    found = re.search(r'<script id="stability-map-config" type="application/json">(.*?)</script>', html, re.S)
    return json.loads(found.group(1)) if found else None


def test_the_area_map_staff_see_the_linked_dots_the_public_never(client, walk, report_case, assessor, operator):
    d = walk("monitoring", area=TRIANGLE)
    case = report_case("420106001001", d.published_at + timedelta(days=1), at=IN)
    model = selectors.dispute_model()
    if model is not None:
        create_with_timeline(model(code="STMAP1", title="拆迁补偿纠纷", description="补偿", kind="other", source="walk_in",
                                   region_code=STREET, lon=IN[0], lat=IN[1], created_at=d.published_at + timedelta(days=1)),
                             actor=operator)

    client.force_login(assessor)
    html = client.get(f"/stability/{d.pk}/").content.decode()
    config = _map_config(html)
    assert config["own_polygon"] and config["area"]["type"] == "Polygon"
    assert len(config["area"]["coordinates"][0]) == 4  # the triangle, as stored
    kinds = {p["kind"]: p for p in config["points"]}
    assert kinds["case"]["label"].startswith(case.code) and kinds["case"]["url"] == f"/cases/{case.code}/"
    assert (kinds["case"]["lon"], kinds["case"]["lat"]) == IN
    if model is not None:
        assert kinds["dispute"]["label"].startswith("STMAP1")
    assert "stability/area_map.js" in html and 'id="basemap-config"' in html and "leaflet/leaflet.js" in html

    client.logout()  # the public page: the area, and no case or dispute at all
    html = client.get(f"/stability/public/{d.pk}/").content.decode()
    config = _map_config(html)
    assert config["own_polygon"] and config["points"] == [] and case.code not in html and "STMAP1" not in html
    assert "stability/area_map.js" in html


def test_without_a_polygon_the_map_draws_the_region(client, walk, assessor):
    d = walk("consultation")
    config = _map_config(client.get(f"/stability/public/{d.pk}/").content.decode())
    assert not config["own_polygon"] and config["points"] == []
    # the street's outline (conftest: the box 114.2–114.25 × 30.5–30.57)
    lons = [x for x, _ in config["area"]["coordinates"][0]]
    assert min(lons) == 114.2 and max(lons) == 114.25
    client.force_login(assessor)
    assert _map_config(client.get(f"/stability/{d.pk}/").content.decode())["points"] == []  # not yet published
