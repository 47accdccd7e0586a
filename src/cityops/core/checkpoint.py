"""Keyed checkpoints of the timeline heads (DESIGN.md "The timeline"; docs/security.md).

The hash chains show that a subject's entries fit together, but whoever can write the database can rewrite an
entry and recompute every hash after it (the chain holds no secret), rewind a head over a deleted tail, or drop
a whole chain. A checkpoint signs the heads — (subject, seq, hash) — with HMAC-SHA256 under a key kept outside
the database, and appends them to a JSON-lines file the city ships off the host; `cityops audit verify` then
holds each chain to the last head signed for it.

One line of the file, one JSON object:
    {"v": 1, "n": line number from 1, "at": time written (UTC), "key": key id, "prev": MAC of line n-1 ("" on
     line 1), "full": bool, "after": entry id, "upto": entry id, "end": last line of its run, "mark": [entry
     id, time] (PostgreSQL), "heads": [[subject_type, subject_id, seq, hash], …], "mac": HMAC of the rest}
Each line's MAC covers the MAC of the line before, so an edited, removed or reordered line breaks the chain of
lines; a removed *tail* does not (ship the file elsewhere as it grows).

A run signs the heads of the subjects that have an entry with an id in (after, upto] — every head when `full`
(the first run of a file, or `cityops audit checkpoint --full`) — in lines of at most PART heads. `upto` is an
id below which no transaction can still be writing: on PostgreSQL, entry ids are taken from a sequence before
their transaction commits, so a run records a mark (the sequence's last value and the database clock) and a
later run covers up to the newest mark older than every transaction still open; SQLite has one writer, so
`upto` is the last id it can read.
"""

from __future__ import annotations

import fcntl
import hashlib
import hmac
import json
import logging
import os
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.utils import timezone

FORMAT = 1
PART = 5000  # heads per line
KEY_MIN_BYTES = 32
STALL_WARNING = timedelta(minutes=10)  # a transaction open this long holds the checkpoints back: say so

logger = logging.getLogger(__name__)


class CheckpointError(Exception):
    """The checkpoint file cannot be extended (its last line is torn or not ours): someone must look."""


def audit_key() -> bytes:
    """The checkpoint key: CITYOPS_AUDIT_KEY, or the contents of CITYOPS_AUDIT_KEY_FILE — never the database.
    Development without either derives one from SECRET_KEY (checkpoints that prove nothing against whoever
    knows the settings); production refuses."""
    text, path = settings.CITYOPS_AUDIT_KEY, settings.CITYOPS_AUDIT_KEY_FILE
    if text and path:
        raise ImproperlyConfigured("CITYOPS_AUDIT_KEY 与 CITYOPS_AUDIT_KEY_FILE 只能设置一个 / "
                                   "set CITYOPS_AUDIT_KEY or CITYOPS_AUDIT_KEY_FILE, not both")
    if path:
        try:
            key = Path(path).read_bytes().strip()
        except OSError as exc:
            raise ImproperlyConfigured(f"无法读取审计密钥文件 / cannot read CITYOPS_AUDIT_KEY_FILE {path}: {exc}") from exc
    else:
        key = text.encode()
    if key:
        if len(key) < KEY_MIN_BYTES:
            raise ImproperlyConfigured(f"审计密钥至少 {KEY_MIN_BYTES} 字节 / the audit key needs at least {KEY_MIN_BYTES} bytes")
        return key
    if settings.PRODUCTION:
        raise ImproperlyConfigured(
            "生产模式需要审计检查点密钥 CITYOPS_AUDIT_KEY 或 CITYOPS_AUDIT_KEY_FILE / production mode needs an "
            "audit checkpoint key: CITYOPS_AUDIT_KEY or CITYOPS_AUDIT_KEY_FILE (e.g. `openssl rand -hex 32`)"
        )
    return hmac.new(settings.SECRET_KEY.encode(), b"cityops audit checkpoint key (development)", hashlib.sha256).digest()


def key_id(key: bytes) -> str:
    """Names the key in each line (so a line signed under another key is told apart); reveals nothing of it."""
    return hashlib.sha256(b"cityops audit key id:" + key).hexdigest()[:16]


def checkpoint_path() -> Path | None:
    """The configured checkpoint file; None when checkpoints are switched off (an empty setting: tests)."""
    path = settings.CITYOPS_AUDIT_CHECKPOINT_FILE
    if not path:
        if settings.PRODUCTION:
            raise ImproperlyConfigured("生产模式不能关闭审计检查点 / production mode needs CITYOPS_AUDIT_CHECKPOINT_FILE")
        return None
    return Path(path)


def ensure_checkpoints_configured() -> None:
    """Raise ImproperlyConfigured now, rather than at the first checkpoint, when a process that signs
    checkpoints (the worker running the scheduler) lacks the key or the file."""
    if checkpoint_path() is not None:
        audit_key()


def _mac(key: bytes, record: dict) -> str:
    body = json.dumps({k: v for k, v in record.items() if k != "mac"}, sort_keys=True, ensure_ascii=False,
                      separators=(",", ":"))
    return hmac.new(key, body.encode(), hashlib.sha256).hexdigest()


# --- writing ----------------------------------------------------------------------------------------------
def _last_line(fd: int) -> bytes | None:
    """The file's last line (without its newline), read backwards from the end."""
    size = os.lseek(fd, 0, os.SEEK_END)
    if size == 0:
        return None
    tail, pos = b"", size
    while pos > 0:
        step = min(65536, pos)
        pos -= step
        tail = os.pread(fd, step, pos) + tail
        if tail.count(b"\n") >= 2 or pos == 0:
            break
    if not tail.endswith(b"\n"):
        raise CheckpointError("检查点文件最后一行不完整 / the checkpoint file's last line is torn (a crash while writing?)")
    return tail[:-1].rsplit(b"\n", 1)[-1]


def _settled_upto(after: int, last: dict | None) -> tuple[int, list | None]:
    """(upto, mark): the highest entry id no open transaction can still be writing below, and this run's mark."""
    with connection.cursor() as cursor:
        if connection.vendor != "postgresql":
            cursor.execute("SELECT COALESCE(MAX(id), 0) FROM core_timelineentry")
            last_id = cursor.fetchone()[0]
            _warn_if_behind(last_id, after)
            return max(after, last_id), None
        cursor.execute("SELECT COALESCE(pg_sequence_last_value(pg_get_serial_sequence('core_timelineentry', 'id')"
                       "::regclass), 0), clock_timestamp()")
        last_id, now = cursor.fetchone()
        _warn_if_behind(last_id, after)
        # Every id up to last_id was taken by a transaction that had begun by now; the oldest one still open
        # tells which of the marks is safe.
        cursor.execute("SELECT MIN(xact_start) FROM pg_stat_activity WHERE datname = current_database() "
                       "AND pid <> pg_backend_pid() AND xact_start IS NOT NULL")
        oldest_open = cursor.fetchone()[0]
    mark = [last_id, now.isoformat()]
    if oldest_open is None:
        return max(after, last_id), mark
    previous = (last or {}).get("mark")
    if previous and datetime.fromisoformat(previous[1]) < oldest_open:
        return max(after, previous[0]), mark
    if now - oldest_open > STALL_WARNING:
        logger.warning("audit checkpoints held back since %s by a transaction open for %s", oldest_open, now - oldest_open)
    return after, mark


def _warn_if_behind(last_id: int, after: int) -> None:
    if last_id < after:
        logger.warning("the timeline's last entry id %s is below %s, where the checkpoint file left off: a restored or "
                       "replaced database? `audit verify` will say what is missing; start a new checkpoint file once "
                       "it has been looked into", last_id, after)


_CHANGED_HEADS = (
    "SELECT h.subject_type, h.subject_id, h.seq, h.hash FROM core_timelinehead h "
    "JOIN (SELECT DISTINCT subject_type, subject_id FROM core_timelineentry WHERE id > %s AND id <= %s) c "
    "ON c.subject_type = h.subject_type AND c.subject_id = h.subject_id WHERE h.seq > 0 "
    "ORDER BY h.subject_type, h.subject_id"
)
_ALL_HEADS = ("SELECT subject_type, subject_id, seq, hash FROM core_timelinehead WHERE seq > 0 "
              "ORDER BY subject_type, subject_id")


@dataclass
class Written:
    lines: int
    heads: int
    after: int
    upto: int
    full: bool


def checkpoint_write(*, path: Path | None = None, full: bool = False) -> Written | None:
    """Sign the heads changed since the last run and append them to the checkpoint file (under an exclusive
    lock: one writer at a time per file). Returns None when checkpoints are off or nothing changed.
    Refuses (CheckpointError) to extend a file whose last line is torn or fails its MAC."""
    path = path or checkpoint_path()
    if path is None:
        return None
    key = audit_key()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o640)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        raw = _last_line(fd)
        last = json.loads(raw) if raw is not None else None
        if last is not None and (last.get("key") != key_id(key) or not hmac.compare_digest(last.get("mac", ""), _mac(key, last))):
            raise CheckpointError(f"检查点文件最后一行校验失败 / the last line of {path} fails its MAC (other key or edited)")
        full = full or last is None
        after = 0 if full else (last["upto"] if last["end"] else last["after"])
        upto, mark = _settled_upto(after, last)
        if upto <= after and not full:
            return None
        with connection.cursor() as cursor:
            cursor.execute(_ALL_HEADS if full else _CHANGED_HEADS, [] if full else [after, upto])
            heads = [list(row) for row in cursor.fetchall()]
        n, prev = (last["n"], last["mac"]) if last else (0, "")
        at = timezone.now().astimezone(UTC).isoformat()
        parts = [heads[i:i + PART] for i in range(0, len(heads), PART)] or [[]]
        out = []
        for i, part in enumerate(parts):
            n += 1
            record = {"v": FORMAT, "n": n, "at": at, "key": key_id(key), "prev": prev, "full": full,
                      "after": after, "upto": upto, "end": i == len(parts) - 1, "mark": mark, "heads": part}
            record["mac"] = prev = _mac(key, record)
            out.append(json.dumps(record, ensure_ascii=False, separators=(",", ":")))
        os.write(fd, ("\n".join(out) + "\n").encode())  # one append: the run's lines land together
        os.fsync(fd)
        return Written(lines=len(out), heads=len(heads), after=after, upto=upto, full=full)
    finally:
        os.close(fd)  # releases the lock


# --- reading ----------------------------------------------------------------------------------------------
@dataclass
class Signed:
    """What a checkpoint file says: the last signed head of each subject, and what is wrong with the file."""

    path: Path
    heads: dict[tuple[str, str], tuple[int, str, int]] = field(default_factory=dict)  # → (seq, hash, line)
    file_problems: list[tuple[int, str]] = field(default_factory=list)  # (line, what)
    # A subject whose signed head went back, or changed its hash at the same seq, between two lines.
    conflicts: list[tuple[tuple[str, str], int, str]] = field(default_factory=list)
    lines: int = 0
    last_at: str = ""


def checkpoints_read(path: Path, *, key: bytes | None = None, subject_type: str | None = None) -> Signed:
    """Check every line's MAC and its link to the line before, and merge the heads they sign (later lines
    win). Lines that fail are reported and not used."""
    key = key or audit_key()
    kid = key_id(key)
    signed = Signed(path=path)
    prev_mac, expected_n = "", 1
    with open(path, "rb") as f:
        for number, raw in enumerate(f, start=1):
            signed.lines = number
            if not raw.endswith(b"\n"):
                signed.file_problems.append((number, "torn line (no end of line)"))
            try:
                record = json.loads(raw)
                mac = record["mac"]
            except (ValueError, TypeError, KeyError):
                signed.file_problems.append((number, "not a checkpoint line"))
                prev_mac, expected_n = "", number + 1
                continue
            if record.get("key") != kid:
                signed.file_problems.append((number, f"signed with another key (id {record.get('key')}), not checked"))
            elif not hmac.compare_digest(str(mac), _mac(key, record)):
                signed.file_problems.append((number, "MAC does not match: the line was edited"))
            else:
                if record.get("prev") != prev_mac or record.get("n") != expected_n:
                    signed.file_problems.append((number, "does not follow the line before: a line was removed, "
                                                         "reordered or inserted"))
                _merge(signed, record, number, subject_type)
            prev_mac, expected_n = str(mac), (record.get("n") or number) + 1
    return signed


def _merge(signed: Signed, record: dict, number: int, subject_type: str | None) -> None:
    signed.last_at = record.get("at", "")
    heads = signed.heads
    for subject_type_, subject_id, seq, digest in record.get("heads", ()):
        if subject_type and subject_type_ != subject_type:
            continue
        key = (subject_type_, subject_id)
        before = heads.get(key)
        if before is not None and (seq < before[0] or (seq == before[0] and digest != before[1])):
            signed.conflicts.append((key, seq, f"line {number} signs #{seq} after line {before[2]} signed #{before[0]}"))
            if seq < before[0]:
                continue  # hold the chain to the longer signed head
        heads[key] = (seq, digest, number)
