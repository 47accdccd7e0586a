from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from cityops.core import calendar
from cityops.core.errors import CityopsError, Forbidden, IllegalTransition
from cityops.core.models import TimelineEntry
from cityops.core.tests.sample.models import Ticket
from cityops.core.timeline import timeline_for
from cityops.core.workflow import create_with_timeline, sweep_overdue, transition

pytestmark = pytest.mark.django_db
TZ = ZoneInfo("Asia/Shanghai")


def freeze(monkeypatch, when):
    monkeypatch.setattr(timezone, "now", lambda: when)


@pytest.fixture
def ticket(operator):
    return create_with_timeline(Ticket(title="井盖缺失"), actor=operator)


def test_create_starts_the_initial_clock_and_records_birth(ticket, operator):
    assert ticket.state == "new"
    assert ticket.deadline_at is not None and ticket.clock_limit_s == 1800
    entry = timeline_for(ticket).get()
    assert (entry.action, entry.to_state, entry.actor_id) == ("create", "new", operator.pk)


def test_transition_changes_state_clock_and_timeline(ticket, dispatcher):
    t = transition(ticket, "open", dispatcher, note="派给环卫")
    assert t.state == "open" and t.version == 1
    assert t.clock_limit_s == 8 * 3600
    entry = timeline_for(t).last()
    assert (entry.action, entry.from_state, entry.to_state, entry.note) == ("open", "new", "open", "派给环卫")
    assert entry.params["deadline_at"] == t.deadline_at.isoformat()


def test_role_not_allowed_is_forbidden_and_changes_nothing(ticket, handler_hw):
    with pytest.raises(Forbidden) as exc:
        transition(ticket, "open", handler_hw)
    assert exc.value.status == 403 and exc.value.code == "role_not_allowed"
    ticket.refresh_from_db()
    assert ticket.state == "new" and timeline_for(ticket).count() == 1


def test_illegal_transition_is_409(ticket, handler_hw):
    with pytest.raises(IllegalTransition) as exc:
        transition(ticket, "finish", handler_hw, params={"result": "x"})
    assert exc.value.status == 409 and exc.value.code == "illegal_transition"


def test_unknown_action(ticket, dispatcher):
    with pytest.raises(IllegalTransition) as exc:
        transition(ticket, "teleport", dispatcher)
    assert exc.value.code == "unknown_action"


def test_guard_refusal_leaves_no_trace(ticket, dispatcher, handler_hw):
    transition(ticket, "open", dispatcher)
    with pytest.raises(CityopsError) as exc:
        transition(ticket, "finish", handler_hw, params={"result": "  "})
    assert exc.value.code == "result_required"
    ticket.refresh_from_db()
    assert ticket.state == "open" and timeline_for(ticket).count() == 2


def test_apply_writes_domain_fields_in_the_same_step(ticket, dispatcher, handler_hw):
    transition(ticket, "open", dispatcher)

    def write_result(t):
        t.result = "已清理"
        return ["result"]

    t = transition(ticket, "finish", handler_hw, params={"result": "已清理"}, apply=write_result)
    t.refresh_from_db()
    assert (t.state, t.result) == ("done", "已清理")


def test_failure_inside_apply_rolls_back_everything(ticket, dispatcher):
    def boom(t):
        t.title = "changed"
        raise ValueError("disk full")

    with pytest.raises(ValueError):
        transition(ticket, "open", dispatcher, apply=boom)
    ticket.refresh_from_db()
    assert (ticket.state, ticket.title, ticket.version) == ("new", "井盖缺失", 0)
    assert timeline_for(ticket).count() == 1


def test_stale_version_is_refused(ticket, dispatcher):
    transition(ticket, "open", dispatcher)
    with pytest.raises(IllegalTransition) as exc:
        transition(ticket, "extend", dispatcher, params={"extra_hours": 8}, expected_version=0)
    assert exc.value.code == "stale_version"


def test_working_time_deadline_and_pause_resume(monkeypatch, ticket, dispatcher, handler_hw):
    t0 = datetime(2026, 11, 25, 9, 0, tzinfo=TZ)  # Wednesday
    freeze(monkeypatch, t0)
    t = transition(ticket, "open", dispatcher)
    # 8 working hours from 09:00: 09:00-12:00 (3) + 13:30-18:00 (4.5) = 7.5, then 0.5 h Thursday → 09:00 Thu.
    assert t.deadline_at == datetime(2026, 11, 26, 9, 0, tzinfo=TZ)

    freeze(monkeypatch, datetime(2026, 11, 25, 11, 0, tzinfo=TZ))  # 2 working hours used
    t = transition(t, "pause", handler_hw)
    assert t.clock_used_s == 2 * 3600 and t.deadline_at is None

    freeze(monkeypatch, datetime(2026, 11, 30, 14, 0, tzinfo=TZ))  # Monday: suspended days do not count
    t = transition(t, "resume", dispatcher)
    assert t.deadline_at == calendar.add_work_seconds(datetime(2026, 11, 30, 14, 0, tzinfo=TZ), 6 * 3600)
    assert t.traffic_light(datetime(2026, 11, 30, 14, 0, tzinfo=TZ)) == "green"


def test_extension_moves_the_deadline_once(monkeypatch, ticket, dispatcher):
    freeze(monkeypatch, datetime(2026, 11, 25, 9, 0, tzinfo=TZ))
    t = transition(ticket, "open", dispatcher)
    before = t.deadline_at
    t = transition(t, "extend", dispatcher, params={"extra_hours": 8})
    t.extensions = 1
    t.save(update_fields=["extensions"])
    assert t.deadline_at == calendar.add_work_seconds(before, 8 * 3600)
    with pytest.raises(CityopsError) as exc:
        transition(t, "extend", dispatcher, params={"extra_hours": 8})
    assert exc.value.code == "extension_limit"


def test_traffic_light_thresholds(monkeypatch, ticket, dispatcher):
    t0 = datetime(2026, 11, 25, 8, 30, tzinfo=TZ)
    freeze(monkeypatch, t0)
    t = transition(ticket, "open", dispatcher)  # 8 wh: ends 18:00 the same day
    assert t.traffic_light(t0 + timedelta(hours=3)) == "green"  # 3/8
    assert t.traffic_light(datetime(2026, 11, 25, 16, 0, tzinfo=TZ)) == "green"  # 3.5 + 2.5 = 6/8 = 75 %
    assert t.traffic_light(datetime(2026, 11, 25, 16, 30, tzinfo=TZ)) == "yellow"  # 3.5 + 3 = 6.5/8 = 81 %
    assert t.traffic_light(datetime(2026, 11, 25, 18, 0, tzinfo=TZ)) == "yellow"  # exactly 100 %
    assert t.traffic_light(datetime(2026, 11, 26, 9, 0, tzinfo=TZ)) == "red"


def test_sweep_marks_overdue_then_reminds_then_notices_once_each(monkeypatch, ticket, dispatcher):
    freeze(monkeypatch, datetime(2026, 11, 25, 9, 0, tzinfo=TZ))
    t = transition(ticket, "open", dispatcher)  # deadline Thu 26 Nov 09:00

    assert sweep_overdue(now=datetime(2026, 11, 26, 8, 59, tzinfo=TZ)) == {}
    assert sweep_overdue(now=datetime(2026, 11, 26, 10, 0, tzinfo=TZ)) == {"overdue": 1}
    assert sweep_overdue(now=datetime(2026, 11, 26, 11, 0, tzinfo=TZ)) == {}  # recorded once
    # Reminder at the start of the next working day (Fri 27 Nov 08:30).
    assert sweep_overdue(now=datetime(2026, 11, 27, 8, 31, tzinfo=TZ)) == {"remind": 1}
    # Notice after 5 more working days: Fri 27, Mon 30, Tue 1, Wed 2, Thu 3 Dec → Thu 3 Dec 18:00.
    assert sweep_overdue(now=datetime(2026, 12, 3, 17, 59, tzinfo=TZ)) == {}
    assert sweep_overdue(now=datetime(2026, 12, 3, 18, 1, tzinfo=TZ)) == {"notice": 1}
    t.refresh_from_db()
    assert t.overdue and t.escalation_level == 3
    actions = list(timeline_for(t).values_list("action", flat=True))
    assert actions == ["create", "open", "overdue", "remind", "notice"]
    assert TimelineEntry.objects.filter(action="overdue").get().actor_name == "system:sweep"


def test_sweep_ignores_paused_and_terminal_items(monkeypatch, ticket, dispatcher, handler_hw):
    freeze(monkeypatch, datetime(2026, 11, 25, 9, 0, tzinfo=TZ))
    t = transition(ticket, "open", dispatcher)
    transition(t, "pause", handler_hw)
    assert sweep_overdue(now=datetime(2027, 1, 1, tzinfo=TZ)) == {}


def test_system_actor_may_take_system_transitions(ticket, dispatcher, handler_hw):
    t = transition(ticket, "open", dispatcher)
    t = transition(t, "finish", handler_hw, params={"result": "ok"})
    t = transition(t, "close", None)
    assert t.state == "closed"
    assert timeline_for(t).last().actor_name == "system"
