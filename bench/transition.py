"""Workflow transitions per second in one process, timeline hashing on (issue: foundation).

Runs the sample ticket workflow (create → open → pause → resume → extend → finish → reopen … ) on a scratch
SQLite file and, if reachable, a scratch PostgreSQL database; prints transitions/s and the ratio to the
target (≥ 500/s on SQLite) and to a bare baseline: one UPDATE of the state column per transition in its own
transaction, no engine, no timeline.

    .venv/bin/python bench/transition.py [--n 3000] [--pg postgres://postgres@127.0.0.1:5432/postgres]
"""

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))


def run(label: str, database_url: str, n: int) -> None:
    os.environ["DATABASE_URL"] = database_url
    os.environ["DJANGO_SETTINGS_MODULE"] = "cityops.settings_test"
    import django
    from django.conf import settings

    if not settings.configured or not getattr(run, "_setup", False):
        django.setup()
        run._setup = True
    from django.core.management import call_command
    from django.db import connection, transaction

    from cityops.accounts.models import User
    from cityops.core.tests.sample.models import Ticket
    from cityops.core.workflow import create_with_timeline, transition

    call_command("migrate", verbosity=0)
    from django.contrib.auth.models import Group

    dispatcher, _ = User.objects.get_or_create(username="bench_dispatcher")
    handler, _ = User.objects.get_or_create(username="bench_handler")
    dispatcher.groups.add(Group.objects.get_or_create(name="dispatcher")[0])
    handler.groups.add(Group.objects.get_or_create(name="dept_handler")[0])
    dispatcher = User.objects.get(pk=dispatcher.pk)
    handler = User.objects.get(pk=handler.pk)

    cycle = [("pause", handler, {}), ("resume", dispatcher, {}),
             ("finish", handler, {"result": "ok"}), ("reopen", dispatcher, {})]
    tickets = [create_with_timeline(Ticket(title=f"t{i}"), actor=dispatcher) for i in range(max(1, n // 40))]
    tickets = [transition(t, "open", dispatcher) for t in tickets]  # every cycle starts and ends in "open"

    start = time.perf_counter()
    done = 0
    i = 0
    while done < n:
        ticket = tickets[i % len(tickets)]
        i += 1
        for action, actor, params in cycle:
            if done >= n:
                break
            ticket = transition(ticket, action, actor, params=params)
            done += 1
    engine_s = time.perf_counter() - start

    # Bare baseline: the same number of single-row state updates, each in its own transaction.
    start = time.perf_counter()
    for k in range(n):
        with transaction.atomic():
            Ticket.objects.filter(pk=tickets[k % len(tickets)].pk).update(state="open", version=k)
    bare_s = time.perf_counter() - start
    engine_rate, bare_rate = n / engine_s, n / bare_s
    print(f"{label:<11} engine {engine_rate:8.0f} transitions/s   bare UPDATE {bare_rate:8.0f}/s   "
          f"ratio {engine_rate / bare_rate:5.2f}   target 500/s → {engine_rate / 500:5.2f}×")
    connection.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=3000)
    parser.add_argument("--pg", default="postgres://postgres@127.0.0.1:5432/cityops_bench")
    parser.add_argument("--only", choices=["sqlite", "postgresql"], default=None)
    args = parser.parse_args()
    import subprocess

    if args.only is None:
        # One database per process: Django's connection settings are read once.
        for which in ("sqlite", "postgresql"):
            subprocess.run([sys.executable, __file__, "--n", str(args.n), "--pg", args.pg, "--only", which], check=False)
        return
    if args.only == "sqlite":
        with tempfile.TemporaryDirectory() as tmp:
            os.environ["CITYOPS_DATA_DIR"] = tmp
            run("SQLite", f"sqlite:///{tmp}/bench.sqlite3", args.n)
    else:
        import psycopg

        dbname = args.pg.rsplit("/", 1)[1]
        admin_url = args.pg.rsplit("/", 1)[0] + "/postgres"
        try:
            with psycopg.connect(admin_url, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{dbname}"')
                conn.execute(f'CREATE DATABASE "{dbname}"')
        except psycopg.OperationalError as exc:
            print(f"PostgreSQL not reachable ({exc}); skipped")
            return
        run("PostgreSQL", args.pg, args.n)


if __name__ == "__main__":
    main()
