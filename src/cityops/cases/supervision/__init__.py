"""督办 as a supervisor's act (issue 12 §4): a supervision order (督办单) on an open case or sub-task, addressed
to the unit holding it, which must answer by a deadline in working time.

    draft ─issue→ issued ─answer→ answered ─close→ closed
    issued/answered ─escalate→ issued   (催办 → 督办 → 挂牌督办, a fresh response deadline; the sweep takes it
                                         when the unit lets the deadline pass unanswered)
    issued/answered ─withdraw→ withdrawn

A draft exists only inside the issuing transaction: `issue` is a transition like any other, so who may issue
on what (a supervisor, an open target held by a unit) is the dry run of `core.actions.available_actions` on an
unsaved draft, and a refusal leaves nothing behind. Glossary: 催办 remind, 督办 escalate; 挂牌督办 (publicly
listed supervision, the highest level) is `listed`. This module is data only (the model imports it); the writes
are in services.py, the reads in selectors.py.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from cityops.cases import conf
from cityops.core import roles as r
from cityops.core import workflow as wf
from cityops.core.actions import NoteIn, ReasonIn
from cityops.core.errors import Forbidden, InvalidInput
from cityops.core.schemas import Schema

REMIND, ESCALATE, LISTED = "remind", "escalate", "listed"
LEVELS = (REMIND, ESCALATE, LISTED)  # lowest first
LEVEL_LABELS = {REMIND: _("催办"), ESCALATE: _("督办"), LISTED: _("挂牌督办")}
LEVEL_RANK = {level: n for n, level in enumerate(LEVELS, start=1)}
NEXT_LEVEL = {REMIND: ESCALATE, ESCALATE: LISTED}

SUPERVISORS = frozenset({r.SUPERVISOR})
RESPONSIBLE = "responsible_unit"  # the per-object role of the answering unit's staff (SupervisionOrder.object_roles)
UNIT_STAFF_ROLES = frozenset({r.DEPT_HANDLER, r.DEPT_LEAD, r.REGION_STAFF})
OPEN_ORDER_STATES = ("issued", "answered")


def max_response_hours() -> float:
    return float(conf.get("SUPERVISION_MAX_RESPONSE_WH"))


def is_unit_staff(order, user) -> bool:
    """Staff of the unit the order is addressed to (a department, or a street/community office)."""
    return bool(order.unit_id and order.unit_id in user.org_unit_ids and user.role_codes & UNIT_STAFF_ROLES)


# --- guards (refuse only) ---------------------------------------------------------------------------------
def _text(params: dict, key: str) -> str:
    return str(params.get(key) or "").strip()


def target_open(order, actor, params) -> None:
    """Only an open case (not closed, archived, voided or merged) or an open sub-task is supervised."""
    from cityops.cases.workflow import OPEN_STATES

    if order.task_id is not None:
        if order.task.state != "open":
            raise wf.refuse("该协办任务已结束，不能督办", "The sub-task is no longer open", code="target_closed")
    elif order.case.state not in OPEN_STATES:
        raise wf.refuse("该案件已办结或已作废，不能督办", "The case is no longer open", code="target_closed")


def held_by_a_unit(order, actor, params) -> None:
    """A supervision order is addressed to the unit holding the case (its lead department, or the street or
    community that took it) or the sub-task (its assisting department)."""
    if order.unit_id is None:
        raise wf.refuse("案件尚未派遣到责任单位，无可督办的单位", "The case is not held by any unit yet: nobody to supervise",
                        code="no_responsible_unit")


@wf.input_guard
def valid_level(order, actor, params) -> None:
    if params.get("level") not in LEVELS:
        raise InvalidInput("督办级别应为 remind（催办）、escalate（督办）或 listed（挂牌督办）",
                           "level must be remind (催办), escalate (督办) or listed (挂牌督办)", code="unknown_level")


@wf.input_guard
def valid_response_hours(order, actor, params) -> None:
    top = max_response_hours()
    try:
        hours = float(params.get("hours"))
    except (TypeError, ValueError):
        hours = 0.0
    if not 0 < hours <= top:  # NaN fails both comparisons
        raise InvalidInput(f"回复时限应大于 0、至多 {top:g} 个工作小时", f"hours must be above 0 and at most {top:g} working hours",
                           code="invalid_response_hours")


@wf.input_guard
def needs_reason(order, actor, params) -> None:
    if not _text(params, "reason"):
        raise InvalidInput("请填写督办事由", "A reason is required", code="reason_required")


@wf.input_guard
def person_gives_reason(order, actor, params) -> None:
    """A supervisor says why; the sweep (actor None) escalates because the deadline passed."""
    if actor is not None:
        needs_reason(order, actor, params)


@wf.input_guard
def needs_answer(order, actor, params) -> None:
    if not _text(params, "answer"):
        raise InvalidInput("请填写回复内容", "An answer is required", code="answer_required")


def below_top_level(order, actor, params) -> None:
    if order.level not in NEXT_LEVEL:
        raise wf.refuse("已是挂牌督办，不能再升级", "Already at the highest level (挂牌督办)", code="top_level")


def unit_member(order, actor, params) -> None:
    if actor is None or not is_unit_staff(order, actor):
        raise Forbidden("该督办单不是发给您所在单位的", "This supervision order is addressed to another unit",
                        code="not_your_unit")


# --- what each action takes --------------------------------------------------------------------------------
class IssueIn(Schema):
    level: str
    reason: str = ""
    hours: float  # the response deadline, in working hours


class AnswerIn(Schema):
    answer: str


def svc(name: str) -> wf.Hook:
    return wf.Hook(f"cityops.cases.supervision.services.{name}", obj_arg="order")


T = wf.Transition
SUPERVISION_WORKFLOW = wf.Workflow(
    name="supervision_order",
    initial="draft",
    states={
        "draft": wf.State("draft", _("起草")),
        "issued": wf.State("issued", _("待回复"), timer=wf.Timer(lambda order, params: order.response_hours)),
        "answered": wf.State("answered", _("已回复")),
        "closed": wf.State("closed", _("已办结"), terminal=True),
        "withdrawn": wf.State("withdrawn", _("已撤销"), terminal=True),
    },
    transitions=[
        T("issue", ("draft",), "issued", SUPERVISORS, _("下达督办单"),
          guards=(target_open, held_by_a_unit, valid_level, valid_response_hours, needs_reason), input=IssueIn,
          style="primary"),
        T("answer", ("issued",), "answered", frozenset({RESPONSIBLE}), _("回复督办"), guards=(unit_member, needs_answer),
          input=AnswerIn, hook=svc("order_answer"), style="primary"),
        T("close", ("answered",), "closed", SUPERVISORS, _("认可回复并办结"), input=NoteIn, hook=svc("order_close"),
          style="primary"),
        T("escalate", ("issued", "answered"), "issued", SUPERVISORS | {wf.SYSTEM_ROLE}, _("升级督办"),
          guards=(below_top_level, person_gives_reason), input=ReasonIn, hook=svc("order_escalate"), style="danger"),
        T("withdraw", ("issued", "answered"), "withdrawn", SUPERVISORS, _("撤销督办"), guards=(needs_reason,),
          input=ReasonIn, hook=svc("order_withdraw")),
    ],
    # Unanswered at the deadline: the sweep takes `escalate` (one level up, a fresh deadline); at 挂牌督办 the
    # guard refuses and the order is marked overdue.
    escalations=(wf.Escalation(1, "escalate", _("逾期未回复，升级督办"), lambda deadline: deadline, take=True),),
)
