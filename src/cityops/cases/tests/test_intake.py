
import pytest

from cityops.cases.models import Case, CaseCounter, RoutingRule
from cityops.cases.services import case_create, case_duplicates, route_department
from cityops.cases.tests.conftest import POINT_JIANGAN, POINT_WUCHANG_A, POINT_WUCHANG_B
from cityops.core.errors import Forbidden, InvalidInput, Unprocessable
from cityops.core.timeline import timeline_for

pytestmark = pytest.mark.django_db


def test_create_locates_routes_codes_and_records(new_case, clock):
    clock(__import__("datetime").datetime(2026, 11, 25, 9, 0))
    case = new_case(reporter_phone="13812345678")
    assert case.code == "2026420106000001"
    assert (case.state, case.source, case.level) == ("reported", "hotline", "community")
    assert (case.district_code, case.street_code, case.community_code, case.grid_code) == (
        "420106", "420106001", "420106001001", "42010600100101")
    assert case.region_code == "42010600100101"
    assert case.proposed_department.code == "HW"
    assert case.clock_limit_s == 1800 and case.deadline_at is not None
    entry = timeline_for(case).get()
    assert entry.action == "report" and entry.params["region"] == case.region_code
    assert new_case(point=POINT_WUCHANG_B).code == "2026420106000002"
    assert new_case(point=POINT_JIANGAN).code == "2026420102000001"


def test_phone_is_masked_except_for_intake_and_reporter(new_case, operator, dispatcher, resident):
    from cityops.cases.privacy import reporter_seen_by

    case = new_case(reporter_phone="13812345678")
    assert reporter_seen_by(case, operator).phone == "13812345678"
    assert reporter_seen_by(case, dispatcher).phone == "138****5678"
    own = case_create(actor=resident, category="E0101", lon=POINT_WUCHANG_A[0], lat=POINT_WUCHANG_A[1],
                      description="x", reporter_phone="13900001111").case
    assert own.reporter == resident and own.source == "portal"
    assert reporter_seen_by(own, resident).phone == "13900001111"


def test_district_bureau_overrides_city_default(reference, new_case):
    from cityops.accounts.models import OrgUnit
    from cityops.cases.models import Category

    bureau = OrgUnit.objects.create(code="WC-HW", name="武昌区环卫所", kind="department", region_code="420106")
    RoutingRule.objects.create(category=Category.objects.get(code="E0101"), region_prefix="420106", department=bureau)
    assert new_case().proposed_department == bureau
    assert new_case(point=POINT_JIANGAN).proposed_department.code == "HW"
    assert route_department(category=Category.objects.get(code="E0102"), region_code="42010600100101").code == "HW"


def test_routing_rule_choice(reference):
    """The proposed department: active rules only, category-specific before catch-all, then the longest
    matching prefix, else the category's default department (none when the category names none or an unknown
    one)."""
    from cityops.accounts.models import OrgUnit
    from cityops.cases.models import Category
    from cityops.cases.services import category_get
    from cityops.cases.services.intake import _route

    units = {code: OrgUnit.objects.create(code=code, name=code, kind="department") for code in ("A", "B", "C", "D")}
    e0101, e0102 = Category.objects.get(code="E0101"), Category.objects.get(code="E0102")
    RoutingRule.objects.create(category=None, region_prefix="420106001", department=units["A"])
    RoutingRule.objects.create(category=e0101, region_prefix="420106", department=units["B"])
    RoutingRule.objects.create(category=e0101, region_prefix="42010600100101", department=units["C"], active=False)
    RoutingRule.objects.create(category=e0102, region_prefix="", department=units["D"])
    Category.objects.create(code="E0999", kind="event", major_zh="x", name_zh="无部门", department_code="")
    Category.objects.create(code="E0998", kind="event", major_zh="x", name_zh="未知部门", department_code="NOPE")
    Category.objects.create(code="E0997", kind="event", major_zh="x", name_zh="停用", active=False)
    hw = OrgUnit.objects.get(code="HW")
    want = {
        ("E0101", "42010600100101"): "B", ("E0101", "420106001002"): "B", ("E0101", "42010200100101"): "HW",
        ("E0101", ""): "HW", ("E0102", "42010600100101"): "D", ("E0102", ""): "D",
        ("E0999", "42010600100101"): "A", ("E0999", "42010200100101"): None,
        ("E0998", "420106001002"): "A", ("E0998", "42010200100101"): None,
    }
    for (code, region), dept in want.items():
        got = _route(category_get(code.lower()), region)
        expected = (None, "") if dept is None else (hw.pk if dept == "HW" else units[dept].pk, dept)
        assert got == expected, (code, region)
    for missing in ("E0997", "X9999", ""):
        with pytest.raises(InvalidInput) as e:
            category_get(missing)
        assert e.value.code == "unknown_category"


def test_unknown_category_is_reported_before_a_bad_place(reference, operator):
    for place in ({}, {"lon": 116.4, "lat": 39.9}, {"address": "火星某处"}):
        with pytest.raises(InvalidInput) as e:
            case_create(actor=operator, category="X9999", description="x", **place)
        assert e.value.code == "unknown_category"


def test_refusals(reference, operator, handler_hw):
    p = {"lon": POINT_WUCHANG_A[0], "lat": POINT_WUCHANG_A[1], "description": "x"}
    with pytest.raises(InvalidInput) as e:
        case_create(actor=operator, category="X9999", **p)
    assert e.value.code == "unknown_category"
    with pytest.raises(Unprocessable) as e:
        case_create(actor=operator, category="E0101", lon=116.4, lat=39.9, description="x")
    assert e.value.code == "outside_city"
    with pytest.raises(InvalidInput) as e:
        case_create(actor=operator, category="E0101", description="x")
    assert e.value.code == "location_required"
    with pytest.raises(InvalidInput) as e:
        case_create(actor=operator, category="E0101", **{**p, "description": "  "})
    assert e.value.code == "description_required"
    with pytest.raises(Forbidden):
        case_create(actor=handler_hw, category="E0101", **p)
    assert Case.objects.count() == 0


def test_gcj02_input_is_stored_as_wgs84(reference, operator):
    from cityops.geo.coords import from_wgs84

    gx, gy = from_wgs84(*POINT_WUCHANG_A, "gcj02")
    case = case_create(actor=operator, category="E0101", lon=gx, lat=gy, crs="gcj02", description="x").case
    assert abs(case.lon - POINT_WUCHANG_A[0]) < 1e-5 and abs(case.lat - POINT_WUCHANG_A[1]) < 1e-5


def test_idempotency_key_returns_the_same_case(reference, operator):
    p = {"category": "E0101", "lon": POINT_WUCHANG_A[0], "lat": POINT_WUCHANG_A[1], "description": "x"}
    first = case_create(actor=operator, idempotency_key="k1", **p)
    again = case_create(actor=operator, idempotency_key="k1", **p)
    assert first.created and not again.created and again.case.pk == first.case.pk
    assert Case.objects.count() == 1


def test_duplicates_same_category_within_radius_and_window(new_case, clock):
    from datetime import datetime, timedelta

    t0 = clock(datetime(2026, 11, 25, 9, 0))
    first = new_case()
    near = new_case(point=(POINT_WUCHANG_A[0] + 0.0005, POINT_WUCHANG_A[1]))  # ~48 m east
    far = new_case(point=(POINT_WUCHANG_A[0] + 0.002, POINT_WUCHANG_A[1]))  # ~190 m
    other_category = new_case(category="E0201")
    assert [c.pk for c in case_duplicates(near)] == [first.pk]
    assert far.pk not in {c.pk for c in case_duplicates(first)}
    assert other_category.pk not in {c.pk for c in case_duplicates(first)}
    assert [c.pk for c in case_duplicates(first)] == [near.pk]
    clock(t0 + timedelta(hours=73))
    late = new_case()
    assert case_duplicates(late) == []


def test_intake_suggests_what_case_duplicates_finds(new_case, walk, operator, clock):
    """Intake's suggestions are case_duplicates' answer for the new case: radius of the category, window, open
    states, nearest first, never the new case itself."""
    from datetime import datetime, timedelta

    from cityops.cases.models import Category

    Category.objects.filter(code="E0101").update(duplicate_radius_m=150)
    t0 = clock(datetime(2026, 11, 25, 9, 0))
    x, y = POINT_WUCHANG_A
    for dx in (0.0003, 0.0009, 0.0014, 0.0020):  # ~29, 86, 134, 191 m east
        new_case(point=(x + dx, y))
    walk(new_case(point=(x, y + 0.0001)), "closed")
    new_case(category="E0201")
    clock(t0 - timedelta(hours=80))
    new_case(point=(x, y))  # before the window
    clock(t0 + timedelta(hours=1))
    intake = case_create(actor=operator, category="e0101", lon=x, lat=y, description="又有垃圾")
    got = [(d.code, d.state, d.distance_m, d.created_at) for d in intake.duplicates]
    want = [(d.code, d.state, d.distance_m, d.created_at) for d in case_duplicates(intake.case)]
    assert got == want and len(got) == 3  # 29, 86 and 134 m: inside 150 m, not 191 m, not closed or older
    assert [d.distance_m for d in intake.duplicates] == sorted(d.distance_m for d in intake.duplicates)
    assert intake.case.pk not in {d.pk for d in intake.duplicates}


def test_duplicates_agree_with_the_rule(new_case, walk, clock):
    """case_duplicates finds what the rule says, checked against a plain queryset and the exact distance (open
    states only, same category, window, radius, never the case itself, a not-saved probe too)."""
    import math
    from datetime import datetime, timedelta

    from django.utils import timezone

    from cityops.cases.workflow import OPEN_STATES

    def reference(case, radius=100.0, window=timedelta(hours=72)):
        dlat = radius / 111_320
        dlon = radius / (111_320 * max(0.01, math.cos(math.radians(case.lat))))
        qs = Case.objects.filter(
            category_id=case.category_id, created_at__gte=case.created_at - window,
            created_at__lte=case.created_at + window, lat__range=(case.lat - dlat, case.lat + dlat),
            lon__range=(case.lon - dlon, case.lon + dlon), state__in=OPEN_STATES,
        ).exclude(pk=case.pk)[:50]
        return sorted(c.code for c in qs if _metres(case.lon, case.lat, c.lon, c.lat) <= radius)

    from cityops.cases.services.duplicates import _metres

    t0 = clock(datetime(2026, 11, 25, 9, 0))
    x, y = POINT_WUCHANG_A
    cases = [new_case(point=(x + dx, y + dy)) for dx, dy in ((0, 0), (0.0004, 0), (0, 0.0006), (0.0012, 0.0002))]
    cases.append(walk(new_case(point=(x + 0.0001, y)), "closed"))
    cases.append(walk(new_case(point=(x, y + 0.0001)), "dispatched"))
    clock(t0 + timedelta(hours=30))
    cases.append(new_case(point=(x + 0.0002, y + 0.0002)))
    for case in cases:
        found = case_duplicates(case)
        assert sorted(c.code for c in found) == reference(case)
        assert [c.distance_m for c in found] == sorted(c.distance_m for c in found)
        assert all(c.created_at.tzinfo is not None and c.description for c in found)
    probe = Case(category=cases[0].category, lon=x, lat=y, created_at=timezone.now())
    assert sorted(c.code for c in case_duplicates(probe)) == reference(probe)
    assert cases[4].code not in [c.code for c in case_duplicates(probe)]  # closed
    assert cases[5].code in [c.code for c in case_duplicates(probe)]  # dispatched is still open


def test_serial_counter_counts_per_year_and_district(new_case):
    new_case()
    new_case()
    new_case(point=POINT_JIANGAN)
    assert CaseCounter.objects.get(district="420106").last == 2
    assert CaseCounter.objects.get(district="420102").last == 1


def test_a_failed_report_keeps_no_serial(reference, operator, new_case):
    """The serial, the case and its first timeline entry are one transaction: when the case cannot be written,
    none is (here its code collides with a case's after the counter was set back)."""
    from django.db import IntegrityError

    from cityops.core.models import TimelineEntry

    new_case()
    CaseCounter.objects.filter(district="420106").update(last=0)
    cases, entries = Case.objects.count(), TimelineEntry.objects.count()
    with pytest.raises(IntegrityError):
        case_create(actor=operator, category="E0101", description="x", lon=POINT_WUCHANG_A[0], lat=POINT_WUCHANG_A[1])
    assert (Case.objects.count(), TimelineEntry.objects.count()) == (cases, entries)
    assert CaseCounter.objects.get(district="420106").last == 0


def test_intake_stores_what_the_instance_says(reference, operator):
    """Every field read back equals the instance case_create returned (the answer is rendered from it)."""
    intake = case_create(actor=operator, category="E0101", lon=POINT_WUCHANG_A[0], lat=POINT_WUCHANG_A[1],
                         description="井盖缺失", reporter_phone="13812345678", address=" 中北路 1 号 ")
    stored = Case.objects.get(pk=intake.case.pk)
    for f in Case._meta.concrete_fields:
        assert getattr(stored, f.attname) == getattr(intake.case, f.attname), f.name
    assert not intake.case._state.adding


@pytest.mark.postgres
def test_duplicate_search_reads_the_box(reference):
    """The duplicate query is an index range of (category, lat, lon): with cases spread over a year and the
    city, PostgreSQL reads the few in the box, not the window's thousands through created_at."""
    import random
    from datetime import timedelta

    from django.db import connection, transaction
    from django.utils import timezone

    from cityops.cases.models import Category
    from cityops.cases.services.duplicates import _duplicate_candidates

    rng = random.Random(7)
    categories = list(Category.objects.all()[:20])
    now = timezone.now()
    Case.objects.bulk_create(
        Case(code=f"T{i:07d}", source="hotline", category=categories[i % len(categories)], state="registered",
             lon=114.2 + rng.random() * 0.3, lat=30.45 + rng.random() * 0.2, region_code="420106", description="x",
             created_at=now - timedelta(hours=rng.random() * 24 * 365))
        for i in range(20_000)
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE cases_case")
    probe = Case(category=categories[0], lon=114.3, lat=30.55, created_at=now)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")  # the choice asked about is between indexes
        plan = _duplicate_candidates(probe, 100.0, timedelta(hours=72)).explain()
    assert "case_category_lat_lon" in plan, plan


def test_intake_reads_the_category_and_routing_of_now(reference, new_case):
    """Every report reads its category and routing: a change in between is seen by the next report, and a
    refused report writes nothing (no case, no entry, no serial drawn)."""
    from cityops.accounts.models import OrgUnit
    from cityops.cases.models import Category
    from cityops.core.models import TimelineEntry

    first = new_case()
    second = new_case()
    assert second.code != first.code and second.proposed_department.code == "HW"
    bureau = OrgUnit.objects.create(code="WC-HW", name="武昌区环卫所", kind="department", region_code="420106")
    rule = RoutingRule.objects.create(category=Category.objects.get(code="E0101"), region_prefix="420106", department=bureau)
    assert new_case().proposed_department == bureau
    Category.objects.filter(code="E0101").update(duplicate_radius_m=5)
    assert new_case().category.duplicate_radius_m == 5
    RoutingRule.objects.filter(pk=rule.pk).update(active=False)
    assert new_case().proposed_department.code == "HW"
    Category.objects.filter(code="E0101").update(active=False)
    cases, entries, serial = Case.objects.count(), TimelineEntry.objects.count(), CaseCounter.objects.get(district="420106").last
    with pytest.raises(InvalidInput) as e:
        new_case()
    assert e.value.code == "unknown_category"
    assert (Case.objects.count(), TimelineEntry.objects.count()) == (cases, entries)
    assert CaseCounter.objects.get(district="420106").last == serial


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_reports_draw_distinct_serials(reference, operator):
    """Reports of one district from several connections at once, the first of them creating the counter row:
    every serial is drawn once, none is skipped."""
    import threading

    from django.db import connection

    barrier = threading.Barrier(6)
    codes, errors = [], []

    def report():
        try:
            barrier.wait()
            for _ in range(5):
                codes.append(case_create(actor=operator, category="E0101", lon=POINT_WUCHANG_A[0],
                                         lat=POINT_WUCHANG_A[1], description="同时上报").case.code)
        except Exception as exc:  # surfaced by the assertion below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=report) for _ in range(6)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert errors == []
    assert sorted(int(code[-6:]) for code in codes) == list(range(1, 31))
    assert CaseCounter.objects.get(district="420106").last == 30
