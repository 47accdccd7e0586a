"""稳评决策区域 on the dashboard's map: the stability app's own layer (StabilityConfig.dashboard_layers) replaces the
dashboard's built-in one — the decisions in consultation or monitoring, each with its area (its polygon, else its
region's outline), read through the app's selector; nothing of a decision in another state; only what reaches
into the map's box; a district's staff see their district's only (the dashboard's drill-down scope)."""

from datetime import datetime

import pytest
from django.test import Client

from cityops.core import roles
from cityops.stability.tests.conftest import AREA

pytestmark = pytest.mark.django_db
pytest.importorskip("cityops.dashboard.layers")

API = "/api/v1/dashboard/map"
CITY = "113.7,29.9,115.1,31.4"


@pytest.fixture
def decisions(walk):
    start = datetime(2026, 3, 2, 9, 0)
    return {
        "consultation": walk("consultation", area=AREA, start=start),
        "monitoring": walk("monitoring", level="medium", outcome="implement_with_measures", start=start),
        "proposed": walk("proposed", area=AREA, start=start),
        "published": walk("published", start=start),  # decided and published, its monitoring not yet started
    }


def _ids(answer: dict) -> set[int]:
    return {int(f["properties"]["url"].strip("/").split("/")[-1]) for f in answer["features"]}


def test_the_layer_is_the_stability_apps_own(decisions, make_user):
    client = Client()
    client.force_login(make_user("t_st_layer_leader", roles.LEADER))
    listed = {layer["key"]: layer for layer in client.get(f"{API}/layers").json()}
    assert listed["decisions"]["label"] == "稳评决策区域"

    got = client.get(f"{API}/layers/decisions", {"bbox": CITY, "zoom": "11"}).json()
    assert _ids(got) == {decisions["consultation"].pk, decisions["monitoring"].pk}
    by_state = {f["properties"]["state"]: f for f in got["features"]}
    consulting = by_state["consultation"]
    assert consulting["geometry"]["type"] == "Polygon" and consulting["properties"]["own_polygon"]
    assert consulting["geometry"]["coordinates"][0][0] == [114.2, 30.54]
    monitored = by_state["monitoring"]
    assert not monitored["properties"]["own_polygon"]  # drawn as its street (conftest: 114.2–114.25 × 30.5–30.57)
    assert max(x for x, _ in monitored["geometry"]["coordinates"][0]) == 114.25
    assert monitored["properties"]["color"] == "#e16f24" and "风险等级：中风险" in monitored["properties"]["lines"]
    assert any("征求意见截止" in line for line in consulting["properties"]["lines"])

    far = client.get(f"{API}/layers/decisions", {"bbox": "114.6,30.8,114.7,30.9", "zoom": "14"}).json()
    assert far["features"] == []  # the view's box holds neither area


def test_a_district_sees_its_own_districts_decisions_only(decisions, make_user):
    hanyang = Client()
    hanyang.force_login(make_user("t_st_layer_hy", roles.DISTRICT_DISPATCHER, region_codes=["420105"]))
    assert _ids(hanyang.get(f"{API}/layers/decisions", {"bbox": CITY, "zoom": "11"}).json()) == {
        decisions["consultation"].pk, decisions["monitoring"].pk}
    wuchang = Client()
    wuchang.force_login(make_user("t_st_layer_wc", roles.DISTRICT_DISPATCHER, region_codes=["420106"]))
    assert wuchang.get(f"{API}/layers/decisions", {"bbox": CITY, "zoom": "11"}).json()["features"] == []
