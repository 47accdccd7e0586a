"""A step decided on a stale copy of the case (read before the step it answers) decides from the locked row
(issue 12 §5): the hours granted, who registered what is voided, whom a return is charged to, whether the case
was handled on time, the level an escalation goes to."""

from datetime import datetime

import pytest

from cityops.cases import services as s
from cityops.cases.models import Case
from cityops.core import calendar, roles
from cityops.core.timeline import timeline_for

pytestmark = pytest.mark.django_db


def stale(case) -> Case:
    return Case.objects.get(pk=case.pk)


def test_extension_approved_on_a_stale_copy_grants_the_hours_asked(new_case, walk, handler_hw, dispatcher, clock):
    clock(datetime(2026, 11, 25, 9, 0))
    case = walk(new_case(), "accepted")
    before, old = case.deadline_at, stale(case)  # no hours pending yet
    s.case_extend_request(case=case, actor=handler_hw, extra_hours=8, reason="等待材料")
    case = s.case_extend_decide(case=old, actor=dispatcher, approve=True)
    assert (case.state, case.extensions, case.pending_extra_hours) == ("accepted", 1, None)
    assert case.deadline_at == calendar.add_work_seconds(before, 8 * 3600)
    assert timeline_for(case).last().params["extra_hours"] == 8.0


def test_void_approved_on_a_stale_copy_names_who_registered(new_case, operator, shift_lead):
    case = new_case()
    old = stale(case)  # not registered yet
    case = s.case_register(case=case, actor=operator)
    s.case_void_request(case=case, actor=operator, reason="重复上报")
    case = s.case_void_decide(case=old, actor=shift_lead, approve=True)
    assert case.state == "voided"
    assert timeline_for(case).last().params["registered_by"] == operator.pk


def test_return_on_a_stale_copy_is_charged_to_the_last_dispatcher(new_case, walk, handler_hw, dispatcher, make_user,
                                                                   settings):
    settings.CITYOPS_CASE_RETURN_LIMIT = 2
    case = walk(new_case(), "dispatched")
    s.case_return(case=case, actor=handler_hw, reason="应由城管处理")
    case = s.case_return_approve(case=case, actor=dispatcher)
    other = make_user("t_dispatcher_2", roles.DISPATCHER)
    old = stale(case)  # before the second dispatch: dispatched by the first dispatcher
    s.case_dispatch(case=case, actor=other, department="HW")
    case = s.case_return(case=old, actor=handler_hw, reason="还是不归我们")
    assert timeline_for(case).last().params["dispatched_by"] == other.pk


def test_close_on_a_stale_copy_counts_a_late_handling_as_late(new_case, walk, clock, handler_hw, grid_worker,
                                                              shift_lead):
    clock(datetime(2026, 11, 25, 9, 0))
    case = walk(new_case(), "accepted")  # 4 working hours
    old = stale(case)  # not handled yet
    clock(datetime(2026, 11, 27, 10, 0))
    case = s.case_handle(case=case, actor=handler_hw, result="迟了")
    case = s.case_verify(case=case, actor=grid_worker, passed=True)
    assert case.handled_on_time is False
    case = s.case_close(case=old, actor=shift_lead)
    assert timeline_for(case).last().params["case_on_time"] is False


def test_escalation_on_a_stale_copy_goes_one_level_above_where_the_case_is(
    new_case, walk, community_staff, street_staff
):
    case = s.case_claim(case=walk(new_case(), "registered"), actor=community_staff)
    old = stale(case)  # still at the community
    s.case_escalate(case=case, actor=community_staff, reason="社区协调不了物业")
    case = s.case_escalate(case=old, actor=street_staff, reason="涉及区级执法")
    assert case.level == "district"
    params = timeline_for(case).last().params
    assert (params["from_level"], params["to_level"]) == ("street", "district")
