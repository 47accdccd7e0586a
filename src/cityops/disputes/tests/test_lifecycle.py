"""A hypothesis state machine over the dispute workflow (RULES.md §2) with the clock moving across the National Day
holiday of 2026 (1–7 October off, Saturday 10 October a make-up working day): any action by any person, with good or
bad input, at any time, is either refused with nothing written, or moves the dispute exactly as its transition says —
one timeline entry, the role allowed, every rule of the domain kept — and each timer runs in its own clock:
assignment in working time, mediation and the judicial-confirmation window in calendar days, an extension only with
every party's consent."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule, run_state_machine_as_test

from cityops.core import actions, calendar
from cityops.core.errors import CityopsError
from cityops.core.tests.budget import examples
from cityops.core.timeline import timeline_for
from cityops.core.workflow import actor_roles
from cityops.disputes import services
from cityops.disputes import workflow as dwf
from cityops.disputes.guards import confirmation_deadline
from cityops.disputes.models import Agreement, Dispute, Party, Signature
from cityops.disputes.tests import test_intake as intake

pytestmark = pytest.mark.django_db
geography, reference, world = intake.geography, intake.reference, intake.world

TZ = ZoneInfo("Asia/Shanghai")
WORKFLOW = Dispute.workflow
STARTS = [datetime(2026, 9, 30, 16, 0, tzinfo=TZ),  # the last working afternoon before National Day
          datetime(2026, 10, 3, 10, 0, tzinfo=TZ),  # in the middle of the holiday
          datetime(2026, 10, 9, 17, 0, tzinfo=TZ)]  # Friday evening before the make-up Saturday
USERS = ["staff", "mediator", "mediator2", "mediator_w", "police", "grid", "leader", "resident", "operator"]
PERSON_ACTIONS = sorted(t.action for t in actions.person_actions(WORKFLOW))
RISK = services.RISK_ORDER
# Ways out of the main path, taken less often by the steered rule so that the machine reaches the late states.
SIDE_EXITS = {"escalate", "refuse", "terminate", "breach", "enforce", "hand_over", "reject_confirmation"}


def _inputs(d: Dispute, action: str, data, w) -> tuple[dict, bool]:
    """An input for `action` on `d` — good or bad, drawn — and whether the domain's rules accept it."""
    parties = list(Party.objects.filter(dispute=d).order_by("pk").values_list("pk", flat=True))
    if action == "accept":
        return {"channel": "people", "committee_id": w["east"].pk}, True
    if action == "refuse":
        return {"party_id": data.draw(st.sampled_from(parties)), "reason": "不愿调解"}, True
    if action == "assign":
        who = data.draw(st.sampled_from(["mediator", "mediator2", "mediator_w"]))
        # Only a mediator of the committee the dispute is routed to (none yet after an escalation from 'registered').
        return {"mediator_id": w[who].pk}, who != "mediator_w" and d.committee_id is not None
    if action == "extend":
        agreeing = data.draw(st.lists(st.sampled_from(parties), unique=True))
        return ({"extra_days": data.draw(st.integers(1, 30)), "reason": "补充证据",
                 "consents": [{"party_id": p, "method": "written"} for p in agreeing]},
                set(agreeing) == set(parties))
    if action == "agree":
        terms = data.draw(st.sampled_from(["十日内赔偿 800 元", "五日内修复", "   "]))
        return {"facts": "漏水", "terms": terms, "performance_method": "转账"}, bool(terms.strip())
    if action == "request_confirmation":  # within 30 days of the agreement, signed by every party
        signed = set(Signature.objects.filter(agreement__dispute=d).values_list("party_id", flat=True))
        return {"court": "武昌区人民法院"}, timezone.now() <= confirmation_deadline(d) and signed == set(parties)
    if action == "follow_up":
        return {"result": "双方满意", "satisfied": True}, True
    if action == "terminate":
        reason = data.draw(st.sampled_from(["no_agreement", "other"]))
        detail = data.draw(st.sampled_from(["", "一方失联"]))
        return {"reason": reason, "detail": detail}, reason != "other" or bool(detail)
    if action == "refer":
        return {"routes": ["court", "arbitration"], "informed_how": "书面告知"}, True
    t = actions.find_action(Dispute, action)
    if t.input is not None and "reason" in t.input.model_fields:
        return {"reason": "原因"}, True
    return {}, True


def _close(a: datetime | None, b: datetime | None) -> bool:
    return a is not None and b is not None and abs((a - b).total_seconds()) < 1


def test_dispute_workflow_state_machine(world, monkeypatch):
    users = {name: world[name] for name in USERS}
    clock = [STARTS[0]]
    monkeypatch.setattr(timezone, "now", lambda: clock[0])
    reached: set[str] = set()

    class DisputeMachine(RuleBasedStateMachine):
        @initialize(start=st.sampled_from(STARTS))
        def register(self, start):
            clock[0] = start
            self.dispute = services.register_dispute(
                actor=world["staff"], source="walk_in", title="状态机", description="状态机纠纷", kind="neighbour",
                parties=intake.parties(), lon=intake.POINT_WUCHANG_A[0], lat=intake.POINT_WUCHANG_A[1])
            d = self.dispute
            # Assignment within 3 working days, in working time: the holiday does not count.
            expected = calendar.add_seconds(start, 3 * calendar.workday_seconds(), "work")
            assert d.deadline_at == expected and d.clock_mode == "work"
            assert calendar.is_workday(timezone.localtime(d.deadline_at).date())
            if start.date() <= date(2026, 10, 7):
                assert timezone.localtime(d.deadline_at).date() >= date(2026, 10, 8)
            self.risk = d.risk_level

        @rule(hours=st.sampled_from([1, 7, 24, 24 * 6, 24 * 29, 24 * 31]))
        def time_passes(self, hours):
            clock[0] = clock[0] + timedelta(hours=hours)

        @rule(data=st.data())
        def act_plausibly(self, data):
            """Steer towards deep states: an action the state allows, by a user of an allowed role."""
            d = Dispute.objects.get(pk=self.dispute.pk)
            names = [a for a in PERSON_ACTIONS if WORKFLOW.find(a, d.state)]
            if not names:
                return
            forward = [a for a in names if a not in SIDE_EXITS] or names
            action = data.draw(st.sampled_from(data.draw(st.sampled_from([forward, forward, forward, names]))))
            t = WORKFLOW.find(action, d.state)
            allowed = [n for n in USERS if actor_roles(users[n], d) & t.roles] or USERS
            self.act(action=action, who=data.draw(st.sampled_from(allowed)), data=data)

        @rule(data=st.data())
        def steer(self, data):  # the steered rule, taken more often than the others
            self.act_plausibly(data)

        @rule(data=st.data())
        def steer_again(self, data):
            self.act_plausibly(data)

        @rule(action=st.sampled_from(PERSON_ACTIONS), who=st.sampled_from(USERS), data=st.data())
        def act(self, action, who, data):
            user = users[who]
            before = Dispute.objects.get(pk=self.dispute.pk)
            entries = timeline_for(before).exclude(action="sign").count()
            agreement_before = Agreement.objects.filter(dispute=before).values_list("terms", "created_at").first()
            body, valid = _inputs(before, action, data, world)
            t = WORKFLOW.find(action, before.state)
            permitted = t is not None and bool(actor_roles(user, before) & t.roles)
            try:
                actions.run_action(before, action, user, body)
            except CityopsError:
                after = Dispute.objects.get(pk=before.pk)
                assert (after.state, after.version, after.deadline_at, after.risk_level, after.mediator_id) == (
                    before.state, before.version, before.deadline_at, before.risk_level, before.mediator_id)
                assert timeline_for(after).exclude(action="sign").count() == entries
                assert Agreement.objects.filter(dispute=before).values_list("terms", "created_at").first() == \
                    agreement_before
                assert not (permitted and valid), f"{who} {action} {body} refused in {before.state}"
                return
            after = Dispute.objects.get(pk=before.pk)
            assert permitted, f"{who} did {action} in {before.state}"
            assert valid, f"{action} accepted bad input {body}"
            assert after.state == t.target and after.version == before.version + 1
            assert timeline_for(after).exclude(action="sign").count() == entries + 1
            last = timeline_for(after).last()
            assert (last.action, last.from_state, last.to_state) == (action, before.state, after.state)
            now = clock[0]
            if action == "accept":  # the registration clock runs on (3 working days from registering)
                assert after.deadline_at == before.deadline_at and after.committee_id == world["east"].pk
                assert after.level == "community"
            if action == "assign":
                assert after.deadline_at == calendar.add_seconds(now, 3 * calendar.workday_seconds(), "work")
            if action in ("start", "remediate"):  # mediation: 30 calendar days, holidays included
                assert after.clock_mode == "calendar" and _close(after.deadline_at, now + timedelta(days=30))
            if action == "extend":
                # The days are added to the mediation limit (calendar days). Before the deadline it moves by them;
                # a clock already past its limit is due from now at the earliest, never in the past.
                days = body["extra_days"]
                assert after.clock_mode == "calendar" and after.clock_limit_s == before.clock_limit_s + days * 86400
                if before.deadline_at >= now:
                    assert _close(after.deadline_at, before.deadline_at + timedelta(days=days))
                else:
                    assert after.deadline_at >= now - timedelta(seconds=1)
            if action == "agree":
                assert Agreement.objects.get(dispute=after).terms == body["terms"].strip()
                assert _close(after.deadline_at, now + timedelta(days=dwf.CONFIRMATION_WINDOW_DAYS))
            if action == "escalate":
                assert after.risk_level == "high"
            self.dispute = after
            reached.add(after.state)

        @rule()
        def parties_sign(self):
            """The parties sign the agreement (the documents' signature record) while it is open for signing; this
            is no step of the workflow: the dispute's state and version stay."""
            from cityops.disputes.signatures import signature_record

            d = Dispute.objects.get(pk=self.dispute.pk)
            if d.state != "agreed" or d.mediator_id is None:
                return
            signed = set(Signature.objects.filter(agreement__dispute=d).values_list("party_id", flat=True))
            for party in d.parties.exclude(pk__in=signed):
                signature_record(dispute=d, actor=d.mediator, party_id=party.pk, method="tablet",
                                 data=intake.signature_png())
            after = Dispute.objects.get(pk=d.pk)
            assert (after.state, after.version) == (d.state, d.version)

        @rule(level=st.sampled_from(["low", "medium", "high"]), who=st.sampled_from(USERS))
        def raise_risk(self, level, who):
            before = Dispute.objects.get(pk=self.dispute.pk)
            may = bool(actor_roles(users[who], before) & services.RISK_ROLES)
            open_ = not WORKFLOW.states[before.state].terminal
            try:
                services.raise_risk(before, users[who], level, "风险变化")
            except CityopsError:
                after = Dispute.objects.get(pk=before.pk)
                assert (after.risk_level, after.version) == (before.risk_level, before.version)
                assert not (may and open_ and RISK[level] > RISK[before.risk_level])
                return
            after = Dispute.objects.get(pk=before.pk)
            assert may and open_ and RISK[level] > RISK[before.risk_level] and after.risk_level == level
            assert timeline_for(after).last().action == "raise_risk"

        @invariant()
        def risk_never_falls(self):
            current = Dispute.objects.get(pk=self.dispute.pk).risk_level
            assert RISK[current] >= RISK[self.risk]
            self.risk = current

        @invariant()
        def every_change_is_on_the_timeline(self):
            d = Dispute.objects.get(pk=self.dispute.pk)
            entries = list(timeline_for(d).exclude(action__in=("overdue", "remind", "notice", "sign")))
            assert entries[-1].to_state == d.state and entries[-1].version == d.version
            assert len(entries) - 1 == d.version
            for prev, nxt in zip(entries, entries[1:], strict=False):
                assert nxt.from_state == prev.to_state

        @invariant()
        def terminal_states_have_no_clock(self):
            d = Dispute.objects.get(pk=self.dispute.pk)
            if WORKFLOW.states[d.state].terminal:
                assert d.deadline_at is None

    # Generation only: shrinking replays every step against the database and outlasts the test's time limit on a
    # shared 2-core machine; a failure is reported with its full (unshrunk) sequence of steps.
    run_state_machine_as_test(
        DisputeMachine,
        settings=settings(max_examples=examples(6), stateful_step_count=40, deadline=None, phases=[Phase.generate], derandomize=True,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture]),
    )
    # The machine went deep: mediation, an agreement and beyond were reached.
    assert {"mediating", "agreed"} <= reached, reached
