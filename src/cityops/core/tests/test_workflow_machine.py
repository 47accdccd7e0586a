"""Property-based proof of the engine (issue: foundation). Random sequences of actions by random roles,
some fired twice at once from two threads, against the sample ticket workflow. Invariants:
- no sequence bypasses a guard or a role (the model of allowed moves predicts every outcome);
- every state change leaves exactly one timeline entry, and the chain verifies;
- a concurrent double request applies once.
"""

import threading

import pytest
from django.db import close_old_connections, connection
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

from cityops.core.audit import audit_verify
from cityops.core.errors import CityopsError
from cityops.core.tests.budget import examples
from cityops.core.tests.sample.models import TICKET_WORKFLOW, Ticket
from cityops.core.timeline import timeline_for
from cityops.core.workflow import create_with_timeline, transition

ACTIONS = sorted(TICKET_WORKFLOW.actions)
ROLES = ["dispatcher", "dept_handler", "shift_lead", "resident", "system"]


def bump_extensions(t):
    t.extensions += 1
    return ["extensions"]


class TicketMachine(RuleBasedStateMachine):
    users: dict = {}

    def __init__(self):
        super().__init__()
        self.ticket = create_with_timeline(Ticket(title="t"), actor=self.users["dispatcher"])
        self.state = "new"
        self.extensions = 0
        self.changes = 1  # the creation entry

    def expected(self, action, role, params):
        """The oracle: what the workflow table says must happen, written independently of the engine."""
        t = TICKET_WORKFLOW.find(action, self.state)
        if t is None:
            return "illegal_transition"
        if role not in t.roles:
            return "role_not_allowed"
        if action == "finish" and not params.get("result", "").strip():
            return "result_required"
        if action == "extend" and self.extensions >= 1:
            return "extension_limit"
        return t.target

    def act(self, action, role, params):
        actor = None if role == "system" else self.users[role]
        apply = bump_extensions if action == "extend" else None
        try:
            obj = transition(self.ticket, action, actor, params=params, apply=apply)
            return obj.state
        except CityopsError as exc:
            return exc.code

    def record_success(self, action, outcome):
        if outcome in TICKET_WORKFLOW.states:
            self.state = outcome
            self.changes += 1
            if action == "extend":
                self.extensions += 1

    @rule(action=st.sampled_from(ACTIONS), role=st.sampled_from(ROLES), result=st.sampled_from(["", " ", "已处理"]))
    def one_request(self, action, role, result):
        params = {"result": result, "extra_hours": 4}
        want = self.expected(action, role, params)
        got = self.act(action, role, params)
        assert got == want, f"{action} by {role} in {self.state}: expected {want}, got {got}"
        self.record_success(action, got)

    @rule(action=st.sampled_from(ACTIONS))
    def two_identical_requests_at_once(self, action):
        """Two clerks click the same button at the same moment: the step must apply once at most."""
        role = next((r for r in ROLES if (t := TICKET_WORKFLOW.find(action, self.state)) and r in t.roles), "dispatcher")
        params = {"result": "已处理", "extra_hours": 4}
        want = self.expected(action, role, params)
        outcomes = []
        barrier = threading.Barrier(2)

        def worker():
            try:
                barrier.wait()
                outcomes.append(self.act(action, role, params))
            finally:
                close_old_connections()
                connection.close()

        threads = [threading.Thread(target=worker) for _ in range(2)]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        successes = [o for o in outcomes if o in TICKET_WORKFLOW.states]
        if want in TICKET_WORKFLOW.states:
            # Every transition of this workflow either leaves its source state or is limited to once
            # (extend), so of two identical requests exactly one may apply.
            assert len(successes) == 1, outcomes
            self.record_success(action, want)
        else:
            assert successes == [], outcomes

    @invariant()
    def database_matches_the_model(self):
        stored = Ticket.objects.get(pk=self.ticket.pk)
        assert stored.state == self.state
        assert stored.extensions == self.extensions
        assert stored.version == self.changes - 1
        entries = list(timeline_for(stored).values_list("to_state", flat=True))
        assert len(entries) == self.changes, "every state change leaves exactly one timeline entry"
        assert entries[-1] == self.state

    def teardown(self):
        checked, problems = audit_verify(subject_type="sample.ticket")
        assert problems == []


@pytest.mark.django_db(transaction=True)
@pytest.mark.slow
def test_no_sequence_of_actions_breaks_the_engine(make_user):
    TicketMachine.users = {
        "dispatcher": make_user("m_dispatcher", "dispatcher"),
        "dept_handler": make_user("m_handler", "dept_handler"),
        "shift_lead": make_user("m_shiftlead", "shift_lead"),
        "resident": make_user("m_resident", "resident"),
    }
    run_state_machine_as_test(
        TicketMachine,
        settings=settings(
            max_examples=examples(15),
            stateful_step_count=25,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
        ),
    )
