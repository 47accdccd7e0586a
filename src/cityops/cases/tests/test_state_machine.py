"""Hypothesis state machine over the case workflow: any sequence of any action by any user either is
refused without a trace, or moves the case with exactly one timeline entry — and no guard is bypassed."""

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

from cityops.cases import services as s
from cityops.cases.models import Case
from cityops.cases.tests.conftest import POINT_WUCHANG_A
from cityops.cases.workflow import CASE_WORKFLOW
from cityops.core.errors import CityopsError
from cityops.core.tests.budget import examples
from cityops.core.timeline import timeline_for

pytestmark = pytest.mark.django_db

ACTIONS = {
    "register": lambda c, u: s.case_register(case=c, actor=u),
    "ask_check": lambda c, u: s.case_ask_check(case=c, actor=u),
    "check": lambda c, u: s.case_check(case=c, actor=u, found=True),
    "void_request": lambda c, u: s.case_void_request(case=c, actor=u, reason="无效"),
    "void_approve": lambda c, u: s.case_void_decide(case=c, actor=u, approve=True),
    "void_reject": lambda c, u: s.case_void_decide(case=c, actor=u, approve=False),
    "dispatch_hw": lambda c, u: s.case_dispatch(case=c, actor=u, department="HW"),
    "dispatch_joint": lambda c, u: s.case_dispatch(case=c, actor=u, department="HW", assisting=["CG"]),
    "dispatch_cg": lambda c, u: s.case_dispatch(case=c, actor=u, department="CG"),
    "accept": lambda c, u: s.case_accept(case=c, actor=u),
    "return": lambda c, u: s.case_return(case=c, actor=u, reason="错派"),
    "return_approve": lambda c, u: s.case_return_approve(case=c, actor=u),
    "extend_request": lambda c, u: s.case_extend_request(case=c, actor=u, extra_hours=4, reason="材料"),
    "extend_approve": lambda c, u: s.case_extend_decide(case=c, actor=u, approve=True),
    "extend_reject": lambda c, u: s.case_extend_decide(case=c, actor=u, approve=False),
    "suspend_request": lambda c, u: s.case_suspend_request(case=c, actor=u, reason="等待"),
    "suspend_approve": lambda c, u: s.case_suspend_decide(case=c, actor=u, approve=True),
    "suspend_reject": lambda c, u: s.case_suspend_decide(case=c, actor=u, approve=False),
    "resume": lambda c, u: s.case_resume(case=c, actor=u),
    "handle": lambda c, u: s.case_handle(case=c, actor=u, result="完成"),
    "task_done": lambda c, u: [s.task_done(task=t, actor=u, result="ok") for t in c.tasks.filter(state="open")],
    "task_release": lambda c, u: [s.task_release(task=t, actor=u, reason="免") for t in c.tasks.filter(state="open")],
    "verify": lambda c, u: s.case_verify(case=c, actor=u, passed=True),
    "rework": lambda c, u: s.case_verify(case=c, actor=u, passed=False, note="未完成"),
    "close": lambda c, u: s.case_close(case=c, actor=u),
    "follow_up": lambda c, u: s.case_follow_up(case=c, actor=u, satisfied=True),
    "reopen": lambda c, u: s.case_follow_up(case=c, actor=u, satisfied=False, note="不满意"),
    "claim": lambda c, u: s.case_claim(case=c, actor=u),
    "escalate": lambda c, u: s.case_escalate(case=c, actor=u, reason="解决不了"),
}
USERS = ["operator", "shift_lead", "dispatcher", "handler_hw", "handler_cg", "grid_worker", "grid_worker_b",
         "resident", "community_staff", "street_staff"]


WF_ACTION = {"dispatch_hw": "dispatch", "dispatch_joint": "dispatch", "dispatch_cg": "dispatch"}


def test_case_workflow_state_machine(request, reference, operator):
    users = {name: request.getfixturevalue(name) for name in USERS}
    reached: set[str] = set()

    class CaseMachine(RuleBasedStateMachine):
        def __init__(self):
            super().__init__()
            self.case = s.case_create(actor=operator, category="E0101", lon=POINT_WUCHANG_A[0],
                                      lat=POINT_WUCHANG_A[1], description="sm").case
            self.entries = 1

        @rule(data=st.data())
        def act_plausible(self, data):
            """Steer towards deep states: an action the current state allows, by a user of an allowed role
            (guards — department, region, tasks, limits — still decide)."""
            state = Case.objects.get(pk=self.case.pk).state
            names = [k for k in sorted(ACTIONS) if CASE_WORKFLOW.find(WF_ACTION.get(k, k), state)]
            if state == "accepted":
                names += ["task_done", "task_release"]
            if not names:
                return
            action = data.draw(st.sampled_from(names))
            t = CASE_WORKFLOW.find(WF_ACTION.get(action, action), state)
            allowed = [n for n in USERS if t is None or users[n].role_codes & t.roles] or USERS
            self.act(action, data.draw(st.sampled_from(allowed)))

        @rule(action=st.sampled_from(sorted(ACTIONS)), who=st.sampled_from(USERS))
        def act(self, action, who):
            user = users[who]
            before = Case.objects.get(pk=self.case.pk)
            open_tasks_before = before.tasks.filter(state="open").count()
            try:
                ACTIONS[action](before, user)
            except CityopsError:
                after = Case.objects.get(pk=self.case.pk)
                assert (after.state, after.version) == (before.state, before.version)
                assert timeline_for(after).count() == self.entries
                return
            after = Case.objects.get(pk=self.case.pk)
            self.entries = timeline_for(after).count()
            if after.version == before.version:
                return  # a sub-task action: the case itself did not move
            t = CASE_WORKFLOW.find(timeline_for(after).last().action, before.state)
            assert t is not None and t.target == after.state
            assert user.role_codes & t.roles, f"{who} did {action}"
            if t.action in ("accept", "return", "handle", "extend_request", "suspend_request"):
                assert before.lead_department_id in user.org_unit_ids
            if t.action in ("verify", "rework", "check"):
                assert any(after.region_code.startswith(c) for c in user.region_codes)
            if t.action == "handle":
                assert open_tasks_before == 0
            self.case = after
            reached.add(after.state)

        @invariant()
        def every_state_change_is_recorded(self):
            case = Case.objects.get(pk=self.case.pk)
            entries = list(timeline_for(case).exclude(action__in=("overdue", "remind", "notice", "photo_add", "merge_in", "consult")))
            assert entries[-1].to_state == case.state
            assert sum(1 for e in entries if e.action != "report") == case.version
            for prev, nxt in zip(entries, entries[1:], strict=False):
                assert nxt.from_state == prev.to_state

        @invariant()
        def counters_match_the_timeline(self):
            case = Case.objects.get(pk=self.case.pk)
            actions = list(timeline_for(case).values_list("action", flat=True))
            assert case.returns == actions.count("return")
            assert case.extensions == actions.count("extend_approve")
            assert case.reworks == actions.count("rework") + actions.count("reopen")
            assert case.suspensions == actions.count("suspend_approve")
            assert case.escalations == actions.count("escalate")

        @invariant()
        def clock_matches_the_state(self):
            case = Case.objects.get(pk=self.case.pk)
            state = CASE_WORKFLOW.states[case.state]
            if state.terminal:
                assert case.deadline_at is None
            if case.state == "suspended":
                assert case.clock_paused_at is not None and case.deadline_at is None
            if case.state in ("reported", "registered", "dispatched", "accepted", "handled", "verified", "closed"):
                assert case.deadline_at is not None

    run_state_machine_as_test(
        CaseMachine,
        settings=settings(max_examples=examples(15), stateful_step_count=50, deadline=None, derandomize=True, database=None,
                          suppress_health_check=list(HealthCheck)),
    )
    assert {"registered", "dispatched", "accepted", "handled", "verified", "closed"} <= reached, reached
