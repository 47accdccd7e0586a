"""A small ticket workflow used only by the engine's tests: it has a role split, a guard, a working-time
timer, a calendar timer, pause/resume and extension — every feature a domain workflow uses."""

from django.conf import settings
from django.db import models

from cityops.core import workflow as wf
from cityops.core.actions import ReasonIn
from cityops.core.errors import CityopsError
from cityops.core.models import WorkflowModel


def needs_result_note(obj, actor, params):
    if not params.get("result", "").strip():
        raise CityopsError("请填写处置结果", "A result note is required", code="result_required", status=400)


def at_most_one_extension(obj, actor, params):
    if obj.extensions >= 1:
        raise CityopsError("延期次数已用完", "No extension left", code="extension_limit", status=409)


TICKET_WORKFLOW = wf.Workflow(
    name="ticket",
    initial="new",
    states={
        "new": wf.State("new", "新建", timer=wf.Timer(0.5)),
        "open": wf.State("open", "办理中", timer=wf.Timer(8)),
        "paused": wf.State("paused", "挂起"),
        "done": wf.State("done", "已办结", timer=wf.Timer(48, mode="calendar")),
        "closed": wf.State("closed", "已关闭", terminal=True),
    },
    transitions=[
        wf.Transition("open", ("new",), "open", frozenset({"dispatcher"})),
        wf.Transition("pause", ("open",), "paused", frozenset({"dept_handler"}), clock=wf.CLOCK_PAUSE),
        wf.Transition("resume", ("paused",), "open", frozenset({"dispatcher"}), clock=wf.CLOCK_RESUME),
        wf.Transition(
            "extend", ("open",), "open", frozenset({"dispatcher"}), clock=wf.CLOCK_EXTEND, guards=(at_most_one_extension,)
        ),
        wf.Transition("finish", ("open",), "done", frozenset({"dept_handler"}), guards=(needs_result_note,)),
        wf.Transition("reopen", ("done",), "open", frozenset({"dispatcher"})),
        wf.Transition("close", ("done",), "closed", frozenset({"shift_lead", wf.SYSTEM_ROLE})),
    ],
)


class Ticket(WorkflowModel):
    workflow = TICKET_WORKFLOW
    title = models.CharField(max_length=100)
    extensions = models.PositiveIntegerField(default=0)
    result = models.TextField(blank=True)


# --- A whole small domain, as docs/new-domain.md shows it: 占道施工许可 (street-works permits) ----------------
# Three actions; a public-notice period that is a floor, not a deadline; the applicant as a per-object role;
# withdrawal from any open state; the site inspection as a child object with its own clock (a second clock).
@wf.input_guard
def needs_reason(obj, actor, params):
    if not str(params.get("reason") or "").strip():
        raise CityopsError("请填写原因", "A reason is required", code="reason_required", status=400)


PERMIT_WORKFLOW = wf.Workflow(
    name="permit",
    initial="submitted",
    states={
        "submitted": wf.State("submitted", "待受理", timer=wf.Timer(8)),
        "notice": wf.State("notice", "公示中", timer=wf.Timer(10 * 24, mode="calendar")),
        "approved": wf.State("approved", "已批准", terminal=True),
        "withdrawn": wf.State("withdrawn", "已撤回", terminal=True),
    },
    transitions=[
        wf.Transition("publish", ("submitted",), "notice", frozenset({"dispatcher"}), "公示", style="primary"),
        wf.Transition("approve", ("notice",), "approved", frozenset({"dispatcher"}), "批准",
                      guards=(wf.at_least(5 * 24, mode="calendar", label="公示期"),), style="primary"),
        wf.Transition("withdraw", (wf.ANY_OPEN,), "withdrawn", frozenset({"applicant"}), "撤回申请",
                      guards=(needs_reason,), input=ReasonIn, hook=wf.Hook(
                          "cityops.core.tests.sample.domain.permit_withdraw", obj_arg="permit"), style="danger"),
    ],
)


class Permit(WorkflowModel):
    workflow = PERMIT_WORKFLOW
    object_roles = {"applicant": lambda permit, user: permit.applicant_id == user.pk}
    evaluation_fields = {"unit": "unit_code", "region": "region_code"}
    title = models.CharField(max_length=100)
    applicant = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    unit_code = models.CharField(max_length=20, blank=True)
    region_code = models.CharField(max_length=20, blank=True)


INSPECTION_WORKFLOW = wf.Workflow(
    name="permit_inspection",
    initial="open",
    states={"open": wf.State("open", "待勘查", timer=wf.Timer(16)), "done": wf.State("done", "已勘查", terminal=True)},
    transitions=[wf.Transition("inspect", ("open",), "done", frozenset({"grid_worker"}), "现场勘查")],
)


class PermitInspection(WorkflowModel):
    """The permit's second clock: a child object with its own workflow and timer (16 working hours), running
    beside the permit's notice period (the pattern of cases' sub-tasks)."""

    workflow = INSPECTION_WORKFLOW
    permit = models.ForeignKey(Permit, on_delete=models.CASCADE, related_name="inspections")
