"""The early warning's workflow as data (issue 15, 预测预防).

    open ─acknowledge→ acknowledged          the duty officer has seen it (值班长确认)
    open/acknowledged ─close→ closed         a person closes it (dealt with, or not a real spike)
    open/acknowledged ─subside→ closed       automatic: an hour with the counts back to normal
    open/acknowledged ─merge→ closed         automatic: a street's warning taken into its district's warning

A warning has no deadline: the cases that make it up carry their own clocks.
"""

from django.utils.translation import gettext_lazy as _

from cityops.core import roles as r
from cityops.core import workflow as wf

OPEN_STATES = ("open", "acknowledged")
# Who deals with a warning: the centre's duty officers, and a district's command centre for its own district
# (the scope of the page and the API keeps each to their area).
DUTY = frozenset({r.SHIFT_LEAD, r.DISPATCHER, r.DISTRICT_DISPATCHER, r.ADMIN})
SYSTEM = frozenset({wf.SYSTEM_ROLE})

T = wf.Transition
EARLY_WARNING_WORKFLOW = wf.Workflow(
    name="early_warning",
    initial="open",
    states={
        "open": wf.State("open", _("待确认")),
        "acknowledged": wf.State("acknowledged", _("已确认")),
        "closed": wf.State("closed", _("已关闭"), terminal=True),
    },
    transitions=[
        T("acknowledge", ("open",), "acknowledged", DUTY, _("确认"), style="primary"),
        T("close", OPEN_STATES, "closed", DUTY, _("关闭"),
          hook=wf.Hook("cityops.dashboard.services.early_warning_close", obj_arg="warning")),
        T("subside", OPEN_STATES, "closed", SYSTEM, _("回落关闭")),
        T("merge", OPEN_STATES, "closed", SYSTEM, _("并入区级预警")),
    ],
    escalations=(),
)
