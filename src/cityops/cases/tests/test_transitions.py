"""Every transition of RULES.md §1 and its refusals, through the services."""

from datetime import datetime

import pytest

from cityops.cases import services as s
from cityops.cases.models import CaseTask
from cityops.cases.tests.conftest import POINT_JIANGAN
from cityops.core import calendar
from cityops.core.errors import CityopsError, Forbidden, IllegalTransition, InvalidInput
from cityops.core.models import Notification
from cityops.core.timeline import timeline_for
from cityops.core.workflow import sweep_overdue

pytestmark = pytest.mark.django_db


def actions(case):
    return list(timeline_for(case).values_list("action", flat=True))


def test_happy_path_to_archive_with_a_timeline_entry_per_step(new_case, walk, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        case = walk(new_case(), "archived")
    assert actions(case) == ["report", "register", "dispatch", "accept", "handle", "verify", "close", "follow_up"]
    assert case.satisfaction is True and case.deadline_at is None
    entries = {e.action: e.params for e in timeline_for(case)}
    assert entries["dispatch"]["dept"] == "HW" and entries["handle"]["dept"] == "HW"
    assert entries["handle"]["on_time"] is True and entries["close"]["case_on_time"] is True
    assert Notification.objects.filter(kind="case_dispatched").exists()


def test_register_is_for_intake_only(new_case, dispatcher, handler_hw):
    case = new_case()
    for user in (dispatcher, handler_hw):
        with pytest.raises(Forbidden):
            s.case_register(case=case, actor=user)


def test_ask_check_then_field_check(new_case, operator, grid_worker, grid_worker_b):
    case = s.case_ask_check(case=new_case(), actor=operator)
    assert case.state == "checking"
    with pytest.raises(Forbidden) as e:
        s.case_check(case=case, actor=grid_worker_b, found=True)
    assert e.value.code == "not_your_region"
    case = s.case_check(case=case, actor=grid_worker, found=True, note="属实")
    assert case.state == "reported" and timeline_for(case).last().params["found"] is True


def test_void_needs_reason_and_shift_lead_approval(new_case, operator, shift_lead):
    case = new_case()
    with pytest.raises(InvalidInput):
        s.case_void_request(case=case, actor=operator, reason=" ")
    case = s.case_void_request(case=case, actor=operator, reason="重复来电")
    with pytest.raises(Forbidden):
        s.case_void_decide(case=case, actor=operator, approve=True)
    case = s.case_void_decide(case=case, actor=shift_lead, approve=True)
    assert case.state == "voided"
    with pytest.raises(IllegalTransition):
        s.case_register(case=case, actor=operator)


def test_void_rejected_means_registered(new_case, operator, shift_lead):
    case = s.case_void_request(case=new_case(), actor=operator, reason="疑似无效")
    assert s.case_void_decide(case=case, actor=shift_lead, approve=False).state == "registered"


def test_only_the_lead_department_accepts(new_case, walk, handler_cg, handler_hw):
    case = walk(new_case(), "dispatched")
    with pytest.raises(Forbidden) as e:
        s.case_accept(case=case, actor=handler_cg)
    assert e.value.code == "not_your_department"
    assert s.case_accept(case=case, actor=handler_hw).state == "accepted"


def test_return_with_reason_limit_and_redispatch(new_case, walk, handler_hw, handler_cg, dispatcher):
    case = walk(new_case(), "dispatched")
    with pytest.raises(InvalidInput):
        s.case_return(case=case, actor=handler_hw, reason="")
    case = s.case_return(case=case, actor=handler_hw, reason="不属于本部门")
    assert (case.state, case.returns) == ("returned", 1)
    assert timeline_for(case).last().params["dispatched_by"] == dispatcher.pk
    case = s.case_dispatch(case=case, actor=dispatcher, department="HW")
    with pytest.raises(CityopsError) as e:
        s.case_return(case=case, actor=handler_hw, reason="again")
    assert e.value.code == "return_limit"
    assert s.case_accept(case=case, actor=handler_hw).state == "accepted"


def test_return_approved_goes_back_to_registered(new_case, walk, handler_hw, dispatcher, handler_cg):
    case = s.case_return(case=walk(new_case(), "dispatched"), actor=handler_hw, reason="应由城管处理")
    case = s.case_return_approve(case=case, actor=dispatcher)
    assert case.state == "registered" and case.lead_department is None
    case = s.case_dispatch(case=case, actor=dispatcher, department="CG")
    assert s.case_accept(case=case, actor=handler_cg).state == "accepted"


def test_extension_once_moves_the_deadline(new_case, walk, handler_hw, dispatcher, clock):
    clock(datetime(2026, 11, 25, 9, 0))
    case = walk(new_case(), "accepted")
    before = case.deadline_at
    case = s.case_extend_request(case=case, actor=handler_hw, extra_hours=8, reason="等待材料")
    assert case.state == "extension_requested" and case.deadline_at == before  # clock keeps running
    with pytest.raises(Forbidden):
        s.case_extend_decide(case=case, actor=handler_hw, approve=True)
    case = s.case_extend_decide(case=case, actor=dispatcher, approve=True)
    assert (case.state, case.extensions) == ("accepted", 1)
    assert case.deadline_at == calendar.add_work_seconds(before, 8 * 3600)
    with pytest.raises(CityopsError) as e:
        s.case_extend_request(case=case, actor=handler_hw, extra_hours=4, reason="再延")
    assert e.value.code == "extension_limit"


def test_extension_rejected_keeps_the_deadline(new_case, walk, handler_hw, dispatcher):
    case = walk(new_case(), "accepted")
    before = case.deadline_at
    case = s.case_extend_request(case=case, actor=handler_hw, extra_hours=8, reason="x")
    case = s.case_extend_decide(case=case, actor=dispatcher, approve=False)
    assert (case.state, case.extensions, case.deadline_at) == ("accepted", 0, before)


def test_invalid_extra_hours(new_case, walk, handler_hw):
    case = walk(new_case(), "accepted")
    with pytest.raises(InvalidInput) as e:
        s.case_extend_request(case=case, actor=handler_hw, extra_hours=0, reason="x")
    assert e.value.code == "invalid_extra_hours"


def test_suspension_stops_the_clock(new_case, walk, handler_hw, dispatcher, clock):
    clock(datetime(2026, 11, 25, 9, 0))  # Wednesday
    case = walk(new_case(), "accepted")  # E0101: 4 wh → 13:30+... deadline
    clock(datetime(2026, 11, 25, 10, 0))
    case = s.case_suspend_request(case=case, actor=handler_hw, reason="等待产权单位")
    case = s.case_suspend_decide(case=case, actor=dispatcher, approve=True)
    assert case.state == "suspended" and case.deadline_at is None and case.clock_used_s == 3600
    clock(datetime(2026, 12, 7, 9, 0))  # Monday, days later
    assert sweep_overdue(now=datetime(2026, 12, 7, 9, 0, tzinfo=case.state_changed_at.tzinfo)) == {}
    case = s.case_resume(case=case, actor=dispatcher)
    assert case.state == "accepted"
    assert case.deadline_at == calendar.add_work_seconds(case.clock_started_at, 3 * 3600)


def test_suspension_rejected(new_case, walk, handler_hw, dispatcher):
    case = s.case_suspend_request(case=walk(new_case(), "accepted"), actor=handler_hw, reason="x")
    assert s.case_suspend_decide(case=case, actor=dispatcher, approve=False).state == "accepted"


def test_handle_needs_result_and_department(new_case, walk, handler_hw, handler_cg):
    case = walk(new_case(), "accepted")
    with pytest.raises(InvalidInput):
        s.case_handle(case=case, actor=handler_hw, result=" ")
    with pytest.raises(Forbidden):
        s.case_handle(case=case, actor=handler_cg, result="ok")


def test_joint_handling_needs_every_subtask_settled(new_case, walk, reference, dispatcher, handler_hw, handler_cg, make_user):
    make_user("t_dept_yl", "dept_handler", org_units=["YL"])
    case = walk(new_case(), "registered")
    case = s.case_dispatch(case=case, actor=dispatcher, department="HW", assisting=["CG", "YL"])
    tasks = {t.department.code: t for t in case.tasks.select_related("department")}
    assert set(tasks) == {"CG", "YL"} and all(t.state == "open" and t.deadline_at for t in tasks.values())
    case = s.case_accept(case=case, actor=handler_hw)
    with pytest.raises(CityopsError) as e:
        s.case_handle(case=case, actor=handler_hw, result="ok")
    assert e.value.code == "tasks_open"
    with pytest.raises(Forbidden):
        s.task_done(task=tasks["CG"], actor=handler_hw, result="x")
    assert s.task_done(task=tasks["CG"], actor=handler_cg, result="已拆除").state == "done"
    with pytest.raises(Forbidden):
        s.task_release(task=tasks["YL"], actor=handler_cg, reason="x")
    assert s.task_release(task=tasks["YL"], actor=handler_hw, reason="无需园林").state == "released"
    assert s.case_handle(case=case, actor=handler_hw, result="ok").state == "handled"
    assert list(timeline_for(tasks["CG"]).values_list("action", flat=True)) == ["task_open", "task_done"]


def test_consultation_decisions_become_subtasks(new_case, walk, handler_hw, dispatcher, handler_cg):
    case = walk(new_case(), "accepted")
    meeting = s.consultation_record(
        case=case, actor=dispatcher, meeting_at=datetime(2026, 11, 26, 10, 0, tzinfo=case.created_at.tzinfo),
        topic="占道垃圾站迁移", participants=["HW", "CG"],
        decisions=[{"department": "CG", "text": "清理占道", "limit_hours": 16}],
    )
    task = CaseTask.objects.get(consultation=meeting)
    assert task.department.code == "CG" and task.clock_limit_s == 16 * 3600
    assert timeline_for(case).last().action == "consult"
    with pytest.raises(Forbidden):
        s.consultation_record(case=case, actor=handler_cg, meeting_at=meeting.meeting_at, topic="x",
                              participants=["CG"], decisions=[])


def test_verify_fail_is_rework_back_to_the_department(new_case, walk, grid_worker, grid_worker_b, handler_hw):
    case = walk(new_case(), "handled")
    with pytest.raises(Forbidden):
        s.case_verify(case=case, actor=grid_worker_b, passed=True)
    with pytest.raises(InvalidInput):
        s.case_verify(case=case, actor=grid_worker, passed=False, note="")
    case = s.case_verify(case=case, actor=grid_worker, passed=False, note="仍有垃圾")
    assert (case.state, case.reworks) == ("accepted", 1) and case.deadline_at is not None
    case = s.case_handle(case=case, actor=handler_hw, result="再次清理")
    assert case.state == "handled"


def test_close_is_for_the_shift_lead(new_case, walk, operator, shift_lead):
    case = walk(new_case(), "verified")
    with pytest.raises(Forbidden):
        s.case_close(case=case, actor=operator)
    case = s.case_close(case=case, actor=shift_lead)
    assert case.state == "closed" and case.clock_limit_s == 2 * calendar.workday_seconds()


def test_unsatisfied_follow_up_reopens(new_case, walk, operator, handler_hw):
    case = walk(new_case(), "closed")
    with pytest.raises(InvalidInput):
        s.case_follow_up(case=case, actor=operator, satisfied=False, note="")
    case = s.case_follow_up(case=case, actor=operator, satisfied=False, note="还是脏")
    assert (case.state, case.reworks, case.satisfaction) == ("accepted", 1, False)


def test_self_handle_needs_the_reporter_and_a_photo(reference, grid_worker, make_user, operator, shift_lead):
    from cityops.cases.services import case_create
    from cityops.cases.tests.test_photos import jpeg_bytes

    case = case_create(actor=grid_worker, category="E0201", lon=114.31, lat=30.55, description="小广告").case
    assert case.source == "field" and case.reporter == grid_worker
    other = make_user("t_gw2", "grid_worker", region_codes=["420106"])
    with pytest.raises(Forbidden):
        s.case_self_handle(case=case, actor=other, result="x")
    with pytest.raises(CityopsError) as e:
        s.case_self_handle(case=case, actor=grid_worker, result="已清除")
    assert e.value.code == "photo_required"
    s.case_photo_add(case=case, actor=grid_worker, data=jpeg_bytes())
    case = s.case_self_handle(case=case, actor=grid_worker, result="已清除")
    assert case.state == "verified" and case.self_handled
    assert s.case_close(case=case, actor=shift_lead).state == "closed"


def test_tiered_handling_claim_escalate(new_case, walk, community_staff, street_staff, dispatcher, make_user):
    case = walk(new_case(), "registered")
    outsider = make_user("t_comm_b", "region_staff", org_units=["420106001002"], region_codes=["420106001002"])
    with pytest.raises(Forbidden):
        s.case_claim(case=case, actor=outsider)
    case = s.case_claim(case=case, actor=community_staff)
    assert (case.state, case.level, case.lead_department.code) == ("accepted", "community", "420106001001")
    with pytest.raises(InvalidInput):
        s.case_escalate(case=case, actor=community_staff, reason="")
    case = s.case_escalate(case=case, actor=community_staff, reason="需要街道协调")
    assert (case.state, case.level, case.lead_department) == ("registered", "street", None)
    with pytest.raises(CityopsError):
        s.case_claim(case=case, actor=community_staff)  # above community level now
    case = s.case_claim(case=case, actor=street_staff)
    assert case.level == "street"
    case = s.case_escalate(case=case, actor=street_staff, reason="需要区级执法")
    assert (case.state, case.level) == ("registered", "district")
    with pytest.raises(CityopsError) as e:
        s.case_claim(case=case, actor=street_staff)
    assert e.value.code == "level_escalated"
    # It waits for the district's command centre now, not the city's (issue 12 §3; test_levels.py goes on).
    with pytest.raises(CityopsError) as e:
        s.case_dispatch(case=case, actor=dispatcher, department="CG")
    assert e.value.code == "not_your_level"


def test_community_resolves_at_its_level(new_case, walk, community_staff, grid_worker, shift_lead):
    case = s.case_claim(case=walk(new_case(), "registered"), actor=community_staff)
    case = s.case_handle(case=case, actor=community_staff, result="社区组织清理")
    assert timeline_for(case).last().params["level"] == "community"
    case = s.case_verify(case=case, actor=grid_worker, passed=True)
    assert s.case_close(case=case, actor=shift_lead).state == "closed"


def test_merge_links_informs_and_counts(new_case, operator, resident, django_capture_on_commit_callbacks):
    from cityops.cases.services import case_create

    kept = case_create(actor=resident, category="E0101", lon=114.31, lat=30.55, description="垃圾").case
    dup = case_create(actor=resident, category="E0101", lon=114.3101, lat=30.55, description="又是垃圾").case
    with pytest.raises(Forbidden):
        s.case_merge(case=dup, actor=resident, into=kept)
    with pytest.raises(InvalidInput):
        s.case_merge(case=dup, actor=operator, into=dup)
    with django_capture_on_commit_callbacks(execute=True):
        dup = s.case_merge(case=dup, actor=operator, into=kept)
    kept.refresh_from_db()
    assert dup.state == "merged" and dup.duplicate_of == kept and kept.merged_reports == 1
    assert timeline_for(kept).last().action == "merge_in"
    assert Notification.objects.filter(kind="case_merged", recipient=resident).exists()


def test_handling_limits_urgent_and_hotline(reference, operator):
    from cityops.cases.services import case_create
    from cityops.cases.workflow import handle_limit_hours

    p = {"lon": 114.31, "lat": 30.55, "description": "x"}
    assert handle_limit_hours(case_create(actor=operator, category="E0304", **p).case) == 40
    assert handle_limit_hours(case_create(actor=operator, category="E0304", urgency="urgent", **p).case) == 2
    assert handle_limit_hours(case_create(actor=operator, category="E0503", **p).case) == 1  # gas leak: 1 wh
    c = case_create(actor=operator, category="E0606", source="hotline", hotline_kind="complaint", **p).case
    assert handle_limit_hours(c) == 15 * 8
    c = case_create(actor=operator, category="E0606", source="hotline", hotline_kind="consultation", **p).case
    assert handle_limit_hours(c) == 3 * 8


def test_overdue_sweep_marks_reminds_and_notifies(new_case, walk, clock, handler_hw, django_capture_on_commit_callbacks):
    clock(datetime(2026, 11, 25, 9, 0))
    case = walk(new_case(), "accepted")  # 4 wh
    with django_capture_on_commit_callbacks(execute=True):
        counts = sweep_overdue(now=datetime(2026, 11, 27, 9, 0, tzinfo=case.deadline_at.tzinfo))
    assert counts == {"overdue": 1, "remind": 1}
    case.refresh_from_db()
    assert case.overdue and case.traffic_light(datetime(2026, 11, 27, 9, 0, tzinfo=case.deadline_at.tzinfo)) == "red"
    assert Notification.objects.filter(recipient=handler_hw, kind="case_remind").exists()
    clock(datetime(2026, 11, 27, 10, 0))
    case = s.case_handle(case=case, actor=handler_hw, result="迟了")
    assert timeline_for(case).last().params["on_time"] is False and case.handled_on_time is False


def test_stale_and_terminal_refusals(new_case, walk, operator):
    case = walk(new_case(), "archived")
    for fn, kw in ((s.case_register, {}), (s.case_close, {}), (s.case_accept, {})):
        with pytest.raises((IllegalTransition, Forbidden)):
            fn(case=case, actor=operator, **kw)


def test_redispatch_releases_old_subtasks(new_case, walk, dispatcher, handler_hw):
    case = walk(new_case(), "registered")
    case = s.case_dispatch(case=case, actor=dispatcher, department="HW", assisting=["CG"])
    case = s.case_return(case=case, actor=handler_hw, reason="应由城管主办")
    case = s.case_dispatch(case=case, actor=dispatcher, department="CG", assisting=["HW"])
    assert sorted(case.tasks.values_list("department__code", "state")) == [("CG", "released"), ("HW", "open")]


def test_cross_district_case_is_invisible_to_other_grid_worker(new_case, grid_worker):
    case = new_case(point=POINT_JIANGAN)
    from cityops.cases.selectors import case_list

    assert case not in case_list(user=grid_worker)


def test_hotline_work_order_is_returned_within_two_working_days(new_case, walk, handler_hw, clock):
    clock(datetime(2026, 11, 23, 9, 0))  # Monday
    early = walk(new_case(source="hotline", hotline_kind="complaint"), "dispatched")
    late = walk(new_case(source="hotline", hotline_kind="complaint"), "dispatched")
    field = walk(new_case(source="field"), "dispatched")
    clock(datetime(2026, 11, 25, 8, 45))  # Wednesday: 1 wd + 15 min since dispatch
    assert s.case_return(case=early, actor=handler_hw, reason="不属于本部门").state == "returned"
    clock(datetime(2026, 11, 26, 9, 30))  # Thursday: more than 2 wd
    with pytest.raises(CityopsError) as e:
        s.case_return(case=late, actor=handler_hw, reason="不属于本部门")
    assert e.value.code == "return_window_passed"
    # Field reports have no such window.
    assert s.case_return(case=field, actor=handler_hw, reason="不属于本部门").state == "returned"


def test_self_handling_only_inside_the_workers_own_grid(reference, grid_worker, operator):
    """Issue 10 §4: a grid worker reported outside its grid and self-handled it straight to `verified`. Reporting
    there stays allowed (anyone may report what they see); handling it on the spot does not."""
    from cityops.cases.services import case_create
    from cityops.cases.tests.test_photos import jpeg_bytes

    case = case_create(actor=grid_worker, category="E0201", lon=POINT_JIANGAN[0], lat=POINT_JIANGAN[1],
                       description="小广告").case
    assert case.state == "reported" and case.reporter == grid_worker  # the report itself is fine
    s.case_photo_add(case=case, actor=grid_worker, data=jpeg_bytes())
    with pytest.raises(Forbidden) as e:
        s.case_self_handle(case=case, actor=grid_worker, result="已清除")
    assert e.value.code == "outside_own_grid" and e.value.message_en
    case.refresh_from_db()
    assert case.state == "reported" and not case.self_handled
    assert s.case_register(case=case, actor=operator).state == "registered"  # it goes the normal way
