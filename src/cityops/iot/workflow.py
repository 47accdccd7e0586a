"""The alarm workflow as data (RULES.md §7).

    active ─acknowledge→ acknowledged
    active/acknowledged ─dispatch→ dispatched        (becomes a city case; automatic at or above CASE_SEVERITY)
    active/acknowledged/dispatched ─clear→ cleared   (automatic, by the rules, when back inside the band)
    cleared ─close→ closed
    cleared ─recur→ active | ─recur_dispatched→ dispatched   (automatic: the condition came back within
                                                          REOPEN_S of clearing — the same alarm and case, no
                                                          new ones for a flapping sensor)
    active/acknowledged ─dismiss→ closed             (误报: a false alarm, with a reason)

Alarms have no deadlines of their own: once dispatched, the case carries the clock.
"""

from django.utils.translation import gettext_lazy as _

from cityops.core import roles as r
from cityops.core import workflow as wf
from cityops.core.actions import ReasonIn
from cityops.core.errors import InvalidInput

CENTRE = frozenset({r.OPERATOR, r.SHIFT_LEAD, r.DISPATCHER, r.ADMIN})
DEPT = frozenset({r.DEPT_HANDLER, r.DEPT_LEAD})
SYSTEM = frozenset({wf.SYSTEM_ROLE})

OPEN_STATES = ("active", "acknowledged", "dispatched")


@wf.input_guard
def needs_reason(alarm, actor, params) -> None:
    if not str(params.get("reason") or "").strip():
        raise InvalidInput("请填写原因", "A reason is required", code="reason_required")


def svc(name: str) -> wf.Hook:
    return wf.Hook(f"cityops.iot.services.{name}", obj_arg="alarm")


T = wf.Transition
ALARM_WORKFLOW = wf.Workflow(
    name="iot_alarm",
    initial="active",
    states={
        "active": wf.State("active", _("告警中")),
        "acknowledged": wf.State("acknowledged", _("已确认")),
        "dispatched": wf.State("dispatched", _("已转案件")),
        "cleared": wf.State("cleared", _("已恢复")),
        "closed": wf.State("closed", _("已关闭"), terminal=True),
    },
    transitions=[
        T("acknowledge", ("active",), "acknowledged", CENTRE | DEPT, _("确认"), hook=svc("alarm_acknowledge"), style="primary"),
        T("dispatch", ("active", "acknowledged"), "dispatched", CENTRE | SYSTEM, _("转为城市事件"),
          hook=svc("alarm_dispatch"), style="primary"),
        T("clear", ("active", "acknowledged", "dispatched"), "cleared", SYSTEM, _("恢复正常")),
        T("close", ("cleared",), "closed", CENTRE | DEPT | SYSTEM, _("关闭"), hook=svc("alarm_close")),
        T("recur", ("cleared",), "active", SYSTEM, _("再次告警")),
        T("recur_dispatched", ("cleared",), "dispatched", SYSTEM, _("再次告警（案件处理中）")),
        T("dismiss", ("active", "acknowledged"), "closed", CENTRE, _("误报关闭"), guards=(needs_reason,),
          input=ReasonIn, hook=svc("alarm_dismiss"), style="danger"),
    ],
    escalations=(),
)
