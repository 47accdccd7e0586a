"""A small ticket workflow used only by the engine's tests: it has a role split, a guard, a working-time
timer, a calendar timer, pause/resume and extension — every feature a domain workflow uses."""

from django.db import models

from cityops.core import workflow as wf
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
