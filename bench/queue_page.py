"""The department queue *page* with 1,000,000 cases in PostgreSQL (issue 3, Proof: p95 < 150 ms).

bench/evaluation.py times the selector and the API; this times what a department handler's browser gets:
GET /cases/queue/ rendered in-process by Django (session login, middleware, selector, template with the
traffic lights, inline action forms and joint-handling sub-tasks), first pages and deeper pages, for handlers of
several departments. Also the dispatcher queue and the city-wide case list, which page the same way (no
COUNT(*): one row more than a page tells whether another page follows).

It reuses bench/evaluation.py's scratch database (`cityops_bench_eval`) and fills it the same way when it
holds a different number of cases.

    .venv/bin/python bench/queue_page.py [--cases 1000000] [--requests 300] [--pg postgres://postgres@127.0.0.1:5432]
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

_spec = importlib.util.spec_from_file_location("bench_evaluation", ROOT / "bench" / "evaluation.py")
bench_evaluation = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench_evaluation)

TARGET_S = 0.150


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(0, int(len(ordered) * 0.95) - 1)]


def timed_get(client, url: str, n: int) -> tuple[list[float], int]:
    """n timings of GET url, and the rows on the last page served."""
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        response = client.get(url)
        times.append(time.perf_counter() - t0)
        assert response.status_code == 200, (url, response.status_code, response.content[:300])
    return times, response.content.decode().count('class="case-row"')


def report(label: str, times: list[float], rows: int | None = None) -> bool:
    ok = p95(times) < TARGET_S
    extra = f", {rows} rows" if rows is not None else ""
    print(f"{label:<58} p95 {p95(times) * 1000:6.1f} ms  median {statistics.median(times) * 1000:6.1f} ms"
          f"{extra}  — target p95 < {TARGET_S * 1000:.0f} ms → {'OK' if ok else 'MISSED'}")
    return ok


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--pg", default="postgres://postgres@127.0.0.1:5432")
    parser.add_argument("--db", default="cityops_bench_eval")
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--refill", action="store_true")
    args = parser.parse_args()

    url = bench_evaluation.ensure_database(args.pg, args.db)
    bench_evaluation.setup_django(url)
    from django.contrib.auth.models import Group
    from django.db import connection
    from django.test import Client

    from cityops.accounts.models import OrgUnit, User
    from cityops.cases.models import Case

    try:
        have = Case.objects.count()
    except Exception:
        have = 0
    if args.refill or have != args.cases:
        print(f"filling {args.db} with {args.cases:,} cases (have {have:,}) …", flush=True)
        bench_evaluation.fill(args.cases)
    print(f"database: {Case.objects.count():,} cases ({connection.vendor})")

    def user_with(username: str, role: str, unit: str | None = None):
        user, _ = User.objects.get_or_create(username=username)
        user.groups.add(Group.objects.get_or_create(name=role)[0])
        if unit:
            user.org_units.add(OrgUnit.objects.get(code=unit))
        return User.objects.get(pk=user.pk)

    def client_for(user) -> Client:
        client = Client()
        client.force_login(user)
        return client

    handlers = [user_with(f"bench_handler_{code.lower()}", "dept_handler", code)
                for code in ("HW", "CG", "SW", "ZJ", "JG", "YL")]
    clients = [client_for(u) for u in handlers]
    for client in clients:  # warm: templates compiled, connections open, as on a running server
        client.get("/cases/queue/")

    ok = True
    first = []
    for k in range(args.requests):
        t0 = time.perf_counter()
        response = clients[k % len(clients)].get("/cases/queue/")
        first.append(time.perf_counter() - t0)
        assert response.status_code == 200
    rows = response.content.decode().count('class="case-row"')
    ok &= report("GET /cases/queue/ (page 1, by deadline, 6 departments)", first, rows)

    deep = []
    for k in range(max(30, args.requests // 3)):
        t0 = time.perf_counter()
        response = clients[k % len(clients)].get(f"/cases/queue/?page={2 + k % 9}")
        deep.append(time.perf_counter() - t0)
        assert response.status_code == 200
    ok &= report("GET /cases/queue/?page=2…10", deep)

    dispatcher = client_for(user_with("bench_dispatcher", "dispatcher"))
    dispatcher.get("/cases/dispatch/")
    ok &= report("GET /cases/dispatch/ (dispatcher queue)", *timed_get(dispatcher, "/cases/dispatch/", max(30, args.requests // 3)))
    leader = client_for(user_with("bench_leader", "leader"))
    leader.get("/cases/")
    n = max(30, args.requests // 3)
    ok &= report("GET /cases/ (leader, whole city, newest first)", *timed_get(leader, "/cases/", n))
    ok &= report("GET /cases/?overdue=1 (leader)", *timed_get(leader, "/cases/?overdue=1", n))
    ok &= report("GET /cases/?state=accepted&district=420106 (leader)", *timed_get(leader, "/cases/?state=accepted&district=420106", n))
    print("all targets met" if ok else "some targets missed")


if __name__ == "__main__":
    main()
