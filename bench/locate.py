"""Point → grid lookup benchmark: our index (cityops.geo.index) beside raw shapely STRtree on the same
synthetic grids, plus the p99 latency of GET /api/v1/geo/locate on the Wuhan demo geography, and how many
spoken addresses geo.selectors.locate_address finds (every street said "XX街附近那个路口", every community
"XX社区门口", every landmark "…附近") and how fast.

    PYTHONPATH=src .venv/bin/python bench/locate.py [--points 200000] [--singles 50000] [--requests 3000]

The API part uses a scratch SQLite database under $CITYOPS_DATA_DIR (default /tmp/cityops-bench-geo), loading
the demo geography there once (about 10 s).
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import shapely

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cityops.settings")
os.environ.setdefault("CITYOPS_DATA_DIR", "/tmp/cityops-bench-geo")

# Wuhan's main urban area, roughly.
BOX = (113.95, 30.25, 114.75, 30.95)


def synthetic_grids(n: int, seed: int = 7):
    """About n slightly irregular quadrilaterals (shared jittered corners, so they tile without gaps) over BOX."""
    rng = np.random.default_rng(seed)
    min_x, min_y, max_x, max_y = BOX
    aspect = (max_x - min_x) * math.cos(math.radians(30.6)) / (max_y - min_y)
    nx = round(math.sqrt(n * aspect))
    ny = round(n / nx)
    dx, dy = (max_x - min_x) / nx, (max_y - min_y) / ny
    xs = min_x + np.arange(nx + 1) * dx
    ys = min_y + np.arange(ny + 1) * dy
    gx, gy = np.meshgrid(xs, ys)  # (ny+1, nx+1) corners
    gx = gx + rng.uniform(-0.2, 0.2, gx.shape) * dx
    gy = gy + rng.uniform(-0.2, 0.2, gy.shape) * dy
    gx[:, 0], gx[:, -1], gy[0, :], gy[-1, :] = min_x, max_x, min_y, max_y
    i, j = np.meshgrid(np.arange(ny), np.arange(nx), indexing="ij")
    i, j = i.ravel(), j.ravel()
    rings = np.stack(
        [
            np.stack([gx[i, j], gy[i, j]], -1),
            np.stack([gx[i, j + 1], gy[i, j + 1]], -1),
            np.stack([gx[i + 1, j + 1], gy[i + 1, j + 1]], -1),
            np.stack([gx[i + 1, j], gy[i + 1, j]], -1),
            np.stack([gx[i, j], gy[i, j]], -1),
        ],
        axis=1,
    )
    geoms = shapely.polygons(rings)
    return geoms


def build_our_index(geoms):
    from cityops.geo.index import LevelTree, RegionIndex, RegionNode

    nodes = {"420100": RegionNode("420100", "武汉市", "city", None, 114.3, 30.6)}
    codes = []
    for k in range(len(geoms)):
        code = f"42010000000{k:06d}"[-14:]
        codes.append(code)
        nodes[code] = RegionNode(code, f"网格{k}", "grid", "420100", 0.0, 0.0)
    geoms = geoms.copy()
    shapely.prepare(geoms)
    return RegionIndex("bench", nodes, {"grid": LevelTree(codes, geoms)})


def rate(fn, count: int, repeat: int = 3) -> float:
    best = math.inf
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return count / best


def bench_index(n_grids: int, n_points: int, n_singles: int) -> list[tuple]:
    geoms = synthetic_grids(n_grids)
    rng = np.random.default_rng(11)
    xs = rng.uniform(BOX[0], BOX[2], n_points)
    ys = rng.uniform(BOX[1], BOX[3], n_points)
    pts = shapely.points(xs, ys)
    raw_tree = shapely.STRtree(geoms)
    ours = build_our_index(geoms)
    sx, sy = xs[:n_singles].tolist(), ys[:n_singles].tolist()

    # correctness first: both agree on every point
    pairs = raw_tree.query(pts[:20000], predicate="intersects")
    first = np.full(20000, -1)
    first[pairs[0][::-1]] = pairs[1][::-1]
    ours_codes = ours.codes_at(xs[:20000], ys[:20000])
    tree_codes = ours.trees["grid"].codes
    assert all((f < 0 and c is None) or tree_codes[f] == c for f, c in zip(first, ours_codes, strict=True))

    # Both sides start from coordinates: the raw side builds its points too (ours must), then queries.
    raw_batch = rate(lambda: raw_tree.query(shapely.points(xs, ys), predicate="intersects"), n_points)
    our_batch = rate(lambda: ours.codes_at(xs, ys), n_points)

    def raw_single():
        q = raw_tree.query
        Point = shapely.Point
        for x, y in zip(sx, sy, strict=True):
            q(Point(x, y), predicate="intersects")

    def our_single():
        f = ours.code_at
        for x, y in zip(sx, sy, strict=True):
            f(x, y)

    def our_locate():
        f = ours.locate
        for x, y in zip(sx, sy, strict=True):
            f(x, y)

    raw_one = rate(raw_single, n_singles)
    our_one = rate(our_single, n_singles)
    our_loc = rate(our_locate, n_singles)
    return [
        (n_grids, "batch (vectorised)", raw_batch, our_batch, "codes_at"),
        (n_grids, "single", raw_one, our_one, "code_at"),
        (n_grids, "single + ancestors", raw_one, our_loc, "locate → Location"),
    ]


def bench_api(n_requests: int) -> dict:
    import django

    Path(os.environ["CITYOPS_DATA_DIR"]).mkdir(parents=True, exist_ok=True)
    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.test import Client
    from django.test.utils import setup_test_environment

    setup_test_environment()  # lets the test Client run without ALLOWED_HOSTS surprises
    call_command("migrate", verbosity=0)
    from cityops.accounts.models import User
    from cityops.geo.demo import load_demo_geography

    load_demo_geography()
    user, _ = User.objects.get_or_create(username="bench_geo")
    client = Client()
    client.force_login(user)
    rng = np.random.default_rng(5)
    # Points in central Wuhan (all inside the city) plus a few outside.
    xs = rng.uniform(114.15, 114.45, n_requests)
    ys = rng.uniform(30.45, 30.70, n_requests)
    for k in range(50):  # warm up: builds the index, opens the connection
        client.get("/api/v1/geo/locate", {"lon": f"{xs[k]:.6f}", "lat": f"{ys[k]:.6f}"})
    times = []
    statuses: dict[int, int] = {}
    for x, y in zip(xs, ys, strict=True):
        t = time.perf_counter()
        response = client.get("/api/v1/geo/locate", {"lon": f"{x:.6f}", "lat": f"{y:.6f}"})
        times.append((time.perf_counter() - t) * 1000)
        statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
    times.sort()
    return {
        "requests": n_requests,
        "statuses": statuses,
        "median_ms": statistics.median(times),
        "p99_ms": times[int(len(times) * 0.99) - 1],
        "max_ms": times[-1],
        "db": settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1],
    }


def spoken_addresses() -> list[tuple[str, str, str]]:
    """(text, level, code) of every street and community of the Region table and every gazetteer landmark, in
    the short spoken form with a colloquial tail and no district."""
    from cityops.geo.models import Region

    out = []
    for code, name in Region.objects.filter(level="street").values_list("code", "name"):
        for suffix in ("街道办事处", "街办事处", "办事处", "街道"):
            if name.endswith(suffix):
                out.append((f"{name[: -len(suffix)]}街附近那个路口", "street", code))
                break
    for code, name in Region.objects.filter(level="community").values_list("code", "name"):
        for suffix in ("社区居民委员会", "社区居委会", "居委会", "社区"):
            if name.endswith(suffix):
                out.append((f"{name[: -len(suffix)]}社区门口", "community", code))
                break
    landmarks = ROOT / "src" / "cityops" / "geo" / "data" / "gazetteer.csv"
    if not landmarks.exists():  # before issue 12 the gazetteer was the hotline's
        landmarks = ROOT / "src" / "cityops" / "hotline" / "data" / "gazetteer.csv"
    import csv

    with landmarks.open(encoding="utf-8") as f:
        for row in csv.DictReader(f):
            if row["kind"] == "landmark":
                out.append((f"{row['name']}附近", "district", row["districts"].split("|")[0]))
    return out


def bench_addresses() -> dict:
    """Share found (the right region, or among the candidates when the name exists more than once) and the
    time of one uncached locate_address (the answer cache is bypassed by clearing it)."""
    from cityops.geo import selectors

    try:
        from cityops.geo import address as parser

        clear = parser._cache.clear
    except AttributeError:  # before issue 12 locate_address had no cache
        def clear():
            return None
    rows = spoken_addresses()
    found: dict[str, list[int]] = {}
    times = []
    for text, level, code in rows:
        clear()
        t = time.perf_counter()
        location = selectors.locate_address(text=text)
        times.append((time.perf_counter() - t) * 1000)
        ok = location is not None and getattr(location, level) is not None and getattr(location, level).code == code
        if not ok and hasattr(selectors, "parse_address"):
            parsed = selectors.parse_address(text=text)
            ok = parsed.ambiguous and any(getattr(c, level) and getattr(c, level).code == code
                                          for c in parsed.candidates)
        found.setdefault(level, []).append(int(ok))
    times.sort()
    return {"found": {level: (sum(v), len(v)) for level, v in found.items()},
            "median_ms": statistics.median(times), "p99_ms": times[int(len(times) * 0.99) - 1]}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--points", type=int, default=200_000)
    parser.add_argument("--singles", type=int, default=50_000)
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--grids", type=int, nargs="*", default=[20_000, 100_000])
    parser.add_argument("--skip-api", action="store_true")
    args = parser.parse_args()

    print(f"shapely {shapely.__version__}, GEOS {'.'.join(map(str, shapely.geos_version))}, "
          f"numpy {np.__version__}, python {sys.version.split()[0]}")
    print()
    print("raw = shapely.STRtree.query(points, predicate='intersects') on the same polygons, from coordinates;")
    print("ours = cityops.geo.index.RegionIndex (first hit per point → grid code; locate also builds the Location)")
    print(f"{'grids':>8}  {'mode':<20} {'raw STRtree /s':>15} {'ours /s':>12} {'ours/raw':>9}  our call")
    print("-" * 90)
    for n in args.grids:
        for grids, mode, raw, ours, call in bench_index(n, args.points, args.singles):
            print(f"{grids:>8}  {mode:<20} {raw:>15,.0f} {ours:>12,.0f} {ours / raw:>8.0%}  {call}")
    if not args.skip_api:
        print()
        api = bench_api(args.requests)
        print(f"GET /api/v1/geo/locate via django.test.Client (session auth, {api['db']}, Wuhan demo "
              f"geography), {api['requests']} requests: statuses {api['statuses']}")
        print(f"  median {api['median_ms']:.2f} ms   p99 {api['p99_ms']:.2f} ms   max {api['max_ms']:.2f} ms"
              f"   (target p99 < 20 ms)")
        spoken = bench_addresses()
        print()
        print("spoken addresses → locate_address (no district; right region, or a candidate of an ambiguous name):")
        for level, (ok, total) in spoken["found"].items():
            print(f"  {level:10s} {ok:5d} / {total:5d}  ({ok / total:.1%})")
        print(f"  one uncached lookup: median {spoken['median_ms']:.2f} ms   p99 {spoken['p99_ms']:.2f} ms")


if __name__ == "__main__":
    main()
