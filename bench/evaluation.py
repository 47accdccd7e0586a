"""Evaluation and queue benchmark over 1,000,000 cases on PostgreSQL (issue 3, Proof).

1. Fills a scratch database (default `cityops_bench_eval`) with N cases spread over 12 months and their
   timelines (~8 entries per case) with COPY — once; later runs reuse it (--refill to rebuild).
2. Times `evaluate_departments` for one month (target < 2 s) and the other evaluations.
3. Times the department queue — the first page (50, by deadline) and its count, through the selector and
   through GET /api/v1/cases in-process — p95 over many requests (target < 150 ms).

    .venv/bin/python bench/evaluation.py [--cases 1000000] [--pg postgres://postgres@127.0.0.1:5432] [--refill]

The rows are synthetic (timeline hashes are placeholders: `cityops audit verify` would flag them; this
database is for measurement only).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import statistics
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

DISTRICTS = ["420102", "420103", "420104", "420105", "420106", "420107", "420111", "420112", "420113",
             "420114", "420115", "420116", "420117"]
END = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
DAYS = 365


def setup_django(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cityops.settings")
    os.environ.setdefault("CITYOPS_LOG_LEVEL", "WARNING")
    import django

    django.setup()


def ensure_database(server: str, name: str) -> str:
    import psycopg

    with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')
    return f"{server}/{name}"


def fill(n: int, seed: int = 42) -> None:
    from django.core.management import call_command
    from django.db import connection

    from cityops.accounts.demo import load_departments, load_roles
    from cityops.accounts.models import OrgUnit, User
    from cityops.cases.demo import load_categories
    from cityops.cases.models import Case, Category

    call_command("migrate", verbosity=0)
    load_roles()
    load_departments()
    load_categories()
    with connection.cursor() as c:
        c.execute("TRUNCATE cases_case, cases_casetask, cases_casephoto, cases_consultation CASCADE")
        # The timeline is append-only (core migration 0004): its triggers refuse DELETE, and TRUNCATE unless a
        # superuser or the tables' owner asks for it in the session — as this scratch database's owner does.
        c.execute("SET cityops.allow_timeline_truncate = on")
        c.execute("TRUNCATE core_timelineentry, core_timelinehead")
        c.execute("RESET cityops.allow_timeline_truncate")
    rng = random.Random(seed)
    cats = list(Category.objects.all())
    depts = {u.code: u.pk for u in OrgUnit.objects.filter(kind="department")}
    dept_codes = list(depts)
    users = {}
    for name in ("bench_operator", "bench_dispatcher", "bench_shiftlead", "bench_grid", "bench_dept"):
        users[name] = User.objects.get_or_create(username=name)[0].pk
    case_cols = [f.column for f in Case._meta.concrete_fields]
    # Columns added to Case after this script was written get their model default (not null, no value here).
    defaults = {f.column: f.get_default() for f in Case._meta.concrete_fields}
    tl_cols = ["subject_type", "subject_id", "seq", "at", "actor_id", "actor_name", "action", "from_state",
               "to_state", "note", "params", "prev_hash", "hash"]
    fake_hash = "0" * 64

    def ts(d: datetime) -> str:
        return d.isoformat()

    started = time.monotonic()
    case_buf, tl_buf = io.StringIO(), io.StringIO()
    n_entries = 0
    with connection.cursor() as cursor:
        raw = cursor.connection

        def flush(final=False):
            nonlocal case_buf, tl_buf
            if case_buf.tell() > 8_000_000 or final:
                with raw.cursor() as cur, cur.copy(f"COPY cases_case ({', '.join(case_cols)}) FROM STDIN") as cp:
                    cp.write(case_buf.getvalue())
                case_buf = io.StringIO()
            if tl_buf.tell() > 32_000_000 or final:
                with raw.cursor() as cur, cur.copy(f"COPY core_timelineentry ({', '.join(tl_cols)}) FROM STDIN") as cp:
                    cp.write(tl_buf.getvalue())
                tl_buf = io.StringIO()

        for i in range(1, n + 1):
            cat = cats[rng.randrange(len(cats))]
            dept = cat.department_code if rng.random() < 0.94 else dept_codes[rng.randrange(len(dept_codes))]
            district = DISTRICTS[rng.randrange(len(DISTRICTS))]
            region = f"{district}{rng.randrange(1, 20):03d}{rng.randrange(1, 30):03d}{rng.randrange(1, 5):02d}"
            created = END - timedelta(seconds=rng.random() * DAYS * 86400)
            age_days = (END - created).total_seconds() / 86400
            source = rng.choice(("field", "field", "hotline", "hotline", "portal", "iot"))
            public = source in ("hotline", "portal")
            # How far the case got: old cases are mostly archived; recent ones are spread over the steps.
            steps = ["registered", "dispatched", "accepted", "handled", "verified", "closed", "archived"]
            if age_days > 10:
                depth = 7 if rng.random() < 0.93 else rng.randrange(0, 7)
            else:
                depth = rng.randrange(0, 8)
            voided = depth == 0 and rng.random() < 0.3
            t = created
            entries = []

            def add(action, frm, to, actor, params, minutes, entries=entries):
                nonlocal t
                t = t + timedelta(minutes=minutes)
                entries.append((action, frm, to, actor, params, t))

            base = {"region": region, "level": "city"}
            add("report", "", "reported", users["bench_operator"],
                {"source": source, "category": cat.code, "region": region, "public": public}, 0)
            state = "reported"
            returned = reworked = extended = False
            handled_on_time = None
            if voided:
                add("void_request", "reported", "void_requested", users["bench_operator"], {**base, "dept": ""}, 10)
                add("void_approve", "void_requested", "voided", users["bench_shiftlead"], {**base, "dept": ""}, 20)
                state = "voided"
            for k in range(depth):
                target = steps[k]
                p = {**base, "dept": dept if k >= 1 else "", "on_time": rng.random() < 0.93}
                if target == "registered":
                    add("register", state, target, users["bench_operator"],
                        {**p, "public": public, "source": source}, rng.randrange(5, 40))
                elif target == "dispatched":
                    if rng.random() < 0.04:
                        wrong = dept_codes[rng.randrange(len(dept_codes))]
                        add("dispatch", state, "dispatched", users["bench_dispatcher"], {**p, "dept": wrong}, 15)
                        add("return", "dispatched", "returned", users["bench_dept"],
                            {**p, "dept": wrong, "dispatched_by": users["bench_dispatcher"]}, 40)
                        state = "returned"
                        returned = True
                    add("dispatch", state, target, users["bench_dispatcher"], p, rng.randrange(5, 40))
                elif target == "accepted":
                    add("accept", state, target, users["bench_dept"], p, rng.randrange(10, 80))
                    if rng.random() < 0.05:
                        add("extend_request", target, "extension_requested", users["bench_dept"], p, 120)
                        add("extend_approve", "extension_requested", target, users["bench_dispatcher"], p, 30)
                        extended = True
                elif target == "handled":
                    on_time = rng.random() < 0.88
                    add("handle", state, target, users["bench_dept"], {**p, "on_time": on_time}, rng.randrange(60, 2400))
                    handled_on_time = on_time
                    if rng.random() < 0.06:
                        add("rework", target, "accepted", users["bench_grid"], p, 60)
                        add("handle", "accepted", target, users["bench_dept"], {**p, "on_time": True}, 300)
                        reworked = True
                        handled_on_time = True
                elif target == "verified":
                    add("verify", state, target, users["bench_grid"], p, rng.randrange(20, 90))
                elif target == "closed":
                    add("close", state, target, users["bench_shiftlead"],
                        {**p, "case_on_time": handled_on_time is not False}, rng.randrange(10, 60))
                elif target == "archived":
                    add("follow_up", state, target, users["bench_operator"], {**p, "satisfied": True}, 1440)
                state = target
            overdue = False
            if state in ("dispatched", "accepted") and rng.random() < 0.2:
                add("overdue", state, state, None, {"level": 1}, 600)
                overdue = True
            deadline = None if state in ("archived", "voided") else t + timedelta(hours=rng.randrange(-20, 60))
            lead = depts.get(dept) if depth >= 2 else None
            values = {
                "id": i, "state": state, "state_changed_at": ts(t), "version": len(entries) - 1,
                "deadline_at": ts(deadline) if deadline else None, "clock_mode": "work",
                "clock_limit_s": 14400.0 if deadline else None, "clock_used_s": 0.0,
                "clock_started_at": ts(t) if deadline else None, "clock_paused_at": None,
                "overdue": overdue, "escalation_level": 1 if overdue else 0,
                "code": f"{created.year}{district}{i:07d}", "source": source, "hotline_kind": "",
                "category_id": cat.pk, "lon": 114.3 + rng.random() * 0.1, "lat": 30.5 + rng.random() * 0.1,
                "address": "", "region_code": region, "district_code": district, "district_name": "",
                "street_code": region[:9], "street_name": "", "community_code": region[:12], "community_name": "",
                "grid_code": region, "grid_name": "", "description": f"{cat.name_zh}（基准）", "urgency": "normal",
                "reporter_id": None, "reporter_phone": "", "anonymous": False, "created_by_id": users["bench_operator"],
                "idempotency_key": "", "level": "city", "proposed_department_id": depts.get(cat.department_code),
                "lead_department_id": lead, "registered_by_id": None, "dispatched_by_id": None,
                "extensions": int(extended), "returns": int(returned), "reworks": int(reworked), "suspensions": 0,
                "escalations": 0, "merged_reports": 0, "pending_extra_hours": None, "result_note": "",
                "handled_on_time": handled_on_time, "satisfaction": True if state == "archived" else None,
                "self_handled": False, "duplicate_of_id": None, "created_at": ts(created), "registered_at": None,
                "dispatched_at": None, "handled_at": None, "closed_at": None,
            }
            case_buf.write("\t".join(_text(values[c] if c in values else defaults[c]) for c in case_cols) + "\n")
            for seq, (action, frm, to, actor, params, at) in enumerate(entries, start=1):
                tl_buf.write("\t".join((
                    "cases.case", str(i), str(seq), ts(at), _text(actor), "bench", action, frm, to, "",
                    json.dumps(params, separators=(",", ":")), "", fake_hash,
                )) + "\n")
            n_entries += len(entries)
            if i % 50_000 == 0:
                flush()
                print(f"  {i:>9,} cases, {n_entries:,} entries ({time.monotonic() - started:.0f}s)", flush=True)
        flush(final=True)
        cursor.execute("SELECT setval(pg_get_serial_sequence('cases_case', 'id'), %s)", [n])
    print(f"filled {n:,} cases and {n_entries:,} timeline entries in {time.monotonic() - started:.0f}s", flush=True)
    with connection.cursor() as c:
        c.execute("ANALYZE cases_case")
        c.execute("ANALYZE core_timelineentry")


def _text(v) -> str:
    if v is None:
        return "\\N"
    if v is True:
        return "t"
    if v is False:
        return "f"
    return str(v)


def timed(fn, repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return out


def p95(values: list[float]) -> float:
    values = sorted(values)
    return values[max(0, int(len(values) * 0.95) - 1)]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--pg", default="postgres://postgres@127.0.0.1:5432")
    parser.add_argument("--db", default="cityops_bench_eval")
    parser.add_argument("--refill", action="store_true")
    parser.add_argument("--queue-requests", type=int, default=300)
    args = parser.parse_args()
    url = ensure_database(args.pg, args.db)
    setup_django(url)
    from django.db import connection

    from cityops.cases.models import Case

    try:
        have = Case.objects.count()
    except Exception:
        have = 0
    if args.refill or have != args.cases:
        print(f"filling {args.db} with {args.cases:,} cases (have {have:,}) …", flush=True)
        fill(args.cases)
    with connection.cursor() as c:
        c.execute("SELECT count(*) FROM core_timelineentry WHERE subject_type = 'cases.case'")
        n_entries = c.fetchone()[0]
    print(f"database: {Case.objects.count():,} cases, {n_entries:,} case timeline entries")

    from cityops.cases import evaluation

    month = {"start": date(2026, 10, 1), "end": date(2026, 10, 31)}
    evaluation.evaluate_departments(**month)  # warm the cache once, as a running server would be
    runs = timed(lambda: evaluation.evaluate_departments(**month), 5)
    best, median = min(runs), statistics.median(runs)
    rows = evaluation.evaluate_departments(**month)
    print(f"department evaluation, October 2026 ({len(rows)} departments, due {sum(r['due'] for r in rows):,}): "
          f"median {median * 1000:.0f} ms, best {best * 1000:.0f} ms — target < 2000 ms → "
          f"{'OK' if median < 2 else 'MISSED'} (ratio {2 / median:.1f}× under the target)")
    for name in ("dispatchers", "shift_leads", "field_workers", "regions"):
        fn = getattr(evaluation, f"evaluate_{name}")
        r = timed(lambda fn=fn: fn(**month), 3)
        print(f"  {name:<13} evaluation: median {statistics.median(r) * 1000:.0f} ms")

    # --- the department queue --------------------------------------------------------------------------------
    from django.contrib.auth.models import Group
    from django.test import Client

    from cityops.accounts.models import OrgUnit, User
    from cityops.accounts.services import api_token_create
    from cityops.cases.selectors import department_queue

    handlers = []
    for code in ("HW", "CG", "SW", "ZJ", "JG", "YL"):
        user, _ = User.objects.get_or_create(username=f"bench_handler_{code.lower()}")
        user.groups.add(Group.objects.get_or_create(name="dept_handler")[0])
        user.org_units.add(OrgUnit.objects.get(code=code))
        handlers.append(User.objects.get(pk=user.pk))

    def queue_page(user):
        qs = department_queue(user=user)
        total = qs.count()
        items = list(qs[:50])
        return total, items

    sel = []
    for k in range(args.queue_requests):
        user = handlers[k % len(handlers)]
        t0 = time.perf_counter()
        total, _items = queue_page(user)
        sel.append(time.perf_counter() - t0)
    print(f"department queue selector (count + first 50 by deadline; queue sizes "
          f"{', '.join(str(queue_page(u)[0]) for u in handlers)}): p95 {p95(sel) * 1000:.1f} ms, "
          f"median {statistics.median(sel) * 1000:.1f} ms — target p95 < 150 ms → {'OK' if p95(sel) < 0.15 else 'MISSED'}")

    clients = []
    for user in handlers:
        _token, secret = api_token_create(user=user, name="bench")
        clients.append(Client(HTTP_AUTHORIZATION=f"Bearer {secret}"))
    api = []
    for k in range(args.queue_requests):
        t0 = time.perf_counter()
        r = clients[k % len(clients)].get("/api/v1/cases?queue=department&limit=50")
        api.append(time.perf_counter() - t0)
        assert r.status_code == 200, r.content[:300]
    print(f"department queue API GET /api/v1/cases?queue=department (in-process, 50 items serialised): p95 {p95(api) * 1000:.1f} ms, "
          f"median {statistics.median(api) * 1000:.1f} ms — target p95 < 150 ms → {'OK' if p95(api) < 0.15 else 'MISSED'}")


if __name__ == "__main__":
    main()
