"""Coordinate systems. Everything is stored in WGS-84; GCJ-02 (高德/腾讯) and BD-09 (百度) input is converted
with `eviltransform`, using the exact (iterative) inverse so the round trip stays well under a metre."""

import math

import eviltransform

from cityops.core.errors import InvalidInput

WGS84 = "wgs84"
GCJ02 = "gcj02"
BD09 = "bd09"
CRS_CHOICES = (WGS84, GCJ02, BD09)


def parse_lon_lat(lon, lat) -> tuple[float, float]:
    """Turn user input into finite floats within range, or raise InvalidInput(code="invalid_coordinates")."""
    try:
        x = float(str(lon).strip())
        y = float(str(lat).strip())
    except (TypeError, ValueError):
        raise InvalidInput(
            f"坐标不是有效数字：经度 {lon!r}，纬度 {lat!r}",
            f"Coordinates are not valid numbers: lon {lon!r}, lat {lat!r}",
            code="invalid_coordinates",
        ) from None
    if not (math.isfinite(x) and math.isfinite(y)) or not (-180 <= x <= 180 and -90 <= y <= 90):
        raise InvalidInput(
            f"坐标超出范围：经度应在 -180～180，纬度应在 -90～90（收到 {x}, {y}）",
            f"Coordinates out of range: lon must be within -180..180 and lat within -90..90 (got {x}, {y})",
            code="invalid_coordinates",
        )
    return x, y


def check_crs(crs: str | None) -> str:
    value = (crs or WGS84).strip().lower().replace("-", "").replace("_", "")
    if value not in CRS_CHOICES:
        raise InvalidInput(
            f"不支持的坐标系 {crs!r}，可选 wgs84、gcj02、bd09",
            f"Unknown coordinate system {crs!r}; use wgs84, gcj02 or bd09",
            code="unknown_crs",
        )
    return value


def to_wgs84(lon: float, lat: float, crs: str = WGS84) -> tuple[float, float]:
    """(lon, lat) in `crs` → (lon, lat) in WGS-84. Outside China the offsets are zero (eviltransform rule)."""
    crs = check_crs(crs)
    if crs == WGS84:
        return lon, lat
    if crs == BD09:
        lat, lon = eviltransform.bd2gcj(lat, lon)
    wlat, wlon = eviltransform.gcj2wgs_exact(lat, lon)
    return wlon, wlat


def from_wgs84(lon: float, lat: float, crs: str = WGS84) -> tuple[float, float]:
    crs = check_crs(crs)
    if crs == WGS84:
        return lon, lat
    glat, glon = eviltransform.wgs2gcj(lat, lon)
    if crs == GCJ02:
        return glon, glat
    blat, blon = eviltransform.gcj2bd(glat, glon)
    return blon, blat


def distance_m(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    return eviltransform.distance(lat1, lon1, lat2, lon2)
