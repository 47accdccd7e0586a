"""Fixtures of the cases tests: a tiny two-district geography, the categories and departments, a case
factory that walks the workflow through the services, and a frozen clock."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import shapely
from django.db import connection
from django.utils import timezone

from cityops.cases.simulation import sim_clock
from cityops.core import roles

TZ = ZoneInfo("Asia/Shanghai")

# 武昌区 420106: one street, two communities side by side, one grid each.
WUCHANG = (114.30, 30.52, 114.36, 30.58)
# 江岸区 420102, north-west of it, same layout.
JIANGAN = (114.26, 30.60, 114.32, 30.66)
POINT_WUCHANG_A = (114.31, 30.55)  # grid 42010600100101
POINT_WUCHANG_B = (114.35, 30.55)  # grid 42010600100201
POINT_JIANGAN = (114.28, 30.63)  # grid 42010200100101


def _regions(code: str, name: str, box) -> list:

    x0, y0, x1, y1 = box
    mid = (x0 + x1) / 2
    left, right = shapely.box(x0, y0, mid, y1), shapely.box(mid, y0, x1, y1)
    whole = shapely.box(*box)
    return [
        ("district", code, name, whole, None),
        ("street", code + "001", name + "一街道", whole, code),
        ("community", code + "001001", "东社区", left, code + "001"),
        ("community", code + "001002", "西社区", right, code + "001"),
        ("grid", code + "00100101", "东社区01号网格", left, code + "001001"),
        ("grid", code + "00100201", "西社区01号网格", right, code + "001002"),
    ]


@pytest.fixture
def geography(db):
    from cityops.accounts.models import OrgUnit
    from cityops.geo import index
    from cityops.geo.geometry import shape_fields
    from cityops.geo.models import Region

    # This small synthetic city replaces the Wuhan demo if another app's session fixture committed it
    # (inside this test's transaction, so the demo is back afterwards).
    if Region.objects.exists():
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM geo_region")
    city = Region.objects.create(code="420100", name="武汉市", level="city", **shape_fields(shapely.box(114.0, 30.0, 115.0, 31.0)))
    made = {"420100": city}
    for district, name, box in (("420106", "武昌区", WUCHANG), ("420102", "江岸区", JIANGAN)):
        for level, code, rname, geom, parent in _regions(district, name, box):
            made[code] = Region.objects.create(
                code=code, name=rname, level=level, parent=made[parent or "420100"], **shape_fields(geom)
            )
            if level in ("street", "community"):
                # update_or_create: a unit left with this code by an earlier test (the Wuhan demo has the same codes)
                # takes this geography's name
                OrgUnit.objects.update_or_create(code=code, defaults={"name": rname, "kind": level, "region_code": code})
    index.bump_version()
    index.invalidate()
    yield made
    index.invalidate()


@pytest.fixture
def reference(geography):
    from cityops.accounts.demo import load_departments, load_roles
    from cityops.cases.demo import load_categories

    load_roles()
    load_departments()
    load_categories()
    return geography


@pytest.fixture
def community_staff(make_user, reference):
    return make_user("t_community", roles.REGION_STAFF, org_units=["420106001001"], region_codes=["420106001001"])


@pytest.fixture
def street_staff(make_user, reference):
    return make_user("t_street", roles.REGION_STAFF, org_units=["420106001"], region_codes=["420106001"])


@pytest.fixture
def district_units(reference):
    """Every district's command centre and bureaus (accounts.demo.load_district_units): ZH-420106, CG-420106 …"""
    from cityops.accounts.demo import load_district_units

    load_district_units()
    return reference


@pytest.fixture
def district_dispatcher(make_user, district_units):
    """The dispatcher of 武昌区's command centre."""
    return make_user("t_district_wc", roles.DISTRICT_DISPATCHER, org_units=["ZH-420106"], region_codes=["420106"])


@pytest.fixture
def grid_worker_b(make_user):
    return make_user("t_gridworker_b", roles.GRID_WORKER, region_codes=["420102"])


frozen = sim_clock  # freeze timezone.now inside a block: the simulation's own clock


@pytest.fixture
def clock(monkeypatch):
    """clock(datetime) freezes timezone.now at that instant (Asia/Shanghai when naive)."""

    def set_to(when: datetime):
        if when.tzinfo is None:
            when = when.replace(tzinfo=TZ)
        monkeypatch.setattr(timezone, "now", lambda: when)
        return when

    return set_to


@pytest.fixture
def new_case(reference, operator):
    from cityops.cases.services import case_create

    def make(category="E0101", point=POINT_WUCHANG_A, actor=None, **kw):
        kw.setdefault("description", "路边有暴露垃圾")
        return case_create(actor=actor or operator, category=category, lon=point[0], lat=point[1], **kw).case

    return make


@pytest.fixture
def walk(operator, shift_lead, dispatcher, handler_hw, grid_worker):
    """walk(case, upto) drives a case through the happy path up to a state, with the named users."""
    from cityops.cases import services as s

    steps = [
        ("registered", lambda c: s.case_register(case=c, actor=operator)),
        ("dispatched", lambda c: s.case_dispatch(case=c, actor=dispatcher, department="HW")),
        ("accepted", lambda c: s.case_accept(case=c, actor=handler_hw)),
        ("handled", lambda c: s.case_handle(case=c, actor=handler_hw, result="已清理")),
        ("verified", lambda c: s.case_verify(case=c, actor=grid_worker, passed=True)),
        ("closed", lambda c: s.case_close(case=c, actor=shift_lead)),
        ("archived", lambda c: s.case_follow_up(case=c, actor=operator, satisfied=True)),
    ]

    def go(case, upto):
        for state, step in steps:
            case = step(case)
            assert case.state == state
            if state == upto:
                return case
        raise AssertionError(f"unknown state {upto}")

    return go
