"""The statutory lifecycle of a dispute (RULES.md §2; 人民调解法, 特邀调解规定 2016). This module is data only: the
model imports it; the writes are the services the hooks name (services/hooks.py), the reads are in selectors.py.

    registered ─accept→ accepted ─assign→ assigned ─start→ mediating ─agree→ agreed
       │  (the centre routes it     (a mediator   (30 days; 15 / 7    │  └─request_confirmation→ confirmation_requested
       │   to a channel and a        within 3 wd    if the court         │        ├─confirm→ confirmed ─perform→ performed ─follow_up→ closed
       │   committee)                of registering) entrusts it)        │        │                     └─enforce→ enforcement
       │                                                                  │        └─reject_confirmation→ not_confirmed ─remediate→ mediating
       │                                                                  ├─perform→ performed                          └─refer→ referred
       │                                                                  └─breach→ referred (a party goes to court)
       └─refuse (a party refuses mediation, §17) → refused          mediating ─terminate→ terminated ─refer→ referred (§26)
    any open state ─escalate→ escalated (§25: violence or a crime feared; police liaison and leader alerted)
                               ├─hand_over→ referred (to the police)   └─resume→ accepted (routed again)

Every timer is the clock of its own state: assignment within 3 working days of registration (the clock runs on
through `accepted`); mediation in calendar days; the 30-day window for judicial confirmation after the agreement;
the court's 15 days; the performance deadline of the agreement; the follow-up visit after performance.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from cityops.core import calendar
from cityops.core import roles as r
from cityops.core import workflow as wf
from cityops.core.actions import ReasonIn
from cityops.disputes import schemas as s

# Per-object roles (Dispute.object_roles): who holds them is decided per dispute.
CENTRE_STAFF = "centre_staff_of"  # staff of the centre that registered the dispute
COMMITTEE_MEDIATOR = "committee_mediator"  # a mediator of the committee the dispute is routed to
ASSIGNED_MEDIATOR = "assigned_mediator"  # the mediator the dispute is assigned to
PARTY = "party"  # a party's (or the applicant's) own resident account

STAFF = frozenset({CENTRE_STAFF, r.ADMIN})
MEDIATION = frozenset({ASSIGNED_MEDIATOR, CENTRE_STAFF, r.ADMIN})

# Mediation limits in calendar days (人民调解 30 days; court-entrusted 15, simplified procedure 7).
MEDIATION_DAYS = {"": 30, "court_15": 15, "court_7": 7}
CONFIRMATION_WINDOW_DAYS = 30  # 人民调解法 §33: both parties apply within 30 days of the agreement
COURT_DECISION_DAYS = 15  # the court decides within 15 days of accepting the application
FOLLOW_UP_WORKDAYS = 15  # 回访 after performance


def workdays(n: float):
    """A timer of n working days, in hours, read from the office hours when the timer starts."""
    return lambda obj, params: n * calendar.workday_seconds() / wf.HOUR


def mediation_hours(dispute, params) -> float:
    return MEDIATION_DAYS.get(dispute.entrustment or "", 30) * 24.0


def performance_hours(dispute, params) -> float | None:
    """Until the agreement's performance deadline (end of that day); no clock without one."""
    from datetime import datetime, time

    from django.utils import timezone

    agreement = getattr(dispute, "agreement", None)
    if agreement is None or agreement.performance_deadline is None:
        return None
    end = timezone.make_aware(datetime.combine(agreement.performance_deadline, time(23, 59, 59)))
    return max((end - timezone.now()).total_seconds() / wf.HOUR, 0.0)


def _hook(name: str, **fixed) -> wf.Hook:
    """The service `name`; `fixed` are passed to it as well (e.g. which action a shared service takes)."""
    return wf.Hook(f"cityops.disputes.services.{name}", obj_arg="dispute", fixed=fixed)


def _guard(name: str):
    """A guard defined in guards.py, imported when first called (guards read the models)."""
    from importlib import import_module

    def guard(obj, actor, params):
        return getattr(import_module("cityops.disputes.guards"), name)(obj, actor, params)

    guard.__name__ = name
    return guard


def _input_guard(name: str):
    return wf.input_guard(_guard(name))


OPEN_STATES = ("registered", "accepted", "assigned", "mediating", "agreed", "confirmation_requested", "confirmed",
               "not_confirmed", "performed", "terminated", "escalated")

DISPUTE_WORKFLOW = wf.Workflow(
    name="dispute",
    initial="registered",
    states={
        "registered": wf.State("registered", _("已登记"), timer=wf.Timer(workdays(3))),
        "accepted": wf.State("accepted", _("已受理")),  # the registration clock runs on (CLOCK_KEEP)
        "assigned": wf.State("assigned", _("已指派"), timer=wf.Timer(workdays(3))),
        "mediating": wf.State("mediating", _("调解中"), timer=wf.Timer(mediation_hours, mode="calendar")),
        "agreed": wf.State("agreed", _("已达成协议"), timer=wf.Timer(CONFIRMATION_WINDOW_DAYS * 24, mode="calendar")),
        "confirmation_requested": wf.State("confirmation_requested", _("已申请司法确认"),
                                           timer=wf.Timer(COURT_DECISION_DAYS * 24, mode="calendar")),
        "confirmed": wf.State("confirmed", _("已司法确认"), timer=wf.Timer(performance_hours, mode="calendar")),
        "not_confirmed": wf.State("not_confirmed", _("未予确认"), timer=wf.Timer(workdays(3))),
        "performed": wf.State("performed", _("已履行"), timer=wf.Timer(workdays(FOLLOW_UP_WORKDAYS))),
        "terminated": wf.State("terminated", _("已终止调解"), timer=wf.Timer(workdays(3))),
        "escalated": wf.State("escalated", _("已升级（移交公安）"), timer=wf.Timer(workdays(1))),
        "closed": wf.State("closed", _("已结案"), terminal=True),
        "refused": wf.State("refused", _("当事人拒绝调解"), terminal=True),
        "referred": wf.State("referred", _("已告知途径并移交"), terminal=True),
        "enforcement": wf.State("enforcement", _("申请强制执行"), terminal=True),
    },
    transitions=[
        # From `accepted` too: a dispute resumed after an escalation (or one its committee cannot take) is routed again.
        wf.Transition("accept", ("registered", "accepted"), "accepted", STAFF, _("受理并分流"), clock=wf.CLOCK_KEEP,
                      hook=_hook("accept"), input=s.DisputeAcceptIn, style="primary"),
        wf.Transition("refuse", ("registered", "accepted", "assigned", "mediating"), "refused", MEDIATION,
                      _("当事人拒绝调解"), hook=_hook("refuse"), input=s.RefuseIn,
                      style="danger"),
        wf.Transition("assign", ("accepted",), "assigned", STAFF | {COMMITTEE_MEDIATOR}, _("指派调解员"),
                      hook=_hook("assign"), input=s.AssignIn, style="primary"),
        wf.Transition("start", ("assigned",), "mediating", frozenset({ASSIGNED_MEDIATOR, r.ADMIN}), _("开始调解"),
                      style="primary"),
        wf.Transition("extend", ("mediating",), "mediating", MEDIATION, _("延长调解期限"), clock=wf.CLOCK_EXTEND,
                      hook=_hook("extend"), input=s.MediationExtendIn),
        wf.Transition("agree", ("mediating",), "agreed", MEDIATION, _("达成调解协议"), hook=_hook("agree"),
                      input=s.AgreementIn, style="primary"),
        wf.Transition("request_confirmation", ("agreed",), "confirmation_requested", MEDIATION, _("申请司法确认"),
                      guards=(_guard("within_confirmation_window"), _guard("agreement_signed")),
                      hook=_hook("request_confirmation"),
                      input=s.ConfirmationRequestIn),
        wf.Transition("confirm", ("confirmation_requested",), "confirmed", STAFF, _("法院确认有效"),
                      style="primary"),
        wf.Transition("reject_confirmation", ("confirmation_requested",), "not_confirmed", STAFF,
                      _("法院不予确认"), input=ReasonIn, hook=_hook("note_reason", action="reject_confirmation")),
        wf.Transition("remediate", ("not_confirmed",), "mediating", MEDIATION, _("重新调解")),
        wf.Transition("perform", ("agreed", "confirmed"), "performed", MEDIATION, _("协议已履行"),
                      style="primary"),
        wf.Transition("enforce", ("confirmed",), "enforcement", MEDIATION, _("未履行，申请强制执行"),
                      input=ReasonIn, hook=_hook("note_reason", action="enforce")),
        wf.Transition("breach", ("agreed",), "referred", MEDIATION, _("未履行，告知诉讼途径"),
                      input=ReasonIn, hook=_hook("note_reason", action="breach")),
        wf.Transition("follow_up", ("performed",), "closed", MEDIATION, _("回访并结案"),
                      hook=_hook("follow_up"), input=s.FollowUpIn, style="primary"),
        wf.Transition("terminate", ("mediating",), "terminated", MEDIATION, _("终止调解"),
                      hook=_hook("terminate"), input=s.TerminateIn, style="danger"),
        wf.Transition("refer", ("terminated", "not_confirmed"), "referred", MEDIATION, _("告知途径并移交"),
                      hook=_hook("refer"), input=s.ReferIn),
        wf.Transition("escalate", (wf.ANY_OPEN,), "escalated",
                      frozenset({ASSIGNED_MEDIATOR, COMMITTEE_MEDIATOR, CENTRE_STAFF, r.GRID_WORKER, r.ADMIN}),
                      _("升级：可能激化为治安或刑事案件"), hook=_hook("escalate"),
                      input=ReasonIn, style="danger"),
        wf.Transition("hand_over", ("escalated",), "referred", frozenset({r.POLICE_LIAISON, CENTRE_STAFF, r.ADMIN}),
                      _("移交公安处置"), input=ReasonIn, hook=_hook("note_reason", action="hand_over")),
        wf.Transition("resume", ("escalated",), "accepted", frozenset({r.POLICE_LIAISON, CENTRE_STAFF, r.ADMIN}),
                      _("风险已控制，恢复调解"), input=ReasonIn, hook=_hook("note_reason", action="resume"),
                      timer=wf.Timer(workdays(3))),
    ],
)
