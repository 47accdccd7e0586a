"""Joint handling (一事联办, 联办难点一起商): the sub-tasks of assisting departments and the consultations that
decide them."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction
from django.utils import timezone

from cityops.cases.models import Case, CaseTask, Consultation
from cityops.cases.services.lifecycle import _handle_hours, _limit_hours, _unit
from cityops.cases.services.notifications import _notify_later, _unit_users
from cityops.cases.workflow import OPEN_STATES
from cityops.core import roles
from cityops.core.errors import Forbidden, InvalidInput
from cityops.core.timeline import timeline_append
from cityops.core.workflow import create_with_timeline, transition


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
