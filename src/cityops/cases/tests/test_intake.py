
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


def test_intake_routing_statement_agrees_with_route(reference):
    """Intake reads category and routing in one statement; it must pick what `_route` picks: active rules
    only, category-specific before catch-all, then the longest matching prefix, else the default department."""
    from cityops.accounts.models import OrgUnit
    from cityops.cases.models import Category
    from cityops.cases.services import _category_routed, _route

    units = {code: OrgUnit.objects.create(code=code, name=code, kind="department") for code in ("A", "B", "C", "D")}
    e0101, e0102 = Category.objects.get(code="E0101"), Category.objects.get(code="E0102")
    RoutingRule.objects.create(category=None, region_prefix="420106001", department=units["A"])
    RoutingRule.objects.create(category=e0101, region_prefix="420106", department=units["B"])
    RoutingRule.objects.create(category=e0101, region_prefix="42010600100101", department=units["C"], active=False)
    RoutingRule.objects.create(category=e0102, region_prefix="", department=units["D"])
    Category.objects.create(code="E0999", kind="event", major_zh="x", name_zh="无部门", department_code="", urgent=True,
                            duplicate_radius_m=50.5)
    Category.objects.create(code="E0998", kind="event", major_zh="x", name_zh="未知部门", department_code="NOPE")
    Category.objects.create(code="E0997", kind="event", major_zh="x", name_zh="停用", active=False)
    regions = ["42010600100101", "420106001002", "42010200100101", ""]
    for code in ("E0101", "E0102", "E0999", "E0998"):
        for region in regions:
            category, dept_id, dept_code = _category_routed(code.lower(), region)[:3]
            stored = Category.objects.get(code=code)
            fields = [f.attname for f in Category._meta.concrete_fields]
            assert [getattr(category, f) for f in fields] == [getattr(stored, f) for f in fields]
            assert (dept_id, dept_code) == _route(category, region), (code, region)
    assert _category_routed("E0101", "42010600100101")[1:3] == (units["B"].pk, "B")
    assert _category_routed("E0999", "42010600100101")[1:3] == (units["A"].pk, "A")
    assert _category_routed("E0102", "42010200100101")[1:3] == (units["D"].pk, "D")
    for missing in ("E0997", "X9999", ""):
        with pytest.raises(InvalidInput) as e:
            _category_routed(missing, "420106")
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
    """Intake reads its duplicate candidates with the category (PostgreSQL) or on their own (elsewhere); either
    way the suggestions are case_duplicates' answer for the new case: radius of the category, window, open
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


def test_duplicate_statement_agrees_with_the_queryset(new_case, walk, clock):
    """case_duplicates runs one prepared statement; it must find what the equivalent queryset finds (open
    states only, same category, window, box, never the case itself, a not-saved probe too)."""
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

    from cityops.cases.services import _metres

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


def test_serial_counter_is_one_statement_per_case(new_case):
    new_case()
    new_case()
    assert CaseCounter.objects.get(district="420106").last == 2


def test_fast_insert_stores_what_the_instance_says(reference, operator):
    """Intake inserts the case with one prepared statement on PostgreSQL: every field read back equals
    the instance case_create returned (as Model.save() would have written it)."""
    intake = case_create(actor=operator, category="E0101", lon=POINT_WUCHANG_A[0], lat=POINT_WUCHANG_A[1],
                         description="井盖缺失", reporter_phone="13812345678", address=" 中北路 1 号 ")
    stored = Case.objects.get(pk=intake.case.pk)
    for f in Case._meta.concrete_fields:
        assert getattr(stored, f.attname) == getattr(intake.case, f.attname), f.name
    assert not intake.case._state.adding


def test_prepared_statements_answer_and_fail_like_django_cursors(reference):
    from django.db import IntegrityError, transaction

    from cityops.core import prepared

    assert prepared.execute("SELECT code, active FROM cases_category WHERE code = %s", ["E0101"]) == [("E0101", True)]
    assert prepared.execute("SELECT code FROM cases_category WHERE code = %s", ["nope"], fetch="one") is None
    with pytest.raises(IntegrityError), transaction.atomic():
        for _ in range(2):
            prepared.execute("INSERT INTO cases_casecounter (year, district, last) VALUES (%s, %s, 1)", [1999, "x"], fetch=None)
    assert not CaseCounter.objects.filter(year=1999).exists()


@pytest.mark.postgres
def test_duplicate_search_reads_the_box_in_a_generic_plan(new_case):
    """Both duplicate statements run prepared; after five runs PostgreSQL may plan them generically, knowing no
    parameter. That plan must still read the (category, lat, lon) box, not walk the category's whole time
    window through (category, created_at) — which it did, 4.7 ms at 1,700 cases per category, before the box
    was read behind a fence."""
    import re
    from datetime import timedelta

    from django.db import connection, transaction
    from django.utils import timezone

    from cityops.cases.services import _duplicates_query, _intake_query
    from cityops.cases.workflow import OPEN_STATES

    case = new_case()
    now = timezone.now()
    window = (now - timedelta(hours=72), now + timedelta(hours=72))
    box = (case.lat - 0.001, case.lat + 0.001, case.lon - 0.001, case.lon + 0.001)
    sql = _intake_query(connection)
    nearby = {"nb_lon": case.lon, "nb_lat": case.lat, "nb_radius": 100.0, "nb_from": window[0], "nb_to": window[1]}
    statements = {
        "intake": (sql.read, {"region_code": case.region_code, "category_code": case.category.code, **nearby}),
        "insert": (f"SELECT {sql.nearby}", {"nb_category": case.category_id, **nearby}),
        "duplicates": (_duplicates_query(connection, True)[0], [case.category_id, *box, *window, *OPEN_STATES, case.pk]),
    }
    for name, (text, params) in statements.items():
        if isinstance(params, dict):  # named: number the names in order of first use
            names = list(dict.fromkeys(re.findall(r"%\((\w+)\)s", text)))
            text = re.sub(r"%\((\w+)\)s", lambda m, names=names: f"${names.index(m.group(1)) + 1}", text)
            params = [params[n] for n in names]
        else:
            numbered = iter(range(1, 1000))
            text = re.sub("%s", lambda _m, numbered=numbered: f"${next(numbered)}", text)
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET LOCAL plan_cache_mode = force_generic_plan")
            cursor.execute("SET LOCAL enable_seqscan = off")  # the test tables are tiny; the choice is between indexes
            cursor.execute(f"PREPARE dup_{name} AS {text}")
            cursor.execute(f"EXPLAIN EXECUTE dup_{name} ({', '.join(['%s'] * len(params))})", params)
            plan = "\n".join(row[0] for row in cursor.fetchall())
            cursor.execute(f"DEALLOCATE dup_{name}")
        assert "case_category_lat_lon" in plan, (name, plan)
        assert "case_category_created" not in plan, (name, plan)


def test_intake_reuses_what_it_read_only_while_it_holds(reference, new_case):
    """A report of a category at a place where intake read that category before is written without a read
    first (PostgreSQL), but never from stale data: a change of the category or its routing in between is
    seen by the report after it, and a refused report writes nothing (no case, no serial drawn)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from cityops.accounts.models import OrgUnit
    from cityops.cases.models import Category
    from cityops.core.models import TimelineEntry

    first = new_case()
    with CaptureQueriesContext(connection) as queries:
        second = new_case()
    assert second.code != first.code and second.proposed_department.code == "HW"
    if connection.vendor == "postgresql":  # one statement: the insert, with the test and the candidates
        statements = [q["sql"] for q in queries if "SAVEPOINT" not in q["sql"]]  # the test's transaction
        assert len(statements) == 1 and statements[0].startswith("WITH _if AS"), statements

    # The routing changes: the next report there goes to the district bureau.
    bureau = OrgUnit.objects.create(code="WC-HW", name="武昌区环卫所", kind="department", region_code="420106")
    rule = RoutingRule.objects.create(category=Category.objects.get(code="E0101"), region_prefix="420106", department=bureau)
    assert new_case().proposed_department == bureau
    # The category changes (an update that sends no signal): the next report carries the new limits.
    Category.objects.filter(code="E0101").update(duplicate_radius_m=5)
    assert new_case().category.duplicate_radius_m == 5
    RoutingRule.objects.filter(pk=rule.pk).update(active=False)
    assert new_case().proposed_department.code == "HW"
    # The category is withdrawn: refused, and nothing is written.
    Category.objects.filter(code="E0101").update(active=False)
    cases, entries, serial = Case.objects.count(), TimelineEntry.objects.count(), CaseCounter.objects.get(district="420106").last
    with pytest.raises(InvalidInput) as e:
        new_case()
    assert e.value.code == "unknown_category"
    assert (Case.objects.count(), TimelineEntry.objects.count()) == (cases, entries)
    assert CaseCounter.objects.get(district="420106").last == serial


def test_intake_suggestions_are_the_same_when_intake_reuses_its_read(new_case, operator):
    """The duplicate candidates the insert itself returns (intake reusing its read) are case_duplicates'."""
    x, y = POINT_WUCHANG_A
    new_case(point=(x + 0.0003, y))
    new_case(point=(x + 0.0006, y))
    intake = case_create(actor=operator, category="E0101", lon=x, lat=y, description="第三起")
    assert [(d.code, d.distance_m) for d in intake.duplicates] == [(d.code, d.distance_m) for d in case_duplicates(intake.case)]
    assert len(intake.duplicates) == 2


def test_intake_draws_a_new_id_when_its_spare_one_is_taken(new_case):
    """Intake keeps a spare id drawn by the statement before; if that id is taken meanwhile (a database restored
    under a running server), the report is still written, with a fresh id."""
    from django.db import connection

    from cityops.cases import services

    first = new_case()
    new_case()
    services._SPARE_IDS[connection.alias] = [first.pk]
    third = new_case()
    assert third.pk != first.pk and Case.objects.filter(pk=third.pk, code=third.code).exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_prepared_read_reconnects_when_the_connection_died_idle():
    """Django checks a kept connection before a request's first statement (CONN_HEALTH_CHECKS); prepared
    statements skip that SELECT 1 and make their first read the check instead: a connection the server
    dropped while it was idle is replaced and the read answers; a write is never sent twice."""
    import psycopg
    from django.db import OperationalError, connection

    from cityops.core import prepared

    def drop_and_start_request():
        connection.ensure_connection()
        pid = connection.connection.info.backend_pid
        with psycopg.connect(**connection.get_connection_params(), autocommit=True) as other:
            other.execute("SELECT pg_terminate_backend(%s)", [pid])
        connection.health_check_enabled, connection.health_check_done = True, False  # what request_started does

    enabled = connection.health_check_enabled
    try:
        drop_and_start_request()
        assert prepared.execute("SELECT 40 + %s", [2], fetch="one") == (42,)
        assert connection.health_check_done
        drop_and_start_request()
        with pytest.raises(OperationalError):
            prepared.execute("INSERT INTO cases_casecounter (year, district, last) VALUES (%s, %s, 1)", [1998, "x"], fetch=None)
    finally:
        connection.close()
        connection.health_check_enabled = enabled
