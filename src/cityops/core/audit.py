"""`cityops audit verify`: what the timeline promises, checked (DESIGN.md "The timeline"; docs/security.md).

1. Every chain recomputed: each entry's hash over its content and the previous hash, seq without gaps, the
   head at the last entry.
2. Every workflow object held to its chain: the row's state and version equal the last entry's to_state and
   version; an object without a chain, or a chain without its object (unless its last entry records the
   deletion), is reported.
3. Every chain held to its last keyed checkpoint (core.checkpoint): the entry at the signed seq still has the
   signed hash, and the chain is at least that long — so a rewrite with recomputed hashes, a rewound head or a
   deleted chain shows, unless whoever did it also holds the key.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from django.db import connection, transaction

from cityops.core.checkpoint import Signed, checkpoint_path, checkpoints_read
from cityops.core.models import TimelineEntry, TimelineHead
from cityops.core.timeline import ENTRY_COLUMNS, entry_hash, workflow_labels

# The last entry of the chain of an object that is gone must say so (iot.services.device_delete, the admin).
DELETIONS = frozenset({"delete", "reference_delete"})


@dataclass(frozen=True)
class AuditProblem:
    subject_type: str
    subject_id: str
    seq: int | None
    # edited | deleted | missing_head | mismatch | no_chain | orphan_chain | rewritten | rewound | checkpoint
    kind: str
    detail: str

    def __str__(self) -> str:
        where = f"{self.subject_type}:{self.subject_id}" + (f"#{self.seq}" if self.seq is not None else "")
        return f"{where} {self.kind}: {self.detail}"


@dataclass
class AuditReport:
    checked: int  # entries
    objects: int  # workflow object rows
    problems: list[AuditProblem]
    signed: Signed | None  # the checkpoints the chains were held to; None: none were


def audit_verify(*, subject_type: str | None = None, checkpoints: Path | bool = True) -> tuple[int, list[AuditProblem]]:
    """(entries checked, problems) of `audit_run`."""
    report = audit_run(subject_type=subject_type, checkpoints=checkpoints)
    return report.checked, report.problems


def audit_run(*, subject_type: str | None = None, checkpoints: Path | bool = True, chunk_size: int = 20000) -> AuditReport:
    """Verify the timeline (all of it, or one subject type). `checkpoints`: True for the configured checkpoint
    file when it exists, a path for another copy of it (the one shipped off the host), False for none."""
    signed = _read_checkpoints(checkpoints, subject_type)  # before the snapshot: it signs what was committed
    snapshot = connection.vendor == "postgresql" and not connection.in_atomic_block
    with transaction.atomic():
        if snapshot:
            # One snapshot for heads, entries and objects: appends while the check runs are not "mismatches".
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        return _verify(subject_type, signed, chunk_size)


def _read_checkpoints(checkpoints: Path | bool, subject_type: str | None) -> Signed | None:
    if checkpoints is False:
        return None
    path = checkpoint_path() if checkpoints is True else Path(checkpoints)
    if path is None or (checkpoints is True and not path.exists()):
        return None
    return checkpoints_read(path, subject_type=subject_type)


def _verify(subject_type: str | None, signed: Signed | None, chunk_size: int) -> AuditReport:
    problems: list[AuditProblem] = []
    add = problems.append
    heads_qs = TimelineHead.objects.values_list("subject_type", "subject_id", "seq", "hash")
    entries = TimelineEntry.objects.values_list(*ENTRY_COLUMNS).order_by("subject_type", "subject_id", "seq")
    if subject_type:
        heads_qs = heads_qs.filter(subject_type=subject_type)
        entries = entries.filter(subject_type=subject_type)
    heads = {(t, i): (seq, digest) for t, i, seq, digest in heads_qs.iterator(chunk_size=chunk_size)}
    to_sign = dict(signed.heads) if signed is not None else {}
    if signed is not None:
        for line, what in signed.file_problems:
            add(AuditProblem("checkpoint", str(signed.path), line, "checkpoint", what))
        for key, seq, what in signed.conflicts:
            add(AuditProblem(*key, seq, "rewound", what))
    workflow_types = workflow_labels()
    last_of: dict[tuple[str, str], tuple] = {}  # workflow chains: key → (seq, to_state, version, action)

    key = None
    expected, prev_hash, checked = 1, "", 0
    sign_seq, sign_hash, sign_line = 0, "", 0
    last = None

    def close(key, last):
        head = heads.pop(key, None)
        last_seq, last_hash = expected - 1, prev_hash
        if head is None:
            add(AuditProblem(*key, None, "missing_head", "chain has no head record"))
        elif head != (last_seq, last_hash):
            add(AuditProblem(*key, head[0], "deleted", f"head expects #{head[0]}, last stored is #{last_seq}"))
        if sign_seq > last_seq:
            add(AuditProblem(*key, sign_seq, "rewound",
                             f"checkpoint line {sign_line} signed #{sign_seq}, the chain ends at #{last_seq}"))
        if key[0] in workflow_types:
            last_of[key] = (last_seq, last[8], last[13], last[6])

    for row in entries.iterator(chunk_size=chunk_size):
        checked += 1
        st, sid, seq = row[0], row[1], row[2]
        if key is None or sid != key[1] or st != key[0]:
            if key is not None:
                close(key, last)
            key, expected, prev_hash = (st, sid), 1, ""
            sign_seq, sign_hash, sign_line = to_sign.pop(key, (0, "", 0))
        digest = row[12]
        if seq != expected:
            add(AuditProblem(*key, expected, "deleted", f"entries #{expected}..#{seq - 1} missing"))
        elif row[11] != prev_hash:
            add(AuditProblem(*key, seq, "edited", "link to the previous entry is broken"))
        computed = entry_hash(
            subject_type=st, subject_id=sid, seq=seq, at=row[3], actor_id=row[4], actor_name=row[5], action=row[6],
            from_state=row[7], to_state=row[8], note=row[9], params=row[10], prev_hash=row[11], version=row[13],
        )
        if computed != digest:
            add(AuditProblem(*key, seq, "edited", "content does not match its hash"))
        if seq == sign_seq and digest != sign_hash:
            add(AuditProblem(*key, seq, "rewritten",
                             f"differs from the entry signed at checkpoint line {sign_line} (hashes recomputed?)"))
        expected, prev_hash, last = seq + 1, digest, row
    if key is not None:
        close(key, last)
    for key, (seq, _digest) in heads.items():
        if seq > 0:
            add(AuditProblem(*key, None, "deleted", f"all {seq} entries are gone"))
    for key, (seq, _digest, line) in to_sign.items():
        if key not in heads:
            add(AuditProblem(*key, seq, "deleted", f"the whole chain is gone (checkpoint line {line} signed #{seq})"))
    objects = _check_objects(subject_type, last_of, add, chunk_size)
    return AuditReport(checked=checked, objects=objects, problems=problems, signed=signed)


def _check_objects(subject_type: str | None, last_of: dict, add, chunk_size: int) -> int:
    """Each workflow object's (state, version) against its chain's last entry; what is left over either way."""
    from cityops.core.workflow import workflow_models

    count = 0
    for model in workflow_models():
        label = model._meta.label_lower
        if subject_type and label != subject_type:
            continue
        for pk, state, version in model._base_manager.values_list("pk", "state", "version").iterator(chunk_size=chunk_size):
            count += 1
            key = (label, str(pk))
            last = last_of.pop(key, None)
            if last is None:
                add(AuditProblem(*key, None, "no_chain", f"the object (state {state}, version {version}) has no timeline"))
                continue
            seq, to_state, entry_version, _action = last
            if to_state != state or (entry_version is not None and entry_version != version):
                add(AuditProblem(*key, seq, "mismatch", f"the row says state {state}, version {version}; its last "
                                                        f"entry says state {to_state}, version {entry_version}"))
    for key, (seq, _to_state, _version, action) in last_of.items():
        if action not in DELETIONS:
            add(AuditProblem(*key, seq, "orphan_chain", "the object is gone, and its timeline does not record a deletion"))
    return count
