"""Batched writes of readings and rollups: the hot path of ingestion (DESIGN.md: PostgreSQL inserts are
bound by commit flushes — one transaction per batch; COPY ≫ executemany ≫ ORM bulk_create).

PostgreSQL: COPY the batch into a session-local staging table, then one
`INSERT … SELECT … ON CONFLICT (device_id, message_id) DO NOTHING RETURNING` moves it into iot_reading.
SQLite: multi-row `INSERT … ON CONFLICT DO NOTHING RETURNING` in chunks (one writer per process anyway).
Both return exactly the rows that were new, so rollups and rules never count a duplicate.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

import psycopg
from django.db import connection

from cityops.iot.models import Device, Reading, Rollup

READING_COLUMNS = ("device_id", "metric", "value", "ts", "message_id", "received_at")
STAGE = "iot_reading_stage"
SQLITE_CHUNK = 800  # rows per statement: 6 parameters each, well under SQLite's 32,766 variables


def _q(name: str) -> str:
    return connection.ops.quote_name(name)


def uses_copy() -> bool:
    return connection.vendor == "postgresql"


def insert_readings(rows: Sequence[tuple], *, received_at: datetime, copy_text: str | None = None
                    ) -> set[tuple[int, str]] | None:
    """Insert (device_id, metric, value, ts, epoch, message_id) rows received at `received_at`; return the
    (device_id, message_id) pairs actually inserted, or None when every row was new (the common case, so
    nothing is sent back). A pair already stored is skipped: idempotent ingestion."""
    if not rows:
        return None
    if connection.vendor == "postgresql":
        return _insert_postgres(rows, received_at, copy_text)
    inserted = _insert_generic(rows, received_at)
    return None if len(inserted) == len(rows) else inserted


def copy_text(rows: Sequence[tuple]) -> str:
    """COPY text format, built in one pass (psycopg's write_row per row costs ~10× more). Metric names are
    validated identifiers; message ids come from devices, so the four characters COPY treats specially are
    escaped."""
    out = []
    for device_id, metric, value, _ts, epoch, mid in rows:
        if "\\" in mid or "\t" in mid or "\n" in mid or "\r" in mid:
            mid = mid.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
        out.append(f"{device_id}\t{metric}\t{value!r}\t{epoch!r}\t{mid}\n")
    return "".join(out)


def _insert_postgres(rows: Sequence[tuple], received_at: datetime, text: str | None) -> set[tuple[int, str]] | None:
    table = Reading._meta.db_table
    with connection.cursor() as cursor:
        raw = cursor.cursor  # the psycopg cursor: COPY is not part of the DB-API
        raw.execute(
            f"CREATE TEMP TABLE IF NOT EXISTS {STAGE} (device_id bigint, metric varchar(32), "
            "value double precision, epoch double precision, message_id varchar(64)) ON COMMIT DELETE ROWS"
        )
        raw.execute(f"TRUNCATE {STAGE}")  # ON COMMIT DELETE ROWS empties it after each batch as well
        with raw.copy(f"COPY {STAGE} (device_id, metric, value, epoch, message_id) FROM STDIN") as copy:
            copy.write(copy_text(rows) if text is None else text)
        # The common case is a batch of new readings: a plain INSERT (no speculative insertion, ~25 % less
        # work for PostgreSQL than ON CONFLICT) inside a savepoint. If any pair is already stored (a
        # redelivery after a reconnect, or another consumer), that statement fails as a whole and the
        # batch goes through ON CONFLICT DO NOTHING instead: idempotent either way.
        columns = f"INSERT INTO {table} (device_id, metric, value, ts, message_id, received_at) "
        select = f"SELECT device_id, metric, value, to_timestamp(epoch), message_id, %s FROM {STAGE}"  # noqa: S608
        raw.execute("SAVEPOINT iot_plain_insert")
        try:
            raw.execute(columns + select, [received_at])
        except psycopg.errors.UniqueViolation:
            raw.execute("ROLLBACK TO SAVEPOINT iot_plain_insert")
        else:
            raw.execute("RELEASE SAVEPOINT iot_plain_insert")
            return None
        raw.execute(
            f"WITH ins AS ({columns}{select} "  # noqa: S608
            "ON CONFLICT (device_id, message_id) DO NOTHING RETURNING 1) SELECT count(*) FROM ins",
            [received_at],
        )
        count = raw.fetchone()[0]
        inserted = None
        if count != len(rows):
            # Some were stored before: the new ones are those stamped with this batch's receive time.
            raw.execute(
                f"SELECT r.device_id, r.message_id FROM {STAGE} s JOIN {table} r "  # noqa: S608
                "ON r.device_id = s.device_id AND r.message_id = s.message_id WHERE r.received_at = %s",
                [received_at],
            )
            inserted = {(r[0], r[1]) for r in raw.fetchall()}
    return inserted


def _insert_generic(rows: Sequence[tuple], received_at: datetime) -> set[tuple[int, str]]:
    table = _q(Reading._meta.db_table)
    cols = ", ".join(READING_COLUMNS)
    adapt = connection.ops.adapt_datetimefield_value
    inserted: set[tuple[int, str]] = set()
    with connection.cursor() as cursor:
        for start in range(0, len(rows), SQLITE_CHUNK):
            chunk = rows[start : start + SQLITE_CHUNK]
            params: list = []
            received = adapt(received_at)
            for device_id, metric, value, ts, _epoch, message_id in chunk:
                params += (device_id, metric, value, adapt(ts), message_id, received)
            values = ", ".join(["(%s, %s, %s, %s, %s, %s)"] * len(chunk))
            cursor.execute(
                f"INSERT INTO {table} ({cols}) VALUES {values} "  # noqa: S608 - placeholders only
                "ON CONFLICT (device_id, message_id) DO NOTHING RETURNING device_id, message_id",
                params,
            )
            inserted.update((r[0], r[1]) for r in cursor.fetchall())
    return inserted


def upsert_rollups(buckets: dict[tuple[int, str, str, datetime], list[float]]) -> None:
    """Add [count, sum, min, max] to each (device_id, metric, period, start) bucket. Sorted, so that two
    consumers writing the same buckets lock them in the same order (no deadlock)."""
    if not buckets:
        return
    table = _q(Rollup._meta.db_table)
    c, s, lo, hi = (_q(n) for n in ("count", "sum", "min", "max"))
    least, greatest = ("LEAST", "GREATEST") if connection.vendor == "postgresql" else ("MIN", "MAX")
    adapt = connection.ops.adapt_datetimefield_value
    items = sorted(buckets.items(), key=lambda kv: (kv[0][0], kv[0][1], kv[0][2], kv[0][3]))
    with connection.cursor() as cursor:
        for start in range(0, len(items), SQLITE_CHUNK):
            chunk = items[start : start + SQLITE_CHUNK]
            params: list = []
            for (device_id, metric, period, bucket), (count, total, vmin, vmax) in chunk:
                params += (device_id, metric, period, adapt(bucket), int(count), total, vmin, vmax)
            values = ", ".join(["(%s, %s, %s, %s, %s, %s, %s, %s)"] * len(chunk))
            cursor.execute(
                f"INSERT INTO {table} AS t (device_id, metric, period, start, {c}, {s}, {lo}, {hi}) "  # noqa: S608
                f"VALUES {values} ON CONFLICT (device_id, metric, period, start) DO UPDATE SET "
                f"{c} = t.{c} + excluded.{c}, {s} = t.{s} + excluded.{s}, "
                f"{lo} = {least}(t.{lo}, excluded.{lo}), {hi} = {greatest}(t.{hi}, excluded.{hi})",
                params,
            )


def touch_devices(last_seen: Iterable[tuple[int, datetime]]) -> None:
    """Record when devices last reported (and that they are online, unless in maintenance)."""
    rows = [(ts, device_id) for device_id, ts in last_seen]
    if not rows:
        return
    table = _q(Device._meta.db_table)
    adapt = connection.ops.adapt_datetimefield_value
    with connection.cursor() as cursor:
        cursor.executemany(
            f"UPDATE {table} SET last_seen_at = %s, status = CASE WHEN status = 'maintenance' "  # noqa: S608
            "THEN status ELSE 'online' END WHERE id = %s",
            [(adapt(ts), device_id) for ts, device_id in rows],
        )
