"""Open311 throughput with 100,000 cases (issue 4 "Proof"): POST requests/s and GET requests.json latency.

Loads the Wuhan demo geography and the taxonomy into a scratch database, bulk-creates N cases directly
(spread over the last 180 days, every category, random points in the city), then drives the real views
in-process through Django's test client (no network, no gunicorn):

- POST requests.xml: form-encoded manhole reports with attribute[cover_state], one api_key, no rate limit;
  compared with calling cases.services.case_create directly (what the Open311 layer adds);
- GET requests.json: the default query (last 90 days → the first 1000 rows), a service_code+status filter,
  and 50 ids; p50/p95 over repeated calls, compared with reading the same 1000 rows as bare tuples.

    .venv/bin/python bench/open311.py [--cases 100000] [--posts 300] [--pg postgres://postgres@127.0.0.1:5432/postgres]
"""

import argparse
import os
import random
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))


def setup(database_url: str, data_dir: str):
    os.environ["DATABASE_URL"] = database_url
    os.environ["CITYOPS_DATA_DIR"] = data_dir
    os.environ["DJANGO_SETTINGS_MODULE"] = "cityops.settings"
    import django

    django.setup()
    from django.conf import settings

    settings.ALLOWED_HOSTS = ["*"]
    settings.CITYOPS_OPEN311_RATE_LIMIT_PER_MINUTE = 0
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def fixture(n_cases: int) -> None:
    from django.db import transaction
    from django.utils import timezone

    from cityops.accounts.demo import load_departments
    from cityops.cases.demo import load_categories
    from cityops.cases.models import Case, Category
    from cityops.geo import index
    from cityops.geo.demo import load_demo_geography
    from cityops.open311.services import attributes_load

    t = time.perf_counter()
    load_demo_geography()
    load_departments()
    load_categories()
    attributes_load()
    print(f"  reference data loaded in {time.perf_counter() - t:.1f}s")
    have = Case.objects.count()
    if have >= n_cases:
        print(f"  {have} cases already there")
        return
    t = time.perf_counter()
    rng = random.Random(4)
    idx = index.get_index()
    districts = [n for n in idx.nodes.values() if n.level == "grid"]
    cats = list(Category.objects.all())
    states = ["reported", "registered", "dispatched", "accepted", "handled", "closed", "archived", "voided"]
    now = timezone.now()
    batch = []
    for i in range(have, n_cases):
        grid = districts[rng.randrange(len(districts))]
        chain = idx.chain(grid.code)
        created = now - timedelta(seconds=rng.randrange(180 * 86400))
        batch.append(Case(
            code=f"B{i:012d}", source=rng.choice(["hotline", "portal", "open311", "field"]), category=rng.choice(cats),
            lon=grid.centroid_lon, lat=grid.centroid_lat, address="", region_code=grid.code,
            district_code=chain["district"].code, district_name=chain["district"].name,
            description=f"bench case {i}", state=rng.choice(states), state_changed_at=created, created_at=created,
        ))
        if len(batch) == 5000:
            with transaction.atomic():
                Case.objects.bulk_create(batch)
            batch = []
    if batch:
        Case.objects.bulk_create(batch)
    print(f"  bulk-created {n_cases - have} cases in {time.perf_counter() - t:.1f}s")


def pct(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


def measure(label: str, n_posts: int) -> None:
    from django.test import Client

    from cityops.cases.models import Case
    from cityops.cases.services import case_create
    from cityops.open311.services import client_create

    _c, key = client_create(name=f"bench-{time.time_ns()}")
    client = Client()
    rng = random.Random(7)

    def form():
        return {"api_key": key, "jurisdiction_id": "wuhan.gov.cn", "service_code": "C0101",
                "lat": f"{30.53 + rng.random() * 0.02:.6f}", "long": f"{114.32 + rng.random() * 0.03:.6f}",
                "description": "井盖缺失（bench）", "attribute[cover_state]": "missing", "email": "bench@example.com"}

    for _ in range(5):  # warm-up
        assert client.post("/open311/v2/requests.xml", form()).status_code == 200
    t = time.perf_counter()
    for _ in range(n_posts):
        response = client.post("/open311/v2/requests.xml", form())
        assert response.status_code == 200, response.content
    post_rate = n_posts / (time.perf_counter() - t)

    t = time.perf_counter()
    for _ in range(n_posts):
        f = form()
        case_create(actor=None, category="C0101", description=f["description"], source="open311", lon=f["long"], lat=f["lat"])
    bare_rate = n_posts / (time.perf_counter() - t)

    def timed(url, repeat):
        client.get(url)
        samples = []
        for _ in range(repeat):
            t0 = time.perf_counter()
            response = client.get(url)
            samples.append((time.perf_counter() - t0) * 1000)
            assert response.status_code == 200
        return samples, response

    default, response = timed("/open311/v2/requests.json", 15)
    rows = len(response.json())
    filtered, fresp = timed("/open311/v2/requests.json?service_code=C0101,E0101&status=open", 15)
    ids = ",".join(Case.objects.order_by("?").values_list("code", flat=True)[:50])
    by_id, _r = timed(f"/open311/v2/requests.json?service_request_id={ids}", 15)
    xml, _r = timed("/open311/v2/requests.xml", 10)

    from django.utils import timezone

    since = timezone.now() - timedelta(days=90)
    bare = []
    for _ in range(15):
        t0 = time.perf_counter()
        list(Case.objects.filter(created_at__gte=since).order_by("-created_at").values_list(
            "code", "state", "lon", "lat", "description", "created_at")[:1000])
        bare.append((time.perf_counter() - t0) * 1000)

    total = Case.objects.count()
    print(f"\n== {label}: {total} cases ==")
    print(f"POST requests.xml        {post_rate:8.1f} requests/s   (case_create alone {bare_rate:.1f}/s; "
          f"Open311 layer costs {bare_rate / post_rate:.2f}x)")
    print(f"GET requests.json        p50 {pct(default, .5):7.1f} ms  p95 {pct(default, .95):7.1f} ms   ({rows} rows, default 90 days)")
    print(f"GET requests.xml         p50 {pct(xml, .5):7.1f} ms  p95 {pct(xml, .95):7.1f} ms")
    print(f"GET ?service_code&status p50 {pct(filtered, .5):7.1f} ms  p95 {pct(filtered, .95):7.1f} ms   ({len(fresp.json())} rows)")
    print(f"GET ?service_request_id  p50 {pct(by_id, .5):7.1f} ms  p95 {pct(by_id, .95):7.1f} ms   (50 ids)")
    print(f"bare 1000-row query      p50 {pct(bare, .5):7.1f} ms   → requests.json is {pct(default, .5) / max(pct(bare, .5), 0.01):.1f}x "
          f"the bare read; {pct(default, .5) / max(rows, 1) * 1000:.0f} µs per serialized request")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--posts", type=int, default=300)
    parser.add_argument("--pg", default="", help="a PostgreSQL server URL; a scratch database is created on it")
    args = parser.parse_args()
    data_dir = tempfile.mkdtemp(prefix="cityops-bench-open311-")
    if args.pg:
        import psycopg

        name = f"bench_open311_{os.getpid()}"
        with psycopg.connect(args.pg, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        url, label = args.pg.rsplit("/", 1)[0] + "/" + name, "PostgreSQL"
    else:
        url, label = f"sqlite:///{data_dir}/bench.sqlite3", "SQLite (WAL)"
    print(f"Open311 bench on {label} (2-core machine shared with other work: numbers are indicative)")
    setup(url, data_dir)
    fixture(args.cases)
    measure(label, args.posts)
    if args.pg:
        from django.db import connections

        connections.close_all()
        with psycopg.connect(args.pg, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
