"""Geometry helpers shared by import, grid generation and the demo: measures in metres on a local projection
(good to well under 1 % across a city), cleaning to polygons, and the fields a Region stores about its shape."""

from __future__ import annotations

import json
import math

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

M_PER_DEG_LAT = 110_574.0
M_PER_DEG_LON_EQUATOR = 111_320.0
# Coordinates of generated shapes are snapped to 1e-6 degrees (about 0.1 m): plenty, and keeps GeoJSON small.
GRID_SIZE = 1e-6


def metres_to_degrees(size_m: float, lat: float) -> tuple[float, float]:
    """(dlon, dlat) of a square size_m metres wide at this latitude."""
    return size_m / (M_PER_DEG_LON_EQUATOR * math.cos(math.radians(lat))), size_m / M_PER_DEG_LAT


def area_km2(geom: BaseGeometry) -> float:
    if geom.is_empty:
        return 0.0
    lat0 = geom.centroid.y
    kx = M_PER_DEG_LON_EQUATOR * math.cos(math.radians(lat0)) / 1000.0
    ky = M_PER_DEG_LAT / 1000.0
    return float(geom.area * kx * ky)


def polygonal(geom: BaseGeometry | None) -> BaseGeometry | None:
    """Only the polygon parts of a geometry (intersections can add lines and points); None if nothing is left."""
    if geom is None or geom.is_empty:
        return None
    if geom.geom_type in ("Polygon", "MultiPolygon"):
        return geom
    parts = [p for p in shapely.get_parts(geom) if p.geom_type in ("Polygon", "MultiPolygon")]
    polys = []
    for part in parts:
        polys.extend(shapely.get_parts(part) if part.geom_type == "MultiPolygon" else [part])
    polys = [p for p in polys if not p.is_empty and p.area > 0]
    if not polys:
        return None
    return polys[0] if len(polys) == 1 else shapely.MultiPolygon(polys)


def inside_point(geom: BaseGeometry) -> shapely.Point:
    """The centroid when it lies inside the shape, else a point on its surface (concave shapes, rings)."""
    centroid = geom.centroid
    return centroid if geom.contains(centroid) else geom.point_on_surface()


def shape_fields(geom: BaseGeometry) -> dict:
    """The Region fields that describe a shape."""
    min_lon, min_lat, max_lon, max_lat = geom.bounds
    point = inside_point(geom)
    return {
        "geometry": json.loads(shapely.to_geojson(geom)),
        "min_lon": min_lon,
        "min_lat": min_lat,
        "max_lon": max_lon,
        "max_lat": max_lat,
        "centroid_lon": round(point.x, 7),
        "centroid_lat": round(point.y, 7),
        "area_km2": round(area_km2(geom), 6),
    }


def snap(geom: BaseGeometry) -> BaseGeometry:
    return shapely.set_precision(geom, GRID_SIZE)


def within_with_tolerance(inner: BaseGeometry, outer: BaseGeometry, fraction: float = 0.001) -> bool:
    """True when at most `fraction` of inner's area lies outside outer (boundaries drawn by different
    people never coincide exactly)."""
    if inner.area == 0:
        return outer.covers(inner)
    outside = shapely.difference(inner, outer).area
    return outside <= fraction * inner.area


def square_cells(geom: BaseGeometry, size_m: float) -> np.ndarray:
    """Square cells of size_m metres covering the shape's bounds, anchored on a whole multiple of the cell
    size so that neighbouring parents produce aligned cells."""
    lat0 = (geom.bounds[1] + geom.bounds[3]) / 2
    dlon, dlat = metres_to_degrees(size_m, round(lat0, 1))
    min_lon, min_lat, max_lon, max_lat = geom.bounds
    x0 = math.floor(min_lon / dlon) * dlon
    y0 = math.floor(min_lat / dlat) * dlat
    nx = max(1, math.ceil((max_lon - x0) / dlon))
    ny = max(1, math.ceil((max_lat - y0) / dlat))
    if nx * ny > 200_000:
        return np.array([], dtype=object)  # the caller reports "too many cells"
    xs = x0 + np.arange(nx) * dlon
    ys = y0 + np.arange(ny) * dlat
    gx, gy = np.meshgrid(xs, ys)
    gx, gy = gx.ravel(), gy.ravel()
    return shapely.box(gx, gy, gx + dlon, gy + dlat)


def clip_cells(geom: BaseGeometry, size_m: float, sliver_fraction: float = 0.2) -> list[BaseGeometry]:
    """Cut the shape into square cells of size_m metres. Cells smaller than sliver_fraction of a full cell
    are merged into the neighbour they share the longest edge with (or the nearest cell), so the cells
    cover the whole shape and every point of it has a grid. Returned in reading order: north to south,
    then west to east."""
    boxes = square_cells(geom, size_m)
    if len(boxes) == 0:
        return []
    shapely.prepare(geom)
    candidates = boxes[shapely.intersects(geom, boxes)]
    clipped = [polygonal(snap(g)) for g in shapely.intersection(candidates, geom)]
    cells = [g for g in clipped if g is not None]
    if not cells:
        return [geom]
    full = shapely.area(candidates[0])
    areas = np.array([c.area for c in cells])
    big = [c for c, a in zip(cells, areas, strict=True) if a >= sliver_fraction * full]
    small = [c for c, a in zip(cells, areas, strict=True) if a < sliver_fraction * full]
    if not big:
        return [polygonal(snap(geom)) or geom]
    groups: list[list[BaseGeometry]] = [[c] for c in big]
    tree = shapely.STRtree(big)
    for sliver in small:
        near = tree.query(sliver, predicate="intersects")
        if len(near):
            shared = [shapely.intersection(sliver.boundary, big[i].boundary).length for i in near]
            target = int(near[int(np.argmax(shared))])
        else:
            target = int(tree.query_nearest(sliver)[0])
        groups[target].append(sliver)
    merged = []
    for group in groups:
        cell = group[0] if len(group) == 1 else polygonal(snap(shapely.union_all(group)))
        if cell is not None:
            merged.append(cell)
    merged.sort(key=lambda c: (-round(c.centroid.y, 5), round(c.centroid.x, 5)))
    return merged
