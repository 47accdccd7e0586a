"""Every read of regions. Point and address lookups go through the in-memory index (no query per lookup);
lists and single regions come from the database.

Regions are public reference data inside the platform: every signed-in user may read them, so these selectors
take no `user` (scoping applies to what lies inside regions, not to the regions themselves).
"""

from __future__ import annotations

import math

from django.db.models import QuerySet

from cityops.core.errors import InvalidInput, NotFound, Unprocessable
from cityops.geo import index
from cityops.geo.address import ParsedAddress, parse_address_cached
from cityops.geo.coords import check_crs, parse_lon_lat, to_wgs84
from cityops.geo.location import Location
from cityops.geo.models import Region

MAX_ADDRESS = 300
LEVELS = [choice for choice, _label in Region.Level.choices]


def _outside_city(lon: float, lat: float) -> Unprocessable:
    return Unprocessable(
        f"该位置（{lon:.6f}, {lat:.6f}）不在本市范围内",
        f"The point ({lon:.6f}, {lat:.6f}) is outside the city",
        code="outside_city",
    )


def locate_point(*, lon, lat, crs: str = "wgs84") -> Location:
    """The regions containing a point, from the city down to its grid. Accepts numbers or strings;
    GCJ-02 and BD-09 are converted to WGS-84 first, and the answer carries the WGS-84 point."""
    crs = check_crs(crs)
    x, y = parse_lon_lat(lon, lat)
    x, y = to_wgs84(x, y, crs)
    location = index.get_index().locate(x, y)
    if location is None:
        raise _outside_city(x, y)
    return location


def locate_points(*, lons, lats, crs: str = "wgs84") -> list[Location | None]:
    """Batch locate (vectorised): one Location per point, None for points outside the city."""
    crs = check_crs(crs)
    pairs = [parse_lon_lat(x, y) for x, y in zip(lons, lats, strict=True)]
    if crs != "wgs84":
        pairs = [to_wgs84(x, y, crs) for x, y in pairs]
    idx = index.get_index()
    codes = idx.codes_at([p[0] for p in pairs], [p[1] for p in pairs])
    return [None if code is None else idx.location(code, x, y) for code, (x, y) in zip(codes, pairs, strict=True)]


def locate_address(*, text: str) -> Location | None:
    """Where an address (as people write or say it) is: the Location a case there gets — a landmark's point with
    its grid, or the deepest region named at its centroid (method "address"); None when the text names no place
    of the city, or names one that exists in several districts and nothing in the text tells which
    (parse_address then lists them as candidates). See geo.address for the rules."""
    text = (text or "").strip()
    if not text:
        raise InvalidInput("地址为空", "The address is empty", code="invalid_address")
    return parse_address_cached(text).located()


def parse_address(*, text: str) -> ParsedAddress:
    """The whole answer of the address parser: region, point, landmark or road, and the candidates of an
    ambiguous name, best first (what the hotline suggests; locate_address is its Location)."""
    return parse_address_cached((text or "").strip()[:MAX_ADDRESS])


def region_list(*, level: str | None = None, parent: str | None = None) -> QuerySet[Region]:
    qs = Region.objects.all()
    if level:
        if level not in LEVELS:
            raise InvalidInput(
                f"未知层级 {level!r}，可选 {'、'.join(LEVELS)}",
                f"Unknown level {level!r}; use one of {', '.join(LEVELS)}",
                code="invalid_level",
            )
        qs = qs.filter(level=level)
    if parent:
        qs = qs.filter(parent__code=parent)
    return qs.select_related("parent").order_by("code")


def region_get(code: str) -> Region:
    region = Region.objects.select_related("parent").filter(code=code).first()
    if region is None:
        raise NotFound(f"区域 {code} 不存在", f"Region {code} does not exist", code="region_not_found")
    return region


def region_chain(code: str) -> dict:
    """The region and its ancestors by level, from the in-memory index (no query)."""
    return {level: ref.as_dict() for level, ref in index.get_index().chain(code).items()}


def parse_simplify(value) -> float | None:
    if value in (None, ""):
        return None
    try:
        tolerance = float(value)
    except (TypeError, ValueError):
        tolerance = math.nan
    if not math.isfinite(tolerance) or not 0 <= tolerance <= 0.1:
        raise InvalidInput(
            "simplify 应为 0～0.1 之间的度数", "simplify must be a tolerance in degrees between 0 and 0.1",
            code="invalid_simplify",
        )
    return tolerance
