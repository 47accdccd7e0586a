"""The local base map (issue 13): district, street, community and grid outlines with their names, and the city's
rivers and lakes, cut into small JSON tiles that every map of cityops draws under its own layers — no tile server
and no internet needed.

A tile is the usual Web Mercator z/x/y square of 256 pixels. Its content is already in that tile's pixels, so the
browser only draws it (geo/static/geo/basemap.js):

    {"lines": {"district": [[x0, y0, x1, y1, ...], ...], "street": [...], ...},
     "water": {"areas": [[ring, ring, ...], ...], "rivers": [[x0, y0, ...], ...], "streams": [...]},
     "labels": [{"name": "水果湖街道", "level": "street", "x": 120.5, "y": 80.0}, ...]}

Outlines are the polygons' boundaries as lines (not clipped polygons), so a tile's edge never shows as a border.
Which levels are drawn depends on the zoom (DRAWN_FROM); a region is named where its label fits its outline on
screen (LABEL_ZOOMS, _fits) and does not overlap a label already placed in the tile. Shapes come from the
in-memory region index (geo/index.py) and are simplified once per level and zoom to half a pixel; finished tiles
are kept per process, keyed by the index's version token, and their ETag is that token, so a changed region
changes every tile's ETag.
"""

from __future__ import annotations

import json
import math
import threading
from functools import lru_cache
from pathlib import Path

import numpy as np
import shapely
from django.conf import settings

from cityops.geo import index
from cityops.geo.lru import LruCache
from cityops.geo.names import short_name

TILE_PX = 256
BUFFER_PX = 4  # lines run this far past the tile's edge, so a stroke's width is never cut at the edge
MAX_ZOOM = 20
# Beyond this zoom half a pixel is a few centimetres: shapes are used as they are.
SIMPLIFY_MAX_ZOOM = 17

# The zoom from which each level's outlines are drawn (the grid only at the finest zooms).
DRAWN_FROM = {"district": 0, "street": 11, "community": 13, "grid": 16}
# The zooms at which each level may be named (still only where the name fits its outline on screen).
LABEL_ZOOMS = {"district": (7, 12), "street": (11, 15), "community": (13, 17), "grid": (16, MAX_ZOOM)}
FONT_PX = {"district": 15, "street": 13, "community": 12, "grid": 11}
# Rivers of the WDB-II classes up to this number are drawn below zoom 11 (0 double-lined, 1–2 major rivers).
MAJOR_RIVER_LEVEL = 2
# The shipped water data (GSHHG/WDB-II, geo/data/water) is of a 1:1–3 million scale: its shores and rivers are up to
# 2–3 km off in Wuhan. A guide at city and district zoom; at street zoom it would paint streets as lake.
WATER_MAX_ZOOM = 12

TILE_CACHE_SIZE = 4096


# --- Web Mercator ----------------------------------------------------------------------------------------------
def world_px(z: int) -> int:
    return TILE_PX * 2**z


def lonlat_to_px(lon, lat, z: int):
    """World pixel coordinates at zoom z (arrays or numbers)."""
    n = world_px(z)
    lat = np.clip(np.asarray(lat, dtype=float), -85.0511, 85.0511)
    x = (np.asarray(lon, dtype=float) + 180.0) / 360.0 * n
    rad = np.radians(lat)
    y = (1.0 - np.log(np.tan(rad) + 1.0 / np.cos(rad)) / math.pi) / 2.0 * n
    return x, y


def px_to_lonlat(x, y, z: int):
    n = world_px(z)
    lon = np.asarray(x, dtype=float) / n * 360.0 - 180.0
    lat = np.degrees(np.arctan(np.sinh(math.pi * (1.0 - 2.0 * np.asarray(y, dtype=float) / n))))
    return lon, lat


def tile_box(z: int, x: int, y: int, buffer_px: float = 0.0) -> shapely.Polygon:
    """The tile's square in lon/lat, grown by buffer_px pixels on every side."""
    lons, lats = px_to_lonlat(
        [x * TILE_PX - buffer_px, (x + 1) * TILE_PX + buffer_px],
        [(y + 1) * TILE_PX + buffer_px, y * TILE_PX - buffer_px],
        z,
    )
    return shapely.box(lons[0], lats[0], lons[1], lats[1])


def valid_tile(z: int, x: int, y: int) -> bool:
    return 0 <= z <= MAX_ZOOM and 0 <= x < 2**z and 0 <= y < 2**z


def _tile_transform(z: int, x: int, y: int):
    def transform(coords: np.ndarray) -> np.ndarray:
        px, py = lonlat_to_px(coords[:, 0], coords[:, 1], z)
        return np.column_stack([px - x * TILE_PX, py - y * TILE_PX])

    return transform


def tolerance_deg(z: int) -> float:
    """Half a pixel at zoom z, in degrees of longitude (a little less in latitude: a safe bound)."""
    return 0.5 * 360.0 / world_px(min(z, SIMPLIFY_MAX_ZOOM))


# --- Shapes, simplified per level and zoom ---------------------------------------------------------------------
class _Shapes:
    """Outline lines of one index version, simplified per (level, zoom) on first use."""

    def __init__(self, idx) -> None:
        self.idx = idx
        self.lock = threading.Lock()
        self.lines: dict[tuple[str, int], np.ndarray] = {}
        self.bounds = {level: shapely.bounds(tree.geoms) for level, tree in idx.trees.items()}

    def outline(self, level: str, z: int) -> np.ndarray:
        zs = min(z, SIMPLIFY_MAX_ZOOM)
        key = (level, zs)
        lines = self.lines.get(key)
        if lines is None:
            with self.lock:
                lines = self.lines.get(key)
                if lines is None:
                    boundaries = shapely.boundary(self.idx.trees[level].geoms)
                    lines = shapely.simplify(boundaries, tolerance_deg(zs), preserve_topology=False)
                    self.lines[key] = lines
        return lines


_shapes_lock = threading.Lock()
_shapes: _Shapes | None = None


def _shapes_for(idx) -> _Shapes:
    global _shapes
    shapes = _shapes
    if shapes is None or shapes.idx is not idx:
        with _shapes_lock:
            if _shapes is None or _shapes.idx is not idx:
                _shapes = _Shapes(idx)
            shapes = _shapes
    return shapes


# --- Water: rivers and lakes of an open data set shipped with cityops (geo/data/water/README.md) -----------------
class Water:
    def __init__(self, path: Path | None) -> None:
        self.path = path
        self.version = ""
        lakes, rivers, levels = [], [], []
        if path is not None and path.exists():
            data = json.loads(path.read_text(encoding="utf-8"))
            for feature in data.get("features", []):
                geom = shapely.from_geojson(json.dumps(feature["geometry"]))
                props = feature.get("properties") or {}
                if props.get("kind") == "lake":
                    lakes.append(geom)
                elif props.get("kind") == "river":
                    rivers.append(geom)
                    levels.append(int(props.get("wdb_level", 9)))
            self.version = f"{int(path.stat().st_mtime)}-{path.stat().st_size}"
        self.lakes = np.array(lakes, dtype=object)
        self.rivers = np.array(rivers, dtype=object)
        self.river_levels = np.array(levels, dtype=int)
        self._simplified: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        self.lock = threading.Lock()

    def __bool__(self) -> bool:
        return bool(len(self.lakes) or len(self.rivers))

    def simplified(self, z: int) -> tuple[np.ndarray, np.ndarray]:
        zs = min(z, SIMPLIFY_MAX_ZOOM)
        hit = self._simplified.get(zs)
        if hit is None:
            with self.lock:
                tol = tolerance_deg(zs)
                hit = self._simplified[zs] = (
                    shapely.simplify(self.lakes, tol, preserve_topology=True),
                    shapely.simplify(self.rivers, tol, preserve_topology=False),
                )
        return hit


def water_path() -> Path | None:
    value = getattr(settings, "CITYOPS_WATER_GEOJSON", "")
    return Path(value) if value else None


@lru_cache(maxsize=4)
def _water(path: Path | None, _stamp: float) -> Water:
    return Water(path)


def water() -> Water:
    path = water_path()
    stamp = path.stat().st_mtime if path is not None and path.exists() else 0.0
    return _water(path, stamp)


# --- One tile -------------------------------------------------------------------------------------------------
def _flat(geom) -> list[list[float]]:
    """The lines of a (multi)line geometry as flat [x0, y0, x1, y1, ...] lists, rounded to 0.1 px."""
    out = []
    for part in shapely.get_parts(geom):
        if part.is_empty or part.geom_type != "LineString":
            continue
        coords = np.round(shapely.get_coordinates(part), 1)
        if len(coords) >= 2:
            out.append(coords.ravel().tolist())
    return out


def _rings(geom) -> list[list[list[float]]]:
    out = []
    for part in shapely.get_parts(geom):
        if part.is_empty or part.geom_type != "Polygon":
            continue
        rings = [part.exterior, *part.interiors]
        out.append([np.round(shapely.get_coordinates(r), 1).ravel().tolist() for r in rings])
    return out


def _label_size(name: str, level: str) -> tuple[float, float]:
    font = FONT_PX[level]
    wide = sum(1.0 if ord(ch) > 0x2E80 else 0.6 for ch in name)
    return wide * font + 6, font + 6


def _fits(bounds, name: str, level: str, z: int) -> bool:
    """The label fits the outline on screen: the shape's box is wider than the text (with room to spare, as shapes
    are not boxes) and taller than a line of it."""
    xs, ys = lonlat_to_px([bounds[0], bounds[2]], [bounds[1], bounds[3]], z)
    width, height = xs[1] - xs[0], ys[0] - ys[1]  # pixel y grows southwards
    text_w, text_h = _label_size(name, level)
    return width >= 1.4 * text_w and height >= 2 * text_h


def _overlaps(box, placed) -> bool:
    return any(box[0] < p[2] and p[0] < box[2] and box[1] < p[3] and p[1] < box[3] for p in placed)


def build_tile(z: int, x: int, y: int) -> dict:
    idx = index.get_index()
    shapes = _shapes_for(idx)
    transform = _tile_transform(z, x, y)
    lo, hi = -BUFFER_PX, TILE_PX + BUFFER_PX
    wide_box = tile_box(z, x, y, BUFFER_PX)
    own_box = tile_box(z, x, y)
    lines: dict[str, list] = {}
    labels: list[dict] = []
    placed: list[tuple[float, float, float, float]] = []
    for level in ("district", "street", "community", "grid"):  # coarse first: their labels win a clash
        tree = idx.trees.get(level)
        if tree is None or z < DRAWN_FROM[level]:
            continue
        hits = np.sort(tree.tree.query(wide_box))
        if len(hits) == 0:
            continue
        outlines = shapely.transform(shapes.outline(level, z)[hits], transform)
        clipped = shapely.clip_by_rect(outlines, lo, lo, hi, hi)
        lines[level] = [line for geom in clipped for line in _flat(geom)]

        first, last = LABEL_ZOOMS[level]
        if not first <= z <= last:
            continue
        for pos in hits:
            node = idx.nodes[tree.codes[pos]]
            if not own_box.contains(shapely.Point(node.centroid_lon, node.centroid_lat)):
                continue  # named in the tile its label point falls in
            name = short_name(node.name)
            if not _fits(shapes.bounds[level][pos], name, level, z):
                continue
            px, py = lonlat_to_px(node.centroid_lon, node.centroid_lat, z)
            px, py = float(px) - x * TILE_PX, float(py) - y * TILE_PX
            w, h = _label_size(name, level)
            box = (px - w / 2, py - h / 2, px + w / 2, py + h / 2)
            if _overlaps(box, placed):
                continue
            placed.append(box)
            labels.append({"name": name, "level": level, "x": round(px, 1), "y": round(py, 1)})

    out = {"lines": lines, "labels": labels}
    wet = water()
    if wet and z <= WATER_MAX_ZOOM:
        lakes, rivers = wet.simplified(z)
        areas = []
        lake_hits = shapely.intersects(lakes, wide_box) if len(lakes) else []
        for lake in lakes[lake_hits] if len(lakes) else []:
            areas.extend(_rings(shapely.clip_by_rect(shapely.transform(lake, transform), lo, lo, hi, hi)))
        major, minor = [], []
        if len(rivers):
            keep = shapely.intersects(rivers, wide_box)
            if z < 11:
                keep &= wet.river_levels <= MAJOR_RIVER_LEVEL
            for river, level in zip(rivers[keep], wet.river_levels[keep], strict=True):
                drawn = _flat(shapely.clip_by_rect(shapely.transform(river, transform), lo, lo, hi, hi))
                (major if level <= MAJOR_RIVER_LEVEL else minor).extend(drawn)
        if areas or major or minor:
            out["water"] = {"areas": areas, "rivers": major, "streams": minor}
    return out


# --- Finished tiles, per process ---------------------------------------------------------------------------------
_tiles = LruCache(TILE_CACHE_SIZE)


def tile_etag(z: int, x: int, y: int) -> str:
    """Changes when any region or the water data changes (the index's token), without building the tile."""
    return f'"{index.get_index().token}-{water().version}-{z}-{x}-{y}"'


def tile_json(z: int, x: int, y: int) -> bytes:
    key = tile_etag(z, x, y)
    body = _tiles.get(key)
    if body is None:
        body = json.dumps(build_tile(z, x, y), ensure_ascii=False, separators=(",", ":")).encode()
        _tiles.put(key, body)
    return body


def city_bounds() -> list[float] | None:
    """[[south, west], [north, east]] of the city's districts, for a map with nothing else to show."""
    tree = index.get_index().trees.get("district")
    if tree is None or not len(tree.geoms):
        return None
    bounds = shapely.bounds(tree.geoms)
    return [[float(bounds[:, 1].min()), float(bounds[:, 0].min())], [float(bounds[:, 3].max()), float(bounds[:, 2].max())]]
