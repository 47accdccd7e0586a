from datetime import datetime

import pytest
from django.core.management import call_command

from cityops.cases.models import Case
from cityops.cases.tests.conftest import TZ
from cityops.core.audit import audit_verify
from cityops.core.models import TimelineEntry

pytestmark = pytest.mark.django_db


def test_simulate_produces_a_consistent_timeline(reference, capsys):
    call_command("simulate", hours=30, rate=6, seed=3, start="2026-11-23T08:00:00+08:00")
    out = capsys.readouterr().out
    assert "reported" in out
    assert Case.objects.count() > 50
    states = set(Case.objects.values_list("state", flat=True))
    assert {"archived", "accepted"} & states
    entries = TimelineEntry.objects.filter(subject_type="cases.case")
    assert entries.filter(action="dispatch").exists() and entries.filter(action="handle").exists()
    assert entries.filter(at__gt=datetime(2026, 11, 24, 14, 0, tzinfo=TZ)).count() == 0
    checked, problems = audit_verify(subject_type="cases.case")
    assert checked and problems == []
    # every state of every case is the to_state of its last state-changing entry
    for case in Case.objects.all()[:200]:
        last = entries.filter(subject_id=str(case.pk)).exclude(
            action__in=("overdue", "remind", "notice", "photo_add", "merge_in", "consult")).order_by("-seq").first()
        assert last.to_state == case.state
    # The whole timeline (cases, sub-tasks, users, reference data): every workflow object agrees with its chain.
    assert audit_verify()[1] == []
    # … so an edit of a case row itself shows (issue 10 §5 c).
    case = Case.objects.order_by("pk").first()
    Case.objects.filter(pk=case.pk).update(state="voided" if case.state != "voided" else "archived")
    assert [(p.subject_id, p.kind) for p in audit_verify(subject_type="cases.case")[1]] == [(str(case.pk), "mismatch")]


def test_simulate_prints_the_window_in_local_time(reference, clock, capsys):
    clock(datetime(2026, 11, 25, 10, 0))  # timezone.now() is UTC: 02:00
    call_command("simulate", hours=2, rate=1, seed=3)
    call_command("simulate", hours=1, rate=1, seed=3, start="2026-11-25T03:00:00+00:00")
    out = capsys.readouterr().out
    assert "模拟 2026-11-25 08:00 → 2026-11-25 10:00 Asia/Shanghai" in out
    assert "模拟 2026-11-25 11:00 → 2026-11-25 12:00 Asia/Shanghai" in out
    assert "办公时间" not in out


def test_simulate_outside_office_hours_says_why_nothing_moved(reference, capsys):
    # Saturday 20:00 to Monday 02:00: reports come in, but every next step waits for Monday's office hours.
    call_command("simulate", hours=30, rate=2, seed=3, start="2026-11-21T20:00:00+08:00")
    out = capsys.readouterr().out
    assert Case.objects.exists() and set(Case.objects.values_list("state", flat=True)) == {"reported"}
    line = next(line for line in out.splitlines() if "办公时间" in line)
    assert "模拟时段全在办公时间（工作日 08:30-12:00,13:30-18:00）之外" in line
    assert "the simulated window lies wholly outside office hours" in line


def test_simulated_reports_read_like_real_ones(reference):
    """Descriptions as residents and grid workers word them, not "<category>（模拟）" (issue 13)."""
    call_command("simulate", hours=6, rate=20, seed=5, start="2026-11-23T08:00:00+08:00")
    descriptions = list(Case.objects.values_list("description", "category__name_zh"))
    assert descriptions
    assert not [d for d, name in descriptions if d == f"{name}（模拟）" or "模拟" in d]
    assert len({d for d, _ in descriptions}) > len(descriptions) / 3  # varied, not one text per category


def test_after_the_demo_history_the_grid_worker_has_reports_to_verify(wuhan):
    """`load_demo` leaves the demo grid worker something to do: reports in his community (东亭社区) sent to him to
    verify, on his field-task page (issue 13)."""
    from django.test import Client

    from cityops.accounts.demo import load_demo_users, load_departments, load_roles
    from cityops.cases.demo import give_field_tasks, load_categories

    load_roles()
    load_departments()
    load_categories()
    load_demo_users(password="pw-cityops-test")
    assert give_field_tasks() == 3
    from cityops.accounts.models import User

    client = Client()
    client.force_login(User.objects.get(username="gridworker"))
    page = client.get("/cases/tasks/")
    waiting = Case.objects.filter(state="checking")
    assert waiting.count() == 3
    for case in waiting:
        assert case.code in page.content.decode()
        assert "模拟" not in case.description
