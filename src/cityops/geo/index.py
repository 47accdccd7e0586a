"""The in-memory point → region index.

One shapely STRtree per level (grid first, then community, street, district, city for points that no grid
covers), built lazily once per process from the Region table, and rebuilt when `RegionIndexVersion.token`
changes. The token is read at most once every CHECK_SECONDS, so a lookup normally costs no query at all;
other processes notice a change within that interval. Ancestors come from an in-memory dict, so a lookup never
touches the database.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

import numpy as np
import shapely
from django.conf import settings
from django.db.models import TextField
from django.db.models.functions import Cast

from cityops.geo.location import LEVELS, Location, RegionRef

# Deepest first: the order in which a point is tried.
SEARCH_ORDER = ("grid", "community", "street", "district", "city")


@dataclass(frozen=True, slots=True)
class RegionNode:
    code: str
    name: str
    level: str
    parent_code: str | None
    centroid_lon: float
    centroid_lat: float


class LevelTree:
    """An STRtree over one level's polygons and the code of each polygon, by position."""

    __slots__ = ("tree", "codes", "codes_or_none", "geoms")

    def __init__(self, codes: list[str], geoms: np.ndarray) -> None:
        self.codes = np.asarray(codes, dtype=object)
        # One more slot holding None, so that position -1 (no hit) maps to None in a single take.
        self.codes_or_none = np.append(self.codes, None)
        self.geoms = geoms
        self.tree = shapely.STRtree(geoms)

    def first_hit(self, point) -> str | None:
        hits = self.tree.query(point, predicate="intersects")
        if len(hits) == 0:
            return None
        # On a shared edge the point touches two polygons: take the lowest position, so the answer is stable.
        return self.codes[hits.min()] if len(hits) > 1 else self.codes[hits[0]]

    def first_hits(self, points: np.ndarray) -> np.ndarray:
        """Position in this level of the first polygon containing each point, -1 where none does."""
        out = np.full(len(points), -1, dtype=np.int64)
        if len(points) == 0:
            return out
        pairs = self.tree.query(points, predicate="intersects")
        if pairs.shape[1]:
            # Write in reverse so the lowest tree position per point wins (results come sorted by tree position
            # within one input point).
            out[pairs[0][::-1]] = pairs[1][::-1]
        return out


class RegionIndex:
    def __init__(self, token: str, nodes: dict[str, RegionNode], trees: dict[str, LevelTree]) -> None:
        self.token = token
        self.nodes = nodes
        self.trees = trees
        self._chains: dict[str, dict[str, RegionRef]] = {}
        self._refs: dict[str, tuple] = {}
        self._names = None
        self._names_lock = threading.Lock()

    # --- lookups ---------------------------------------------------------------------------------------
    def code_at(self, lon: float, lat: float) -> str | None:
        """Code of the deepest region containing the WGS-84 point, or None outside every region."""
        point = shapely.Point(lon, lat)
        for level in SEARCH_ORDER:
            tree = self.trees.get(level)
            if tree is not None:
                code = tree.first_hit(point)
                if code is not None:
                    return code
        return None

    def codes_at(self, lons, lats) -> np.ndarray:
        """Vectorised code_at: an object array of codes, None where a point lies outside every region."""
        points = shapely.points(np.asarray(lons, dtype=float), np.asarray(lats, dtype=float))
        result = None
        todo = None  # positions still without a region; None means all of them
        for level in SEARCH_ORDER:
            tree = self.trees.get(level)
            if tree is None:
                continue
            if result is None:
                hit = tree.first_hits(points)
                result = tree.codes_or_none[hit]
                todo = np.flatnonzero(hit < 0)
            else:
                hit = tree.first_hits(points[todo])
                found = hit >= 0
                result[todo[found]] = tree.codes[hit[found]]
                todo = todo[~found]
            if len(todo) == 0:
                break
        if result is None:
            result = np.full(len(points), None, dtype=object)
        return result

    def chain(self, code: str) -> dict[str, RegionRef]:
        """The region and all its ancestors, by level."""
        chain = self._chains.get(code)
        if chain is None:
            chain = {}
            node = self.nodes.get(code)
            while node is not None:
                chain[node.level] = RegionRef(node.code, node.name)
                node = self.nodes.get(node.parent_code) if node.parent_code else None
            self._chains[code] = chain
        return chain

    def location(self, code: str | None, lon: float, lat: float, method: str = "point") -> Location:
        refs = self._refs.get(code)
        if refs is None:
            chain = self.chain(code) if code else {}
            refs = self._refs[code] = tuple(chain.get(level) for level in LEVELS)
        return Location(lon, lat, *refs, method)

    def locate(self, lon: float, lat: float) -> Location | None:
        code = self.code_at(lon, lat)
        return None if code is None else self.location(code, lon, lat)

    @property
    def names(self):
        """Lazily built name matcher for addresses (see selectors.locate_address)."""
        if self._names is None:
            with self._names_lock:
                if self._names is None:
                    from cityops.geo.address import NameMatcher

                    self._names = NameMatcher(self.nodes.values())
        return self._names


def build_index(token: str) -> RegionIndex:
    from cityops.geo.models import Region

    rows = (
        Region.objects.annotate(geom_text=Cast("geometry", output_field=TextField()))
        .order_by("code")
        .values_list("id", "code", "name", "level", "parent_id", "centroid_lon", "centroid_lat", "geom_text")
    )
    rows = list(rows.iterator(chunk_size=5000))
    code_by_id = {r[0]: r[1] for r in rows}
    nodes = {
        r[1]: RegionNode(r[1], r[2], r[3], code_by_id.get(r[4]), r[5], r[6])
        for r in rows
    }
    trees: dict[str, LevelTree] = {}
    for level in SEARCH_ORDER:
        selected = [r for r in rows if r[3] == level]
        if not selected:
            continue
        geoms = shapely.from_geojson([r[7] for r in selected])
        shapely.prepare(geoms)
        trees[level] = LevelTree([r[1] for r in selected], geoms)
    return RegionIndex(token, nodes, trees)


class _IndexHolder:
    def __init__(self) -> None:
        self.index: RegionIndex | None = None
        self.checked_at = 0.0
        self.lock = threading.Lock()

    def get(self) -> RegionIndex:
        index = self.index
        now = time.monotonic()
        if index is not None and now - self.checked_at < _check_seconds():
            return index
        from cityops.geo.models import RegionIndexVersion

        token = RegionIndexVersion.current()
        if index is None or index.token != token:
            with self.lock:
                index = self.index
                if index is None or index.token != token:
                    # Read the token before the rows: a write in between makes the token stale, never the rows,
                    # so the next check rebuilds again rather than keeping old shapes.
                    index = build_index(token)
                    self.index = index
        self.checked_at = now
        return index


def _check_seconds() -> float:
    return float(getattr(settings, "CITYOPS_GEO_INDEX_CHECK_SECONDS", 1.0))


_holder = _IndexHolder()


def get_index() -> RegionIndex:
    return _holder.get()


def invalidate() -> None:
    """Forget the index of this process (the next lookup rebuilds it)."""
    _holder.index = None


def recheck() -> None:
    """Make the next lookup compare the version token (tests use this after a rollback)."""
    _holder.checked_at = 0.0


def bump_version() -> None:
    """Call after every write to regions: other processes see a new token; this one rebuilds on next use."""
    from cityops.geo.models import RegionIndexVersion

    RegionIndexVersion.bump()
    recheck()
