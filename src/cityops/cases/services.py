"""Every write to cases (STYLE.md: keyword-only, actor on every write, atomic, side effects on commit).

Each action goes through `_step`, which locks the case, stamps the timeline params evaluation counts from
(department, on-time flag, region, level) and calls core.workflow.transition — the only code that writes a
state. Rules and sources: RULES.md §1.
"""

from __future__ import annotations

import hashlib
import io
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage
from django.db import IntegrityError, transaction
from django.db.models import F, OuterRef, Q, Subquery
from django.utils import timezone

from cityops.accounts.models import OrgUnit
from cityops.cases import conf
from cityops.cases import workflow as case_workflow
from cityops.cases.models import Case, CaseCounter, CasePhoto, CaseTask, Category, Consultation, RoutingRule
from cityops.cases.workflow import LEVEL_UP, OPEN_STATES
from cityops.core import roles
from cityops.core.errors import Conflict, Forbidden, InvalidInput, Unprocessable
from cityops.core.notify import notify
from cityops.core.timeline import timeline_append
from cityops.core.workflow import create_with_timeline, transition

INTAKE_ROLES = frozenset({roles.OPERATOR, roles.SHIFT_LEAD, roles.ADMIN})
REPORTER_ROLES = frozenset({roles.GRID_WORKER, roles.REGION_STAFF, roles.RESIDENT})
DEFAULT_SOURCE = {roles.GRID_WORKER: "field", roles.REGION_STAFF: "field", roles.RESIDENT: "portal"}
UNIT_KINDS = (OrgUnit.Kind.DEPARTMENT, OrgUnit.Kind.STREET, OrgUnit.Kind.COMMUNITY)


# --- people to notify ---------------------------------------------------------------------------------------
def _role_users(*codes: str):
    return get_user_model().objects.filter(groups__name__in=codes, is_active=True).distinct()


def _unit_users(unit_ids: Iterable[int]):
    return get_user_model().objects.filter(org_units__in=list(unit_ids), is_active=True).distinct()


def _region_users(region_code: str, role: str):
    """Grid workers / region staff whose regions contain the code. Region lists are JSON, so the prefix
    test runs here over the (few) users of that role."""
    return [
        u for u in _role_users(role)
        if any(region_code.startswith(c) for c in (u.region_codes or []) if c)
    ]


def _notify_later(recipients_fn: Callable[[], Iterable], kind: str, title: str, case: Case, body: str = "") -> None:
    def send():
        notify(recipients=list(recipients_fn()), kind=kind, title=title, body=body, subject=case,
               url=f"/cases/{case.code}/")

    transaction.on_commit(send)


def notify_overdue(*, case, escalation) -> None:
    """Called by the overdue sweep (already after commit): 超期/催办/通报 to whoever owns the case."""
    if not isinstance(case, Case):
        return
    people = list(_unit_users([case.lead_department_id])) if case.lead_department_id else []
    if escalation.level >= 3 or not people:
        people += list(_role_users(roles.SHIFT_LEAD, roles.SUPERVISOR))
    notify(recipients=people, kind=f"case_{escalation.action}", title=f"【{escalation.label}】案件 {case.code}",
           subject=case, url=f"/cases/{case.code}/")


# --- intake -------------------------------------------------------------------------------------------------
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


def _metres(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    # Haversine; enough for "within 100 m".
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 6_371_000 * 2 * math.asin(min(1.0, math.sqrt(a)))


DUPLICATE_SCAN_CAP = 500
DUPLICATE_MAX = 50


@dataclass
class Nearby:
    """An open case near a report (a possible duplicate): what intake shows of it, not a loaded Case."""

    id: int
    code: str
    state: str
    lon: float
    lat: float
    description: str
    created_at: datetime
    merged_reports: int  # reports merged into it (residents who reported the same)
    distance_m: float = 0.0

    @property
    def pk(self) -> int:
        return self.id


_NEARBY_FIELDS = ("id", "code", "state", "lon", "lat", "description", "created_at", "merged_reports")


def _duplicate_candidates(case: Case, radius: float, window: timedelta):
    """Open cases of the case's category in the bounding box of the radius and inside the time window: an
    index range of (category, lat, lon). No ORDER BY (the caller sorts by distance): ordered by time,
    PostgreSQL may walk the category's whole window instead of the few cases in the box. The cap only bounds
    a pathological pile-up."""
    dlat = radius / 111_320
    dlon = radius / (111_320 * max(0.01, math.cos(math.radians(case.lat))))
    candidates = Case.objects.filter(
        category_id=case.category_id,
        lat__range=(case.lat - dlat, case.lat + dlat),
        lon__range=(case.lon - dlon, case.lon + dlon),
        created_at__range=(case.created_at - window, case.created_at + window),
        state__in=OPEN_STATES,
    )
    if case.pk is not None:
        candidates = candidates.exclude(pk=case.pk)
    return candidates.order_by().values_list(*_NEARBY_FIELDS)[:DUPLICATE_SCAN_CAP]


def case_duplicates(case: Case, *, radius_m: float | None = None, window_h: float | None = None) -> list[Nearby]:
    """Open cases of the same category within the radius (per category, default 100 m) and time window
    (default 72 h) of this one, nearest (then newest) first (RULES.md §1 Duplicates): one query on the
    bounding box, then the exact distance here."""
    radius = radius_m or case.category.duplicate_radius_m or float(conf.get("DUPLICATE_RADIUS_M"))
    window = timedelta(hours=window_h or float(conf.get("DUPLICATE_WINDOW_H")))
    near = []
    for row in _duplicate_candidates(case, radius, window):
        c = Nearby(*row)
        c.distance_m = _metres(case.lon, case.lat, c.lon, c.lat)
        if c.distance_m <= radius:
            near.append(c)
    near.sort(key=lambda c: (c.distance_m, -c.created_at.timestamp()))
    for c in near:
        c.distance_m = round(c.distance_m, 1)
    return near[:DUPLICATE_MAX]


def duplicates_near(*, category: Category, lon: float, lat: float) -> list[Nearby]:
    """Open cases of the category near a point now (the hotline's and the portal's "is it one of these?"): the
    duplicate rule of `case_duplicates`, for a report not yet made."""
    return case_duplicates(Case(category=category, lon=lon, lat=lat, created_at=timezone.now()))


# --- the common path of every action -------------------------------------------------------------------
def _on_time(case: Case, now) -> bool:
    if case.clock_limit_s is None:
        return True
    return case.clock_used_now(now) <= case.clock_limit_s + 1e-6


def _step(
    case: Case,
    action: str,
    actor,
    *,
    note: str = "",
    params: dict | None = None,
    apply: Callable[[Case, dict], Iterable[str] | None] | None = None,
    expected_version: int | None = None,
) -> Case:
    with transaction.atomic():
        locked = Case.objects.select_for_update(of=("self",)).select_related("lead_department").get(pk=case.pk)
        stamp = {
            "dept": locked.lead_department.code if locked.lead_department_id else "",
            "on_time": _on_time(locked, timezone.now()),
            "region": locked.region_code,
            "level": locked.level,
            "source": locked.source,
        }
        stamp.update(params or {})
        result = transition(
            locked, action, actor, note=(note or "").strip(), params=stamp,
            apply=(lambda c: apply(c, stamp)) if apply else None, expected_version=expected_version,
        )
    return result


# --- 立案 / 核实 / 作废 ---------------------------------------------------------------------------------
def case_register(*, case: Case, actor, note: str = "") -> Case:
    """立案 (RULES.md §1 step 1): an operator or shift lead accepts the report as a case."""
    def apply(c, stamp):
        c.registered_by = actor
        c.registered_at = timezone.now()
        return ["registered_by", "registered_at"]

    return _step(case, "register", actor, note=note, apply=apply,
                 params={"source": case.source, "public": case.source in Case.PUBLIC_SOURCES,
                         "reporter_id": case.reporter_id})


def case_ask_check(*, case: Case, actor, note: str = "") -> Case:
    """Ask the grid worker of the place to verify that the report is real (核实)."""
    result = _step(case, "ask_check", actor, note=note)
    _notify_later(lambda: _region_users(result.region_code, roles.GRID_WORKER), "case_check",
                  f"请核实案件 {result.code}", result)
    return result


def case_check(*, case: Case, actor, found: bool, note: str = "") -> Case:
    """核实 by the field worker: back to intake with what they found."""
    return _step(case, "check", actor, note=note, params={"found": bool(found)})


def case_void_request(*, case: Case, actor, reason: str) -> Case:
    """作废 needs the shift lead's approval."""
    result = _step(case, "void_request", actor, note=reason, params={"reason": reason})
    _notify_later(lambda: _role_users(roles.SHIFT_LEAD), "case_void_request", f"作废待批：{result.code}", result)
    return result


def case_void_decide(*, case: Case, actor, approve: bool, note: str = "") -> Case:
    action = "void_approve" if approve else "void_reject"
    return _step(case, action, actor, note=note, params={"registered_by": case.registered_by_id})


# --- 派遣 / 签收 / 退回 ----------------------------------------------------------------------------------
def _unit(code: str, what: str) -> OrgUnit:
    unit = OrgUnit.objects.filter(code=(code or "").strip(), kind__in=UNIT_KINDS, active=True).first()
    if unit is None:
        raise InvalidInput(f"未知的{what} {code!r}", f"Unknown {what_en(what)} {code!r}", code="unknown_department")
    return unit


def what_en(what: str) -> str:
    return {"主办部门": "lead department", "协办部门": "assisting department", "部门": "department"}.get(what, "unit")


def case_dispatch(
    *,
    case: Case,
    actor,
    department: str | None = None,
    assisting: Iterable[str] = (),
    note: str = "",
    task_limit_hours: float | None = None,
) -> Case:
    """派遣 to one lead department (主办) and optional assisting departments (协办, 一事联办): a sub-task
    each. Without a department the routing proposal is used. Re-dispatch after a return releases the old
    sub-tasks."""
    case = Case.objects.select_related("proposed_department", "category").get(pk=case.pk)
    lead = _unit(department, "主办部门") if department else case.proposed_department
    if lead is None:
        raise InvalidInput("请选择主办部门", "Choose a lead department", code="department_required")
    helpers = []
    for code in dict.fromkeys(c for c in assisting if c):
        unit = _unit(code, "协办部门")
        if unit.pk == lead.pk:
            raise InvalidInput("协办部门不能与主办部门相同", "An assisting department cannot be the lead", code="assisting_is_lead")
        helpers.append(unit)
    task_limit = None if task_limit_hours is None else _limit_hours(
        task_limit_hours, what="协办时限", what_en="The sub-task limit")
    level = "district" if lead.kind == OrgUnit.Kind.DEPARTMENT and lead.region_code else (
        "city" if lead.kind == OrgUnit.Kind.DEPARTMENT else lead.kind)

    def apply(c, stamp):
        now = timezone.now()
        for task in c.tasks.filter(state="open"):
            transition(task, "task_release", None, note="重新派遣", params={"reason": "re-dispatch", "dept": task.department.code})
        limit = task_limit if task_limit is not None else _handle_hours(c)
        for unit in helpers:
            task = CaseTask(case=c, department=unit, description=note, created_at=now)
            create_with_timeline(task, actor=actor, action="task_open",
                                 params={"dept": unit.code, "case": c.code, "limit_hours": limit})
        c.lead_department = lead
        c.dispatched_by = actor
        c.dispatched_at = now
        c.level = level
        return ["lead_department", "dispatched_by", "dispatched_at", "level"]

    result = _step(case, "dispatch", actor, note=note, apply=apply,
                   params={"dept": lead.code, "assisting": [u.code for u in helpers],
                           "proposed": case.proposed_department.code if case.proposed_department_id else "",
                           "level": level})
    units = [lead.pk] + [u.pk for u in helpers]
    _notify_later(lambda: _unit_users(units), "case_dispatched", f"新派遣案件 {result.code}", result)
    return result


def _handle_hours(case: Case) -> float:
    from cityops.cases.workflow import handle_limit_hours

    return handle_limit_hours(case)


def case_accept(*, case: Case, actor, note: str = "") -> Case:
    """签收 by a member of the lead department; the handling clock starts."""
    return _step(case, "accept", actor, note=note)


def case_return(*, case: Case, actor, reason: str) -> Case:
    """退回 a wrongly dispatched case with a reason (at most RETURN_LIMIT per case)."""
    def apply(c, stamp):
        c.returns += 1
        return ["returns"]

    result = _step(case, "return", actor, note=reason, apply=apply,
                   params={"reason": reason, "dispatched_by": case.dispatched_by_id})
    _notify_later(lambda: _role_users(roles.DISPATCHER), "case_returned", f"案件退回：{result.code}", result)
    return result


def case_return_approve(*, case: Case, actor, note: str = "") -> Case:
    """The dispatcher accepts the return; the case waits for a new dispatch."""
    def apply(c, stamp):
        c.lead_department = None
        return ["lead_department"]

    return _step(case, "return_approve", actor, note=note, apply=apply)


# A limit a person sets (a sub-task's, a consultation decision; an extension has its workflow guard): working hours, more than 0 and
# at most 180 working days — beyond that it is a typo, and the calendar would overflow computing a deadline.
MAX_LIMIT_HOURS = 24 * 60


def _limit_hours(value, *, what: str, what_en: str) -> float:
    try:
        hours = float(value)
    except (TypeError, ValueError, OverflowError):
        hours = math.nan
    if not (math.isfinite(hours) and 0 < hours <= MAX_LIMIT_HOURS):
        raise InvalidInput(
            f"{what}应为大于 0、不超过 {MAX_LIMIT_HOURS} 的工作小时数",
            f"{what_en} must be working hours above 0 and at most {MAX_LIMIT_HOURS}",
            code="invalid_limit",
        )
    return hours


# --- 延期 / 挂账 -----------------------------------------------------------------------------------------
def case_extend_request(*, case: Case, actor, extra_hours: float, reason: str) -> Case:
    def apply(c, stamp):
        c.pending_extra_hours = float(extra_hours)
        return ["pending_extra_hours"]

    result = _step(case, "extend_request", actor, note=reason, apply=apply,
                   params={"reason": reason, "extra_hours": extra_hours})
    _notify_later(lambda: _role_users(roles.DISPATCHER), "case_extend_request", f"延期待批：{result.code}", result)
    return result


def case_extend_decide(*, case: Case, actor, approve: bool, note: str = "") -> Case:
    """延期 approved by the dispatcher: the deadline moves by the hours asked (working time)."""
    if not approve:
        def reject(c, stamp):
            c.pending_extra_hours = None
            return ["pending_extra_hours"]

        return _step(case, "extend_reject", actor, note=note, apply=reject)

    def apply(c, stamp):
        c.extensions += 1
        c.pending_extra_hours = None
        return ["extensions", "pending_extra_hours"]

    return _step(case, "extend_approve", actor, note=note, apply=apply,
                 params={"extra_hours": float(case.pending_extra_hours or 0)})


def case_suspend_request(*, case: Case, actor, reason: str) -> Case:
    result = _step(case, "suspend_request", actor, note=reason, params={"reason": reason})
    _notify_later(lambda: _role_users(roles.DISPATCHER), "case_suspend_request", f"挂账待批：{result.code}", result)
    return result


def case_suspend_decide(*, case: Case, actor, approve: bool, note: str = "") -> Case:
    """挂账 approved: the clock stops until `case_resume` (suspended time does not count)."""
    if not approve:
        return _step(case, "suspend_reject", actor, note=note)

    def apply(c, stamp):
        c.suspensions += 1
        return ["suspensions"]

    return _step(case, "suspend_approve", actor, note=note, apply=apply)


def case_resume(*, case: Case, actor, note: str = "") -> Case:
    return _step(case, "resume", actor, note=note)


# --- 处置 / 核查 / 结案 / 回访 ------------------------------------------------------------------------------
def case_handle(*, case: Case, actor, result: str) -> Case:
    """处置完毕 with a result note; refused while a sub-task is open (一事联办)."""
    def apply(c, stamp):
        c.result_note = result.strip()
        c.handled_at = timezone.now()
        c.handled_on_time = bool(stamp["on_time"])
        return ["result_note", "handled_at", "handled_on_time"]

    done = _step(case, "handle", actor, note=result, apply=apply, params={"result": result})
    _notify_later(lambda: _region_users(done.region_code, roles.GRID_WORKER), "case_verify",
                  f"请核查案件 {done.code}", done)
    return done


def case_verify(*, case: Case, actor, passed: bool, note: str = "") -> Case:
    """核查 on site: pass → waits for closing; fail → rework (返工) back to the department."""
    if passed:
        result = _step(case, "verify", actor, note=note)
        _notify_later(lambda: _role_users(roles.SHIFT_LEAD), "case_close", f"待结案：{result.code}", result)
        return result
    return _rework(case, "rework", actor, note)


def _rework(case: Case, action: str, actor, reason: str) -> Case:
    def apply(c, stamp):
        c.reworks += 1
        c.handled_on_time = None
        return ["reworks", "handled_on_time"]

    result = _step(case, action, actor, note=reason, apply=apply, params={"reason": reason})
    if result.lead_department_id:
        _notify_later(lambda: _unit_users([result.lead_department_id]), "case_rework", f"返工：{result.code}", result)
    return result


def case_close(*, case: Case, actor, note: str = "") -> Case:
    """结案 by the shift lead after verification; the follow-up clock (2 wd) starts."""
    def apply(c, stamp):
        c.closed_at = timezone.now()
        return ["closed_at"]

    result = _step(case, "close", actor, note=note, apply=apply,
                   params={"case_on_time": case.handled_on_time is not False})
    if result.reporter_id:
        _notify_later(lambda: [result.reporter], "case_closed", f"您反映的问题已办结：{result.code}", result)
    return result


def case_follow_up(*, case: Case, actor, satisfied: bool, note: str = "") -> Case:
    """回访: satisfied → archived; not satisfied → reopened for rework (重办)."""
    if satisfied:
        def apply(c, stamp):
            c.satisfaction = True
            return ["satisfaction"]

        return _step(case, "follow_up", actor, note=note, apply=apply, params={"satisfied": True})

    def reopen(c, stamp):
        c.satisfaction = False
        c.reworks += 1
        c.handled_on_time = None
        return ["satisfaction", "reworks", "handled_on_time"]

    result = _step(case, "reopen", actor, note=note, apply=reopen, params={"reason": note, "satisfied": False})
    if result.lead_department_id:
        _notify_later(lambda: _unit_users([result.lead_department_id]), "case_rework", f"重办：{result.code}", result)
    return result


def case_self_handle(*, case: Case, actor, result: str) -> Case:
    """自处理: the reporting field worker fixed it on the spot (photo required); still counted."""
    def apply(c, stamp):
        c.self_handled = True
        c.result_note = result.strip()
        c.handled_at = timezone.now()
        c.handled_on_time = True
        return ["self_handled", "result_note", "handled_at", "handled_on_time"]

    return _step(case, "self_handle", actor, note=result, apply=apply,
                 params={"result": result, "reporter_id": case.reporter_id})


# --- tiered handling (市级统、区级联、街乡合、社区聚) ----------------------------------------------------
def case_claim(*, case: Case, actor, note: str = "") -> Case:
    """A community committee or street office takes the case at its own level."""
    from cityops.cases.workflow import claiming_units

    unit = next(iter(claiming_units(case, actor)), None)

    def apply(c, stamp):
        if unit is not None:
            c.lead_department = unit
            c.level = unit.kind
        return ["lead_department", "level"]

    return _step(case, "claim", actor, note=note, apply=apply,
                 params={"dept": unit.code if unit else "", "level": unit.kind if unit else case.level})


def case_escalate(*, case: Case, actor, reason: str) -> Case:
    """What a level cannot solve goes up one level with the reason: community → street → district → city."""
    def apply(c, stamp):
        c.level = LEVEL_UP.get(c.level, c.level)
        c.escalations += 1
        c.lead_department = None
        for task in c.tasks.filter(state="open"):
            transition(task, "task_release", None, note="上报上级", params={"reason": "escalated", "dept": task.department.code})
        return ["level", "escalations", "lead_department"]

    result = _step(case, "escalate", actor, note=reason, apply=apply,
                   params={"reason": reason, "to_level": LEVEL_UP.get(case.level, case.level)})
    _notify_later(lambda: _role_users(roles.DISPATCHER), "case_escalated", f"下级上报：{result.code}", result)
    return result


# --- duplicates ------------------------------------------------------------------------------------------
def case_merge(*, case: Case, actor, into: Case, note: str = "") -> Case:
    """合并: `case` is a duplicate of `into`; both reporters are told, and the kept case counts one more
    supervision report (merged_reports)."""
    if into.pk == case.pk:
        raise InvalidInput("不能与自身合并", "A case cannot be merged into itself", code="merge_self")
    if into.state not in OPEN_STATES and into.state != "closed":
        raise InvalidInput("只能合并到未办结的案件", "Merge only into an open case", code="merge_target_closed")
    if into.duplicate_of_id:
        raise InvalidInput("目标案件本身已被合并", "The target was itself merged", code="merge_target_merged")

    def apply(c, stamp):
        c.duplicate_of = into
        Case.objects.filter(pk=into.pk).update(merged_reports=F("merged_reports") + 1 + c.merged_reports)
        kept = Case.objects.select_for_update().get(pk=into.pk)  # the entry records the state and version it commits with
        timeline_append(subject=kept, action="merge_in", actor=actor, from_state=kept.state, to_state=kept.state,
                        note=note, params={"merged": c.code, "source": c.source})
        return ["duplicate_of"]

    result = _step(case, "merge", actor, note=note, apply=apply, params={"into": into.code})
    people = [u for u in (result.reporter, into.reporter) if u is not None]
    if people:
        _notify_later(lambda: people, "case_merged", f"案件 {result.code} 已并入 {into.code} 一并处理", result)
    return result


# --- joint handling: sub-tasks and consultations --------------------------------------------------------
def task_done(*, task: CaseTask, actor, result: str) -> CaseTask:
    """An assisting department finishes its part."""
    task = CaseTask.objects.select_related("department", "case").get(pk=task.pk)
    with transaction.atomic():
        on_time = task.clock_limit_s is None or task.clock_used_now() <= task.clock_limit_s

        def apply(t):
            t.result_note = result.strip()
            return ["result_note"]

        done = transition(task, "task_done", actor, note=result, apply=apply,
                          params={"result": result, "dept": task.department.code, "case": task.case.code, "on_time": on_time})
        if task.case.lead_department_id:
            _notify_later(lambda: _unit_users([task.case.lead_department_id]), "task_done",
                          f"协办完成：{task.case.code}（{task.department.name}）", task.case)
    return done


def task_release(*, task: CaseTask, actor, reason: str) -> CaseTask:
    task = CaseTask.objects.select_related("department", "case").get(pk=task.pk)
    return transition(task, "task_release", actor, note=reason,
                      params={"reason": reason, "dept": task.department.code, "case": task.case.code})


@transaction.atomic
def consultation_record(
    *, case: Case, actor, meeting_at, topic: str, participants: Iterable[str], decisions: Iterable[dict], minutes: str = ""
) -> Consultation:
    """联办难点一起商: record the meeting on the case; each decision becomes a sub-task with its deadline
    (decision: {"department": code, "text": ..., "limit_hours": working hours})."""
    actor_roles = actor.role_codes if actor else frozenset()
    if not (actor_roles & {roles.DISPATCHER, roles.SHIFT_LEAD} or (
        actor_roles & {roles.DEPT_HANDLER, roles.DEPT_LEAD} and case.lead_department_id in actor.org_unit_ids)):
        raise Forbidden("只有派遣员或主办部门可以组织会商", "Only a dispatcher or the lead department may hold a consultation",
                        code="role_not_allowed")
    case = Case.objects.select_for_update().get(pk=case.pk)
    if case.state not in OPEN_STATES:
        raise InvalidInput("案件已办结，不能会商", "The case is no longer open", code="case_not_open")
    if not (topic or "").strip():
        raise InvalidInput("请填写会商议题", "A topic is required", code="topic_required")
    units = [_unit(code, "部门") for code in dict.fromkeys(participants)]
    clean = []
    for d in decisions:
        unit = _unit(d.get("department", ""), "部门")
        given = d.get("limit_hours")
        limit = _handle_hours(case) if given is None or given == "" else _limit_hours(
            given, what="决定的时限", what_en="A decision's limit_hours")
        clean.append({"department": unit.code, "text": str(d.get("text", "")).strip(), "limit_hours": limit, "_unit": unit})
    meeting = Consultation.objects.create(case=case, meeting_at=meeting_at, topic=topic.strip(), minutes=minutes,
                                          decisions=[{k: v for k, v in d.items() if k != "_unit"} for d in clean],
                                          created_by=actor, created_at=timezone.now())
    meeting.participants.set(units)
    for d in clean:
        task = CaseTask(case=case, department=d["_unit"], description=d["text"], consultation=meeting,
                        created_at=timezone.now())
        create_with_timeline(task, actor=actor, action="task_open",
                             params={"dept": d["_unit"].code, "case": case.code, "limit_hours": d["limit_hours"]})
    timeline_append(subject=case, action="consult", actor=actor, from_state=case.state, to_state=case.state,
                    note=topic.strip(), params={"participants": [u.code for u in units],
                                                "decisions": meeting.decisions, "consultation": meeting.pk})
    all_units = {u.pk for u in units} | {d["_unit"].pk for d in clean}
    _notify_later(lambda: _unit_users(all_units), "case_consultation", f"联办会商决定：{case.code}", case)
    return meeting


# --- photos ------------------------------------------------------------------------------------------------
SIGNATURES = (
    (b"\xff\xd8\xff", "image/jpeg", "jpg", "JPEG"),
    (b"\x89PNG\r\n\x1a\n", "image/png", "png", "PNG"),
)


def sniff_image(data: bytes) -> tuple[str, str, str] | None:
    """(content type, extension, Pillow format) from the bytes themselves, never from the file name."""
    for magic, ctype, ext, fmt in SIGNATURES:
        if data.startswith(magic):
            return ctype, ext, fmt
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp", "webp", "WEBP"
    return None


def strip_metadata(data: bytes, fmt: str) -> bytes:
    """Re-encode the pixels only: EXIF (incl. GPS), XMP and text chunks are dropped; orientation is applied
    first so the picture still stands the right way up."""
    from PIL import Image, ImageOps

    try:
        with Image.open(io.BytesIO(data)) as img:
            img.load()
            if img.format != fmt:
                raise InvalidInput("文件内容与图片格式不符", "The file content does not match its image format", code="invalid_image")
            img = ImageOps.exif_transpose(img)
            out = io.BytesIO()
            if fmt == "JPEG":
                img.convert("RGB").save(out, "JPEG", quality=88, optimize=True)
            elif fmt == "PNG":
                img.save(out, "PNG", optimize=True)
            else:
                img.save(out, "WEBP", quality=85)
            return out.getvalue()
    except InvalidInput:
        raise
    except Exception as exc:  # Pillow raises many types for broken input (incl. decompression bombs)
        raise InvalidInput("无法读取图片", "The image could not be read", code="invalid_image") from exc


def _private_storage() -> FileSystemStorage:
    return FileSystemStorage(location=str(settings.DATA_DIR / "private" / "case_photos"))


# Photo kinds belong to steps (issue 10 §4; RULES.md §1): the report's photos are added by the reporter or
# intake before dispatch (and by the grid worker asked to check it, 核实); handling photos by the lead department
# while it handles the case; verification photos by the grid worker of the place while it is verified (核查).
@dataclass(frozen=True)
class PhotoStep:
    kind: str
    states: tuple[str, ...]
    who: Callable[[Case, object], bool]  # may this actor add photos at this step of this case?


def _reporter_or_intake(case: Case, actor) -> bool:
    # No actor: the portal or Open311 on behalf of a visitor without an account, at intake.
    return actor is None or case.reporter_id == actor.pk or bool(actor.role_codes & INTAKE_ROLES)


def _field_worker_here(case: Case, actor) -> bool:
    return actor is not None and roles.GRID_WORKER in actor.role_codes and case_workflow.covers(case, actor)


def _lead_department(case: Case, actor) -> bool:
    return (actor is not None and bool(actor.role_codes & (case_workflow.DEPT | case_workflow.REGION))
            and case.lead_department_id is not None and case.lead_department_id in actor.org_unit_ids)


PHOTO_STEPS = (
    PhotoStep(CasePhoto.Kind.REPORT, ("reported", "checking", "registered"), _reporter_or_intake),
    PhotoStep(CasePhoto.Kind.REPORT, ("checking",), _field_worker_here),
    PhotoStep(CasePhoto.Kind.HANDLED, ("accepted", "extension_requested", "suspend_requested", "suspended"),
              _lead_department),
    PhotoStep(CasePhoto.Kind.VERIFY, ("handled",), _field_worker_here),
)
_PHOTO_REFUSALS = {
    CasePhoto.Kind.REPORT: (
        ("只有上报人、受理人员或核实的网格员可以添加上报照片",
         "Only the reporter, intake staff or the grid worker checking the report may add report photos"),
        ("上报照片只能在派遣前添加", "Report photos can be added only before the case is dispatched"),
    ),
    CasePhoto.Kind.HANDLED: (
        ("只有主办部门可以添加处置照片", "Only the lead department may add handling photos"),
        ("处置照片只能在签收后、处置完毕前添加",
         "Handling photos can be added only while the case is handled (accepted, not yet marked handled)"),
    ),
    CasePhoto.Kind.VERIFY: (
        ("只有案件所在区域的网格员可以添加核查照片", "Only a grid worker of the case's area may add verification photos"),
        ("核查照片只能在核查时添加", "Verification photos can be added only while the case is being verified"),
    ),
}


def photo_check(*, case: Case, actor, kind: str) -> None:
    """Refuse a photo of `kind` on `case` by `actor` now: 403 photo_not_allowed when the actor adds no photos of
    that kind to this case at any step, 409 photo_wrong_step when they do, but not in the case's state."""
    steps = [step for step in PHOTO_STEPS if step.kind == kind and step.who(case, actor)]
    if any(case.state in step.states for step in steps):
        return
    not_allowed, wrong_step = _PHOTO_REFUSALS[kind]
    if steps:
        raise Conflict(*wrong_step, code="photo_wrong_step")
    raise Forbidden(*not_allowed, code="photo_not_allowed")


def photo_kinds_for(*, case: Case, user) -> list[str]:
    """The photo kinds `user` may add to `case` now (what the case page offers)."""
    return list(dict.fromkeys(step.kind for step in PHOTO_STEPS
                              if case.state in step.states and step.who(case, user)))


def case_photo_add(*, case: Case, actor, data: bytes, filename: str = "", kind: str = "report") -> CasePhoto:
    """Attach a photo (at most 9 per case; JPEG/PNG/WebP by content; size limited) of the kind the case's step
    takes from this actor (`photo_check`). The public copy has its metadata stripped; the original is kept in
    private storage."""
    limit = int(getattr(settings, "CITYOPS_MAX_PHOTO_BYTES", 5 * 1024 * 1024))
    if len(data) > limit:
        raise InvalidInput(f"图片超过 {limit // 1024 // 1024} MB", f"The photo exceeds {limit} bytes", code="photo_too_large")
    sniffed = sniff_image(data)
    if sniffed is None:
        raise InvalidInput("只接受 JPEG、PNG 或 WebP 图片", "Only JPEG, PNG or WebP images are accepted", code="invalid_image_type")
    if kind not in CasePhoto.Kind.values:
        raise InvalidInput(f"未知照片类型 {kind!r}", f"Unknown photo kind {kind!r}", code="invalid_photo_kind")
    ctype, ext, fmt = sniffed
    public = strip_metadata(data, fmt)
    digest = hashlib.sha256(data).hexdigest()
    with transaction.atomic():
        locked = Case.objects.select_for_update().get(pk=case.pk)
        photo_check(case=locked, actor=actor, kind=kind)
        if locked.photos.count() >= int(conf.get("MAX_PHOTOS")):
            raise InvalidInput(f"每个案件最多 {conf.get('MAX_PHOTOS')} 张照片", "Too many photos for this case", code="too_many_photos")
        original_path = _private_storage().save(f"{locked.code}/{digest[:16]}.{ext}", ContentFile(data))
        photo = CasePhoto(case=locked, kind=kind, content_type=ctype, size=len(public), sha256=digest,
                          original_name=(filename or "")[:200], original_path=original_path, uploaded_by=actor,
                          created_at=timezone.now())
        photo.public.save(f"{digest[:16]}.{ext}", ContentFile(public), save=False)
        photo.save()
        timeline_append(subject=locked, action="photo_add", actor=actor, from_state=locked.state, to_state=locked.state,
                        params={"photo": photo.pk, "kind": kind, "sha256": digest})
    return photo
