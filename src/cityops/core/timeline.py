"""The timeline: append-only, hash-chained per subject (DESIGN.md "The timeline")."""

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, connection, models, transaction
from django.utils import timezone

from cityops.core import prepared
from cityops.core.models import TimelineEntry, TimelineHead

SYSTEM = "system"


def _canonical(value: Any) -> str:
    return json.dumps(value, cls=DjangoJSONEncoder, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def subject_key(subject: Any) -> tuple[str, str]:
    """(type, id) of a model instance, or a (type, id) pair given directly."""
    if isinstance(subject, models.Model):
        return subject._meta.label_lower, str(subject.pk)
    subject_type, subject_id = subject
    return str(subject_type), str(subject_id)


def entry_hash(
    *,
    subject_type: str,
    subject_id: str,
    seq: int,
    at: datetime,
    actor_id: int | None,
    actor_name: str,
    action: str,
    from_state: str,
    to_state: str,
    note: str,
    params: dict,
    prev_hash: str,
) -> str:
    content = _canonical(
        [
            subject_type,
            subject_id,
            seq,
            at.astimezone(UTC).isoformat(timespec="microseconds"),
            actor_id,
            actor_name,
            action,
            from_state,
            to_state,
            note,
            params,
            prev_hash,
        ]
    )
    return hashlib.sha256(content.encode()).hexdigest()


def _hash_of(entry: TimelineEntry) -> str:
    return entry_hash(
        subject_type=entry.subject_type,
        subject_id=entry.subject_id,
        seq=entry.seq,
        at=entry.at,
        actor_id=entry.actor_id,
        actor_name=entry.actor_name,
        action=entry.action,
        from_state=entry.from_state,
        to_state=entry.to_state,
        note=entry.note,
        params=entry.params,
        prev_hash=entry.prev_hash,
    )


_ENTRY_COLUMNS = (
    "subject_type", "subject_id", "seq", "at", "actor_id", "actor_name", "action",
    "from_state", "to_state", "note", "params", "prev_hash", "hash",
)
# The timeline is on every write path: its three statements are plain SQL, because compiling the
# equivalent ORM queries cost more than running them (measured: ~half of a transition's time on SQLite).
_INSERT_ENTRY = (
    "INSERT INTO core_timelineentry (subject_type, subject_id, seq, at, actor_id, actor_name, action, "
    "from_state, to_state, note, params, prev_hash, hash) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
)
_INSERT_HEAD = "INSERT INTO core_timelinehead (subject_type, subject_id, seq, hash) VALUES (%s, %s, %s, %s)"
_INSERT_ENTRY_INTO = _INSERT_ENTRY.split(" VALUES ")[0]
_INSERT_HEAD_INTO = _INSERT_HEAD.split(" VALUES ")[0]
_UPDATE_HEAD = "UPDATE core_timelinehead SET seq = %s, hash = %s WHERE id = %s"
_SELECT_HEAD = "SELECT id, seq, hash FROM core_timelinehead WHERE subject_type = %s AND subject_id = %s"


def _lock_head(cursor, subject_type: str, subject_id: str) -> tuple[int | None, int, str]:
    """(head id, seq, hash) of the subject's chain, row-locked until the transaction ends."""
    lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
    cursor.execute(_SELECT_HEAD + lock, [subject_type, subject_id])
    row = cursor.fetchone()
    if row is not None:
        return row
    try:
        with transaction.atomic():
            cursor.execute(_INSERT_HEAD, [subject_type, subject_id, 0, ""])
    except IntegrityError:
        pass  # another transaction created it first; now wait for its lock
    cursor.execute(_SELECT_HEAD + lock, [subject_type, subject_id])
    return cursor.fetchone()


def entry_fields(*, subject_type: str, subject_id: str, seq: int, at: datetime | None, actor, actor_name: str | None,
                 action: str, from_state: str, to_state: str, note: str, params: dict | None, prev_hash: str) -> dict:
    """Every column of one entry, its hash included, as it will be stored."""
    # Store params exactly as they will be read back, so the hash can be recomputed from the database.
    fields = {
        "subject_type": subject_type,
        "subject_id": subject_id,
        "seq": seq,
        "at": at or timezone.now(),
        "actor_id": getattr(actor, "pk", None),
        "actor_name": actor_name if actor_name is not None else (actor.get_username() if actor is not None else SYSTEM),
        "action": action,
        "from_state": from_state,
        "to_state": to_state,
        "note": note,
        "params": json.loads(_canonical(params or {})),
        "prev_hash": prev_hash,
    }
    fields["hash"] = entry_hash(**fields)
    return fields


def chain_start_ctes(fields: dict, param, *, gate: str = "") -> str:
    """The entry and the head that start a new subject's chain, as two members of a WITH clause, so that the
    statement inserting the subject writes its timeline too (PostgreSQL; see workflow.create_with_timeline).
    `param(value)` returns the placeholder a value is passed by (or its literal); `gate`, the FROM/WHERE that
    makes both write only when the statement's condition holds (prepared.gate_insert)."""
    values = dict(fields)
    values["at"] = connection.ops.adapt_datetimefield_value(fields["at"])
    values["params"] = connection.ops.adapt_json_value(fields["params"], DjangoJSONEncoder)
    entry = ", ".join(param(values[c]) for c in _ENTRY_COLUMNS)
    head = ", ".join(param(values[c]) for c in ("subject_type", "subject_id", "seq", "hash"))
    return (
        f"_tl_entry AS ({prepared.gate_insert(f'{_INSERT_ENTRY_INTO} VALUES ({entry})', gate)}), "
        f"_tl_head AS ({prepared.gate_insert(f'{_INSERT_HEAD_INTO} VALUES ({head})', gate)})"
    )


def timeline_append(
    *,
    subject: Any,
    action: str,
    actor=None,
    actor_name: str | None = None,
    from_state: str = "",
    to_state: str = "",
    note: str = "",
    params: dict | None = None,
    at: datetime | None = None,
    new_subject: bool = False,
) -> TimelineEntry:
    """Append one entry to the subject's chain. Must run inside the transaction of the change it records,
    so that the change and its record commit together or not at all.

    `new_subject=True` (the subject was created in this transaction) starts the chain without looking for a
    head: two inserts instead of a locked read, an insert and an update. Should a chain exist after all, the
    unique constraints refuse the second start and the whole transaction rolls back."""
    if not connection.in_atomic_block:
        raise RuntimeError("timeline_append must run inside the transaction of the change it records")
    subject_type, subject_id = subject_key(subject)
    with connection.cursor() as cursor:
        head_id, head_seq, head_hash = (None, 0, "") if new_subject else _lock_head(cursor, subject_type, subject_id)
        fields = entry_fields(
            subject_type=subject_type, subject_id=subject_id, seq=head_seq + 1, at=at, actor=actor,
            actor_name=actor_name, action=action, from_state=from_state, to_state=to_state, note=note,
            params=params, prev_hash=head_hash,
        )
        seq = fields["seq"]
        row = [fields[c] for c in _ENTRY_COLUMNS]
        row[3] = connection.ops.adapt_datetimefield_value(fields["at"])
        row[10] = connection.ops.adapt_json_value(fields["params"], DjangoJSONEncoder)
        if connection.features.can_return_columns_from_insert:
            cursor.execute(_INSERT_ENTRY + " RETURNING id", row)
            entry_id = cursor.fetchone()[0]
        else:
            cursor.execute(_INSERT_ENTRY, row)
            entry_id = cursor.lastrowid
        if new_subject:
            cursor.execute(_INSERT_HEAD, [subject_type, subject_id, seq, fields["hash"]])
        else:
            cursor.execute(_UPDATE_HEAD, [seq, fields["hash"], head_id])
    entry = TimelineEntry(id=entry_id, **fields)
    entry._state.adding = False  # a stored row: saving it again is refused like any other
    return entry


def timeline_for(subject: Any) -> models.QuerySet:
    subject_type, subject_id = subject_key(subject)
    return TimelineEntry.objects.filter(subject_type=subject_type, subject_id=subject_id).order_by("seq")


@dataclass(frozen=True)
class AuditProblem:
    subject_type: str
    subject_id: str
    seq: int | None
    kind: str  # edited | deleted | missing_head | foreign_chain
    detail: str

    def __str__(self) -> str:
        where = f"{self.subject_type}:{self.subject_id}" + (f"#{self.seq}" if self.seq is not None else "")
        return f"{where} {self.kind}: {self.detail}"


def audit_verify(*, subject_type: str | None = None, chunk_size: int = 5000) -> tuple[int, list[AuditProblem]]:
    """Recompute every chain. Returns (entries checked, problems). Finds an edited entry (its hash no longer
    matches its content), a deleted entry (a gap in seq or a broken prev_hash link) and a deleted tail
    (the head says the chain is longer than what is stored)."""
    problems: list[AuditProblem] = []
    heads = {
        (h.subject_type, h.subject_id): h
        for h in TimelineHead.objects.filter(**({"subject_type": subject_type} if subject_type else {}))
    }
    entries = TimelineEntry.objects.all()
    if subject_type:
        entries = entries.filter(subject_type=subject_type)
    entries = entries.order_by("subject_type", "subject_id", "seq")

    checked = 0
    current: tuple[str, str] | None = None
    expected_seq, prev_hash = 1, ""
    seen: set[tuple[str, str]] = set()

    def close_chain(key: tuple[str, str], last_seq: int, last_hash: str) -> None:
        head = heads.get(key)
        if head is None:
            problems.append(AuditProblem(*key, None, "missing_head", "chain has no head record"))
        elif head.seq != last_seq or head.hash != last_hash:
            problems.append(
                AuditProblem(*key, head.seq, "deleted", f"head expects #{head.seq}, last stored is #{last_seq}")
            )

    for entry in entries.iterator(chunk_size=chunk_size):
        checked += 1
        key = (entry.subject_type, entry.subject_id)
        if key != current:
            if current is not None:
                close_chain(current, expected_seq - 1, prev_hash)
            current, expected_seq, prev_hash = key, 1, ""
            seen.add(key)
        if entry.seq != expected_seq:
            problems.append(
                AuditProblem(*key, expected_seq, "deleted", f"entries #{expected_seq}..#{entry.seq - 1} missing")
            )
        elif entry.prev_hash != prev_hash:
            problems.append(AuditProblem(*key, entry.seq, "edited", "link to the previous entry is broken"))
        if _hash_of(entry) != entry.hash:
            problems.append(AuditProblem(*key, entry.seq, "edited", "content does not match its hash"))
        expected_seq, prev_hash = entry.seq + 1, entry.hash
    if current is not None:
        close_chain(current, expected_seq - 1, prev_hash)
    for key, head in heads.items():
        if key not in seen and head.seq > 0:
            problems.append(AuditProblem(*key, None, "deleted", f"all {head.seq} entries are gone"))
    return checked, problems
