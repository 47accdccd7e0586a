"""Case intake over HTTP against PostgreSQL, served the way the README serves cityops (`cityops serve`:
gunicorn, 2 sync workers), beside a bare endpoint on the same server that inserts one row (issue 3, Proof).

    .venv/bin/python bench/intake.py [--seconds 60] [--slot 2] [--concurrency 8] [--pg postgres://postgres@127.0.0.1:5432]
        [--fixed-share 0.1] [--fixed-seconds 60] [--fixed-clients 16]

Uses a scratch database (default `cityops_bench_intake`) with the Wuhan demo loaded once; the server runs
with CITYOPS_BENCH=1, which adds POST /api/v1/cases/_bench/bare (no auth) and …/bare_auth (bearer auth, as
POST /cases). Prints requests/s and p50/p99 of each, and the ratio creates/s ÷ bare/s (target ≥ 0.2, issue 11).

The three kinds take turns in short slots (default 2 s: bare, bare_auth, create, bare, …), every client
switching at the same instants, for `--seconds` of each kind in all: the speed of a shared 2-core machine
drifts by ±30 % within minutes, and slots this short put each kind through the same drift. The ratio is
over the whole run; the spread of the ratio over consecutive thirds of the run is printed beside it.

Then, at a fixed rate (`--fixed-share`, default a tenth of the bare rate just measured, for `--fixed-seconds`),
reports are offered on a schedule, whatever the server answers (an open loop: a slow answer does not slow
the offer), and each latency is counted from the instant its request was due, so queueing shows in the p99
(target < 200 ms)."""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing as mp
import os
import random
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PORT = int(os.environ.get("CITYOPS_BENCH_PORT", "8765"))  # another when 8765 is taken


def env_for(url: str) -> dict:
    env = dict(os.environ)
    env.update({
        "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "cityops.settings", "CITYOPS_BENCH": "1",
        "CITYOPS_DEBUG": "0", "CITYOPS_LOG_LEVEL": "WARNING", "PYTHONPATH": str(ROOT / "src"),
        "CITYOPS_ALLOWED_HOSTS": "*",
    })
    return env


def prepare(server: str, name: str) -> tuple[str, str, list[tuple[float, float]], list[str]]:
    import psycopg

    with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')
    url = f"{server}/{name}"
    env = env_for(url)
    cityops = str(ROOT / ".venv" / "bin" / "cityops")
    subprocess.run([cityops, "migrate", "-v0"], env=env, check=True)
    os.environ.update(env)
    sys.path.insert(0, str(ROOT / "src"))
    import django

    django.setup()
    from django.contrib.auth.models import Group
    from django.db import connection

    from cityops.accounts.models import User
    from cityops.accounts.services import api_token_create
    from cityops.cases.models import Category
    from cityops.geo.models import Region

    if not Region.objects.filter(level="grid").exists() or not Category.objects.exists():
        subprocess.run([cityops, "load_demo"], env=env, check=True, stdout=subprocess.DEVNULL)
    with connection.cursor() as c:
        c.execute("CREATE TABLE IF NOT EXISTS bench_bare (id bigserial PRIMARY KEY, body text, at timestamptz)")
    user, _ = User.objects.get_or_create(username="bench_intake_operator")
    user.groups.add(Group.objects.get_or_create(name="operator")[0])
    _token, secret = api_token_create(user=user, name="bench")
    points = list(Region.objects.filter(level="grid").values_list("centroid_lon", "centroid_lat"))
    categories = list(Category.objects.values_list("code", flat=True))
    return url, secret, points, categories


KINDS = ("bare", "bare_auth", "create")


def worker(seconds: float, slot: float, t0: float, token: str, points, categories, seed: int, out):
    """Requests back to back until t0 + seconds × 3, of the kind whose slot it is when each starts."""
    rng = random.Random(seed)
    latencies = {kind: [] for kind in KINDS}  # (slot number, seconds) per request
    errors = dict.fromkeys(KINDS, 0)
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {token}"}
    end = t0 + seconds * len(KINDS)
    while (now := time.monotonic()) < end:
        n = int((now - t0) // slot)
        kind = KINDS[n % len(KINDS)]
        if kind == "create":
            lon, lat = points[rng.randrange(len(points))]
            body = json.dumps({
                "category": categories[rng.randrange(len(categories))], "lon": lon + rng.uniform(-1e-4, 1e-4),
                "lat": lat + rng.uniform(-1e-4, 1e-4), "description": "基准测试上报", "source": "hotline",
                "reporter_phone": "13800000000",
            })
            path = "/api/v1/cases"
        else:
            body = json.dumps({"description": "bare"})
            path = f"/api/v1/cases/_bench/{kind}"
        t = time.perf_counter()
        try:
            conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=30)
            conn.request("POST", path, body=body, headers=headers)
            resp = conn.getresponse()
            resp.read()
            conn.close()
            ok = resp.status in (200, 201)
        except OSError:
            ok = False
        latencies[kind].append((n, time.perf_counter() - t))
        if not ok:
            errors[kind] += 1
    out.put((latencies, errors))


_SEEDS = random.Random(time.time_ns())


def run(seconds: float, slot: float, concurrency: int, token, points, categories) -> dict:
    """Every client takes the kinds in turn, slot by slot, for `seconds` of each (see the module's doc).
    Fresh seeds for every client of every run: repeating one sequence made each run report at the places
    (and in the categories) of the run before, so later runs found ever more duplicates to answer with."""
    slots = max(1, round(seconds / slot)) * len(KINDS)
    q = mp.Queue()
    t0 = time.monotonic() + 1.0  # every client started before the first slot
    procs = [mp.Process(target=worker, args=(slots * slot / len(KINDS), slot, t0, token, points, categories,
                                             _SEEDS.getrandbits(64), q))
             for _n in range(concurrency)]
    for p in procs:
        p.start()
    results = [q.get() for _ in procs]
    for p in procs:
        p.join()
    out = {}
    for kind in KINDS:
        done = [(n, s) for r in results for n, s in r[0][kind]]
        lat = sorted(s for _n, s in done)
        errors = sum(r[1][kind] for r in results)
        per_slot = {}
        for n, _s in done:
            per_slot[n] = per_slot.get(n, 0) + 1
        out[kind] = {
            "n": len(lat), "errors": errors, "rps": (len(lat) - errors) / (slots / len(KINDS) * slot),
            "p50": statistics.median(lat) * 1000, "p99": lat[max(0, int(len(lat) * 0.99) - 1)] * 1000,
            "per_slot": per_slot,
        }
    out["slots"] = slots
    return out


def paced_worker(rate: float, seconds: float, t0: float, token: str, points, categories, seed: int, out):
    """Creates at `rate` per second from t0 on, each at its due instant (or as soon as the one before it has
    answered, when that is later); latency counted from the due instant."""
    rng = random.Random(seed)
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {token}"}
    latencies, errors = [], 0
    interval = 1.0 / rate
    due = t0 + rng.uniform(0, interval)  # the clients' schedules interleave
    while due < t0 + seconds:
        pause = due - time.monotonic()
        if pause > 0:
            time.sleep(pause)
        lon, lat = points[rng.randrange(len(points))]
        body = json.dumps({
            "category": categories[rng.randrange(len(categories))], "lon": lon + rng.uniform(-1e-4, 1e-4),
            "lat": lat + rng.uniform(-1e-4, 1e-4), "description": "基准测试上报", "source": "hotline",
            "reporter_phone": "13800000000",
        })
        try:
            conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=30)
            conn.request("POST", "/api/v1/cases", body=body, headers=headers)
            resp = conn.getresponse()
            resp.read()
            conn.close()
            ok = resp.status == 201
        except OSError:
            ok = False
        latencies.append(time.monotonic() - due)
        errors += not ok
        due += interval
    out.put((latencies, errors))


def run_fixed(rate: float, seconds: float, clients: int, token, points, categories) -> dict:
    """Creates offered at `rate` per second in all, spread over `clients` processes (each at rate/clients)."""
    q = mp.Queue()
    t0 = time.monotonic() + 1.0
    procs = [mp.Process(target=paced_worker, args=(rate / clients, seconds, t0, token, points, categories,
                                                   _SEEDS.getrandbits(64), q))
             for _n in range(clients)]
    for p in procs:
        p.start()
    results = [q.get() for _ in procs]
    for p in procs:
        p.join()
    lat = sorted(s for r in results for s in r[0])
    return {
        "n": len(lat), "errors": sum(r[1] for r in results), "rps": (len(lat) - sum(r[1] for r in results)) / seconds,
        "p50": statistics.median(lat) * 1000, "p99": lat[max(0, int(len(lat) * 0.99) - 1)] * 1000,
        "max": lat[-1] * 1000,
    }


def settle(url: str) -> None:
    """Start from a settled database: tables vacuumed and analysed, earlier writes flushed (CHECKPOINT). Done
    once, before the warm-up: a checkpoint before every round would make each round pay the full-page images
    of every page it first touches (many for a case with its indexes, two for the bare row) — a cost a steady
    server spreads over the checkpoint interval."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
        conn.execute("CHECKPOINT")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pg", default="postgres://postgres@127.0.0.1:5432")
    parser.add_argument("--db", default="cityops_bench_intake")
    parser.add_argument("--seconds", type=float, default=60, help="of each kind")
    parser.add_argument("--slot", type=float, default=2, help="seconds of one kind before the next takes over")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--fixed-share", type=float, default=0.1, help="fixed-rate phase: offered creates/s ÷ bare/s")
    parser.add_argument("--fixed-seconds", type=float, default=60)
    parser.add_argument("--fixed-clients", type=int, default=16, help="processes sharing the fixed rate")
    args = parser.parse_args()
    url, token, points, categories = prepare(args.pg, args.db)
    server = subprocess.Popen(
        [str(ROOT / ".venv" / "bin" / "cityops"), "serve", "--bind", f"127.0.0.1:{PORT}", "--workers", str(args.workers)],
        env=env_for(url), stdout=subprocess.DEVNULL, stderr=open("/tmp/cityops-bench-intake-server.log", "w"),  # noqa: SIM115 - the server owns it
        start_new_session=True,
    )
    try:
        for _ in range(100):
            try:
                c = http.client.HTTPConnection("127.0.0.1", PORT, timeout=2)
                c.request("GET", "/api/v1/health")
                if c.getresponse().status == 200:
                    break
            except OSError:
                time.sleep(0.2)
        else:
            raise SystemExit("server did not start: see /tmp/cityops-bench-intake-server.log")
        settle(url)
        # Warm-up: workers forked and connected, the pages intake touches read and dirtied.
        run(10, args.slot, args.concurrency, token, points, categories)
        result = run(args.seconds, args.slot, args.concurrency, token, points, categories)
        fixed_rate = args.fixed_share * result["bare"]["rps"]
        fixed = run_fixed(fixed_rate, args.fixed_seconds, args.fixed_clients, token, points, categories) if fixed_rate > 0 else None
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
    print(f"cityops serve, {args.workers} sync workers, PostgreSQL, {args.concurrency} concurrent clients, "
          f"{os.cpu_count()} cores; {args.slot:g}-s slots taken in turn, {args.seconds:g} s of each kind")
    for kind in KINDS:
        r = result[kind]
        print(f"  {kind:<10} {r['rps']:7.0f} req/s   p50 {r['p50']:6.1f} ms   p99 {r['p99']:6.1f} ms   errors {r['errors']}")
    # The same ratio over each third of the run: how much the machine's drift still moves it.
    slots = result["slots"]
    thirds = []
    for part in range(3):
        lo, hi = slots * part // 3, slots * (part + 1) // 3
        rate = {}
        for i, k in enumerate(KINDS):
            mine = [n for n in range(lo, hi) if n % len(KINDS) == i]
            rate[k] = sum(result[k]["per_slot"].get(n, 0) for n in mine) / max(1, len(mine))
        thirds.append(rate["create"] / rate["bare"] if rate["bare"] else float("nan"))
    ratio = result["create"]["rps"] / result["bare"]["rps"]
    ratio_auth = result["create"]["rps"] / result["bare_auth"]["rps"]
    print(f"creates/s ÷ bare insert/s = {ratio:.2f} (target ≥ 0.2 → {'OK' if ratio >= 0.2 else 'MISSED'}); "
          f"÷ bare insert with the same bearer auth = {ratio_auth:.2f}; by thirds of the run: "
          + ", ".join(f"{t:.2f}" for t in thirds))
    if fixed is not None:
        print(f"fixed rate: {fixed_rate:.0f} creates/s offered ({args.fixed_share:g} × bare {result['bare']['rps']:.0f}/s) "
              f"by {args.fixed_clients} clients for {args.fixed_seconds:g} s: answered {fixed['rps']:.0f}/s, "
              f"p50 {fixed['p50']:.1f} ms, p99 {fixed['p99']:.1f} ms, max {fixed['max']:.1f} ms, errors {fixed['errors']} "
              f"(target p99 < 200 ms → {'OK' if fixed['p99'] < 200 else 'MISSED'})")


if __name__ == "__main__":
    main()
