"""Every write of supervision orders (督办单): issue, answer, close, escalate, withdraw. Each step goes through
core.workflow.transition (roles, guards, clock, the order's timeline) and is recorded on the case's timeline in
the same transaction."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from cityops.cases.models import Case, CaseTask, SupervisionOrder
from cityops.cases.services.notifications import _notify_later, _unit_users
from cityops.cases.supervision import LEVEL_LABELS, NEXT_LEVEL
from cityops.core.errors import InvalidInput
from cityops.core.timeline import timeline_append
from cityops.core.workflow import create_with_timeline, transition


def _on_case_timeline(order: SupervisionOrder, action: str, actor, *, note: str = "", **params) -> None:
    """The step on the case's own timeline too (the case page shows it): what, at which level, to which unit."""
    case = Case.objects.select_for_update().get(pk=order.case_id)  # the entry records the state it commits with
    timeline_append(subject=case, action=action, actor=actor, from_state=case.state, to_state=case.state, note=note,
                    params={"order": order.pk, "level": order.level, "unit": order.unit.code,
                            **({"task": order.task_id} if order.task_id else {}), **params})


def _locked(order: SupervisionOrder) -> SupervisionOrder:
    return SupervisionOrder.objects.select_for_update(of=("self",)).select_related("unit").get(pk=order.pk)


def supervision_issue(*, actor, case: Case, task: CaseTask | None = None, level: str, reason: str,
                      hours: float) -> SupervisionOrder:
    """督办: a supervisor orders the unit holding an open case (its lead department, or the street/community that
    took it) or an open sub-task (its assisting department) to answer within `hours` working hours, at level
    催办 / 督办 / 挂牌督办. The unit is the one holding the target now; it stays the addressee if the case moves on."""
    with transaction.atomic():
        case = Case.objects.select_for_update().get(pk=case.pk)
        if task is not None:
            task = CaseTask.objects.select_for_update().filter(pk=task.pk, case=case).first()
            if task is None:
                raise InvalidInput("该协办任务不属于此案件", "The sub-task does not belong to this case", code="task_not_found",
                                   status=404)
        draft = SupervisionOrder(case=case, task=task, unit_id=task.department_id if task else case.lead_department_id,
                                 issued_by=actor)
        # Born a draft and issued at once: the roles and guards of `issue` decide, and a refusal rolls both back.
        create_with_timeline(draft, actor=actor, action="draft")
        reason = (reason or "").strip()

        def apply(order):
            order.level, order.reason, order.response_hours = level, reason, float(hours)
            order.issued_at = timezone.now()
            return ["level", "reason", "response_hours", "issued_at"]

        order = transition(draft, "issue", actor, note=reason, apply=apply,
                           params={"level": level, "reason": reason, "hours": hours, "case": case.code,
                                   **({"task": task.pk} if task else {})})
        _on_case_timeline(order, "supervise", actor, note=reason, hours=order.response_hours,
                          deadline_at=order.deadline_at.isoformat())
        _tell_unit(order, f"{LEVEL_LABELS[order.level]}：案件 {case.code} 请于 {_local(order.deadline_at)} 前回复")
    return order


def order_answer(*, order: SupervisionOrder, actor, answer: str) -> SupervisionOrder:
    """The responsible unit answers (回复督办): on the order's timeline and the case's."""
    answer = (answer or "").strip()
    with transaction.atomic():

        def apply(o):
            o.answer, o.answered_at = answer, timezone.now()
            return ["answer", "answered_at"]

        done = transition(order, "answer", actor, note=answer, apply=apply, params={"answer": answer})
        _on_case_timeline(done, "supervision_answer", actor, note=answer, on_time=done.evaluation_stamped["on_time"])
        _tell_supervisor(done, f"督办单已回复：案件 {done.case.code}（{done.unit.name}）")
    return done


def order_close(*, order: SupervisionOrder, actor, note: str = "") -> SupervisionOrder:
    """The supervisor accepts the answer: the order is closed (办结)."""
    with transaction.atomic():

        def apply(o):
            o.closed_at = timezone.now()
            return ["closed_at"]

        done = transition(order, "close", actor, note=note, apply=apply)
        _on_case_timeline(done, "supervision_close", actor, note=note)
    return done


def order_escalate(*, order: SupervisionOrder, actor, reason: str = "") -> SupervisionOrder:
    """One level up (催办 → 督办 → 挂牌督办) with a fresh response deadline: taken by the sweep (actor None) when the
    unit let the deadline pass unanswered, or by a supervisor who finds the answer wanting."""
    reason = (reason or "").strip()
    with transaction.atomic():
        order = _locked(order)
        raised = NEXT_LEVEL.get(order.level, order.level)  # the guard refuses at the top level
        note = reason or f"逾期未回复，升级为{LEVEL_LABELS[raised]}"

        def apply(o):
            o.level, o.escalations = raised, o.escalations + 1
            return ["level", "escalations"]

        done = transition(order, "escalate", actor, note=note, apply=apply,
                          params={"reason": reason, "to_level": raised, "overdue": actor is None})
        _on_case_timeline(done, "supervision_escalate", actor, note=note, from_level=order.level,
                          deadline_at=done.deadline_at.isoformat())
        _tell_unit(done, f"{LEVEL_LABELS[raised]}：案件 {done.case.code} 请于 {_local(done.deadline_at)} 前回复")
    return done


def order_withdraw(*, order: SupervisionOrder, actor, reason: str) -> SupervisionOrder:
    """The supervisor withdraws the order (撤销督办), e.g. issued in error or overtaken by events."""
    reason = (reason or "").strip()
    with transaction.atomic():
        done = transition(order, "withdraw", actor, note=reason, params={"reason": reason})
        _on_case_timeline(done, "supervision_withdraw", actor, note=reason)
    return done


def _local(moment) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M")


def _tell_unit(order: SupervisionOrder, title: str) -> None:
    unit_id = order.unit_id
    _notify_later(lambda: _unit_users([unit_id]), "supervision_order", title, order.case)


def _tell_supervisor(order: SupervisionOrder, title: str) -> None:
    issuer = order.issued_by
    if issuer is not None:
        _notify_later(lambda: [issuer], "supervision_answer", title, order.case)
