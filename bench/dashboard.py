"""Dashboard benchmark (issue 15, Performance) over 1,000,000 cases and 10,000 devices on PostgreSQL.

1. Fills a scratch database (default `cityops_bench_dashboard`) once — later runs reuse it (--refill rebuilds):
   the Wuhan demo geography, N cases over 12 months with their timelines (bench/evaluation.py's generator), the
   cases then spread over their districts' real extents (the generator puts every case in one 10 km square), and
   10,000 devices (iot/demo.py's mix and places). VACUUM ANALYZE at the end, as autovacuum would have done.
2. Times, in-process through Django's test client as a city-wide leader (session login):
   - the first paint of the dashboard: the page /dashboard/ plus every API call its script makes for the city view
     (layers, the drill-down's top with its children, KPIs, the layers on at first), p95 of the sum — < 1 s;
   - the whole city's map at each zoom (the cases layer over the city's extent, all 12 months), p95 — < 300 ms;
   - the drill-down to a district (its KPIs, children and its cases on the map), p95 — < 300 ms.
   The live feed's figures are added by the live feed's engineer.

    .venv/bin/python bench/dashboard.py [--cases 1000000] [--devices 10000] [--pg postgres://postgres@127.0.0.1:5432]
                                         [--refill] [--requests 40]

The rows are synthetic (timeline hashes are placeholders); this database is for measurement only.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "bench"))

import evaluation as generator  # noqa: E402  (bench/evaluation.py: the 1M-case generator)


def fill(n_cases: int, n_devices: int) -> None:
    from django.core.management import call_command
    from django.db import connection

    from cityops.geo.demo import load_demo_geography

    call_command("migrate", verbosity=0)
    t0 = time.monotonic()
    load_demo_geography()
    print(f"  Wuhan demo geography loaded ({time.monotonic() - t0:.0f}s)", flush=True)
    generator.fill(n_cases)
    t0 = time.monotonic()
    with connection.cursor() as c:
        # Each case at a random point of its district's bounding box: the map sees the city's real extent.
        c.execute("""
            UPDATE cases_case AS k SET lon = r.min_lon + random() * (r.max_lon - r.min_lon),
                                       lat = r.min_lat + random() * (r.max_lat - r.min_lat)
            FROM geo_region AS r WHERE r.code = k.district_code
        """)
    print(f"  cases spread over their districts ({time.monotonic() - t0:.0f}s)", flush=True)
    fill_devices(n_devices)
    t0 = time.monotonic()
    connection.ensure_connection()
    old = connection.connection.autocommit
    connection.connection.autocommit = True
    with connection.cursor() as c:
        c.execute("VACUUM ANALYZE cases_case")
        c.execute("VACUUM ANALYZE iot_device")
    connection.connection.autocommit = old
    print(f"  VACUUM ANALYZE ({time.monotonic() - t0:.0f}s)", flush=True)
    from cityops.dashboard.models import RollupMark

    RollupMark.objects.all().delete()  # new cases: the rollup is built again (rollup_once)


def fill_devices(n: int) -> None:
    from cityops.geo.selectors import locate_points
    from cityops.iot.demo import demo_device_specs
    from cityops.iot.models import Device

    Device.objects.all().delete()
    specs = demo_device_specs(n)
    places = locate_points(lons=[s["lon"] for s in specs], lats=[s["lat"] for s in specs])
    rows = []
    for spec, where in zip(specs, places, strict=True):
        deepest = where.deepest if where is not None else None
        district = where.district if where is not None else None
        rows.append(Device(
            code=spec["code"], name=spec["name"], type=spec["type"], lon=spec["lon"], lat=spec["lat"],
            address=spec["address"], region_code=deepest.code if deepest else "",
            district_code=district.code if district else "", district_name=district.name if district else "",
        ))
    Device.objects.bulk_create(rows, batch_size=2000)
    print(f"  {n:,} devices", flush=True)


def p95(values: list[float]) -> float:
    values = sorted(values)
    return values[max(0, int(len(values) * 0.95) - 1)]


def report(name: str, runs: list[float], target: float | None) -> None:
    verdict = "" if target is None else f" — target < {target * 1000:.0f} ms → {'OK' if p95(runs) < target else 'MISSED'}"
    print(f"{name}: p95 {p95(runs) * 1000:.0f} ms, median {statistics.median(runs) * 1000:.0f} ms "
          f"({len(runs)} runs){verdict}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--devices", type=int, default=10_000)
    parser.add_argument("--pg", default="postgres://postgres@127.0.0.1:5432")
    parser.add_argument("--db", default="cityops_bench_dashboard")
    parser.add_argument("--refill", action="store_true")
    parser.add_argument("--fill-only", action="store_true")
    parser.add_argument("--requests", type=int, default=40)
    parser.add_argument("--cache-seconds", type=int, default=0,
                        help="the answers' cache (aggregation.cached; the server's default is 30 s); 0: every "
                             "request counts afresh — the cold figures")
    args = parser.parse_args()
    url = generator.ensure_database(args.pg, args.db)
    generator.setup_django(url)
    from cityops.cases.models import Case
    from cityops.iot.models import Device

    try:
        # Devices are written last: a fill stopped midway (its cases complete, not yet spread over the districts,
        # no devices) is filled again, not measured.
        have, have_devices = Case.objects.count(), Device.objects.count()
    except Exception:
        have = have_devices = 0
    if args.refill or have != args.cases or have_devices != args.devices:
        print(f"filling {args.db} with {args.cases:,} cases (have {have:,}) and {args.devices:,} devices …", flush=True)
        fill(args.cases, args.devices)
    from django.core.management import call_command

    call_command("migrate", verbosity=0)  # a database filled by an older checkout gets the newer tables and indexes
    rollup_once()
    if args.fill_only:
        return
    from django.conf import settings

    settings.CITYOPS_DASHBOARD_CACHE_S = args.cache_seconds
    print(f"answers cached for {args.cache_seconds} s" if args.cache_seconds else "no cache: every request counts",
          flush=True)
    measure(args.requests)


def rollup_once() -> None:
    """The worker's rollup of finished cases (dashboard/rollup.py), built once as the worker would have: the first
    refresh takes in every finished case; later ones (each minute) only those finished since."""
    from cityops.dashboard import rollup
    from cityops.dashboard.models import CaseBin

    t0 = time.monotonic()
    days = rollup.refresh_days()
    print(f"day rows: {days} ended days counted ({time.monotonic() - t0:.1f} s), "
          f"{rollup.days_counted(region='')}", flush=True)
    if rollup.mark() is not None:
        print(f"rollup: {CaseBin.objects.count():,} squares, through {rollup.mark():%Y-%m-%d %H:%M}", flush=True)
        return
    t0 = time.monotonic()
    got = rollup.refresh(full=True)
    print(f"rollup built: {got['cases']:,} finished cases into {got['squares']:,} squares "
          f"({time.monotonic() - t0:.1f} s)", flush=True)
    t0 = time.monotonic()
    rollup.refresh()
    print(f"  a refresh with nothing new: {(time.monotonic() - t0) * 1000:.0f} ms", flush=True)


API = "/api/v1/dashboard/map"
VIEW_PX = (1600, 900)  # the map's size on a command centre's screen


def view_box(lon: float, lat: float, zoom: int) -> str:
    """The bbox a VIEW_PX map centred on (lon, lat) shows at `zoom` (Web Mercator, 256-pixel tiles)."""
    import math

    def y(lat_deg):
        return math.log(math.tan(math.pi / 4 + math.radians(lat_deg) / 2))

    def lat_of(v):
        return math.degrees(2 * math.atan(math.exp(v)) - math.pi / 2)

    per_px = 2 * math.pi / (256 * 2**zoom)  # radians of Mercator y (and of longitude) per pixel
    half_w, half_h = VIEW_PX[0] / 2 * per_px, VIEW_PX[1] / 2 * per_px
    west, east = lon - math.degrees(half_w), lon + math.degrees(half_w)
    south, north = lat_of(y(lat) - half_h), lat_of(y(lat) + half_h)
    return f"{max(west, -180):.5f},{max(south, -85):.5f},{min(east, 180):.5f},{min(north, 85):.5f}"


def timed_get(client, url: str, params: dict) -> float:
    t0 = time.perf_counter()
    r = client.get(url, params)
    elapsed = time.perf_counter() - t0
    assert r.status_code == 200, (url, params, r.status_code, r.content[:300])
    return elapsed


def measure(requests: int) -> None:
    import random
    from datetime import timedelta

    from django.contrib.auth.models import Group
    from django.db import connection
    from django.test import Client
    from django.utils import timezone

    from cityops.accounts.models import User
    from cityops.cases.models import Case
    from cityops.geo.models import Region
    from cityops.iot.models import Device

    print(f"database: {Case.objects.count():,} cases "
          f"({Case.objects.filter(created_at__lt=generator.END - timedelta(days=330)).count():,} older than 330 days), "
          f"{Device.objects.count():,} devices", flush=True)
    leader, _ = User.objects.get_or_create(username="bench_leader")
    leader.groups.add(Group.objects.get_or_create(name="leader")[0])
    client = Client()
    client.force_login(leader)
    cities = Region.objects.filter(level="district")
    west, south = min(r.min_lon for r in cities), min(r.min_lat for r in cities)
    east, north = max(r.max_lon for r in cities), max(r.max_lat for r in cities)
    centre = ((west + east) / 2, (south + north) / 2)
    city_zoom = 9  # the whole of Wuhan (≈ 1.5° × 1.2°) in a 1600 × 900 map
    # The generator's clock ends on 2026-11-25: "today" is then; the dashboard's default period is 7 days.
    today = generator.END.astimezone(timezone.get_current_timezone()).date()
    period = {"from": (today - timedelta(days=6)).isoformat(), "to": today.isoformat()}
    rng = random.Random(5)
    with connection.cursor() as c:
        c.execute("SHOW max_parallel_workers_per_gather")
        workers = c.fetchone()[0]
    print(f"city view: zoom {city_zoom}, bbox {view_box(*centre, city_zoom)}; PostgreSQL parallel workers per "
          f"gather: {workers}", flush=True)

    # --- first paint: the page and every call its script makes for the city view ---------------------------------
    city = {"bbox": view_box(*centre, city_zoom), "zoom": str(city_zoom)}
    calls = [("/dashboard/", {}), (f"{API}/layers", {}), (f"{API}/area", {"status": "open"}),
             (f"{API}/kpis", period)]
    # The areas layer is drawn from /area's answer (no call of its own); the other layers on at first: cases,
    # early warnings, open alarms.
    calls += [(f"{API}/layers/{key}", {**city, "status": "open"}) for key in ("cases", "warnings", "alarms")]
    for url, params in calls:  # warm: the first request of a process builds caches (region shapes, URL resolver)
        timed_get(client, url, params)
    paints, parts = [], {url: [] for url, _ in calls}
    for _ in range(requests):
        total = 0.0
        for url, params in calls:
            t = timed_get(client, url, params)
            parts[url].append(t)
            total += t
        paints.append(total)
    report(f"first paint of the city view (the page + {len(calls) - 1} API calls, one after the other)", paints, 1.0)
    for url, runs in parts.items():
        print(f"    {url:<44} p95 {p95(runs) * 1000:6.0f} ms", flush=True)

    # --- the whole city's map at each zoom -----------------------------------------------------------------------
    for label, filters in (("open cases (the default)", {"status": "open"}),
                           ("all cases of 12 months", {"status": "all"})):
        for zoom in range(8, 17):
            runs = []
            for _ in range(requests):
                lon = rng.uniform(west, east) if zoom > city_zoom else centre[0]
                lat = rng.uniform(south, north) if zoom > city_zoom else centre[1]
                runs.append(timed_get(client, f"{API}/layers/cases",
                                      {"bbox": view_box(lon, lat, zoom), "zoom": str(zoom), **filters}))
            answer = client.get(f"{API}/layers/cases", {"bbox": view_box(centre[0], centre[1], zoom), "zoom": str(zoom),
                                                        **filters}).json()
            report(f"map, {label}, zoom {zoom:>2} ({answer['kind']}, {answer['total']:,} in the central view)",
                   runs, 0.3)

    # --- drill-down to a district ---------------------------------------------------------------------------------
    districts = list(cities.order_by("code"))
    runs = []
    for k in range(requests):
        d = districts[k % len(districts)]
        lon, lat = d.centroid_lon, d.centroid_lat
        view = {"bbox": view_box(lon, lat, 11), "zoom": "11", "region": d.code}
        total = 0.0
        for url, params in ((f"{API}/area", {"region": d.code, "status": "open"}),
                            (f"{API}/kpis", {"region": d.code, **period}),
                            (f"{API}/layers/cases", view)):
            total += timed_get(client, url, params)
        runs.append(total)
    report("drill-down to a district (its area with the streets' counts + its KPIs + its cases at zoom 11, the sum)",
           runs, 0.3)


if __name__ == "__main__":
    main()
