"""The drill-down's areas coloured by score (dashboard/scores.py, /api/v1/dashboard/map/scores): the score is the
cases evaluation's (cases.evaluation.evaluate_regions + score_regions) for the period, ranked among the children
shown, scoped like every count, computed once per level and period for everyone and kept briefly.

Timeline by hand (today): grid 42010600100101 (community 001001) registers 5 cases (1 public) and closes 5 (4 on
time): 结案率 1, 按期结案率 0.8, 监督举报率 0.2 → 40 + 32 + 16 = 88 (B). Grid 42010600100201 (community 001002)
registers 5 (all public) and closes 1 on time: 8 + 8 + 0 = 16 (E). 江岸区's grid registers 2: below the minimum of 5
(样本不足: a score, no grade, no rank)."""

import pytest
from django.test import Client
from django.utils import timezone

from cityops.cases import evaluation
from cityops.core import roles
from cityops.dashboard.tests import test_map_api as small_city

geography, reference, district_units = small_city.geography, small_city.reference, small_city.district_units
district_dispatcher, leader_client, wuchang_client = (small_city.district_dispatcher, small_city.leader_client,
                                                      small_city.wuchang_client)
_no_cache = small_city._no_cache
API = small_city.API
A, B, JIANGAN = "42010600100101", "42010600100201", "42010200100101"


@pytest.fixture
def timeline(reference):
    from cityops.core.models import TimelineEntry

    now = timezone.now()
    rows, n = [], 0

    def entry(action, region, **params):
        nonlocal n
        n += 1
        rows.append(TimelineEntry(subject_type="cases.case", subject_id=f"s{n}", seq=1, at=now, action=action,
                                  params={"region": region, **params}, hash="x"))

    for i in range(5):
        entry("register", A, public=(i == 0))
        entry("close", A, case_on_time=(i < 4))
        entry("register", B, public=True)
    entry("close", B, case_on_time=True)
    entry("register", JIANGAN, public=False)
    entry("register", JIANGAN, public=False)
    TimelineEntry.objects.bulk_create(rows)


def _today():
    day = timezone.localdate().isoformat()
    return {"from": day, "to": day}


def test_the_children_of_a_street_are_scored_and_ranked_among_themselves(timeline, leader_client):
    got = leader_client.get(f"{API}/scores", {"region": "420106001", **_today()})
    assert got.status_code == 200, got.content
    body = got.json()
    assert body["level"] == "community"
    rows = {c["code"]: c for c in body["children"]}
    good, bad = rows["420106001001"], rows["420106001002"]
    assert (good["score"], good["grade"], good["rank"], good["ranked"]) == (88.0, "B", 1, 2)
    assert (bad["score"], bad["grade"], bad["rank"]) == (16.0, "E", 2)
    assert good["name"] == "武昌区一街道一社区" or not good["name"].isdigit()  # a name, not a code
    assert good["color"] == "#7fb800" and bad["color"] == "#b3261e"
    assert [pair[1] for pair in body["legend"]][-2:] == ["样本不足", "本期无立案"]
    # A grid among its community's grids (here the only one): its card's score and rank.
    (grid,) = leader_client.get(f"{API}/scores", {"region": "420106001001", **_today()}).json()["children"]
    assert (grid["code"], grid["score"], grid["rank"], grid["ranked"]) == (A, 88.0, 1, 1)


def test_a_small_sample_has_a_score_but_no_grade_nor_rank_and_a_quiet_area_none(timeline, leader_client):
    rows = {c["code"]: c for c in leader_client.get(f"{API}/scores", _today()).json()["children"]}
    assert rows["420102"]["registered"] == 2 and rows["420102"]["rank"] is None and rows["420102"]["grade"] == ""
    assert rows["420102"]["sample_ok"] is False and rows["420102"]["color"] == "#c9d1d9"
    assert rows["420106"]["rank"] == 1 and rows["420106"]["score"] == pytest.approx(
        40 * 0.6 + 40 * 0.5 + 20 * (1 - 0.6))  # 10 registered, 6 closed (5 on time), 6 public
    # Another period: nothing registered, no score.
    quiet = leader_client.get(f"{API}/scores", {"from": "2020-01-01", "to": "2020-01-31"}).json()["children"]
    assert {c["code"]: (c["score"], c["color"]) for c in quiet} == {"420102": (None, "#f6f8fa"),
                                                                  "420106": (None, "#f6f8fa")}


def test_scores_are_scoped_like_every_count(timeline, wuchang_client, make_user):
    top = wuchang_client.get(f"{API}/scores", _today()).json()
    assert [c["code"] for c in top["children"]] == ["420106001"]  # starts at 武昌区 (its street), as /area does
    assert wuchang_client.get(f"{API}/scores", {"region": "420106001", **_today()}).status_code == 200
    outside = wuchang_client.get(f"{API}/scores", {"region": "420102", **_today()})
    assert outside.status_code == 403 and outside.json()["code"] == "region_outside_scope"
    # A department's handler sees the map of their unit's cases but not the regions' evaluation.
    handler = Client()
    handler.force_login(make_user("t_scores_handler", roles.DEPT_HANDLER, org_units=["CG"]))
    refused = handler.get(f"{API}/scores", _today())
    assert refused.status_code == 403 and refused.json()["code"] == "role_not_allowed"
    assert "name=\"areamode\"" not in handler.get("/dashboard/").content.decode()
    assert wuchang_client.get("/dashboard/").content.decode().count("name=\"areamode\"") == 2


def test_bad_periods_are_refused_with_a_code(timeline, leader_client):
    for params, code in (({"from": "2026-13-01"}, "invalid_date"), ({"from": "2026-02-01", "to": "2026-01-01"},
                                                                     "invalid_range"),
                         ({"from": "2024-01-01", "to": "2025-06-01"}, "period_too_long"),
                         ({"from": "2026-01-01\x00"}, "invalid_characters")):
        got = leader_client.get(f"{API}/scores", params)
        assert got.status_code == 400 and got.json()["code"] == code, params


def test_a_level_is_evaluated_once_per_period_for_everyone_and_kept_briefly(timeline, leader_client, wuchang_client,
                                                                           settings, monkeypatch):
    from django.core.cache import cache

    settings.CITYOPS_DASHBOARD_CACHE_S = 30
    cache.clear()
    calls = []
    real = evaluation.evaluate_regions
    monkeypatch.setattr(evaluation, "evaluate_regions", lambda **kw: calls.append(kw) or real(**kw))
    first = leader_client.get(f"{API}/scores", {"region": "420106001", **_today()}).json()
    again = wuchang_client.get(f"{API}/scores", {"region": "420106001", **_today()}).json()
    assert len(calls) == 1 and first["children"] == again["children"]
    leader_client.get(f"{API}/scores", {"region": "420106001", "from": "2026-01-01", "to": "2026-01-31"})
    assert len(calls) == 2  # another period: evaluated for it
    cache.clear()
