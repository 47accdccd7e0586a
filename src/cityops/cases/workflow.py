"""The case workflow as data (RULES.md §1, the 7 steps and their exceptions).

    reported ─ask_check→ checking ─check→ reported
    reported ─register→ registered ─dispatch→ dispatched ─accept→ accepted ─handle→ handled ─verify→ verified
        ─close→ closed ─follow_up→ archived
    reported/registered ─void_request→ void_requested ─void_approve→ voided | ─void_reject→ registered
    dispatched ─return→ returned ─dispatch→ dispatched | ─return_approve→ registered
    accepted ─extend_request→ extension_requested ─extend_approve/extend_reject→ accepted   (clock keeps running)
    accepted ─suspend_request→ suspend_requested ─suspend_approve→ suspended ─resume→ accepted (clock paused)
    handled ─rework→ accepted;  closed ─reopen→ accepted  (返工 / 重办)
    reported ─self_handle→ verified   (自处理: a field worker fixed it on the spot)
    registered ─claim→ accepted; registered/accepted ─escalate→ registered (tiered handling: community →
        street → district → city, each step with its reason; see "Four levels" below)
    reported/registered/checking ─merge→ merged (duplicate)

Guards only refuse; the domain writes of a step are made by the services through `apply=`.
"""

from __future__ import annotations

from cityops.cases import conf
from cityops.core import calendar
from cityops.core import roles as r
from cityops.core import workflow as wf
from cityops.core.actions import ReasonIn, ResultIn
from cityops.core.errors import Forbidden, InvalidInput
from cityops.core.schemas import Hours, Schema

INTAKE = frozenset({r.OPERATOR, r.SHIFT_LEAD})
DEPT = frozenset({r.DEPT_HANDLER, r.DEPT_LEAD})
DISPATCH = frozenset({r.DISPATCHER, r.DISTRICT_DISPATCHER})
FIELD = frozenset({r.GRID_WORKER})
REGION = frozenset({r.REGION_STAFF})

# --- Four levels (市级统、区级联、街乡合、社区聚) ----------------------------------------------------------------
# Case.level is the level of the unit holding the case, or of the queue it waits in:
# - a new report waits at its community: the community committee may claim it; until one does, the city's
#   command centre dispatches it (a report outside every community waits at the city);
# - escalate moves a case one level up with a reason: a street office claims what waits at the street, the
#   district's command centre dispatches what waits at the district (to its bureaus and streets), the city's
#   what waits at the city;
# - a dispatch or claim gives the case the level of the unit that takes it; a return gives it back to the
#   command centre that dispatched it (Case.dispatched_level), which also decides its extensions and suspensions.
LEVELS = ("community", "street", "district", "city")  # bottom up
LEVEL_UP = {"community": "street", "street": "district", "district": "city"}
LEVEL_NAMES = {"community": ("社区", "community"), "street": ("街道", "street"), "district": ("区级", "district"),
               "city": ("市级", "city")}
# What waits for the city's dispatcher: its own level, and a new report its community has not taken.
CITY_DISPATCH_LEVELS = ("city", "community")
# States in which a case waits for a command centre to dispatch it (or to decide a request to void it).
WAITING_STATES = ("reported", "registered", "returned")


def dispatcher_level(actor) -> str:
    """The level of the command centre a dispatcher works for: city, district, or "" for anyone else."""
    codes = getattr(actor, "role_codes", frozenset())
    if r.DISPATCHER in codes:
        return "city"
    return "district" if r.DISTRICT_DISPATCHER in codes else ""


def _wh(name: str) -> wf.Timer:
    return wf.Timer(lambda obj, params: float(conf.get(name)))


def handle_limit_hours(case, params=None) -> float:
    """Handling limit in working hours: hotline work orders by kind (urgent same day, consultation/help 3 wd,
    complaint/suggestion 15 wd); otherwise the category's limit, at most URGENT_HANDLE_WH when urgent."""
    day_h = calendar.workday_seconds() / 3600
    if case.source == "hotline" and case.hotline_kind:
        if case.hotline_kind in ("consultation", "help"):
            return float(conf.get("HOTLINE_CONSULTATION_WD")) * day_h
        if case.hotline_kind in ("complaint", "suggestion"):
            return float(conf.get("HOTLINE_COMPLAINT_WD")) * day_h
        return _same_day_hours()
    hours = float(case.category.handle_limit_wh)
    if case.urgency == "urgent" or case.category.urgent:
        hours = min(hours, float(conf.get("URGENT_HANDLE_WH")))
    return hours


def _same_day_hours() -> float:
    """Working hours left until the end of today's office hours (at least the urgent limit)."""
    from datetime import datetime

    from django.utils import timezone

    now = timezone.localtime(calendar.now())
    end = datetime.combine(now.date(), calendar.office_spans()[-1][1], now.tzinfo)
    left = calendar.work_seconds_between(now, end) / 3600
    return max(left, float(conf.get("URGENT_HANDLE_WH")))


HANDLE_TIMER = wf.Timer(lambda obj, params: handle_limit_hours(obj, params))
FOLLOW_UP_TIMER = wf.Timer(lambda obj, params: float(conf.get("FOLLOW_UP_WD")) * calendar.workday_seconds() / 3600)


# --- guards (refuse only) ---------------------------------------------------------------------------------
def _text(params: dict, key: str) -> str:
    return str(params.get(key) or "").strip()


@wf.input_guard
def needs_reason(case, actor, params) -> None:
    if not _text(params, "reason"):
        raise InvalidInput("请填写原因", "A reason is required", code="reason_required")


@wf.input_guard
def needs_result(case, actor, params) -> None:
    if not _text(params, "result"):
        raise InvalidInput("请填写处置结果", "A result note is required", code="result_required")


def in_lead_department(case, actor, params) -> None:
    """Only a member of the department the case was dispatched to acts for it (签收/退回/处置…)."""
    if actor is None or case.lead_department_id not in actor.org_unit_ids:
        raise Forbidden(
            "本案件不是派给您所在部门的", "This case is not assigned to your department", code="not_your_department"
        )


def covers(case, actor) -> bool:
    """The case lies inside one of the actor's regions (code prefix: a grid, or any region above it)."""
    codes = getattr(actor, "region_codes", None) or []
    return any(case.region_code.startswith(c) for c in codes if c)


def covers_case_region(case, actor, params) -> None:
    """A grid worker or region staff acts only inside their own regions (code prefix)."""
    if not covers(case, actor):
        raise Forbidden("案件不在您负责的区域内", "The case lies outside your regions", code="not_your_region")


def returns_left(case, actor, params) -> None:
    limit = int(conf.get("RETURN_LIMIT"))
    if case.returns >= limit:
        raise wf.refuse(
            f"每个案件最多退回 {limit} 次", f"A case may be returned at most {limit} time(s)", code="return_limit"
        )


def hotline_return_window(case, actor, params) -> None:
    """12345 practice (RULES.md §1): a department returns a wrongly assigned work order within 2 working days;
    after that it must handle it (or ask for an extension)."""
    if case.source != "hotline":
        return
    days = float(conf.get("HOTLINE_RETURN_WD"))
    from django.utils import timezone

    used = calendar.work_seconds_between(case.state_changed_at, timezone.now())
    if used > days * calendar.workday_seconds():
        raise wf.refuse(
            f"热线工单须在派遣后 {days:g} 个工作日内退回，已超过",
            f"A hotline work order may be returned only within {days:g} working days of dispatch",
            code="return_window_passed",
        )


def extensions_left(case, actor, params) -> None:
    limit = int(conf.get("EXTENSION_LIMIT"))
    if case.extensions >= limit:
        raise wf.refuse(
            f"每个案件最多延期 {limit} 次", f"A case may be extended at most {limit} time(s)", code="extension_limit"
        )


@wf.input_guard
def positive_extra_hours(case, actor, params) -> None:
    try:
        hours = float(params.get("extra_hours"))
    except (TypeError, ValueError):
        hours = 0
    if not 0 < hours <= 24 * 30:
        raise InvalidInput(
            "延期时长应为 0～720 工作小时", "extra_hours must be between 0 and 720 working hours", code="invalid_extra_hours"
        )


def tasks_settled(case, actor, params) -> None:
    """一事联办: handled only when every sub-task is done or released."""
    # case.tasks.all(): the list a page prefetched for its rows (the dry run of every row), else one query.
    open_ids = [t.pk for t in case.tasks.all() if t.state == "open"]
    if open_ids:
        open_tasks = list(type(case).tasks.rel.related_model.objects.filter(pk__in=open_ids)
                          .values_list("department__code", flat=True))
        raise wf.refuse(
            f"协办任务尚未完成：{'、'.join(open_tasks)}",
            f"Sub-tasks still open: {', '.join(open_tasks)}",
            code="tasks_open",
        )


def reporter_with_photo(case, actor, params) -> None:
    """自处理: only the field worker who reported it, with at least one photo."""
    if actor is None or case.reporter_id != actor.pk:
        raise Forbidden("只有上报人可以自处理", "Only the reporting field worker may self-handle", code="not_reporter")
    if not case.photos.exists():
        raise wf.refuse("自处理需要上传现场照片", "Self-handling needs a photo", code="photo_required")


def in_own_grid(case, actor, params) -> None:
    """自处理 only inside the worker's own grid (issue 10 §4): straight from a report to `verified` skips intake,
    dispatch and the on-site check, so it is trusted only where the worker is the one who checks. A report
    elsewhere is allowed, and goes the normal way."""
    if not covers(case, actor):
        raise Forbidden("只能自处理本人负责网格内的问题，该处请按普通上报办理",
                        "You may self-handle only inside your own grid; report this one the normal way",
                        code="outside_own_grid")


def dispatcher_in_charge(case, actor, params) -> None:
    """A command centre dispatches what waits at its level and decides on what it dispatched: the city's
    dispatcher what waits at the city (or, new, at its community); a district's dispatcher only inside its own
    district, what waits at the district level. Other roles pass (their own guards apply)."""
    level = dispatcher_level(actor)
    if not level:
        return
    if level == "district" and not covers(case, actor):
        raise Forbidden("案件不在本区", "The case lies outside your district", code="not_your_region")
    if case.state in WAITING_STATES:
        ours = CITY_DISPATCH_LEVELS if level == "city" else ("district",)
        if case.level not in ours:
            zh, en = LEVEL_NAMES.get(case.level, (case.level, case.level))
            raise wf.refuse(f"案件在{zh}等待处置，不由本级派遣", f"The case waits at the {en} level, not at yours",
                            code="not_your_level")
    elif (case.dispatched_level or "city") != level:
        raise wf.refuse("该案件由另一级指挥中心派遣，由其审批", "The case was dispatched by another level's command centre, "
                        "which decides on it", code="not_your_level")


def below_city_level(case, actor, params) -> None:
    if case.level not in LEVEL_UP:
        raise wf.refuse("市级案件不能再上报", "A city-level case cannot be escalated further", code="top_level")


# Which unit kinds may take a case waiting at a level: a community only at its own level, a street also
# what a community passed up.
CLAIMING_KINDS = {"community": ("community", "street"), "street": ("street",)}


def claiming_units(case, actor) -> list:
    """The actor's street/community units that may take this case at its current level, deepest first."""
    from cityops.accounts.models import OrgUnit

    kinds = CLAIMING_KINDS.get(case.level, ())
    if actor is None or not kinds:
        return []
    units = OrgUnit.objects.filter(pk__in=actor.org_unit_ids, kind__in=kinds)
    covering = [u for u in units if u.region_code and case.region_code.startswith(u.region_code)]
    return sorted(covering, key=lambda u: -len(u.region_code))


def in_claiming_unit(case, actor, params) -> None:
    """Tiered handling: a street office or community committee takes cases inside its own region, at its
    own level (市级统、区级联、街乡合、社区聚)."""
    if case.level not in CLAIMING_KINDS:
        raise wf.refuse("该案件已上报至区/市级处置", "The case has been escalated above street level", code="level_escalated")
    if not claiming_units(case, actor):
        raise Forbidden(
            "案件不在您所在街道/社区的辖区或层级内", "The case lies outside your street or community, or above its level",
            code="not_your_region",
        )


def may_escalate(case, actor, params) -> None:
    """Each level pushes up what it cannot solve, one level: a community or street what waits at its own level
    in its region, or what it holds; a district's dispatcher what waits at the district; a department (a district
    bureau, or a street dispatched to) an accepted case it leads."""
    if case.state == "accepted":
        in_lead_department(case, actor, params)
        return
    if actor is not None and actor.role_codes & REGION:
        in_claiming_unit(case, actor, params)
        if not any(u.kind == case.level for u in claiming_units(case, actor)):
            raise wf.refuse("只能上报在本级等待的案件", "You escalate only a case waiting at your own level",
                            code="not_your_level")
        return
    if r.DISTRICT_DISPATCHER in getattr(actor, "role_codes", ()):
        dispatcher_in_charge(case, actor, params)
        return
    raise wf.refuse("部门只能上报已签收的案件", "A department escalates only a case it accepted", code="not_accepted")


def _on_escalate(case, escalation) -> None:
    from cityops.cases.services import notify_overdue

    notify_overdue(case=case, escalation=escalation)


# --- what each action takes (the API's body, the page's form) and the service it calls -------------------
class CheckIn(Schema):
    found: bool = True
    note: str = ""


class DispatchIn(Schema):
    department: str | None = None
    assisting: list[str] = []
    note: str = ""
    task_limit_hours: Hours | None = None


class ExtendIn(Schema):
    extra_hours: Hours
    reason: str


class MergeIn(Schema):
    into: str
    note: str = ""


def svc(name: str, *, obj_arg: str = "case", **fixed) -> wf.Hook:
    return wf.Hook(f"cityops.cases.services.{name}", obj_arg=obj_arg, fixed=fixed)


def reason_as_note(name: str, **fixed):
    """A step whose service takes its reason as the note (rework, reopen)."""
    hook = svc(name, **fixed)
    return lambda case, actor, data: hook(case, actor, {"note": data["reason"]})


def merge_into(case, actor, data):
    """合并: the case to keep is named by its code, looked up in the actor's own scope."""
    from cityops.cases import selectors, services

    into = selectors.case_get(user=actor, code=data["into"].strip())
    return services.case_merge(case=case, actor=actor, into=into, note=data["note"])


FORMS = "cityops.cases.forms."
T = wf.Transition
CASE_WORKFLOW = wf.Workflow(
    name="case",
    initial="reported",
    states={
        "reported": wf.State("reported", "待立案", timer=_wh("REGISTER_WH")),
        "checking": wf.State("checking", "核实中", timer=_wh("CHECK_WH")),
        "void_requested": wf.State("void_requested", "作废待批", timer=_wh("APPROVAL_WH")),
        "voided": wf.State("voided", "已作废", terminal=True),
        "registered": wf.State("registered", "待派遣", timer=_wh("DISPATCH_WH")),
        "dispatched": wf.State("dispatched", "待签收", timer=_wh("ACCEPT_WH")),
        "returned": wf.State("returned", "退回待批", timer=_wh("APPROVAL_WH")),
        "accepted": wf.State("accepted", "处置中", timer=HANDLE_TIMER),
        "extension_requested": wf.State("extension_requested", "延期待批"),
        "suspend_requested": wf.State("suspend_requested", "挂账待批"),
        "suspended": wf.State("suspended", "挂账中"),
        "handled": wf.State("handled", "待核查", timer=_wh("VERIFY_WH")),
        "verified": wf.State("verified", "待结案", timer=_wh("CLOSE_WH")),
        "closed": wf.State("closed", "待回访", timer=FOLLOW_UP_TIMER),
        "archived": wf.State("archived", "已归档", terminal=True),
        "merged": wf.State("merged", "已合并", terminal=True),
    },
    transitions=[
        T("ask_check", ("reported",), "checking", INTAKE, "派核实",
          hook=svc("case_ask_check")),
        T("check", ("checking",), "reported", FIELD, "核实", guards=(covers_case_region,),
          input=CheckIn, hook=svc("case_check"), form=FORMS + "CheckForm", style="primary"),
        T("register", ("reported",), "registered", INTAKE, "立案",
          hook=svc("case_register"), style="primary"),
        T("void_request", ("reported", "registered"), "void_requested", INTAKE | DISPATCH, "申请作废",
          guards=(dispatcher_in_charge, needs_reason),
          input=ReasonIn, hook=svc("case_void_request"), style="danger"),
        T("void_approve", ("void_requested",), "voided", frozenset({r.SHIFT_LEAD}), "批准作废",
          hook=svc("case_void_decide", approve=True), style="danger"),
        T("void_reject", ("void_requested",), "registered", frozenset({r.SHIFT_LEAD}), "驳回作废",
          hook=svc("case_void_decide", approve=False)),
        T("dispatch", ("registered", "returned"), "dispatched", DISPATCH, "派遣", guards=(dispatcher_in_charge,),
          input=DispatchIn, hook=svc("case_dispatch"), form=FORMS + "DispatchForm", style="primary"),
        T("accept", ("dispatched",), "accepted", DEPT | REGION, "签收", guards=(in_lead_department,),
          hook=svc("case_accept"), style="primary"),
        T("return", ("dispatched",), "returned", DEPT | REGION, "退回", guards=(in_lead_department, needs_reason, returns_left, hotline_return_window),
          input=ReasonIn, hook=svc("case_return"), style="danger"),
        T("return_approve", ("returned",), "registered", DISPATCH, "同意退回", guards=(dispatcher_in_charge,),
          hook=svc("case_return_approve")),
        T(
            "extend_request", ("accepted",), "extension_requested", DEPT, "申请延期",
            guards=(in_lead_department, needs_reason, positive_extra_hours, extensions_left), clock=wf.CLOCK_KEEP,
            input=ExtendIn, hook=svc("case_extend_request"), form=FORMS + "ExtendForm",
        ),
        T("extend_approve", ("extension_requested",), "accepted", DISPATCH, "批准延期",
          guards=(dispatcher_in_charge, extensions_left), clock=wf.CLOCK_EXTEND,
          hook=svc("case_extend_decide", approve=True), style="primary"),
        T("extend_reject", ("extension_requested",), "accepted", DISPATCH, "驳回延期", guards=(dispatcher_in_charge,),
          clock=wf.CLOCK_KEEP,
          hook=svc("case_extend_decide", approve=False)),
        T(
            "suspend_request", ("accepted",), "suspend_requested", DEPT, "申请挂账",
            guards=(in_lead_department, needs_reason), clock=wf.CLOCK_KEEP,
            input=ReasonIn, hook=svc("case_suspend_request"),
        ),
        T("suspend_approve", ("suspend_requested",), "suspended", DISPATCH, "批准挂账", guards=(dispatcher_in_charge,),
          clock=wf.CLOCK_PAUSE,
          hook=svc("case_suspend_decide", approve=True), style="primary"),
        T("suspend_reject", ("suspend_requested",), "accepted", DISPATCH, "驳回挂账", guards=(dispatcher_in_charge,),
          clock=wf.CLOCK_KEEP,
          hook=svc("case_suspend_decide", approve=False)),
        T("resume", ("suspended",), "accepted", DISPATCH, "恢复处置", guards=(dispatcher_in_charge,),
          clock=wf.CLOCK_RESUME,
          hook=svc("case_resume"), style="primary"),
        T("handle", ("accepted",), "handled", DEPT | REGION, "处置完毕", guards=(in_lead_department, needs_result, tasks_settled),
          input=ResultIn, hook=svc("case_handle"), style="primary"),
        T("verify", ("handled",), "verified", FIELD, "核查通过", guards=(covers_case_region,),
          hook=svc("case_verify", passed=True), style="primary"),
        T("rework", ("handled",), "accepted", FIELD, "核查不通过（返工）", guards=(covers_case_region, needs_reason),
          input=ReasonIn, hook=reason_as_note("case_verify", passed=False), style="danger"),
        T("close", ("verified",), "closed", frozenset({r.SHIFT_LEAD}), "结案",
          hook=svc("case_close"), style="primary"),
        T("follow_up", ("closed",), "archived", INTAKE | {wf.SYSTEM_ROLE}, "回访满意",
          hook=svc("case_follow_up", satisfied=True), style="primary"),
        # The system role: a resident's own rating through the portal, proven by their tracking key or phone.
        T("reopen", ("closed",), "accepted", INTAKE | {wf.SYSTEM_ROLE}, "回访不满意（重办）", guards=(needs_reason,),
          input=ReasonIn, hook=reason_as_note("case_follow_up", satisfied=False), style="danger"),
        T("self_handle", ("reported",), "verified", FIELD, "自处理", guards=(reporter_with_photo, in_own_grid, needs_result),
          input=ResultIn, hook=svc("case_self_handle")),
        T("claim", ("registered",), "accepted", REGION, "街道社区认领", guards=(in_claiming_unit,),
          hook=svc("case_claim"), style="primary"),
        T(
            "escalate", ("registered", "accepted"), "registered", REGION | DEPT | {r.DISTRICT_DISPATCHER}, "上报上级",
            guards=(below_city_level, may_escalate, needs_reason),
            input=ReasonIn, hook=svc("case_escalate"),
        ),
        # The system role: a resident who, on the portal, confirmed their report is the same as an open case.
        T("merge", ("reported", "checking", "registered"), "merged", frozenset({r.OPERATOR, wf.SYSTEM_ROLE}), "合并",
          input=MergeIn, hook=merge_into, form=FORMS + "MergeForm"),
    ],
    on_escalate=_on_escalate,
)

# Handling states: the lead department owns the case here (evaluation: overdue unhandled).
HANDLING_STATES = ("dispatched", "accepted", "extension_requested", "suspend_requested", "suspended")
OPEN_STATES = tuple(s for s, st in CASE_WORKFLOW.states.items() if not st.terminal and s not in ("closed",))
# Finished: a terminal state, which a case never leaves (archived, voided, merged) — the dashboard's rollup of
# closed cases counts these once (dashboard/rollup.py).
FINISHED_STATES = tuple(s for s, st in CASE_WORKFLOW.states.items() if st.terminal)


def task_dept_member(task, actor, params) -> None:
    if actor is None or task.department_id not in actor.org_unit_ids:
        raise Forbidden("该协办任务不属于您所在部门", "This sub-task belongs to another department", code="not_your_department")


def task_release_allowed(task, actor, params) -> None:
    """A sub-task is released by the command centre that dispatched its case or by the lead department."""
    if actor is None:
        return
    if dispatcher_level(actor):
        dispatcher_in_charge(task.case, actor, params)
        return
    if task.case.lead_department_id not in actor.org_unit_ids:
        raise Forbidden("只有主办部门或派遣员可以免除协办任务", "Only the lead department or a dispatcher may release a sub-task", code="not_lead_department")


TASK_WORKFLOW = wf.Workflow(
    name="case_task",
    initial="open",
    states={
        "open": wf.State("open", "协办中", timer=wf.Timer(lambda obj, params: params.get("limit_hours"))),
        "done": wf.State("done", "已完成", terminal=True),
        "released": wf.State("released", "已免除", terminal=True),
    },
    transitions=[
        T("task_done", ("open",), "done", DEPT, "协办完成", guards=(task_dept_member, needs_result),
          input=ResultIn, hook=svc("task_done", obj_arg="task"), form=FORMS + "TaskResultForm", style="primary"),
        T("task_release", ("open",), "released", DEPT | DISPATCH | {wf.SYSTEM_ROLE}, "免除协办", guards=(task_release_allowed, needs_reason),
          input=ReasonIn, hook=svc("task_release", obj_arg="task")),
    ],
)
