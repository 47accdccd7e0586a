"""A decision affects several regions (DecisionRegion): registered with the regions of the registering user's area
only, shown by name, read by the staff of each region, and monitored in each; the migration gives every existing
decision its one region."""

import importlib
import json
from datetime import datetime, timedelta

import pytest
import shapely
from django.test import Client

from cityops.core import roles
from cityops.stability import selectors, services
from cityops.stability.models import Decision, DecisionRegion
from cityops.stability.tests.conftest import ASSESSING, COMMUNITY, HANYANG, PROPOSING, STREET
from cityops.stability.tests.test_monitoring import report_case  # noqa: F401 — the fixture

pytestmark = pytest.mark.django_db
BASE = "/api/v1/stability"
QINDUANKOU, WUCHANG = "420105002", "420106"


@pytest.fixture
def regions(area_regions):
    """Beside 汉阳区's 鹦鹉街道 (conftest): its 琴断口街道 to the west, and 武昌区 across the river."""
    from cityops.geo.geometry import shape_fields
    from cityops.geo.models import Region

    hanyang = Region.objects.get(code=HANYANG)
    Region.objects.update_or_create(code=QINDUANKOU, defaults={
        "name": "琴断口街道", "level": "street", "parent": hanyang, **shape_fields(shapely.box(114.12, 30.5, 114.19, 30.57))})
    Region.objects.update_or_create(code=WUCHANG, defaults={
        "name": "武昌区", "level": "district", "parent": None, **shape_fields(shapely.box(114.3, 30.5, 114.4, 30.6))})


def register(client, **changes):
    body = {"title": "鹦鹉大道—琴断口公交线路调整", "description": "撤并 2 条线路，新开 1 条", "proposing_unit": PROPOSING,
            "assessing_unit": ASSESSING, "region_codes": [STREET, QINDUANKOU], **changes}
    return client.post(f"{BASE}/decisions", json.dumps(body), content_type="application/json")


def test_a_decision_with_two_streets_is_shown_by_their_names(regions, proposer, leader, api_client_for):
    answer = register(api_client_for(proposer))
    assert answer.status_code == 201, answer.content
    body = answer.json()
    assert body["regions"] == [{"code": STREET, "name": "鹦鹉街道"}, {"code": QINDUANKOU, "name": "琴断口街道"}]
    assert body["region_code"] == STREET  # the main region, first
    d = Decision.objects.get(pk=body["id"])
    assert d.region_codes == [STREET, QINDUANKOU]
    client = Client()
    client.force_login(leader)
    assert "鹦鹉街道、琴断口街道" in client.get("/stability/").content.decode()
    page = client.get(f"/stability/{d.pk}/").content.decode()
    assert "鹦鹉街道、琴断口街道" in page and QINDUANKOU not in page
    assert api_client_for(leader).get(f"{BASE}/decisions").json()[0]["regions"][1]["name"] == "琴断口街道"


def test_repeats_and_regions_inside_another_are_dropped(regions, proposer, api_client_for):
    answer = register(api_client_for(proposer), region_codes=[COMMUNITY, STREET, QINDUANKOU, STREET])
    assert answer.status_code == 201, answer.content
    assert [r["code"] for r in answer.json()["regions"]] == [STREET, QINDUANKOU]  # 鹦鹉社区 lies in 鹦鹉街道


@pytest.mark.parametrize(("codes", "status", "code"), [
    ([STREET, "420106"], 403, "region_out_of_scope"),  # 武昌区: outside the proposing unit's 汉阳区
    ([STREET, "999999"], 400, "unknown_region"),
    ([], 400, "regions_required"),
    ([STREET] * 51, 422, None),  # over the schema's 50
    ([STREET, "4201\u0000"], 400, None),
])
def test_bad_regions_are_refused_and_nothing_written(regions, proposer, api_client_for, codes, status, code):
    answer = register(api_client_for(proposer), region_codes=codes)
    assert answer.status_code in (status, 400), answer.content
    assert answer.json()["code"] and answer.json()["message_en"]
    if code:
        assert answer.json()["code"] == code and answer.status_code == status
    assert not Decision.objects.exists() and not DecisionRegion.objects.exists()


def test_the_form_offers_only_the_users_area_by_name(regions, proposer, client):
    client.force_login(proposer)
    html = client.get("/stability/new/").content.decode()
    assert "琴断口街道" in html and "鹦鹉街道" in html and "武昌区" not in html
    r = client.post("/stability/new/", {"title": "跨街道道路改造", "description": "改造鹦鹉大道及琴断口段",
                                        "proposing_unit": PROPOSING, "assessing_unit": ASSESSING,
                                        "region_codes": [STREET, QINDUANKOU], "area": ""})
    d = Decision.objects.get(title="跨街道道路改造")
    assert r.status_code == 302 and d.region_codes == [STREET, QINDUANKOU]
    client.post("/stability/new/", {"title": "越界", "description": "x", "proposing_unit": PROPOSING,
                                    "assessing_unit": ASSESSING, "region_codes": [WUCHANG], "area": ""})
    assert not Decision.objects.filter(title="越界").exists()


def test_the_staff_of_the_second_region_read_it(regions, proposer, make_user, api_client_for):
    d = services.decision_create(actor=proposer, title="公交线路调整", description="撤并线路", proposing_unit=PROPOSING,
                                 assessing_unit=ASSESSING, region_codes=[STREET, QINDUANKOU])
    qinduankou = make_user("t_st_qdk", roles.REGION_STAFF, region_codes=[QINDUANKOU + "001"])
    elsewhere = make_user("t_st_wc", roles.REGION_STAFF, region_codes=[WUCHANG + "001"])
    assert list(selectors.decision_list(user=qinduankou)) == [d]
    assert not selectors.decision_list(user=elsewhere).exists()


def test_monitoring_links_the_cases_of_every_region(walk, regions, report_case):  # noqa: F811
    d = walk("monitoring", start=datetime(2026, 3, 2, 9, 0), region_codes=[STREET, QINDUANKOU])
    first = report_case(STREET + "001", d.published_at + timedelta(days=1))
    second = report_case(QINDUANKOU + "003", d.published_at + timedelta(days=2), at=(114.15, 30.53))
    report_case(WUCHANG + "001001", d.published_at + timedelta(days=2), at=(114.35, 30.55))
    assert set(selectors.linked_cases(decision=d)) == {first, second}
    outline = shapely.from_geojson(json.dumps(selectors.area_geojson(d)))
    assert outline.contains(shapely.Point(114.15, 30.53)) and outline.contains(shapely.Point(114.22, 30.55))


def test_the_migration_gives_each_existing_decision_its_one_region(regions, proposer):
    from django.apps import apps

    for title, code in (("甲", STREET), ("乙", QINDUANKOU)):
        services.decision_create(actor=proposer, title=title, description="x", proposing_unit=PROPOSING,
                                 assessing_unit=ASSESSING, region_code=code)
    DecisionRegion.objects.all().delete()  # as before the migration: one region_code each, no rows
    migration = importlib.import_module("cityops.stability.migrations.0002_decision_regions")
    migration.one_region_each(apps, None)
    assert {(r.decision.title, r.code) for r in DecisionRegion.objects.select_related("decision")} == {
        ("甲", STREET), ("乙", QINDUANKOU)}


def test_the_dashboard_counts_it_in_each_of_its_regions(regions, proposer, leader):
    """The dashboard's 稳评 figures and its decisions layer drilled down to the second region find the decision
    (they filtered on its first region only)."""
    from datetime import date

    from cityops.dashboard import kpis, layers

    d = services.decision_create(actor=proposer, title="公交线路调整", description="撤并线路", proposing_unit=PROPOSING,
                                 assessing_unit=ASSESSING, region_codes=[STREET, QINDUANKOU])
    Decision.objects.filter(pk=d.pk).update(state="consultation", area={"type": "Polygon", "coordinates": [
        [[114.12, 30.5], [114.19, 30.5], [114.19, 30.57], [114.12, 30.57], [114.12, 30.5]]]})
    today = date.today()
    for code, n in ((QINDUANKOU, "1"), (STREET, "1"), (WUCHANG, "0")):
        figures = kpis.decision_figures(leader, today, today, region=code)
        assert figures[0].value == n, code
    for code, n in ((QINDUANKOU, 1), (STREET, 1), (WUCHANG, 0)):
        view = layers.View(box=None, zoom=10, filters={}, region=code)  # the layer reads the region, not the box
        assert len(layers.decisions_layer(leader, view)["features"]) == n, code
