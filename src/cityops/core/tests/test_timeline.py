import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction

from cityops.core.audit import audit_verify
from cityops.core.models import AppendOnlyError, TimelineEntry
from cityops.core.timeline import timeline_append, timeline_for

pytestmark = pytest.mark.django_db


def record(subject, n, actor=None):
    with transaction.atomic():
        for i in range(n):
            timeline_append(subject=subject, action=f"step{i}", actor=actor, note=f"note {i}", params={"i": i, "x": 0.1})


def drop_guard_trigger():
    """What an attacker with database access does first; the test then tampers as they would."""
    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            cur.execute("ALTER TABLE core_timelineentry DISABLE TRIGGER core_timelineentry_no_update")
        else:
            cur.execute("DROP TRIGGER IF EXISTS core_timelineentry_no_update")


def test_entries_chain_by_hash_and_verify_clean(operator):
    record(("sample.thing", "1"), 3, actor=operator)
    record(("sample.thing", "2"), 2)
    entries = list(timeline_for(("sample.thing", "1")))
    assert [e.seq for e in entries] == [1, 2, 3]
    assert entries[0].prev_hash == "" and entries[1].prev_hash == entries[0].hash
    assert entries[0].actor_name == operator.username and entries[0].actor_id == operator.pk
    assert audit_verify(subject_type="sample.thing") == (5, [])


def test_append_returns_the_stored_entry():
    with transaction.atomic():
        entry = timeline_append(subject=("sample.thing", "5"), action="x", params={"a": [1, 2]})
    stored = TimelineEntry.objects.get(pk=entry.pk)
    assert (stored.hash, stored.params, stored.seq) == (entry.hash, {"a": [1, 2]}, 1)
    with pytest.raises(AppendOnlyError):
        entry.save()


@pytest.mark.django_db(transaction=True)
def test_append_outside_a_transaction_is_refused():
    with pytest.raises(RuntimeError):
        timeline_append(subject=("sample.thing", "1"), action="x")


def test_orm_refuses_update_and_delete():
    record(("sample.thing", "1"), 1)
    entry = TimelineEntry.objects.get()
    entry.note = "changed"
    with pytest.raises(AppendOnlyError):
        entry.save()
    with pytest.raises(AppendOnlyError):
        entry.delete()
    with pytest.raises(AppendOnlyError):
        TimelineEntry.objects.filter(pk=entry.pk).update(note="x")
    with pytest.raises(AppendOnlyError):
        TimelineEntry.objects.all().delete()


def test_database_trigger_refuses_raw_update():
    record(("sample.thing", "1"), 1)
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cur:
        cur.execute("UPDATE core_timelineentry SET note = 'forged'")


def test_verify_finds_an_edited_entry():
    record(("sample.thing", "1"), 3)
    drop_guard_trigger()
    with connection.cursor() as cur:
        cur.execute("UPDATE core_timelineentry SET note = 'forged' WHERE seq = 2")
    _checked, problems = audit_verify(subject_type="sample.thing")
    assert [(p.subject_id, p.seq, p.kind) for p in problems] == [("1", 2, "edited")]
    with pytest.raises(CommandError, match="tampered"):
        call_command("audit", "verify")


def test_verify_finds_edited_params_and_rehashed_forgery():
    record(("sample.thing", "1"), 3)
    drop_guard_trigger()
    forged = TimelineEntry.objects.get(seq=2)
    with connection.cursor() as cur:
        # Forger edits entry 2 and recomputes its own hash, but cannot fix entry 3's link without the chain.
        cur.execute("UPDATE core_timelineentry SET hash = %s WHERE id = %s", ["0" * 64, forged.pk])
    problems = audit_verify(subject_type="sample.thing")[1]
    kinds = {(p.seq, p.kind) for p in problems}
    assert (2, "edited") in kinds and (3, "edited") in kinds


def test_verify_finds_a_deleted_middle_entry_and_a_deleted_tail():
    record(("sample.thing", "1"), 4)
    record(("sample.thing", "2"), 2)
    drop_guard_trigger()
    with connection.cursor() as cur:
        cur.execute("DELETE FROM core_timelineentry WHERE subject_id = '1' AND seq = 2")
        cur.execute("DELETE FROM core_timelineentry WHERE subject_id = '2' AND seq = 2")
    problems = {(p.subject_id, p.kind) for p in audit_verify(subject_type="sample.thing")[1]}
    assert ("1", "deleted") in problems
    assert ("2", "deleted") in problems


def test_verify_finds_a_subject_whose_entries_are_all_gone():
    record(("sample.thing", "9"), 2)
    drop_guard_trigger()
    with connection.cursor() as cur:
        cur.execute("DELETE FROM core_timelineentry WHERE subject_type = 'sample.thing'")
    assert [(p.subject_id, p.kind) for p in audit_verify(subject_type="sample.thing")[1]] == [("9", "deleted")]


def test_audit_command_reports_intact(capsys):
    record(("sample.thing", "1"), 2)
    call_command("audit", "verify")
    assert "2" in capsys.readouterr().out


def test_a_new_subject_chain_starts_without_a_head_lookup_and_continues_normally():
    with transaction.atomic():
        timeline_append(subject=("sample.thing", "7"), action="create", new_subject=True)
    record(("sample.thing", "7"), 2)
    assert list(timeline_for(("sample.thing", "7")).values_list("seq", flat=True)) == [1, 2, 3]
    assert audit_verify(subject_type="sample.thing") == (3, [])


def test_new_subject_on_an_existing_chain_is_refused():
    from django.db import IntegrityError

    record(("sample.thing", "8"), 1)
    with pytest.raises(IntegrityError), transaction.atomic():
        timeline_append(subject=("sample.thing", "8"), action="again", new_subject=True)
