"""Reference org units and the demo users (README: one login per role)."""

import csv
from pathlib import Path

from django.conf import settings
from django.contrib.auth.models import Group
from django.db import transaction

from cityops.accounts.models import OrgUnit, User, command_centre_code, district_bureau_code
from cityops.core import roles

DATA = Path(__file__).parent / "data"

# username → (role codes, display name, org unit codes, where they work: region names from the district down).
# Street/community staff and a district's dispatcher are members of their region's unit (street office, community
# committee, the district's command centre); a grid worker works for the region without being a unit's member.
DEMO_USERS = {
    "admin": ((roles.ADMIN,), "系统管理员", (), None),
    "leader": ((roles.LEADER,), "市领导", (), None),
    "operator": ((roles.OPERATOR,), "受理员 王敏", (), None),
    "shiftlead": ((roles.SHIFT_LEAD,), "值班长 李强", (), None),
    "dispatcher": ((roles.DISPATCHER,), "派遣员 张伟", (), None),
    "supervisor": ((roles.SUPERVISOR,), "督办员 黄敏", (), None),
    "district_wc": ((roles.DISTRICT_DISPATCHER,), "武昌区指挥中心派遣员 周婷", (), ("武昌区",)),
    "street_sgh": ((roles.REGION_STAFF,), "水果湖街道 吴刚", (), ("武昌区", "水果湖")),
    "community_dt": ((roles.REGION_STAFF,), "东亭社区 孙丽", (), ("武昌区", "水果湖", "东亭社区")),
    "gridworker": ((roles.GRID_WORKER,), "网格员 刘洋", (), ("武昌区", "水果湖", "东亭社区")),
    "dept_hw": ((roles.DEPT_HANDLER,), "环卫处 陈静", ("HW",), None),
    "resident": ((roles.RESIDENT,), "市民 赵磊", (), None),
}
UNIT_MEMBER_ROLES = frozenset({roles.REGION_STAFF, roles.DISTRICT_DISPATCHER})

# The city departments that have a counterpart in every district (区级部门), dispatched to by the district's command
# centre (区级联).
DISTRICT_BUREAUS = ("CG", "HW", "YL", "SW", "ZJ", "SJ", "FG")


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


def load_district_units() -> int:
    """For every district region: its command centre (区级指挥中心) and its bureaus (区级部门), each carrying the
    district's code (so their level is "district"). Idempotent: existing units are left alone. Returns how many
    were created."""
    from cityops.geo.models import Region
    from cityops.geo.names import short_name

    departments = list(OrgUnit.objects.filter(code__in=DISTRICT_BUREAUS, region_code="").order_by("code"))
    have = set(OrgUnit.objects.filter(kind__in=(OrgUnit.Kind.COMMAND, OrgUnit.Kind.DEPARTMENT))
               .exclude(region_code="").values_list("code", flat=True))
    new = []
    for district in Region.objects.filter(level="district").order_by("code"):
        name = short_name(district.name)
        new.append(OrgUnit(code=command_centre_code(district.code), name=f"{name}城市运行指挥中心",
                           name_en=f"{district.code} district command centre", kind=OrgUnit.Kind.COMMAND,
                           region_code=district.code))
        new.extend(OrgUnit(code=district_bureau_code(d.code, district.code), name=f"{name}{d.name}",
                           name_en=f"{d.name_en} ({district.code})", kind=OrgUnit.Kind.DEPARTMENT,
                           region_code=district.code) for d in departments)
    new = [u for u in new if u.code not in have]
    OrgUnit.objects.bulk_create(new, batch_size=1000)
    return len(new)


def _demo_region(names: tuple[str, ...]):
    """The region named by its names from the district down (each name a prefix: "水果湖" finds 水果湖街办事处)."""
    from cityops.geo.models import Region

    region = None
    for level, name in zip(("district", "street", "community"), names, strict=False):
        region = Region.objects.filter(level=level, name__startswith=name, **({"parent": region} if region else {})
                                       ).order_by("code").first()
        if region is None:
            return None
    return region


def _region_unit_code(region) -> str:
    return command_centre_code(region.code) if region.level == "district" else region.code


@transaction.atomic
def load_demo_users(*, password: str | None = None) -> list[tuple[str, str]]:
    password = password or settings.DEMO_PASSWORD
    created = []
    for username, (role_codes, display, unit_codes, region_names) in DEMO_USERS.items():
        user, _ = User.objects.get_or_create(username=username)
        user.first_name = display
        user.is_staff = username == "admin"
        user.is_superuser = username == "admin"
        user.set_password(password)
        region = _demo_region(region_names) if region_names else None
        if region_names:
            user.region_codes = [region.code] if region else []
        if region is not None and UNIT_MEMBER_ROLES & set(role_codes):
            unit_codes = (*unit_codes, _region_unit_code(region))
        user.save()
        user.groups.set(Group.objects.filter(name__in=role_codes))
        user.org_units.set(OrgUnit.objects.filter(code__in=unit_codes))
        created.append((username, ", ".join(str(roles.ROLE_LABELS[r]) for r in role_codes)))
    return created
