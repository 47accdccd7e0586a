"""Evaluation is fair (RULES.md §1 "Attribution", "Rankings"; issue 12 §2): one hand-computed scenario per rule.
Dates in October/November 2026 (Fri 30 Oct, Mon 2 Nov …); office hours 08:30–12:00, 13:30–18:00."""

from datetime import date, datetime

import pytest
from django.test import Client

from cityops.cases import services as s
from cityops.cases.evaluation import (
    evaluate_departments,
    evaluate_dispatchers,
    evaluate_field_workers,
    evaluate_hotline,
    evaluate_regions,
    evaluate_shift_leads,
)
from cityops.cases.evaluation.common import _count_by_user_param
from cityops.cases.models import CaseTask
from cityops.cases.tests.conftest import POINT_WUCHANG_A, POINT_WUCHANG_B, TZ
from cityops.core import roles
from cityops.core.models import TimelineEntry
from cityops.core.workflow import sweep_overdue

pytestmark = pytest.mark.django_db
OCT = {"start": date(2026, 10, 1), "end": date(2026, 10, 31)}
NOV = {"start": date(2026, 11, 1), "end": date(2026, 11, 30)}


def at(month, day, hh, mm=0):
    return datetime(2026, month, day, hh, mm, tzinfo=TZ)


def report(actor, point=POINT_WUCHANG_A):
    return s.case_create(actor=actor, category="E0101", lon=point[0], lat=point[1], description="暴露垃圾").case


def departments(period) -> dict:
    return {r["department"]: r for r in evaluate_departments(**period)}


@pytest.fixture
def to_department(operator, dispatcher):
    """A field report registered and dispatched now (E0101: accept within 1 wh, handle within 4 wh)."""

    def send(reporter, department, **dispatch):
        case = s.case_register(case=report(reporter), actor=operator)
        return s.case_dispatch(case=case, actor=dispatcher, department=department, **dispatch)

    return send


# --- attribution: a lapse is charged to whoever held the case at its deadline -------------------------------
def test_an_overdue_acceptance_stays_with_the_department_that_let_it_lapse(
        reference, clock, to_department, grid_worker, dispatcher, handler_hw, handler_cg):
    clock(at(10, 30, 9))
    case = to_department(grid_worker, "HW")  # to be accepted by 10:00 (1 wh)
    sweep_overdue(now=at(10, 30, 11))  # not accepted at 11:00: overdue in HW's hands
    clock(at(11, 2, 9))
    case = s.case_return(case=case, actor=handler_hw, reason="不归我处")
    clock(at(11, 2, 9, 10))
    case = s.case_return_approve(case=case, actor=dispatcher)
    clock(at(11, 2, 9, 20))
    case = s.case_dispatch(case=case, actor=dispatcher, department="CG")
    clock(at(11, 2, 9, 30))
    s.case_accept(case=case, actor=handler_cg)

    # October: at its end the case was overdue and unaccepted in HW's hands — HW's, though CG holds it now.
    october = departments(OCT)
    assert set(october) == {"HW"}
    assert (october["HW"]["due"], october["HW"]["overdue_unhandled"], october["HW"]["overdue_rate"]) == (1, 1, 1.0)
    # November: HW returned it (the lapse ended there, its due item with it); CG accepted in time.
    november = departments(NOV)
    assert (november["HW"]["due"], november["HW"]["overdue_unhandled"]) == (0, 0)
    assert (november["CG"]["due"], november["CG"]["overdue_unhandled"]) == (1, 0)


# --- 超期待处置: overdue and still unhandled at the end of the period ----------------------------------------
def test_overdue_unhandled_is_what_is_still_late_at_the_end_of_the_period(
        reference, clock, to_department, grid_worker, handler_hw, handler_cg):
    # b2 → CG on Fri 30 Oct, accepted 08:40: due 14:10 (4 wh); swept overdue at 15:00; never handled.
    clock(at(10, 30, 8, 30))
    b2 = to_department(grid_worker, "CG")
    clock(at(10, 30, 8, 40))
    s.case_accept(case=b2, actor=handler_cg)
    sweep_overdue(now=at(10, 30, 15))
    # b1 → HW on Tue 3 Nov, accepted 08:40: due 14:10; swept overdue at 15:00; handled (late) Thu 5 Nov.
    clock(at(11, 3, 8, 30))
    b1 = to_department(grid_worker, "HW")
    clock(at(11, 3, 8, 40))
    b1 = s.case_accept(case=b1, actor=handler_hw)
    sweep_overdue(now=at(11, 3, 15))
    clock(at(11, 5, 9))
    s.case_handle(case=b1, actor=handler_hw, result="已清理")

    first_days = departments({"start": date(2026, 11, 1), "end": date(2026, 11, 4)})
    assert first_days["HW"]["overdue_unhandled"] == 1  # unhandled at the end of 4 Nov
    assert first_days["CG"]["overdue_unhandled"] == 1  # overdue since October, still unhandled
    november = departments(NOV)
    assert november["HW"]["overdue_unhandled"] == 0  # handled on 5 Nov — late, which 按期处置率 shows:
    assert (november["HW"]["handled"], november["HW"]["handled_on_time"], november["HW"]["on_time_rate"]) == (1, 0, 0.0)
    assert november["CG"]["overdue_unhandled"] == 1
    assert departments(OCT)["CG"]["overdue_unhandled"] == 1


# --- rankings list only holders of the role --------------------------------------------------------------
def test_rankings_list_only_holders_of_the_role(
        reference, operator, shift_lead, dispatcher, grid_worker, resident, make_user):
    former = make_user("t_former_dispatcher", roles.DISPATCHER, first_name="调岗派遣员")
    public = s.case_register(case=report(resident), actor=operator)  # registered by an operator
    s.case_dispatch(case=public, actor=former, department="HW")
    former.groups.clear()  # moved to another post: no longer a dispatcher
    field = s.case_register(case=report(grid_worker), actor=shift_lead)
    s.case_dispatch(case=field, actor=dispatcher, department="HW")

    shift_leads = {r["user_id"]: r for r in evaluate_shift_leads(start=date(2000, 1, 1), end=date(2100, 1, 1))}
    assert set(shift_leads) == {shift_lead.pk} and shift_leads[shift_lead.pk]["registered"] == 1
    workers = {r["user_id"] for r in evaluate_field_workers(start=date(2000, 1, 1), end=date(2100, 1, 1))}
    assert grid_worker.pk in workers and resident.pk not in workers and operator.pk not in workers
    dispatchers = {r["user_id"] for r in evaluate_dispatchers(start=date(2000, 1, 1), end=date(2100, 1, 1))}
    assert dispatchers == {dispatcher.pk}


# --- no phantom user from a JSON null ----------------------------------------------------------------------
def test_a_json_null_is_no_one(reference, operator, shift_lead):
    voided = s.case_void_request(case=report(operator), actor=operator, reason="无效")  # never registered
    s.case_void_decide(case=voided, actor=shift_lead, approve=True)  # params.registered_by is null
    s.case_register(case=report(operator), actor=operator)  # an operator's intake: params.reporter_id is null
    entries = TimelineEntry.objects.filter(subject_type="cases.case")
    assert entries.filter(action="void_approve", params__registered_by=None).count() == 1
    # On SQLite a JSON null read as text is 'null', which a cast to integer made user 0.
    assert _count_by_user_param(entries.filter(action="void_approve"), "registered_by") == {}
    assert _count_by_user_param(entries.filter(action="register"), "reporter_id") == {}
    everyone = {"start": date(2000, 1, 1), "end": date(2100, 1, 1)}
    for evaluate in (evaluate_shift_leads, evaluate_dispatchers, evaluate_field_workers):
        rows = evaluate(**everyone)
        assert 0 not in {r["user_id"] for r in rows} and "0" not in {r["name"] for r in rows}
    (lead,) = evaluate_shift_leads(**everyone)
    assert (lead["user_id"], lead["voided"]) == (shift_lead.pk, 0)


# --- merged reports are supervision reports of the kept case -----------------------------------------------
def test_merged_reports_count_as_supervision_reports_of_the_kept_case(reference, operator, grid_worker, resident):
    kept = s.case_register(case=report(grid_worker), actor=operator)  # grid A, a field report
    from_resident = report(resident)  # the public reports the same (portal)
    from_worker = report(grid_worker)  # and the worker again
    registered_twice = s.case_register(case=report(resident, POINT_WUCHANG_B), actor=operator)  # grid B, registered
    for duplicate in (from_resident, from_worker, registered_twice):
        s.case_merge(case=duplicate, actor=operator, into=kept)

    everyone = {"start": date(2000, 1, 1), "end": date(2100, 1, 1)}
    grids = {r["region"]: r for r in evaluate_regions(**everyone, level="grid")}
    grid_a = grids["42010600100101"]
    # registered: kept; public: the resident's merged report; merged: both reports never registered on their own.
    assert (grid_a["registered"], grid_a["public_reports"], grid_a["merged_reports"]) == (1, 1, 2)
    assert grid_a["public_report_rate"] == 1.0
    # The registered duplicate counted at its own registration, in its own grid — not a second time.
    grid_b = grids["42010600100201"]
    assert (grid_b["registered"], grid_b["public_reports"], grid_b["merged_reports"]) == (1, 1, 0)
    (district,) = evaluate_regions(**everyone, level="district")
    assert (district["registered"], district["public_reports"], district["merged_reports"]) == (2, 2, 2)
    # The worker's second report was a real problem already known: a valid report, not a wasted one.
    worker = next(r for r in evaluate_field_workers(**everyone) if r["user_id"] == grid_worker.pk)
    assert (worker["reports"], worker["valid_reports"], worker["valid_rate"]) == (2, 2, 1.0)


# --- a sub-task (协办) is due from its assisting department ---------------------------------------------------
def test_a_sub_task_counts_for_its_assisting_department(reference, clock, to_department, grid_worker, dispatcher,
                                                        handler_cg):
    clock(at(11, 2, 9))
    cases = [to_department(grid_worker, "HW", assisting=["CG"], task_limit_hours=2) for _ in range(3)]
    first, second, third = (CaseTask.objects.get(case=c) for c in cases)  # CG's part, due by 11:00
    clock(at(11, 2, 10))
    s.task_done(task=first, actor=handler_cg, result="已配合清运")  # in time
    clock(at(11, 2, 14, 30))
    s.task_done(task=second, actor=handler_cg, result="已配合清运")  # late
    s.task_release(task=third, actor=dispatcher, reason="无需协办")  # released: not due

    rows = departments(NOV)
    cg = rows["CG"]
    assert (cg["due"], cg["tasks_due"], cg["cases_due"]) == (2, 2, 0)
    assert (cg["handled"], cg["handled_on_time"], cg["handle_rate"], cg["on_time_rate"]) == (2, 1, 1.0, 0.5)
    # Rates over the cases CG led have nothing to count: 30×1 + 20×0.5 + 20 + 20 + 10 = 90 — two items though:
    assert cg["close_rate"] is None and cg["score"] == 90.0
    assert (cg["grade"], cg["rank"], cg["sample_ok"]) == ("", None, False)
    assert (rows["HW"]["due"], rows["HW"]["tasks_due"]) == (3, 0)


# --- fewer than 5 due items: 样本不足, no grade, no rank --------------------------------------------------------
def test_fewer_than_five_due_items_get_no_grade_and_no_rank(
        reference, clock, to_department, grid_worker, handler_hw, community_staff, operator, leader, settings):
    clock(at(11, 2, 9))
    for _ in range(5):
        case = s.case_accept(case=to_department(grid_worker, "HW"), actor=handler_hw)
        s.case_handle(case=case, actor=handler_hw, result="已清理")
    # The community committee takes one case at its own level and handles it in time.
    local = s.case_claim(case=s.case_register(case=report(grid_worker), actor=operator), actor=community_staff)
    s.case_handle(case=local, actor=community_staff, result="社区已处理")

    hw, committee = evaluate_departments(**NOV)  # departments first, then the streets and communities
    assert (hw["department"], hw["due"], hw["score"], hw["grade"], hw["rank"]) == ("HW", 5, 100.0, "A", 1)
    assert (committee["name"], committee["unit_kind"], committee["due"], committee["score"]) == (
        "东社区", "community", 1, 100.0)
    assert (committee["grade"], committee["rank"], committee["sample_ok"]) == ("", None, False)
    page = _client(leader).get("/cases/evaluation/", {"kind": "departments", "from": "2026-11-01", "to": "2026-11-30"})
    assert "样本不足" in page.content.decode()

    # The minimum is configurable; a community is ranked among communities, not against the departments.
    settings.CITYOPS_CASE_EVAL_MIN_DUE = 1
    hw, committee = evaluate_departments(**NOV)
    assert (hw["rank"], hw["grade"], committee["rank"], committee["grade"]) == (1, "A", 1, "A")


# --- the 12345 tab names departments -----------------------------------------------------------------------
def test_the_hotline_tab_shows_department_names(reference, operator, dispatcher, leader):
    case = s.case_register(case=report(operator), actor=operator)  # an operator's intake: a hotline work order
    s.case_dispatch(case=case, actor=dispatcher, department="HW")
    (row,) = evaluate_hotline(start=date(2000, 1, 1), end=date(2100, 1, 1))
    assert (row["department"], row["name"], row["dispatched"]) == ("HW", "环境卫生管理处", 1)
    page = _client(leader).get("/cases/evaluation/", {"kind": "hotline", "from": "2000-01-01", "to": "2100-01-01"})
    cells = page.content.decode().split('id="evaluation-table"')[1]
    assert "<td>环境卫生管理处</td>" in cells and "<td>HW</td>" not in cells
    english = _client(leader).get("/cases/evaluation/", {"kind": "hotline", "from": "2000-01-01", "to": "2100-01-01"},
                                  HTTP_ACCEPT_LANGUAGE="en")
    assert "<td>Sanitation Department</td>" in english.content.decode()


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_people_by_their_display_name(reference, make_user):
    # The display name as on timelines (first_name holds the whole Chinese name); the login only without one.
    named = make_user("disp_li", roles.DISPATCHER, first_name="李派遣", last_name="李")
    nameless = make_user("disp_noname", roles.DISPATCHER)
    names = {r["user_id"]: r["name"] for r in evaluate_dispatchers(start=date(2026, 11, 1), end=date(2026, 11, 30))}
    assert names == {named.pk: "李派遣", nameless.pk: "disp_noname"}
