"""The dashboard's live feed under load (issue 15): event-to-screen latency with 50 connected screens.

Starts `cityops serve` (gunicorn gthread workers, as in production) on a PostgreSQL database with Redis pub/sub,
connects 50 SSE clients (threads of this process, each with its own session: 40 city-wide leaders and 10 of
武昌区's dispatchers, who must get only their district's events), then writes cases and state changes through the
services at a steady rate (`--rate` events/s: Wuhan's 12345 hotline and grid reports give ~30,000 cases a day, a
few steps each — a busy hour is ~3 events/s; 5/s is the default). Latency is measured per delivery from the
event's timeline time (taken inside the writing transaction, before its commit: so commit, publish, fan-out and
the network are all inside) to its receipt by the client. Also reported: what the server holds per connected
screen (threads and resident memory of the gunicorn workers before and after the screens connected).

    .venv/bin/python bench/dashboard_live.py [--pg postgres://postgres@127.0.0.1:5432/cityops_bench_live]
        [--redis redis://127.0.0.1:6379/14 | --no-redis] [--screens 50] [--rate 5] [--seconds 60] [--workers 2] [--threads 64]
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import random
import signal
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))


def ensure_database(url: str) -> None:
    import psycopg

    base, _, name = url.rpartition("/")
    with psycopg.connect(base + "/postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


def setup(n_screens: int) -> tuple[list[tuple[str, bool]], dict]:
    """Reference data, the screens' users and their session cookies; the points to report at."""
    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.auth.models import Group
    from django.contrib.sessions.backends.db import SessionStore
    from django.core.management import call_command

    from cityops.accounts.demo import load_departments, load_roles
    from cityops.accounts.models import User
    from cityops.cases.demo import load_categories
    from cityops.core import roles
    from cityops.geo.demo import load_demo_geography
    from cityops.geo.models import Region

    call_command("migrate", verbosity=0)
    load_demo_geography()
    load_roles()
    load_departments()
    load_categories()
    sessions = []
    for i in range(n_screens):
        district = i % 5 == 4  # one screen in five is 武昌区's command centre
        name = f"bench_live_{'wc' if district else 'lead'}_{i:02d}"
        user, _ = User.objects.get_or_create(username=name)
        if district:
            user.region_codes = ["420106"]
            user.save(update_fields=["region_codes"])
        user.groups.set([Group.objects.get_or_create(
            name=roles.DISTRICT_DISPATCHER if district else roles.LEADER)[0]])
        session = SessionStore()
        session[SESSION_KEY] = str(user.pk)
        session[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[-1]
        session[HASH_SESSION_KEY] = user.get_session_auth_hash()
        session.save()
        sessions.append((session.session_key, district))
    points = {}
    for code in ("420106", "420102", "420111", "420103"):
        region = Region.objects.get(code=code)
        points[code] = (region.centroid_lon, region.centroid_lat)
    return sessions, points


class Screen(threading.Thread):
    """One SSE client: reads the stream and records (event id, code, region, timeline time, receipt time)."""

    def __init__(self, port: int, session_key: str, district: bool):
        super().__init__(daemon=True)
        self.port, self.session_key, self.district = port, session_key, district
        self.ready = threading.Event()
        self.got: list[tuple[str, str, str, float, float]] = []
        self.error = ""
        self.stop = False
        self.conn = None

    def close(self):
        self.stop = True
        if self.conn is not None and self.conn.sock is not None:
            with contextlib.suppress(OSError):
                self.conn.sock.shutdown(2)

    def run(self):
        try:
            conn = self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
            conn.request("GET", "/dashboard/live/stream/", headers={
                "Cookie": f"sessionid={self.session_key}", "Accept": "text/event-stream"})
            response = conn.getresponse()
            if response.status != 200:
                self.error = f"{response.status} {response.read()[:200]!r}"
                self.ready.set()
                return
            event = ""
            while not self.stop:
                line = response.fp.readline()
                if not line:
                    break
                line = line.decode().rstrip("\n")
                if line.startswith("event: "):
                    event = line[7:]
                elif line.startswith("data: "):
                    received = time.time()
                    if event == "ready":
                        self.ready.set()
                    elif event in ("case", "alarm", "state"):
                        data = json.loads(line[6:])
                        at = datetime.fromisoformat(data["at"]).timestamp()
                        self.got.append((data["id"], data["code"], data["region_code"], at, received))
            conn.close()
        except Exception as exc:  # noqa: BLE001 - reported with the figures
            self.error = repr(exc)
            self.ready.set()


def workers_of(master_pid: int) -> list[int]:
    out = subprocess.run(["pgrep", "-P", str(master_pid)], capture_output=True, text=True).stdout
    return [int(p) for p in out.split()]


def proc_status(pid: int) -> dict:
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "Threads"):
            fields[key] = int(value.split()[0])
    return fields


def held(master: int) -> dict:
    pids = workers_of(master)
    stats = [proc_status(p) for p in pids]
    return {"workers": len(pids), "threads": sum(s["Threads"] for s in stats), "rss_kb": sum(s["VmRSS"] for s in stats)}


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pg", default="postgres://postgres@127.0.0.1:5432/cityops_bench_live")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/14")
    parser.add_argument("--screens", type=int, default=50)
    parser.add_argument("--rate", type=float, default=5.0, help="events per second")
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=64)
    parser.add_argument("--port", type=int, default=8791)
    parser.add_argument("--no-redis", action="store_true", help="the fallback: every stream polls the timeline")
    args = parser.parse_args()

    ensure_database(args.pg)
    if args.no_redis:
        args.redis = ""
    env = dict(os.environ, DATABASE_URL=args.pg, CITYOPS_REDIS_URL=args.redis, DJANGO_SETTINGS_MODULE="cityops.settings",
               CITYOPS_CONN_MAX_AGE="0")
    os.environ.update(env)
    sessions, points = setup(args.screens)
    print(f"load average before: {os.getloadavg()}", flush=True)

    server = subprocess.Popen(
        [str(ROOT / ".venv/bin/cityops"), "serve", "--bind", f"127.0.0.1:{args.port}", "--workers", str(args.workers),
         "--threads", str(args.threads)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True)
    screens: list[Screen] = []
    try:
        deadline = time.monotonic() + 180
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{args.port}/api/v1/health", timeout=2).read()
                if len(workers_of(server.pid)) >= args.workers:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit("the server did not start within 180 s")
            time.sleep(1)
        time.sleep(3)  # every worker has warmed up
        screens = [Screen(args.port, key, district) for key, district in sessions]
        # The first screens warm each worker's live feed up (imports, its Redis subscription); the memory and threads
        # per screen are measured over the others.
        warm = max(1, len(screens) // 5)
        before = None
        for batch in (screens[:warm], screens[warm:]):
            for s in batch:
                s.start()
            for s in batch:
                s.ready.wait(60)
            if before is None:
                time.sleep(2)
                before = held(server.pid)
        errors = [s.error for s in screens if s.error]
        if errors:
            raise SystemExit(f"{len(errors)} screens failed: {errors[:3]}")
        time.sleep(2)
        after = held(server.pid)

        from django.db import close_old_connections

        from cityops.accounts.models import User
        from cityops.cases.services import case_create
        from cityops.core.workflow import transition

        operator, _ = User.objects.get_or_create(username="bench_live_operator")
        from django.contrib.auth.models import Group

        operator.groups.set([Group.objects.get_or_create(name="operator")[0]])
        operator = User.objects.get(pk=operator.pk)
        rng = random.Random(15)
        # One write before the clock starts: the writing process's first case loads what every later one reuses
        # (the region index, the working calendar), which is the writer's start-up, not the live feed's latency.
        warm_case = case_create(actor=operator, category="E0101", lon=points["420102"][0], lat=points["420102"][1],
                                description="bench warm-up", source="field").case
        time.sleep(1)
        skip = {warm_case.code}
        waiting = []
        written = 0
        interval = 1.0 / args.rate
        n = int(args.rate * args.seconds)
        start = time.monotonic()
        for i in range(n):
            due = start + i * interval
            pause = due - time.monotonic()
            if pause > 0:
                time.sleep(pause)
            if waiting and rng.random() < 0.4:
                case = waiting.pop(rng.randrange(len(waiting)))
                transition(case, "register", actor=operator)
            else:
                code = rng.choice(list(points))
                lon, lat = points[code]
                case = case_create(actor=operator, category=rng.choice(["E0101", "E0102", "E0501", "E0401"]),
                                   lon=lon + rng.uniform(-0.005, 0.005), lat=lat + rng.uniform(-0.005, 0.005),
                                   description="bench", source="field").case
                waiting.append(case)
            written += 1
        elapsed = time.monotonic() - start
        close_old_connections()
        time.sleep(3)
        for s in screens:
            s.stop = True
        load_after = os.getloadavg()

        latencies, leaks, received = [], 0, 0
        ids = set()
        for s in screens:
            received += sum(1 for g in s.got if g[1] not in skip)
            for event_id, code, region, at, got in s.got:
                if code in skip:
                    continue
                ids.add(event_id)
                latencies.append(got - at)
                if s.district and not region.startswith("420106"):
                    leaks += 1
        city = [sum(1 for g in s.got if g[1] not in skip) for s in screens if not s.district]
        district = [sum(1 for g in s.got if g[1] not in skip) for s in screens if s.district]
        feed = "Redis pub/sub" if args.redis else "no Redis: each stream polls the timeline every second"
        print(f"server: {args.workers} gunicorn gthread workers × {args.threads} threads, {feed}, PostgreSQL")
        print(f"written: {written} events in {elapsed:.1f} s ({written / elapsed:.1f}/s); distinct events received: {len(ids)}")
        print(f"deliveries: {received} (city screens got {min(city)}–{max(city)} each, "
              f"武昌 screens {min(district) if district else 0}–{max(district) if district else 0}); "
              f"out-of-scope deliveries to 武昌 screens: {leaks}")
        if latencies:
            ms = [v * 1000 for v in latencies]
            print(f"event-to-screen latency over {len(ms)} deliveries: p50 {pct(ms, 50):.0f} ms, p95 {pct(ms, 95):.0f} ms, "
                  f"p99 {pct(ms, 99):.0f} ms, max {max(ms):.0f} ms, mean {statistics.fmean(ms):.0f} ms "
                  f"(target p99 < 2000 ms: {'met' if pct(ms, 99) < 2000 else 'NOT met'})")
        measured = len(screens) - warm
        per = (after["rss_kb"] - before["rss_kb"]) / max(1, measured)
        print(f"server with {warm} screens: {before}; with {len(screens)}: {after} → "
              f"{per:.0f} kB resident memory and {(after['threads'] - before['threads']) / max(1, measured):.2f} "
              f"threads per further screen")
        print(f"load average after: {load_after}")
    finally:
        for s in screens:
            s.close()
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(40)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)


if __name__ == "__main__":
    main()
