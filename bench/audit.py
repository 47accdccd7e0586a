"""`cityops audit verify` over 1,000,000 timeline entries on PostgreSQL (issue 10 §5, Proof: < 60 s).

1. Fills a scratch database (default `cityops_bench_audit`) with sample tickets (the engine's test workflow) and
   their timelines — 8 entries per ticket, hashes and versions computed exactly as timeline_append computes
   them, so the chains verify — with COPY; once: later runs reuse it (--refill to rebuild).
2. Signs every head (`audit checkpoint --full`, timed), then times `audit verify` held to that checkpoint:
   every entry's hash recomputed, every ticket compared with its chain's last entry, every chain with its
   signed head. Prints the time and the ratio to the 60 s target.

    .venv/bin/python bench/audit.py [--entries 1000000] [--pg postgres://postgres@127.0.0.1:5432] [--refill]
"""

from __future__ import annotations

import argparse
import io
import json
import os
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

TARGET_S = 60.0
PER_TICKET = 8
START = datetime(2026, 1, 5, 0, 30, tzinfo=UTC)
# (action, from, to): every ticket walks the same eight steps; its version after step k is k.
STEPS = [("create", "", "new"), ("open", "new", "open"), ("pause", "open", "paused"), ("resume", "paused", "open"),
         ("extend", "open", "open"), ("finish", "open", "done"), ("reopen", "done", "open"), ("finish", "open", "done")]


def setup_django(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ["DJANGO_SETTINGS_MODULE"] = "cityops.settings_test"  # the sample ticket workflow is installed there
    os.environ.setdefault("CITYOPS_LOG_LEVEL", "WARNING")
    os.environ.setdefault("CITYOPS_AUDIT_KEY", "bench-audit-key-" + "0" * 32)
    import django

    django.setup()


def ensure_database(server: str, name: str, *, fresh: bool) -> str:
    import psycopg

    with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
        if fresh:  # the timeline cannot be emptied (no DELETE, no TRUNCATE): a new database
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')
    return f"{server}/{name}"


def _text(v) -> str:
    if v is None:
        return "\\N"
    if v is True:
        return "t"
    if v is False:
        return "f"
    return str(v).replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")


def fill(tickets: int) -> int:
    from django.core.management import call_command
    from django.db import connection

    from cityops.core.timeline import ENTRY_COLUMNS, entry_fields

    call_command("migrate", verbosity=0)
    started = time.monotonic()
    entry_cols = list(ENTRY_COLUMNS)
    ticket_cols = ["id", "state", "state_changed_at", "version", "deadline_at", "clock_mode", "clock_limit_s",
                   "clock_used_s", "clock_started_at", "clock_paused_at", "overdue", "escalation_level", "title",
                   "extensions", "result"]
    n_entries = 0
    with connection.cursor() as cursor:
        raw = cursor.connection

        def copy(table, cols, buf):
            with raw.cursor() as cur, cur.copy(f"COPY {table} ({', '.join(cols)}) FROM STDIN") as cp:
                cp.write(buf.getvalue())

        t_buf, e_buf, h_buf = io.StringIO(), io.StringIO(), io.StringIO()
        for i in range(1, tickets + 1):
            at = START + timedelta(seconds=i * 3.7)
            prev = ""
            for seq, (action, frm, to) in enumerate(STEPS, start=1):
                at = at + timedelta(minutes=seq * 7, microseconds=i % 997)
                params = {"deadline_at": (at + timedelta(hours=8)).isoformat()} if to == "open" else {}
                if action == "extend":
                    params["extra_hours"] = 2
                if action == "finish":
                    params["result"] = "已处理"
                fields = entry_fields(subject_type="sample.ticket", subject_id=str(i), seq=seq, at=at, actor=None,
                                      actor_name="bench" if seq % 2 else "system:sweep", action=action,
                                      from_state=frm, to_state=to, note="" if seq % 3 else f"第 {seq} 步说明",
                                      params=params, prev_hash=prev, version=seq - 1)
                prev = fields["hash"]
                row = [fields[c] for c in entry_cols]
                row[3] = at.isoformat()
                row[10] = json.dumps(fields["params"], ensure_ascii=False)
                e_buf.write("\t".join(_text(v) for v in row) + "\n")
            n_entries += len(STEPS)
            h_buf.write(f"sample.ticket\t{i}\t{len(STEPS)}\t{prev}\n")
            values = {"id": i, "state": STEPS[-1][2], "state_changed_at": at.isoformat(), "version": len(STEPS) - 1,
                      "deadline_at": None, "clock_mode": "calendar", "clock_limit_s": 172800.0, "clock_used_s": 0.0,
                      "clock_started_at": at.isoformat(), "clock_paused_at": None, "overdue": False,
                      "escalation_level": 0, "title": f"bench {i}", "extensions": 1, "result": "已处理"}
            t_buf.write("\t".join(_text(values[c]) for c in ticket_cols) + "\n")
            if i % 25_000 == 0 or i == tickets:
                copy("sample_ticket", ticket_cols, t_buf)
                copy("core_timelineentry", entry_cols, e_buf)
                copy("core_timelinehead", ["subject_type", "subject_id", "seq", "hash"], h_buf)
                t_buf, e_buf, h_buf = io.StringIO(), io.StringIO(), io.StringIO()
                print(f"  {i:>9,} tickets, {n_entries:,} entries ({time.monotonic() - started:.0f}s)", flush=True)
        cursor.execute("SELECT setval(pg_get_serial_sequence('sample_ticket', 'id'), %s)", [tickets])
        cursor.execute("ANALYZE sample_ticket")
        cursor.execute("ANALYZE core_timelineentry")
        cursor.execute("ANALYZE core_timelinehead")
    print(f"filled {tickets:,} tickets and {n_entries:,} timeline entries in {time.monotonic() - started:.0f}s",
          flush=True)
    return n_entries


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--pg", default="postgres://postgres@127.0.0.1:5432")
    parser.add_argument("--db", default="cityops_bench_audit")
    parser.add_argument("--refill", action="store_true")
    args = parser.parse_args()
    tickets = -(-args.entries // PER_TICKET)
    url = ensure_database(args.pg, args.db, fresh=args.refill)
    setup_django(url)
    from django.core.management import call_command
    from django.db import connection

    from cityops.core.checkpoint import checkpoint_write
    from cityops.core.models import TimelineEntry

    try:
        have = TimelineEntry.objects.count()
    except Exception:
        have = 0
    if have != tickets * PER_TICKET:
        if have:
            connection.close()
            print(f"{args.db} holds {have:,} entries, not {tickets * PER_TICKET:,}: rebuilding it", flush=True)
            url = ensure_database(args.pg, args.db, fresh=True)
        print(f"filling {args.db} with {tickets:,} tickets …", flush=True)
        fill(tickets)
    with connection.cursor() as c:
        c.execute("SELECT pg_size_pretty(pg_total_relation_size('core_timelineentry'))")
        size = c.fetchone()[0]
    print(f"database: {TimelineEntry.objects.count():,} timeline entries ({size}), {tickets:,} tickets")

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "checkpoints.jsonl"
        t0 = time.perf_counter()
        written = checkpoint_write(path=path, full=True)
        sign_s = time.perf_counter() - t0
        print(f"audit checkpoint --full: {written.heads:,} heads in {written.lines} lines, {sign_s:.1f} s "
              f"({path.stat().st_size / 1e6:.1f} MB)")
        t0 = time.perf_counter()
        call_command("audit", "verify", "--checkpoints", str(path))
        verify_s = time.perf_counter() - t0
    print(f"audit verify: {verify_s:.1f} s for {TimelineEntry.objects.count():,} entries "
          f"({TimelineEntry.objects.count() / verify_s:,.0f}/s) — target < {TARGET_S:.0f} s → "
          f"{'OK' if verify_s < TARGET_S else 'MISSED'} (ratio {verify_s / TARGET_S:.2f} of the target)")


if __name__ == "__main__":
    main()
