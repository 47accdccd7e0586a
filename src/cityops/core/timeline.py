"""The timeline: append-only, hash-chained per subject (DESIGN.md "The timeline")."""

import hashlib
import json
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, connection, models, transaction
from django.dispatch import Signal
from django.utils import timezone

from cityops.core.models import TimelineEntry, WorkflowModel

SYSTEM = "system"

# Sent for every appended entry, inside the transaction that writes it (sender=TimelineEntry, entry=the entry).
# A listener acting on the committed change registers transaction.on_commit (dashboard.live publishes it).
entry_appended = Signal()


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
    version: int | None = None,
) -> str:
    content = [
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
    if version is not None:  # entries written before versions were recorded verify as they were hashed
        content.append(version)
    return hashlib.sha256(_canonical(content).encode()).hexdigest()


# Every column of an entry, in the order of its INSERT (audit verify reads them in this order too).
ENTRY_COLUMNS = (
    "subject_type", "subject_id", "seq", "at", "actor_id", "actor_name", "action",
    "from_state", "to_state", "note", "params", "prev_hash", "hash", "version",
)
# The timeline is on every write path: its three statements are plain SQL, because compiling the
# equivalent ORM queries cost more than running them (measured: ~half of a transition's time on SQLite).
_INSERT_ENTRY = (
    "INSERT INTO core_timelineentry (subject_type, subject_id, seq, at, actor_id, actor_name, action, "
    "from_state, to_state, note, params, prev_hash, hash, version) "
    "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
)
_INSERT_HEAD = "INSERT INTO core_timelinehead (subject_type, subject_id, seq, hash) VALUES (%s, %s, %s, %s)"
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
                 action: str, from_state: str, to_state: str, note: str, params: dict | None, prev_hash: str,
                 version: int | None = None) -> dict:
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
        "version": version,
    }
    fields["hash"] = entry_hash(**fields)
    return fields


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

    A workflow object (WorkflowModel) is given as the instance, locked (select_for_update) and as it will be
    committed: the entry records its version, and its state as `to_state` (filled in when not given), which
    `audit verify` compares with the object row — a stale instance would record a false mismatch.

    `new_subject=True` (the subject was created in this transaction) starts the chain without looking for a
    head: two inserts instead of a locked read, an insert and an update. Should a chain exist after all, the
    unique constraints refuse the second start and the whole transaction rolls back."""
    if not connection.in_atomic_block:
        raise RuntimeError("timeline_append must run inside the transaction of the change it records")
    subject_type, subject_id = subject_key(subject)
    version = None
    if isinstance(subject, WorkflowModel):
        version = subject.version
        to_state = to_state or subject.state
        if to_state != subject.state:
            raise ValueError(f"{subject_type}:{subject_id}: entry to_state {to_state!r} but the object is in {subject.state!r}")
    elif subject_type in workflow_labels():
        raise ValueError(f"{subject_type}:{subject_id}: pass the locked workflow object, not its key")
    with connection.cursor() as cursor:
        head_id, head_seq, head_hash = (None, 0, "") if new_subject else _lock_head(cursor, subject_type, subject_id)
        fields = entry_fields(
            subject_type=subject_type, subject_id=subject_id, seq=head_seq + 1, at=at, actor=actor,
            actor_name=actor_name, action=action, from_state=from_state, to_state=to_state, note=note,
            params=params, prev_hash=head_hash, version=version,
        )
        seq = fields["seq"]
        row = [fields[c] for c in ENTRY_COLUMNS]
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
    entry_appended.send(sender=TimelineEntry, entry=entry)
    return entry


@lru_cache(maxsize=1)
def workflow_labels() -> frozenset[str]:
    """The subject types of workflow objects (every concrete WorkflowModel), whose chains must agree with
    their rows."""
    from cityops.core.workflow import workflow_models  # the engine imports this module

    return frozenset(m._meta.label_lower for m in workflow_models())


def timeline_for(subject: Any) -> models.QuerySet:
    subject_type, subject_id = subject_key(subject)
    return TimelineEntry.objects.filter(subject_type=subject_type, subject_id=subject_id).order_by("seq")


def timeline_before(model: type[models.Model], at: datetime) -> models.QuerySet:
    """The timeline entries of the outer query's row (`OuterRef("pk")`) of `model` recorded before the instant
    `at`, the latest first: the source of a subquery telling what that row was at `at` — its state is the last
    one's `to_state`, a stamp the last one's params."""
    from django.db.models import CharField, OuterRef
    from django.db.models.functions import Cast

    return TimelineEntry.objects.filter(
        subject_type=model._meta.label_lower, subject_id=Cast(OuterRef("pk"), output_field=CharField()), at__lt=at,
    ).order_by("-seq")


def in_states_at(qs: models.QuerySet, *, at: datetime, states, born: str = "created_at") -> models.QuerySet:
    """The rows of `qs` (a WorkflowModel's) that were in one of `states` at the instant `at`, annotated with
    `state_then`: created (`born`) before `at`, and the state their last timeline entry before `at` left is one of
    `states` — so the answer for a past instant does not change afterwards. A row can only have been in such a
    state then if it is in one now or its state changed at or after `at`: the timeline is read for those alone. A
    row without any entry before `at` (written without its timeline) counts in its workflow's first state."""
    from django.db.models import Q, Subquery, Value
    from django.db.models.functions import Coalesce

    states = list(states)
    model = qs.model
    state_then = Coalesce(Subquery(timeline_before(model, at).values("to_state")[:1]), Value(model.workflow.initial))
    return (qs.filter(**{f"{born}__lt": at}).filter(Q(state__in=states) | Q(state_changed_at__gte=at))
            .annotate(state_then=state_then).filter(state_then__in=states))


def timeline_shown(subject: Any, *, extra_actions: dict | None = None) -> list[dict]:
    """The subject's timeline as a page shows it, in the page's language: each step by the name its workflow gives
    it (or `extra_actions`' name for steps that are no transition), the state it led to by its label, who took it
    by display name (the account's name, its stored login only when it has none; "系统" for the system). Two
    queries: the entries and their actors."""
    from django.contrib.auth import get_user_model
    from django.utils.translation import gettext

    from cityops.core.models import state_label_for

    entries = list(timeline_for(subject))
    workflow = getattr(subject, "workflow", None)
    labels = {t.action: t.label for t in workflow.transitions} if workflow else {}
    labels.update(extra_actions or {})
    names = dict(get_user_model().objects.filter(pk__in={e.actor_id for e in entries if e.actor_id})
                 .values_list("pk", "first_name"))
    shown = []
    for e in entries:
        label = labels.get(e.action)
        shown.append({
            "at": e.at, "action": gettext(str(label)) if label else e.action, "note": e.note, "params": e.params or {},
            "actor": (names.get(e.actor_id) or e.actor_name) if e.actor_id else gettext("系统"),
            "state": state_label_for(workflow, e.to_state) if e.to_state and e.to_state != e.from_state else "",
        })
    return shown
