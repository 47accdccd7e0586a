"""Every step of a case from registration to archive (RULES.md §1).

Each action goes through `_step` and core.workflow.transition — the only code that writes a state — which locks
the case and stamps what evaluation counts (Case.evaluation_fields: department, region, level, source; and
on_time) on the step's timeline entry."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable

from django.utils import timezone

from cityops.accounts.models import OrgUnit, district_bureau_code
from cityops.cases.models import Case, CaseTask
from cityops.cases.services.notifications import (
    _dispatchers_of,
    _notify_later,
    _region_users,
    _role_users,
    _unit_users,
)
from cityops.cases.workflow import LEVEL_UP, dispatcher_level
from cityops.core import roles
from cityops.core.errors import InvalidInput
from cityops.core.workflow import create_with_timeline, transition

UNIT_KINDS = (OrgUnit.Kind.DEPARTMENT, OrgUnit.Kind.STREET, OrgUnit.Kind.COMMUNITY)


# --- the common path of every action -------------------------------------------------------------------
def _step(
    case: Case,
    action: str,
    actor,
    *,
    note: str = "",
    params: dict | Callable[[Case], dict] | None = None,
    apply: Callable[[Case, dict], Iterable[str] | None] | None = None,
    expected_version: int | None = None,
) -> Case:
    """One step through the engine. `apply(locked_case, stamp)` makes the step's domain writes; `stamp` is what
    the engine stamped for evaluation (e.g. whether the step was on time). `params` read from the case are a
    function of the locked case (core.workflow.transition)."""
    return transition(
        case, action, actor, note=(note or "").strip(), params=params,
        apply=(lambda c: apply(c, c.evaluation_stamped)) if apply else None, expected_version=expected_version,
    )


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
    return _step(case, action, actor, note=note, params=lambda c: {"registered_by": c.registered_by_id})


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
    sub-tasks. A district's command centre dispatches to its own bureaus and streets (区级联); the case takes
    the level of the unit it goes to, and remembers which command centre dispatched it."""
    case = Case.objects.select_related("proposed_department", "category").get(pk=case.pk)
    by_level = dispatcher_level(actor) or "city"
    lead = _unit(department, "主办部门") if department else _default_lead(case, by_level)
    if lead is None:
        raise InvalidInput("请选择主办部门", "Choose a lead department", code="department_required")
    helpers = []
    for code in dict.fromkeys(c for c in assisting if c):
        unit = _unit(code, "协办部门")
        if unit.pk == lead.pk:
            raise InvalidInput("协办部门不能与主办部门相同", "An assisting department cannot be the lead", code="assisting_is_lead")
        helpers.append(unit)
    if by_level == "district":
        for unit in (lead, *helpers):
            _within_district(unit, case.district_code)
    task_limit = None if task_limit_hours is None else _limit_hours(
        task_limit_hours, what="协办时限", what_en="The sub-task limit")
    level = lead.level

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
        c.dispatched_level = by_level
        return ["lead_department", "dispatched_by", "dispatched_at", "level", "dispatched_level"]

    result = _step(case, "dispatch", actor, note=note, apply=apply,
                   params={"dept": lead.code, "assisting": [u.code for u in helpers],
                           "proposed": case.proposed_department.code if case.proposed_department_id else "",
                           "level": level, "dispatched_level": by_level, "from_level": case.level})
    units = [lead.pk] + [u.pk for u in helpers]
    _notify_later(lambda: _unit_users(units), "case_dispatched", f"新派遣案件 {result.code}", result)
    return result


def _default_lead(case: Case, by_level: str) -> OrgUnit | None:
    """Without a department chosen: the routing's proposal; for a district's command centre, that department's
    bureau in the district (区级部门) when there is one."""
    proposed = case.proposed_department
    if by_level != "district" or proposed is None or proposed.level != "city":
        return proposed
    bureau = OrgUnit.objects.filter(code=district_bureau_code(proposed.code, case.district_code), active=True).first()
    return bureau or proposed


def _within_district(unit: OrgUnit, district_code: str) -> None:
    """区级联: a district's command centre dispatches to its own bureaus and streets, never to another district's
    units, to a city department or straight to a community."""
    if unit.level not in ("district", "street") or not district_code or not unit.region_code.startswith(district_code):
        raise InvalidInput(
            f"区级指挥中心只能派遣给本区的区级部门和街道：{unit.name}",
            f"A district command centre dispatches only to its own district's bureaus and streets: {unit.code}",
            code="unit_outside_district",
        )


def _handle_hours(case: Case) -> float:
    from cityops.cases.workflow import handle_limit_hours

    return handle_limit_hours(case)


def case_accept(*, case: Case, actor, note: str = "") -> Case:
    """签收 by a member of the lead department; the handling clock starts."""
    return _step(case, "accept", actor, note=note)


def case_return(*, case: Case, actor, reason: str) -> Case:
    """退回 a wrongly dispatched case with a reason (at most RETURN_LIMIT per case): back to the command centre that
    dispatched it, whose level the case takes again."""
    def apply(c, stamp):
        c.returns += 1
        c.level = c.dispatched_level or "city"
        return ["returns", "level"]

    result = _step(case, "return", actor, note=reason, apply=apply,
                   params=lambda c: {"reason": reason, "dispatched_by": c.dispatched_by_id,
                                     "to_level": c.dispatched_level or "city"})
    _notify_later(lambda: _dispatchers_of(result), "case_returned", f"案件退回：{result.code}", result)
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
    _notify_later(lambda: _dispatchers_of(result), "case_extend_request", f"延期待批：{result.code}", result)
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

    # The hours asked are read from the locked row: a stale copy would grant none and use up the extension.
    return _step(case, "extend_approve", actor, note=note, apply=apply,
                 params=lambda c: {"extra_hours": float(c.pending_extra_hours or 0)})


def case_suspend_request(*, case: Case, actor, reason: str) -> Case:
    result = _step(case, "suspend_request", actor, note=reason, params={"reason": reason})
    _notify_later(lambda: _dispatchers_of(result), "case_suspend_request", f"挂账待批：{result.code}", result)
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
    """处置完毕 with a result note; refused while a sub-task is open (一事联办). The case is resolved at the level of
    the unit that handled it (its lead: a community, a street, a district bureau or a city department)."""
    resolved = case.lead_department.level if case.lead_department_id else case.level

    def apply(c, stamp):
        c.result_note = result.strip()
        c.handled_at = timezone.now()
        c.handled_on_time = bool(stamp["on_time"])
        c.resolved_level = resolved
        return ["result_note", "handled_at", "handled_on_time", "resolved_level"]

    done = _step(case, "handle", actor, note=result, apply=apply, params={"result": result, "resolved_level": resolved})
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
        c.resolved_level = ""  # not resolved after all
        return ["reworks", "handled_on_time", "resolved_level"]

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
                   params=lambda c: {"case_on_time": c.handled_on_time is not False, "resolved_level": c.resolved_level})
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
        c.resolved_level = ""  # not resolved after all
        return ["satisfaction", "reworks", "handled_on_time", "resolved_level"]

    result = _step(case, "reopen", actor, note=note, apply=reopen, params={"reason": note, "satisfied": False})
    if result.lead_department_id:
        _notify_later(lambda: _unit_users([result.lead_department_id]), "case_rework", f"重办：{result.code}", result)
    return result


def case_self_handle(*, case: Case, actor, result: str) -> Case:
    """自处理: the reporting field worker fixed it on the spot (photo required); still counted — resolved at the
    community level, where grids and their workers belong."""
    def apply(c, stamp):
        c.self_handled = True
        c.result_note = result.strip()
        c.handled_at = timezone.now()
        c.handled_on_time = True
        c.resolved_level = "community"
        return ["self_handled", "result_note", "handled_at", "handled_on_time", "resolved_level"]

    return _step(case, "self_handle", actor, note=result, apply=apply,
                 params={"result": result, "reporter_id": case.reporter_id, "resolved_level": "community"})


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
                 params=lambda c: {"dept": unit.code if unit else "", "level": unit.kind if unit else c.level})


def case_escalate(*, case: Case, actor, reason: str) -> Case:
    """What a level cannot solve goes up one level with the reason: community → street → district → city. The
    case waits in the next level's queue: the street office's, the district's or the city's command centre."""
    def apply(c, stamp):
        c.level = LEVEL_UP.get(c.level, c.level)
        c.escalations += 1
        c.lead_department = None
        for task in c.tasks.filter(state="open"):
            transition(task, "task_release", None, note="上报上级", params={"reason": "escalated", "dept": task.department.code})
        return ["level", "escalations", "lead_department"]

    result = _step(case, "escalate", actor, note=reason, apply=apply,
                   params=lambda c: {"reason": reason, "from_level": c.level, "to_level": LEVEL_UP.get(c.level, c.level)})
    _notify_later(lambda: _level_users(result), "case_escalated", f"下级上报：{result.code}", result)
    return result


def _level_users(case: Case):
    """Who takes a case waiting at its level: the street's staff, or the command centre of the district or city."""
    if case.level in ("community", "street"):
        code = case.street_code if case.level == "street" else case.community_code
        return _unit_users(OrgUnit.objects.filter(code=code, kind=case.level).values_list("pk", flat=True))
    if case.level == "district":
        return _region_users(case.region_code, roles.DISTRICT_DISPATCHER)
    return _role_users(roles.DISPATCHER)
