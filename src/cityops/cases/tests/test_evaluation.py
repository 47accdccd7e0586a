"""Evaluation formulas on a hand-computed scenario (RULES.md §1 Evaluation). Wednesday 25 Nov 2026."""

from datetime import date, datetime

import pytest

from cityops.cases import services as s
from cityops.cases.evaluation import (
    evaluate_departments,
    evaluate_dispatchers,
    evaluate_field_workers,
    evaluate_regions,
    evaluate_shift_leads,
    grade,
)
from cityops.cases.tests.conftest import POINT_WUCHANG_A, POINT_WUCHANG_B, TZ
from cityops.core.workflow import sweep_overdue

pytestmark = pytest.mark.django_db
NOV = {"start": date(2026, 11, 1), "end": date(2026, 11, 30)}


@pytest.fixture(autouse=True)
def _grade_small_samples(settings):
    # The formulas on a few cases: every unit and person with at least one due item gets a grade and a rank
    # (the 样本不足 rule has its own scenario in test_evaluation_rules.py).
    settings.CITYOPS_CASE_EVAL_MIN_DUE = 1


def at(day, hh, mm=0):
    return datetime(2026, 11, day, hh, mm, tzinfo=TZ)


@pytest.fixture
def scenario(reference, clock, operator, shift_lead, dispatcher, handler_hw, handler_cg, grid_worker):
    def new(point=POINT_WUCHANG_A, actor=operator):
        return s.case_create(actor=actor, category="E0101", lon=point[0], lat=point[1], description="x").case

    clock(at(25, 9))
    c1, c2, c3, c4, c5 = (s.case_register(case=new(), actor=operator) for _ in range(5))
    c1, c2, c3 = (s.case_dispatch(case=c, actor=dispatcher, department="HW") for c in (c1, c2, c3))
    c6 = new(point=POINT_WUCHANG_B, actor=grid_worker)  # a field report
    clock(at(25, 9, 1))
    s.case_register(case=c6, actor=operator)
    clock(at(25, 9, 5))
    c5 = s.case_void_request(case=c5, actor=operator, reason="无效")
    clock(at(25, 9, 6))
    s.case_void_decide(case=c5, actor=shift_lead, approve=True)
    # c3: HW returns it, the dispatcher agrees and sends it to CG, which handles it on time.
    clock(at(25, 9, 10))
    c1, c2 = (s.case_accept(case=c, actor=handler_hw) for c in (c1, c2))
    c3 = s.case_return(case=c3, actor=handler_hw, reason="应由城管处理")
    clock(at(25, 9, 15))
    c3 = s.case_return_approve(case=c3, actor=dispatcher)
    clock(at(25, 9, 20))
    c3 = s.case_dispatch(case=c3, actor=dispatcher, department="CG")
    clock(at(25, 9, 30))
    c3 = s.case_accept(case=c3, actor=handler_cg)
    clock(at(25, 10))
    s.case_handle(case=c3, actor=handler_cg, result="ok")
    # c1: handled, verified and closed on time.
    c1 = s.case_handle(case=c1, actor=handler_hw, result="ok")
    # c4: dispatched late (registration 09:00 + 0.5 wh), extended once, then overdue.
    c4 = s.case_dispatch(case=c4, actor=dispatcher, department="HW")
    clock(at(25, 10, 10))
    c1 = s.case_verify(case=c1, actor=grid_worker, passed=True)
    c4 = s.case_accept(case=c4, actor=handler_hw)
    clock(at(25, 10, 20))
    s.case_close(case=c1, actor=shift_lead)
    c4 = s.case_extend_request(case=c4, actor=handler_hw, extra_hours=4, reason="材料")
    clock(at(25, 10, 30))
    s.case_extend_decide(case=c4, actor=dispatcher, approve=True)
    # c2: handled late (4 wh from 09:10 Wed = 14:40 Wed), reworked, handled again on time, closed.
    clock(at(26, 10))
    c2 = s.case_handle(case=c2, actor=handler_hw, result="late")
    clock(at(26, 10, 10))
    c2 = s.case_verify(case=c2, actor=grid_worker, passed=False, note="没清干净")
    clock(at(26, 10, 30))
    c2 = s.case_handle(case=c2, actor=handler_hw, result="ok")
    clock(at(26, 10, 40))
    c2 = s.case_verify(case=c2, actor=grid_worker, passed=True)
    clock(at(26, 10, 50))
    s.case_close(case=c2, actor=shift_lead)
    sweep_overdue(now=at(27, 9))  # c4 is overdue while accepted
    return locals()


def test_department_scores(scenario):
    rows = {r["department"]: r for r in evaluate_departments(**NOV)}
    hw = rows["HW"]
    # assigned c1 c2 c3 c4, c3 returned → due 3; handled c1 c2 (c2 late once); closed c1 c2; 1 rework;
    # c4 overdue unhandled; c4 extended.
    assert (hw["assigned"], hw["returned"], hw["due"], hw["tasks_due"]) == (4, 1, 3, 0)
    assert (hw["handled"], hw["handled_on_time"], hw["closed"]) == (2, 1, 2)
    assert (hw["reworked"], hw["overdue_unhandled"], hw["extended"]) == (1, 1, 1)
    assert hw["handle_rate"] == 0.6667 and hw["on_time_rate"] == 0.3333
    # 2/3×30 + 1/3×20 + (1−1/3)×20 + (1−1/3)×20 + (1−1/3)×10 = 20 + 6.67 + 13.33 + 13.33 + 6.67 = 60
    assert hw["score"] == 60.0 and hw["grade"] == "C"
    cg = rows["CG"]
    assert (cg["due"], cg["handled"], cg["handled_on_time"], cg["closed"]) == (1, 1, 1, 0)
    assert cg["score"] == 100.0 and cg["grade"] == "A" and cg["rank"] == 1
    assert (hw["rank"], hw["name"], hw["unit_kind"]) == (2, "环境卫生管理处", "department")


def test_dispatcher_scores(scenario, dispatcher):
    (row,) = evaluate_dispatchers(**NOV)
    # 5 dispatches (c1 c2 c3→HW, c3→CG, c4 late), 1 returned: 20×1 + 40×4/5 + 40×4/5 = 84
    assert (row["user_id"], row["dispatched"], row["dispatched_on_time"], row["returned"]) == (dispatcher.pk, 5, 4, 1)
    assert row["score"] == 84.0 and row["grade"] == "B"


def test_shift_lead_scores(scenario, operator, shift_lead):
    rows = {r["user_id"]: r for r in evaluate_shift_leads(**NOV)}
    # The operator registered the 6 cases: an operator is no shift lead, and is not ranked as one.
    assert operator.pk not in rows
    lead = rows[shift_lead.pk]
    # no registrations (nothing late, nothing voided) and 2 closes on time: 25×1 + 40×1 + 35×2/2 = 100
    assert (lead["registered"], lead["voided"], lead["closed"], lead["closed_on_time"]) == (0, 0, 2, 2)
    assert (lead["score"], lead["grade"], lead["rank"]) == (100.0, "A", 1)


def test_field_worker_scores(scenario, grid_worker):
    row = next(r for r in evaluate_field_workers(**NOV) if r["user_id"] == grid_worker.pk)
    # 1 report, registered; 3 verifications on time; 5 of 6 registered cases in 420106 came from the public.
    # 40×1 + 20×1 + 20×1 + 20×(1 − 5/6) = 83.33
    assert (row["reports"], row["valid_reports"], row["verifications"], row["verifications_on_time"]) == (1, 1, 3, 3)
    assert (row["registered_in_regions"], row["public_in_regions"]) == (6, 5)
    assert row["score"] == 83.33 and row["grade"] == "B"


def test_region_indicators(scenario):
    (row,) = evaluate_regions(**NOV, level="district")
    assert (row["region"], row["registered"], row["public_reports"], row["closed"], row["closed_on_time"]) == (
        "420106", 6, 5, 2, 2)
    assert row["public_report_rate"] == 0.8333 and row["close_rate"] == 0.3333
    grids = {r["region"]: r["registered"] for r in evaluate_regions(**NOV, level="grid")}
    assert grids == {"42010600100101": 5, "42010600100201": 1}


def test_hotline_indicators(scenario):
    from cityops.cases.evaluation import evaluate_hotline

    rows = {r["department"]: r for r in evaluate_hotline(**NOV)}
    hw = rows["HW"]  # c1–c5 are hotline cases (operator intake); c6 is a field report
    assert (hw["dispatched"], hw["returned"], hw["accepted"], hw["handled"], hw["handled_late"], hw["redone"]) == (
        4, 1, 3, 2, 1, 1)
    assert hw["return_rate"] == 0.25 and hw["on_time_rate"] == 0.5 and hw["redo_rate"] == 0.5


def test_a_later_period_counts_only_what_is_still_overdue(scenario):
    # December: nothing happened, but c4 is still overdue and unhandled at its end — still HW's, nothing else.
    (hw,) = evaluate_departments(start=date(2026, 12, 1), end=date(2026, 12, 31))
    assert (hw["department"], hw["due"], hw["overdue_unhandled"], hw["score"], hw["rank"]) == ("HW", 0, 1, None, None)
    assert evaluate_dispatchers(start=date(2026, 12, 1), end=date(2026, 12, 31))[0]["dispatched"] == 0


def test_grades():
    assert [grade(x) for x in (90, 89.99, 75, 60, 40, 39.9, None)] == ["A", "B", "B", "C", "D", "E", ""]
