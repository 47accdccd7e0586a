"""The rollup of finished cases (dashboard/rollup.py): a map view answered from it and the live cases must be the
answer the cases alone give — before a refresh, after one, and with cases finished since the mark.
Runs on SQLite and on PostgreSQL."""

import random
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from cityops.cases.tests import conftest as city
from cityops.dashboard import aggregation, rollup
from cityops.dashboard.models import CaseBin
from cityops.dashboard.tests import test_briefings as briefing

geography, reference = city.geography, city.reference

CITY = aggregation.Box(113.5, 29.5, 115.5, 31.5)
STATES = ["registered", "dispatched", "accepted", "handled", "closed", "archived", "archived", "archived", "voided"]


@pytest.fixture(autouse=True)
def _no_cache(settings):
    settings.CITYOPS_DASHBOARD_CACHE_S = 0


@pytest.fixture
def many(reference):
    """600 cases spread over 武昌区 and 江岸区 in every kind of state, some overdue, finished over the last days."""
    from cityops.cases.models import Case, Category

    category = Category.objects.get(code="E0101")
    rng = random.Random(7)
    now = timezone.now()
    rows = []
    for i in range(600):
        district = rng.choice(["420106", "420102"])
        state = rng.choice(STATES)
        grid = f"{district}00100101"
        rows.append(Case(
            code=f"R{i:06d}", source="field", category=category, lon=114.1 + rng.random() * 0.5,
            lat=30.4 + rng.random() * 0.4, region_code=grid, district_code=district, street_code=grid[:9],
            community_code=grid[:12], grid_code=grid, description="测试", state=state,
            overdue=state in ("dispatched", "accepted") and rng.random() < 0.3,
            deadline_at=None if state in ("archived", "voided") else now + timedelta(hours=rng.randrange(-30, 30)),
            created_at=now - timedelta(days=rng.randrange(1, 300)),
            state_changed_at=now - timedelta(hours=rng.randrange(2, 200)),
        ))
    return Case.objects.bulk_create(rows)


@pytest.fixture
def leader(make_user):
    from cityops.core import roles

    return make_user("rollup_leader", roles.LEADER)


def view(user, zoom, status, *, region="", late=False, use_rollup=True, settings=None, box=CITY):
    settings.CITYOPS_DASHBOARD_ROLLUP = use_rollup
    filters = aggregation.clean_filters({"status": status, "late": "1" if late else ""})
    box = aggregation.snap(box, aggregation.bin_size(zoom))
    got = aggregation._case_view(user=user, box=box, zoom=zoom, filters=filters, region=region)
    return got["total"], sorted((b["n"], b["late"], round(b["lon"], 4), round(b["lat"], 4)) for b in got["bins"])


def same_as_live(user, settings, **kwargs):
    for zoom in (8, 10, 13):
        for status in ("all", "closed"):
            settings.CITYOPS_DASHBOARD_ROLLUP = True
            assert rollup.serves(user=user, filters={"status": status}, region=kwargs.get("region", ""),
                                 size=aggregation.bin_size(zoom))
            assert (view(user, zoom, status, settings=settings, **kwargs)
                    == view(user, zoom, status, use_rollup=False, settings=settings, **kwargs)), (zoom, status)


def test_the_map_from_the_rollup_is_the_map_from_the_cases(many, leader, settings, monkeypatch):
    monkeypatch.setattr(aggregation, "POINTS_MAX", 20)
    got = rollup.refresh()
    finished = sum(1 for c in many if c.state in ("archived", "voided"))
    assert got["cases"] == finished and CaseBin.objects.count() == got["squares"] > 0
    same_as_live(leader, settings)
    same_as_live(leader, settings, region="420106")


def test_cases_on_the_edges_of_squares_and_views_are_counted_once(many, leader, settings, monkeypatch):
    """Whole, half and quarter degrees are the edges of bins and views at low zooms: a finished case exactly there
    is in the same bin from the rollup as from the cases."""
    from cityops.cases.models import Case

    monkeypatch.setattr(aggregation, "POINTS_MAX", 20)
    Case.objects.filter(pk__in=[c.pk for c in many if c.state == "archived"][:40]).update(lon=114.25, lat=30.5)
    rollup.refresh()
    same_as_live(leader, settings)
    # A view whose east and north edges pass through them (and the view beside it): counted in one view only.
    west = aggregation.Box(113.5, 29.5, 114.25, 30.5)
    east = aggregation.Box(114.25, 30.5, 115.5, 31.5)
    for box in (west, east):
        assert (view(leader, 10, "all", settings=settings, box=box)
                == view(leader, 10, "all", use_rollup=False, settings=settings, box=box)), box
    assert view(leader, 10, "all", settings=settings, box=east)[0] >= 40


def test_a_lost_mark_rebuilds_instead_of_counting_twice(many, leader, settings, monkeypatch):
    from cityops.dashboard.models import RollupMark

    monkeypatch.setattr(aggregation, "POINTS_MAX", 20)
    rollup.refresh()
    RollupMark.objects.filter(name=rollup.MARK).delete()
    rollup.refresh()
    assert sum(b.n for b in CaseBin.objects.all()) == sum(1 for c in many if c.state in ("archived", "voided"))
    same_as_live(leader, settings)


def test_cases_finished_after_the_mark_are_counted_live_then_taken_in_once(many, leader, settings, monkeypatch):
    from cityops.cases.models import Case

    monkeypatch.setattr(aggregation, "POINTS_MAX", 20)
    rollup.refresh()
    # Fifty open cases are archived now (after the mark): the map counts them live, not twice, not never.
    moved = [c.pk for c in many if c.state == "dispatched"][:50]
    Case.objects.filter(pk__in=moved).update(state="archived", state_changed_at=timezone.now(), deadline_at=None,
                                             overdue=False)
    same_as_live(leader, settings)
    before = sum(b.n for b in CaseBin.objects.all())
    # Once the mark has passed them, the next refresh takes them in; a second refresh adds nothing.
    got = rollup.refresh(now=timezone.now() + rollup.MARGIN + timedelta(seconds=1))
    assert got["cases"] == len(moved)
    assert sum(b.n for b in CaseBin.objects.all()) == before + len(moved)
    assert rollup.refresh(now=timezone.now() + rollup.MARGIN + timedelta(seconds=2))["cases"] == 0
    same_as_live(leader, settings)
    # A full rebuild gives the same rows as the refreshes did.
    rows = sorted(CaseBin.objects.values_list("cx", "cy", "district_code", "n", "late"))
    rollup.refresh(full=True, now=timezone.now() + rollup.MARGIN + timedelta(seconds=3))
    assert sorted(CaseBin.objects.values_list("cx", "cy", "district_code", "n", "late")) == rows


def test_the_districts_counts_come_from_the_rollup_too(many, leader, settings):
    rollup.refresh()
    filters = aggregation.clean_filters({"status": "all"})
    settings.CITYOPS_DASHBOARD_ROLLUP = True
    fast = aggregation._counts_by_child(user=leader, region_code="", child_level="district", filters=filters)
    settings.CITYOPS_DASHBOARD_ROLLUP = False
    slow = aggregation._counts_by_child(user=leader, region_code="", child_level="district", filters=filters)
    assert fast == slow and sum(v["n"] for v in fast.values()) == len(many)


def test_what_the_rollup_cannot_answer_is_counted_live(many, leader, make_user, settings):
    from cityops.core import roles

    rollup.refresh()
    size = aggregation.bin_size(10)
    assert not rollup.serves(user=leader, filters={"status": "open"}, region="", size=size)
    assert not rollup.serves(user=leader, filters={"status": "all", "category": "E0101"}, region="", size=size)
    assert not rollup.serves(user=leader, filters={"status": "all", "from": "2026-01-01"}, region="", size=size)
    assert not rollup.serves(user=leader, filters={"status": "all", "late": True}, region="", size=size)
    assert not rollup.serves(user=leader, filters={"status": "all"}, region="420106001", size=size)
    assert not rollup.serves(user=leader, filters={"status": "all"}, region="", size=aggregation.bin_size(14))
    # A district's own staff see their district's cases only: never the city-wide rollup.
    staff = make_user("rollup_grid", roles.GRID_WORKER, region_codes=["420106"])
    assert not rollup.serves(user=staff, filters={"status": "all"}, region="", size=size)


def test_never_built_means_live(many, leader, settings):
    assert rollup.mark() is None
    assert not rollup.serves(user=leader, filters={"status": "all"}, region="", size=aggregation.bin_size(10))


# --- the figures of ended days (CaseDay) -------------------------------------------------------------------------
# Yesterday's small city of the briefings' tests (its cases and their timeline, known by hand).
briefing_cases, day, data_dir = briefing.cases, briefing.day, briefing.data_dir


@pytest.mark.parametrize("region", ["", "420106", "420106001002", "42010600100201"])
def test_the_figures_of_ended_days_from_the_day_rows_are_the_timelines(briefing_cases, day, leader, region):
    from cityops.core.timeline import timeline_append
    from cityops.dashboard import kpis
    from cityops.dashboard.models import CaseDay

    start, end = day - timedelta(days=3), timezone.localdate()
    live = kpis.case_figures(user=leader, region=region, start=start, end=end)
    assert rollup.refresh_days() >= 2 and CaseDay.objects.filter(day=day).exists()
    assert rollup.refresh_days() == 0  # each day once
    counted = rollup.days_counted(region=region)
    assert (counted is None) == (len(region) > rollup.COMMUNITY_DIGITS)
    assert kpis.case_figures(user=leader, region=region, start=start, end=end) == live
    if not region:
        assert live["period"]["handled"] == 2 and live["period"]["on_time_rate"] == 0.5
        assert live["levels"][0]["resolved"] == 1 and live["trend"]["handled"][-2] == 2
        # The day rows are what is read for the ended days (a row changed by hand shows).
        from django.db.models import F

        row = CaseDay.objects.filter(day=day, handled__gt=0).values_list("pk", flat=True)[:1]
        CaseDay.objects.filter(pk__in=list(row)).update(handled=F("handled") + 10)
        assert kpis.case_figures(user=leader, region=region, start=start, end=end)["period"]["handled"] == 12
        CaseDay.objects.filter(pk__in=list(row)).update(handled=F("handled") - 10)
    # Today's entries are read live beside the day rows.
    w1 = briefing_cases["W1"]
    w1.state = "handled"
    with transaction.atomic():
        timeline_append(subject=w1, action="handle", at=timezone.now(), to_state="handled",
                        params={"region": w1.region_code, "on_time": False})
    again = kpis.case_figures(user=leader, region=region, start=start, end=end)
    if region in ("", "420106"):
        assert again["period"]["handled"] == live["period"]["handled"] + 1
        assert again["trend"]["handled"][-1] == live["trend"]["handled"][-1] + 1
    rollup_off = kpis.case_figures
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(rollup, "enabled", lambda: False)
        assert rollup_off(user=leader, region=region, start=start, end=end) == again
