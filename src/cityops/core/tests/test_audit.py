"""Issue 10 §5: a timeline that cannot be rewritten unnoticed. Each tamper kind is done the way someone with
write access to the database would do it (guards switched off first, as the tables' owner can), and
`cityops audit verify` must exit non-zero naming the subject."""

import json
from datetime import timedelta
from io import StringIO

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from cityops.core.audit import audit_run, audit_verify
from cityops.core.checkpoint import CheckpointError, audit_key, checkpoint_write, checkpoints_read, key_id
from cityops.core.models import TimelineEntry, TimelineHead
from cityops.core.tests.sample.models import Ticket
from cityops.core.timeline import entry_hash, timeline_append, timeline_for
from cityops.core.workflow import create_with_timeline, sweep_overdue, transition

pytestmark = pytest.mark.django_db

KEY = "checkpoint-key-for-tests-0123456789abcdef"


@pytest.fixture
def ticket(dispatcher, handler_hw):
    """A ticket at version 3 with four entries: create, open, pause, resume."""
    t = create_with_timeline(Ticket(title="audit"), actor=dispatcher)
    t = transition(t, "open", dispatcher)
    t = transition(t, "pause", handler_hw)
    return transition(t, "resume", dispatcher)


@pytest.fixture
def checkpoints(settings, tmp_path):
    settings.CITYOPS_AUDIT_CHECKPOINT_FILE = str(tmp_path / "audit" / "checkpoints.jsonl")
    settings.CITYOPS_AUDIT_KEY = KEY
    return tmp_path / "audit" / "checkpoints.jsonl"


def guards_off():
    """What a tamperer who owns the tables does first (the application's own role cannot: test_db_roles)."""
    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            cur.execute("ALTER TABLE core_timelineentry DISABLE TRIGGER USER")
            cur.execute("ALTER TABLE core_timelinehead DISABLE TRIGGER USER")
        else:
            cur.execute("DROP TRIGGER core_timelineentry_no_update")
            cur.execute("DROP TRIGGER core_timelinehead_forward_only")


def verify_fails_naming(subject: str, *args) -> str:
    err = StringIO()
    with pytest.raises(CommandError, match="tampered"):
        call_command("audit", "verify", *args, stderr=err, stdout=StringIO())
    assert subject in err.getvalue(), err.getvalue()
    return err.getvalue()


def kinds(problems):
    return {(p.subject_type, p.subject_id, p.kind) for p in problems}


def rehash_from(subject, seq: int, **changes) -> None:
    """Rewrite entry `seq` and recompute every hash after it and the head: a forgery the chain alone cannot see."""
    prev = ""
    with connection.cursor() as cur:
        for entry in timeline_for(subject):
            if entry.seq == seq:
                for field, value in changes.items():
                    setattr(entry, field, value)
            if entry.seq >= seq:
                entry.prev_hash = prev
                fields = {f: getattr(entry, f) for f in ("subject_type", "subject_id", "seq", "at", "actor_id",
                                                         "actor_name", "action", "from_state", "to_state", "note",
                                                         "params", "prev_hash", "version")}
                entry.hash = entry_hash(**fields)
                cur.execute("UPDATE core_timelineentry SET note = %s, prev_hash = %s, hash = %s WHERE id = %s",
                            [entry.note, entry.prev_hash, entry.hash, entry.pk])
            prev = entry.hash
        cur.execute("UPDATE core_timelinehead SET hash = %s WHERE subject_type = %s AND subject_id = %s",
                    [prev, subject.subject_type, str(subject.pk)])


# --- what the application itself writes verifies ------------------------------------------------------------
def test_flows_record_state_and_version_and_verify_clean(ticket, dispatcher, checkpoints):
    entries = list(timeline_for(ticket))
    assert [(e.action, e.to_state, e.version) for e in entries] == [
        ("create", "new", 0), ("open", "open", 1), ("pause", "paused", 2), ("resume", "open", 3)]
    with transaction.atomic():
        locked = Ticket.objects.select_for_update().get(pk=ticket.pk)
        timeline_append(subject=locked, action="comment", actor=dispatcher, note="a remark")  # no state change
    assert timeline_for(ticket).last().to_state == "open" and timeline_for(ticket).last().version == 3
    sweep_overdue(now=timezone.now() + timedelta(days=60))  # escalation entries, version unchanged
    assert checkpoint_write() is not None
    out = StringIO()
    call_command("audit", "verify", stdout=out)
    assert "timeline intact" in out.getvalue() and "1 signed head" in out.getvalue()


def test_an_entry_about_a_workflow_object_must_be_given_the_object_in_its_state(ticket):
    with pytest.raises(ValueError, match="locked workflow object"), transaction.atomic():
        timeline_append(subject=("sample.ticket", str(ticket.pk)), action="x")
    with pytest.raises(ValueError, match="to_state"), transaction.atomic():
        timeline_append(subject=ticket, action="x", to_state="done")


# --- (a) the last entry deleted and the head rewound ----------------------------------------------------------
def test_a_deleted_last_entry_with_a_rewound_head_is_found(ticket):
    guards_off()
    previous = timeline_for(ticket).get(seq=3)
    with connection.cursor() as cur:
        cur.execute("DELETE FROM core_timelineentry WHERE subject_type = 'sample.ticket' AND seq = 4")
        cur.execute("UPDATE core_timelinehead SET seq = 3, hash = %s WHERE subject_type = 'sample.ticket'", [previous.hash])
    assert ("sample.ticket", str(ticket.pk), "mismatch") in kinds(audit_verify()[1])
    verify_fails_naming(f"sample.ticket:{ticket.pk}")


def test_a_deleted_entry_that_changed_nothing_is_found_by_the_checkpoint(ticket, dispatcher, checkpoints):
    with transaction.atomic():
        locked = Ticket.objects.select_for_update().get(pk=ticket.pk)
        timeline_append(subject=locked, action="comment", actor=dispatcher, note="said at the counter")
    checkpoint_write()
    guards_off()
    previous = timeline_for(ticket).get(seq=4)
    with connection.cursor() as cur:
        cur.execute("DELETE FROM core_timelineentry WHERE subject_type = 'sample.ticket' AND seq = 5")
        cur.execute("UPDATE core_timelinehead SET seq = 4, hash = %s WHERE subject_type = 'sample.ticket'", [previous.hash])
    # The row still agrees with the (shorter) chain: only the signed head shows what is missing.
    assert kinds(audit_verify(checkpoints=False)[1]) == set()
    assert ("sample.ticket", str(ticket.pk), "rewound") in kinds(audit_verify()[1])
    verify_fails_naming(f"sample.ticket:{ticket.pk}#5 rewound")


# --- (b) a whole chain deleted --------------------------------------------------------------------------------
def test_a_deleted_chain_is_found_by_its_object(ticket):
    guards_off()
    with connection.cursor() as cur:
        cur.execute("DELETE FROM core_timelineentry WHERE subject_type = 'sample.ticket'")
        cur.execute("DELETE FROM core_timelinehead WHERE subject_type = 'sample.ticket'")
    assert kinds(audit_verify()[1]) == {("sample.ticket", str(ticket.pk), "no_chain")}
    verify_fails_naming(f"sample.ticket:{ticket.pk} no_chain")


def test_a_deleted_chain_and_object_are_found_by_the_checkpoint(ticket, checkpoints):
    checkpoint_write()
    guards_off()
    with connection.cursor() as cur:
        cur.execute("DELETE FROM core_timelineentry WHERE subject_type = 'sample.ticket'")
        cur.execute("DELETE FROM core_timelinehead WHERE subject_type = 'sample.ticket'")
        cur.execute("DELETE FROM sample_ticket")
    assert kinds(audit_verify(checkpoints=False)[1]) == set()
    verify_fails_naming(f"sample.ticket:{ticket.pk}#4 deleted: the whole chain is gone")


def test_a_chain_whose_object_vanished_is_found(ticket):
    with connection.cursor() as cur:
        cur.execute("DELETE FROM sample_ticket")
    verify_fails_naming(f"sample.ticket:{ticket.pk}#4 orphan_chain")


# --- (c) the object row edited --------------------------------------------------------------------------------
@pytest.mark.parametrize("edit", ["state = 'done'", "version = version + 1", "state = 'done', version = version + 1"])
def test_an_edited_object_row_is_found(ticket, edit):
    with connection.cursor() as cur:
        cur.execute(f"UPDATE sample_ticket SET {edit}")  # noqa: S608 (fixed test strings)
    assert kinds(audit_verify()[1]) == {("sample.ticket", str(ticket.pk), "mismatch")}
    verify_fails_naming(f"sample.ticket:{ticket.pk}#4 mismatch")


# --- (d) an entry rewritten with every hash recomputed --------------------------------------------------------
def test_a_rewritten_chain_with_recomputed_hashes_is_found_by_the_checkpoint(ticket, checkpoints):
    checkpoint_write()
    guards_off()
    rehash_from(ticket, 2, note="never happened like this")
    assert kinds(audit_verify(checkpoints=False)[1]) == set()  # the chain alone holds no secret
    problems = audit_verify()[1]
    assert ("sample.ticket", str(ticket.pk), "rewritten") in kinds(problems)
    verify_fails_naming(f"sample.ticket:{ticket.pk}#4 rewritten")


def test_a_rewrite_is_found_against_a_copy_of_the_checkpoints_shipped_elsewhere(ticket, checkpoints, tmp_path):
    checkpoint_write()
    shipped = tmp_path / "shipped.jsonl"
    shipped.write_bytes(checkpoints.read_bytes())
    checkpoints.unlink()  # the tamperer removes the local file too
    guards_off()
    rehash_from(ticket, 3, note="forged")
    assert audit_verify()[1] == []  # nothing left on the host to hold the chain to
    verify_fails_naming(f"sample.ticket:{ticket.pk}#4 rewritten", "--checkpoints", str(shipped))


# --- the checkpoint file itself -------------------------------------------------------------------------------
def test_checkpoints_are_incremental_and_the_latest_signed_head_counts(ticket, dispatcher, checkpoints):
    other = create_with_timeline(Ticket(title="other"), actor=dispatcher)
    first = checkpoint_write()
    assert first.full and first.heads == 2
    assert checkpoint_write() is None  # nothing new
    transition(ticket, "extend", dispatcher, params={"extra_hours": 2})
    second = checkpoint_write()
    assert (second.full, second.heads, second.after) == (False, 1, first.upto)
    lines = [json.loads(line) for line in checkpoints.read_text().splitlines()]
    assert [line["n"] for line in lines] == [1, 2] and lines[1]["prev"] == lines[0]["mac"]
    assert lines[1]["heads"] == [["sample.ticket", str(ticket.pk), 5, timeline_for(ticket).last().hash]]
    signed = checkpoints_read(checkpoints)
    assert signed.heads[("sample.ticket", str(ticket.pk))][:2] == (5, timeline_for(ticket).last().hash)
    assert signed.heads[("sample.ticket", str(other.pk))][0] == 1
    assert not signed.file_problems and not signed.conflicts


def _lines(path):
    return path.read_text().splitlines()


def test_an_edited_or_removed_checkpoint_line_is_found(ticket, dispatcher, checkpoints):
    checkpoint_write()
    for action in ("extend",):
        transition(ticket, action, dispatcher, params={"extra_hours": 1})
        checkpoint_write()
    with transaction.atomic():
        timeline_append(subject=Ticket.objects.select_for_update().get(pk=ticket.pk), action="comment", actor=dispatcher)
    checkpoint_write()
    original = _lines(checkpoints)
    assert len(original) == 3

    edited = json.loads(original[1])
    edited["heads"][0][2] = 4  # claim an older head
    checkpoints.write_text("\n".join([original[0], json.dumps(edited), original[2]]) + "\n")
    out = verify_fails_naming(f"checkpoint:{checkpoints}#2 checkpoint: MAC does not match")
    assert "#3" not in out.split("\n")[0]

    checkpoints.write_text("\n".join([original[0], original[2]]) + "\n")  # a line removed
    verify_fails_naming(f"checkpoint:{checkpoints}#2 checkpoint: does not follow the line before")

    checkpoints.write_text("\n".join(original) + "\n")
    call_command("audit", "verify", stdout=StringIO())


def test_checkpoints_under_another_key_are_not_trusted(ticket, checkpoints, settings):
    checkpoint_write()
    settings.CITYOPS_AUDIT_KEY = "another-key-" + "x" * 40
    verify_fails_naming("signed with another key")
    with pytest.raises(CheckpointError):
        checkpoint_write()  # never extends a file it cannot verify


def test_the_writer_refuses_a_file_whose_last_line_was_forged_or_torn(ticket, dispatcher, checkpoints):
    checkpoint_write()
    line = json.loads(checkpoints.read_text())
    line["heads"] = []
    checkpoints.write_text(json.dumps(line) + "\n")
    transition(ticket, "extend", dispatcher, params={"extra_hours": 1})
    with pytest.raises(CheckpointError, match="MAC"):
        checkpoint_write()
    checkpoints.write_text('{"v": 1, "n": 1')
    with pytest.raises(CheckpointError, match="torn"):
        checkpoint_write()


def test_audit_checkpoint_command(ticket, checkpoints):
    out = StringIO()
    call_command("audit", "checkpoint", stdout=out)
    assert "1 head(s)" in out.getvalue() and "(full)" in out.getvalue()
    call_command("audit", "checkpoint", stdout=out)
    assert "nothing to sign" in out.getvalue()
    call_command("audit", "checkpoint", "--full", stdout=out)
    assert checkpoints.read_text().count("\n") == 2
    report = audit_run()
    assert report.problems == [] and report.signed.lines == 2 and report.objects == 1


# --- the key ----------------------------------------------------------------------------------------------------
def test_the_key_comes_from_outside_the_database(settings, tmp_path):
    settings.CITYOPS_AUDIT_KEY, settings.CITYOPS_AUDIT_KEY_FILE = "", ""
    derived = audit_key()
    assert len(derived) == 32  # development: derived from SECRET_KEY
    key_file = tmp_path / "audit.key"
    key_file.write_text(KEY + "\n")
    settings.CITYOPS_AUDIT_KEY_FILE = str(key_file)
    assert audit_key() == KEY.encode() and key_id(audit_key()) != key_id(derived)
    settings.CITYOPS_AUDIT_KEY = KEY
    with pytest.raises(ImproperlyConfigured, match="not both"):
        audit_key()
    settings.CITYOPS_AUDIT_KEY_FILE, settings.CITYOPS_AUDIT_KEY = "", "short"
    with pytest.raises(ImproperlyConfigured, match="32 bytes"):
        audit_key()
    settings.CITYOPS_AUDIT_KEY, settings.PRODUCTION = "", True
    with pytest.raises(ImproperlyConfigured, match="CITYOPS_AUDIT_KEY"):
        audit_key()


# --- the database's own guards --------------------------------------------------------------------------------
def test_a_head_only_moves_forward(ticket):
    for sql in ("UPDATE core_timelinehead SET seq = seq - 1",
                "UPDATE core_timelinehead SET seq = seq",
                "UPDATE core_timelinehead SET subject_id = 'other', seq = seq + 1"):
        with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cur:
            cur.execute(sql)
    assert TimelineHead.objects.get(subject_type="sample.ticket").seq == 4


@pytest.mark.postgres
def test_heads_cannot_be_deleted_and_the_timeline_cannot_be_truncated(ticket):
    with pytest.raises(DatabaseError, match="only move forward"), transaction.atomic(), connection.cursor() as cur:
        cur.execute("DELETE FROM core_timelinehead")
    for table in ("core_timelineentry", "core_timelinehead"):
        # The test connection asks for the TRUNCATE exemption (pytest-django flushes with it); without it, even
        # the superuser is refused.
        with pytest.raises(DatabaseError, match="TRUNCATE"), transaction.atomic(), connection.cursor() as cur:
            cur.execute("SET LOCAL cityops.allow_timeline_truncate = off")
            cur.execute(f"TRUNCATE {table} CASCADE")
    assert TimelineEntry.objects.filter(subject_type="sample.ticket").count() == 4


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_checkpoint_never_skips_an_entry_whose_transaction_commits_late(dispatcher, checkpoints):
    """Entry ids come from a sequence before their transaction commits: an entry with a low id can become
    visible after one with a higher id. A checkpoint covers only ids no open transaction can still be writing."""
    import psycopg

    from cityops.core.timeline import ENTRY_COLUMNS, entry_fields

    ticket = create_with_timeline(Ticket(title="early"), actor=dispatcher)
    checkpoint_write()
    s = connection.settings_dict
    late = ("sample.thing", "late")
    with psycopg.connect(host=s["HOST"] or "127.0.0.1", port=s["PORT"] or 5432, dbname=s["NAME"], user=s["USER"]) as slow:
        fields = entry_fields(subject_type=late[0], subject_id=late[1], seq=1, at=None, actor=None, actor_name=None,
                              action="x", from_state="", to_state="", note="", params={}, prev_hash="")
        row = [fields[c] for c in ENTRY_COLUMNS]
        row[10] = json.dumps(row[10])
        slow.execute(f"INSERT INTO core_timelineentry ({', '.join(ENTRY_COLUMNS)}) VALUES "  # noqa: S608
                     f"({', '.join(['%s'] * len(row))})", row)
        slow.execute("INSERT INTO core_timelinehead (subject_type, subject_id, seq, hash) VALUES (%s, %s, 1, %s)",
                     [*late, fields["hash"]])
        transition(ticket, "open", dispatcher)  # a higher id, committed first
        held = checkpoint_write()
        assert held is None or ["sample.ticket", str(ticket.pk)] not in [h[:2] for h in _all_signed(checkpoints)]
        slow.commit()
    checkpoint_write()
    signed = checkpoints_read(checkpoints).heads
    assert signed[late][0] == 1 and signed[("sample.ticket", str(ticket.pk))][0] == 2
    assert audit_run().problems == []


def _all_signed(path):
    return [head for line in path.read_text().splitlines() for head in json.loads(line)["heads"]]
