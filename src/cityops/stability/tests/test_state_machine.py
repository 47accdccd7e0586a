"""Hypothesis state machine over the stability workflow, on a clock that crosses holidays (中秋/国庆 2026, 春节
2026): any action by anyone at any time either is refused with the code an independent oracle predicts — and
leaves no trace — or moves the decision with exactly one timeline entry. The oracle counts the legality review's
working time with core.calendar.work_seconds_between (the guard adds working days with add_workdays), and the
comment period in calendar days."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule, run_state_machine_as_test

from cityops.core import calendar
from cityops.core.actions import run_action
from cityops.core.audit import audit_verify
from cityops.core.errors import CityopsError
from cityops.core.tests.budget import examples
from cityops.core.timeline import timeline_for
from cityops.core.workflow import sweep_overdue
from cityops.stability import services
from cityops.stability import workflow as flow
from cityops.stability.models import Decision
from cityops.stability.tests.conftest import ASSESSING, PROPOSING, STREET

TZ = ZoneInfo("Asia/Shanghai")
STARTS = [datetime(2026, 9, 21, 9, 0, tzinfo=TZ), datetime(2026, 9, 24, 15, 30, tzinfo=TZ),
          datetime(2026, 2, 9, 10, 0, tzinfo=TZ), datetime(2026, 1, 5, 8, 30, tzinfo=TZ)]
PEOPLE = ["assessor", "proposer", "decider", "other_staff", "resident", "leader", "admin_user"]
# The per-object roles each person holds on the decision (proposing unit ST-ZSB, assessing unit ST-WPB).
HOLDS = {"assessor": {flow.ASSESSOR}, "proposer": {flow.PROPOSER}, "decider": {flow.PROPOSER, flow.DECIDER},
         "admin_user": {"admin"}}
ESCALATION_ACTIONS = {"overdue", "remind", "notice"}
ACTIONS = sorted(flow.DECISION_WORKFLOW.actions)


class Clock:
    now = STARTS[0]


def params_for(action, draw, *, plausible=False):
    """The input of `action`; `plausible` input is mostly acceptable (a steering towards the deep states)."""
    texts = ["有内容"] if plausible else ["有内容", ""]
    days = [30, 31, 45] if plausible else [10, 29, 30, 45]
    return {
        "scope": {"scope": draw(st.sampled_from(texts))},
        "open_consultation": {"ends_on": timezone.localdate() + timedelta(days=draw(st.sampled_from(days)))},
        "assess": {"level": draw(st.sampled_from(list(flow.LEVELS))), "summary": "评估结论"},
        "decide": {"outcome": draw(st.sampled_from(list(flow.OUTCOMES))), "note": ""},
        "post_evaluate": {"summary": draw(st.sampled_from(texts))},
        "withdraw": {"reason": draw(st.sampled_from(texts))},
    }.get(action, {"note": ""})


@pytest.mark.django_db
@pytest.mark.slow
def test_stability_workflow_state_machine(request, area_regions, units, monkeypatch):
    users = {name: request.getfixturevalue(name) for name in PEOPLE}
    reached: set[str] = set()
    monkeypatch.setattr(timezone, "now", lambda: Clock.now)

    class DecisionMachine(RuleBasedStateMachine):
        @initialize(start=st.sampled_from(STARTS))
        def begin(self, start):
            Clock.now = start
            self.decision = services.decision_create(
                actor=users["proposer"], title="片区改造", description="征收", proposing_unit=PROPOSING,
                assessing_unit=ASSESSING, region_code=STREET)
            self.state, self.changes = "proposed", 1
            self.risks, self.unmitigated = 0, 0  # medium/high risks without a mitigation
            self.level = self.outcome = ""
            self.ends_on = None
            self.review_started = None

        # --- the oracle -----------------------------------------------------------------------------------
        def expected(self, action, who, params):
            t = flow.DECISION_WORKFLOW.find(action, self.state)
            if t is None:
                return "illegal_transition"
            if not HOLDS.get(who, set()) & t.roles:
                return "role_not_allowed"
            now = Clock.now
            if action == "scope" and not params["scope"].strip():
                return "scope_required"
            if action in ("identify_risks", "open_consultation") and not self.risks:
                return "no_risks"
            if action == "open_consultation" and params["ends_on"] < timezone.localdate(now) + timedelta(days=30):
                return "comment_period_too_short"
            if action == "assess":
                last_day_over = datetime.combine(self.ends_on + timedelta(days=1), datetime.min.time(), TZ)
                if now < last_day_over:
                    return "too_early"
            if action == "decide":
                if calendar.work_seconds_between(self.review_started, now) < 7 * calendar.workday_seconds():
                    return "too_early"
                outcome = params["outcome"]
                if self.level == "high" and outcome != "do_not_implement":
                    return "high_risk_not_implemented"
                if self.level == "medium" and outcome == "implement":
                    return "medium_risk_needs_measures"
                if self.level == "medium" and outcome in ("revise", "implement_with_measures") and self.unmitigated:
                    return "mitigation_required"
            if action == "start_monitoring" and self.outcome not in ("implement", "implement_with_measures"):
                return "not_implemented"
            if action == "close" and self.outcome in ("implement", "implement_with_measures"):
                return "implemented"
            if action == "post_evaluate" and not params["summary"].strip():
                return "summary_required"
            if action == "withdraw" and not params["reason"].strip():
                return "reason_required"
            return t.target

        # --- rules ----------------------------------------------------------------------------------------
        @rule(hours=st.sampled_from([1, 8, 24, 72, 24 * 7, 24 * 16, 24 * 31]))
        def time_passes(self, hours):
            Clock.now += timedelta(hours=hours)

        def check(self, action, who, params):
            want = self.expected(action, who, params)
            try:
                got = run_action(Decision.objects.get(pk=self.decision.pk), action, users[who], params).state
            except CityopsError as exc:
                got = exc.code
            assert got == want, f"{action} by {who} in {self.state} at {Clock.now}: expected {want}, got {got}"
            if want in flow.DECISION_WORKFLOW.states:
                self.changes += 1
                if action == "open_consultation":
                    self.ends_on = params["ends_on"]
                if action == "assess":
                    self.level = params["level"]
                if action == "submit_review":
                    self.review_started = Clock.now
                if action == "decide":
                    self.outcome = params["outcome"]
                self.state = want
                reached.add(want)

        @rule(minutes=st.sampled_from([-1, 0, 1, 60 * 24 * 3]))
        def time_passes_to_the_floor(self, minutes):
            """Close to the end of the floor of the current state (the comment period's last day, the review's
            7th working day): a minute before, at it, or after."""
            if self.state == "consultation":
                floor = datetime.combine(self.ends_on + timedelta(days=1), datetime.min.time(), TZ)
            elif self.state == "legality_review":
                floor = calendar.add_workdays(self.review_started, 7)
            else:
                return
            Clock.now = max(Clock.now, floor + timedelta(minutes=minutes))

        @rule(action=st.sampled_from(ACTIONS), who=st.sampled_from(PEOPLE), data=st.data())
        def anyone_tries_anything(self, action, who, data):
            self.check(action, who, params_for(action, data.draw))

        @rule(data=st.data())
        def the_right_person_takes_a_next_step(self, data):
            """Steers towards the deep states: a step the state allows (withdrawal aside), by someone whose role
            allows it, with plausible input, often once the floor of the state has passed — the guards (time,
            level, register) still decide."""
            if data.draw(st.booleans()):
                self.time_passes_to_the_floor(1)
            possible = [a for a in ACTIONS if a != "withdraw" and flow.DECISION_WORKFLOW.find(a, self.state)]
            if not possible:
                return
            action = data.draw(st.sampled_from(possible))
            roles = flow.DECISION_WORKFLOW.find(action, self.state).roles
            who = data.draw(st.sampled_from([p for p in PEOPLE if HOLDS.get(p, set()) & roles]))
            self.check(action, who, params_for(action, data.draw, plausible=True))

        @rule(likelihood=st.integers(1, 5), impact=st.integers(1, 5), mitigated=st.booleans())
        def assessor_adds_a_risk(self, likelihood, impact, mitigated):
            try:
                services.risk_add(decision=self.decision, actor=users["assessor"], dimension="controllability",
                                  description="群众聚集上访", likelihood=likelihood, impact=impact,
                                  mitigation="一户一策" if mitigated else "")
            except CityopsError as exc:
                assert self.state not in services.RISK_ADD_STATES and exc.code == "illegal_state"
                return
            self.risks += 1
            self.unmitigated += likelihood * impact >= 9 and not mitigated

        @rule()
        def assessor_mitigates_every_risk(self):
            decision = Decision.objects.get(pk=self.decision.pk)
            for risk in decision.risks.filter(mitigation=""):
                try:
                    services.risk_update(risk=risk, actor=users["assessor"], mitigation="落实化解措施")
                except CityopsError as exc:
                    assert self.state not in services.RISK_UPDATE_STATES and exc.code == "illegal_state"
                    return
            self.unmitigated = 0

        @rule()
        def the_sweep_runs(self):
            sweep_overdue(now=Clock.now)
            stored = Decision.objects.get(pk=self.decision.pk)
            late = stored.deadline_at is not None and stored.deadline_at < Clock.now
            assert stored.overdue == late

        # --- invariants -----------------------------------------------------------------------------------
        @invariant()
        def the_database_agrees(self):
            stored = Decision.objects.get(pk=self.decision.pk)
            assert stored.state == self.state
            steps = timeline_for(stored).exclude(action__in=ESCALATION_ACTIONS | {
                "risk_add", "risk_update", "comment", "comment_moderate", "visit", "hearing"})
            assert steps.count() == self.changes, "each state change leaves exactly one timeline entry"
            if stored.state == "consultation":
                assert stored.deadline_at == flow.consultation_end(stored.consultation_ends_on)
            if stored.outcome:
                assert stored.outcome in flow.ALLOWED_OUTCOMES[stored.level]

    # No shrinking: the examples share one database (the sweep reads every decision), so a shrunk replay is not the
    # run that failed; the failing sequence is printed as it happened. Derandomized: the same sequences every run
    # (on SQLite and PostgreSQL alike), and the deep states they reach are asserted below.
    run_state_machine_as_test(DecisionMachine, settings=settings(
        max_examples=examples(30), stateful_step_count=50, deadline=None, derandomize=True, phases=[Phase.explicit, Phase.reuse, Phase.generate],
        suppress_health_check=list(HealthCheck)))
    assert {"consultation", "assessed", "legality_review", "decided"} <= reached, reached
    assert audit_verify(subject_type="stability.decision")[1] == []
