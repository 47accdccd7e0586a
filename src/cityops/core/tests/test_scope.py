"""The scoping helper every selector uses: each role sees exactly its scope (DESIGN.md "Roles and scope").

The matrix runs over org units (they carry both an id and a region code); the cases app proves the same
helper on cases, through its selectors and API."""

import pytest

from cityops.accounts.models import OrgUnit
from cityops.core import roles
from cityops.core.scope import scope_filter

pytestmark = pytest.mark.django_db

# Codes of their own (other apps' session fixtures may have committed the real departments and streets).
UNITS = {
    "T-HW": "",  # a city department
    "T-CG": "",
    "T-420106011": "420106011",  # 水果湖街 (武昌区)
    "T-420106011013": "420106011013",  # 东亭社区
    "T-420102001": "420102001",  # a street in 江岸区
}


@pytest.fixture
def units():
    return {
        code: OrgUnit.objects.create(code=code, name=code, kind="department" if not region else "street", region_code=region)
        for code, region in UNITS.items()
    }


def visible(user):
    qs = scope_filter(OrgUnit.objects.filter(code__startswith="T-"), user, region_field="region_code", org_field="id")
    return sorted(qs.values_list("code", flat=True))


@pytest.mark.parametrize(
    "role, org_units, regions, expected",
    [
        (roles.ADMIN, [], [], sorted(UNITS)),
        (roles.LEADER, [], [], sorted(UNITS)),
        (roles.OPERATOR, [], [], sorted(UNITS)),
        (roles.SHIFT_LEAD, [], [], sorted(UNITS)),
        (roles.DISPATCHER, [], [], sorted(UNITS)),
        (roles.SUPERVISOR, [], [], sorted(UNITS)),
        (roles.DEPT_HANDLER, ["T-HW"], [], ["T-HW"]),
        (roles.DEPT_LEAD, ["T-CG"], [], ["T-CG"]),
        (roles.GRID_WORKER, [], ["420106011013"], ["T-420106011013"]),
        (roles.REGION_STAFF, [], ["420106011"], ["T-420106011", "T-420106011013"]),
        (roles.GRID_WORKER, [], ["420106"], ["T-420106011", "T-420106011013"]),
        (roles.RESIDENT, [], [], []),
        (roles.MEDIATOR, [], [], []),
        # A department role without a unit, or a region role without regions, sees nothing.
        (roles.DEPT_HANDLER, [], [], []),
        (roles.GRID_WORKER, [], [], []),
    ],
)
def test_each_role_sees_exactly_its_scope(make_user, units, role, org_units, regions, expected):
    user = make_user(f"u_{role}", role, org_units=org_units, region_codes=regions)
    assert visible(user) == expected


def test_a_user_without_roles_sees_nothing(make_user, units):
    assert visible(make_user("nobody")) == []


def test_an_anonymous_user_sees_nothing(units):
    from django.contrib.auth.models import AnonymousUser

    assert visible(AnonymousUser()) == []
