"""A new report becomes a case (上报/受理, RULES.md §1): located, categorised, routed, coded and on the timeline."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import IntegrityError, transaction
from django.db.models import OuterRef, Q, Subquery
from django.utils import timezone

from cityops.accounts.models import OrgUnit
from cityops.cases.models import Case, CaseCounter, Category, RoutingRule
from cityops.cases.services.duplicates import Nearby, case_duplicates
from cityops.cases.services.notifications import _notify_later
from cityops.core import roles
from cityops.core.errors import Forbidden, InvalidInput, Unprocessable
from cityops.core.workflow import create_with_timeline

INTAKE_ROLES = frozenset({roles.OPERATOR, roles.SHIFT_LEAD, roles.ADMIN})
REPORTER_ROLES = frozenset({roles.GRID_WORKER, roles.REGION_STAFF, roles.RESIDENT})
DEFAULT_SOURCE = {roles.GRID_WORKER: "field", roles.REGION_STAFF: "field", roles.RESIDENT: "portal"}


# --- category and routing -------------------------------------------------------------------------------
def category_get(code: str) -> Category:
    """An active category, with the id of its default department (one query)."""
    category = (
        Category.objects.filter(code=(code or "").strip().upper(), active=True)
        .annotate(default_department_id=Subquery(OrgUnit.objects.filter(code=OuterRef("department_code")).values("id")[:1]))
        .first()
    )
    if category is None:
        raise InvalidInput(f"未知的案件类别 {code!r}", f"Unknown case category {code!r}", code="unknown_category")
    return category


def _route(category: Category, region_code: str) -> tuple[int | None, str]:
    """(department id, code) for a category at a place: the longest region prefix among the active rules of
    the category (or of every category) wins — a district's own bureau overrides the city default — else the
    category's default department."""
    rules = [
        r
        for r in RoutingRule.objects.filter(Q(category=category) | Q(category__isnull=True), active=True)
        .values_list("region_prefix", "category_id", "department_id", "department__code")
        if region_code.startswith(r[0])
    ]
    if rules:
        # Category-specific rules beat catch-all ones; then the longest (most local) prefix wins.
        best = max(rules, key=lambda r: (r[1] is not None, len(r[0])))
        return best[2], best[3]
    if not category.department_code:
        return None, ""
    dept_id = getattr(category, "default_department_id", None)
    if dept_id is None:
        dept_id = OrgUnit.objects.filter(code=category.department_code).values_list("id", flat=True).first()
    return dept_id, category.department_code if dept_id else ""


def route_department(*, category: Category, region_code: str) -> OrgUnit | None:
    """The department proposed for a category at a place (see `_route`)."""
    dept_id, _code = _route(category, region_code)
    return OrgUnit.objects.filter(pk=dept_id).first() if dept_id else None


def _next_serial(year: int, district: str) -> int:
    """The next serial of the per-(year, district) counter. Runs inside the intake transaction: the counter row
    stays locked until it commits, so two reports never draw the same serial (and a report that is rolled back
    gives its serial back)."""
    counter, _created = CaseCounter.objects.select_for_update().get_or_create(year=year, district=district)
    counter.last += 1
    counter.save(update_fields=["last"])
    return counter.last


def _locate(*, lon, lat, crs: str, address: str):
    from cityops.geo.selectors import locate_address, locate_point

    if lon not in (None, "") and lat not in (None, ""):
        return locate_point(lon=lon, lat=lat, crs=crs or "wgs84")
    if address and address.strip():
        location = locate_address(text=address)
        if location is None:
            raise Unprocessable(
                "无法根据地址确定所在区域，请在地图上标注位置",
                "The address names no known region; please give the point on the map",
                code="address_not_found",
            )
        return location
    raise InvalidInput("请提供坐标或地址", "Give either lon/lat or an address", code="location_required")


@dataclass
class Intake:
    case: Case
    created: bool
    duplicates: list[Nearby] = field(default_factory=list)


def case_create(
    *,
    actor,
    category: str,
    description: str,
    source: str = "",
    lon=None,
    lat=None,
    crs: str = "wgs84",
    address: str = "",
    reporter_phone: str = "",
    urgency: str = "normal",
    hotline_kind: str = "",
    anonymous: bool = False,
    idempotency_key: str = "",
) -> Intake:
    """A new report (上报/受理): located, routed (proposed department), coded, on the timeline, with the
    registration clock running; duplicates are suggested, never merged automatically.
    The same Idempotency-Key from the same user returns the case it created the first time."""
    idempotency_key = (idempotency_key or "").strip()[:80]
    if idempotency_key and actor is not None:
        existing = Case.objects.filter(created_by=actor, idempotency_key=idempotency_key).first()
        if existing is not None:
            return Intake(existing, False)
    try:
        case = _case_create(
            actor=actor, category=category, description=description, source=source, lon=lon, lat=lat, crs=crs,
            address=address, reporter_phone=reporter_phone, urgency=urgency, hotline_kind=hotline_kind,
            anonymous=anonymous, idempotency_key=idempotency_key,
        )
    except IntegrityError:
        # The same key sent twice at once: the other request's case won the unique constraint.
        if idempotency_key and actor is not None:
            existing = Case.objects.filter(created_by=actor, idempotency_key=idempotency_key).first()
            if existing is not None:
                return Intake(existing, False)
        raise
    return Intake(case, True, case_duplicates(case))


# Choices' `.values` builds a list from the lazy labels on every call; intake checks against these.
_SOURCES = frozenset(Case.Source.values)
_URGENCIES = frozenset(Case.Urgency.values)
_HOTLINE_KINDS = frozenset(Case.HotlineKind.values)


def _case_create(*, actor, category, description, source, lon, lat, crs, address, reporter_phone, urgency,
                 hotline_kind, anonymous, idempotency_key) -> Case:
    actor_roles = actor.role_codes if actor is not None else frozenset({"system"})
    if actor is not None and not actor_roles & (INTAKE_ROLES | REPORTER_ROLES):
        raise Forbidden("您的角色不能上报案件", "Your role may not report cases", code="role_not_allowed")
    description = (description or "").strip()
    if not description:
        raise InvalidInput("请描述问题", "A description is required", code="description_required")
    if len(description) > 4000:
        raise InvalidInput("问题描述过长（最多 4000 字）", "The description is too long (max 4000 characters)", code="description_too_long")
    if not source:
        source = next((DEFAULT_SOURCE[r] for r in DEFAULT_SOURCE if r in actor_roles), "hotline")
    if source not in _SOURCES:
        raise InvalidInput(f"未知来源 {source!r}", f"Unknown source {source!r}", code="invalid_source")
    if roles.RESIDENT in actor_roles and not actor_roles & INTAKE_ROLES and source not in ("portal", "open311"):
        source = "portal"  # a resident reports through the public channels only
    if urgency not in _URGENCIES:
        raise InvalidInput(f"未知紧急程度 {urgency!r}", f"Unknown urgency {urgency!r}", code="invalid_urgency")
    if hotline_kind and (source != "hotline" or hotline_kind not in _HOTLINE_KINDS):
        raise InvalidInput("工单类型只适用于热线，且须为 urgent/consultation/help/complaint/suggestion",
                           "hotline_kind applies to hotline cases: urgent, consultation, help, complaint or suggestion",
                           code="invalid_hotline_kind")
    phone = "".join(ch for ch in (reporter_phone or "") if ch.isdigit() or ch == "+")
    if reporter_phone and not 5 <= len(phone) <= 20:
        raise InvalidInput("联系电话格式不正确", "The phone number is not valid", code="invalid_phone")
    cat = category_get(category)  # an unknown category is the first error reported, before a bad place
    location = _locate(lon=lon, lat=lat, crs=crs, address=address)
    if location.district is None:
        raise Unprocessable("该位置不在本市任何区内", "The point lies in no district of the city", code="outside_city")
    deepest = location.deepest
    reporter = actor if actor is not None and actor_roles & REPORTER_ROLES and not actor_roles & INTAKE_ROLES else None
    if anonymous and reporter is not None and actor_roles - {roles.RESIDENT}:
        # Anonymity protects residents (cases.privacy); a field report is staff work, counted in evaluation.
        raise InvalidInput("工作人员不能以本人身份匿名上报", "Staff cannot report anonymously as themselves",
                           code="anonymous_not_for_staff")
    if reporter is not None and not phone and not anonymous:
        # An anonymous report has a callback phone only if one was given with it (never the account's).
        phone = getattr(reporter, "phone", "") or ""
    dept_id, dept_code = _route(cat, deepest.code)
    # Only id and code are known here, which is all intake and its answer use (no extra query).
    department = OrgUnit(id=dept_id, code=dept_code) if dept_id else None
    now = timezone.now()
    district = location.district.code
    year = timezone.localtime(now).year

    def ref(level):
        value = getattr(location, level)
        return (value.code, value.name) if value is not None else ("", "")

    case = Case(
        source=source,
        hotline_kind=hotline_kind or "",
        category=cat,
        lon=location.lon,
        lat=location.lat,
        address=(address or "").strip()[:300],
        region_code=deepest.code,
        district_code=district, district_name=location.district.name,
        street_code=ref("street")[0], street_name=ref("street")[1],
        community_code=ref("community")[0], community_name=ref("community")[1],
        grid_code=ref("grid")[0], grid_name=ref("grid")[1],
        description=description,
        urgency=urgency,
        reporter=reporter,
        reporter_phone=phone,
        anonymous=bool(anonymous),
        created_by=actor,
        idempotency_key=idempotency_key if actor is not None else "",
        level="community" if location.community else "city",
        proposed_department=department,
        created_at=now,
    )
    with transaction.atomic():
        case.code = f"{year}{district}{_next_serial(year, district):06d}"
        create_with_timeline(
            case,
            actor=actor,
            action="report",
            savepoint=False,  # this transaction holds the serial, the case and its first entry: all or nothing
            params={
                "source": source,
                "category": cat.code,
                "region": case.region_code,
                "public": source in Case.PUBLIC_SOURCES,
                "reporter_id": reporter.pk if reporter else None,
                "proposed_dept": department.code if department else "",
            },
        )
    if reporter is not None:
        _notify_later(lambda: [reporter], "case_received", f"您的反映已受理，编号 {case.code}", case)
    return case
