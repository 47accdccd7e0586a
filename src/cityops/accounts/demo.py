"""Reference org units and the demo users (README: one login per role)."""

import csv
from pathlib import Path

from django.conf import settings
from django.contrib.auth.models import Group
from django.db import transaction

from cityops.accounts.models import OrgUnit, User
from cityops.core import roles

DATA = Path(__file__).parent / "data"

# username → (role codes, display name, org unit codes, region lookup)
DEMO_USERS = {
    "admin": ((roles.ADMIN,), "系统管理员", (), None),
    "leader": ((roles.LEADER,), "市领导", (), None),
    "operator": ((roles.OPERATOR,), "受理员 王敏", (), None),
    "shiftlead": ((roles.SHIFT_LEAD,), "值班长 李强", (), None),
    "dispatcher": ((roles.DISPATCHER,), "派遣员 张伟", (), None),
    "gridworker": ((roles.GRID_WORKER,), "网格员 刘洋", (), "东亭社区"),
    "dept_hw": ((roles.DEPT_HANDLER,), "环卫处 陈静", ("HW",), None),
    "resident": ((roles.RESIDENT,), "市民 赵磊", (), None),
}


def load_roles() -> None:
    for code in roles.ALL_ROLES:
        Group.objects.get_or_create(name=code)


def load_departments() -> int:
    count = 0
    with open(DATA / "departments.csv", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            OrgUnit.objects.update_or_create(
                code=row["code"],
                defaults={"name": row["name_zh"], "name_en": row["name_en"], "kind": OrgUnit.Kind.DEPARTMENT},
            )
            count += 1
    return count


def _demo_region_codes(community_name: str) -> list[str]:
    try:
        from cityops.geo.models import Region
    except ImportError:
        return []
    community = Region.objects.filter(level="community", name__startswith=community_name).order_by("code").first()
    return [community.code] if community else []


@transaction.atomic
def load_demo_users(*, password: str | None = None) -> list[tuple[str, str]]:
    password = password or settings.DEMO_PASSWORD
    created = []
    for username, (role_codes, display, unit_codes, region_name) in DEMO_USERS.items():
        user, _ = User.objects.get_or_create(username=username)
        user.first_name = display
        user.is_staff = username == "admin"
        user.is_superuser = username == "admin"
        user.set_password(password)
        if region_name:
            user.region_codes = _demo_region_codes(region_name)
        user.save()
        user.groups.set(Group.objects.filter(name__in=role_codes))
        user.org_units.set(OrgUnit.objects.filter(code__in=unit_codes))
        created.append((username, ", ".join(str(roles.ROLE_LABELS[r]) for r in role_codes)))
    return created
