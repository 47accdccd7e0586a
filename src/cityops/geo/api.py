"""GET-only geography API under /api/v1/geo/: locate a point, list and read regions, GeoJSON for maps.
Every endpoint uses the project's default auth (session or bearer token)."""

from __future__ import annotations

import json

import shapely
from django.http import HttpResponse
from ninja import Router

from cityops.core.schemas import Offset, Schema, page_size
from cityops.geo import selectors

router = Router(tags=["geo"])

DEFAULT_LIMIT = 200
MAX_LIMIT = 5000


class RegionRefOut(Schema):
    code: str
    name: str


class LocationOut(Schema):
    city: RegionRefOut | None
    district: RegionRefOut | None
    street: RegionRefOut | None
    community: RegionRefOut | None
    grid: RegionRefOut | None
    lon: float
    lat: float


class RegionOut(Schema):
    code: str
    name: str
    level: str
    parent: str | None
    centroid_lon: float
    centroid_lat: float
    bbox: list[float]
    area_km2: float
    generated: bool
    source: str


class RegionListOut(Schema):
    count: int
    offset: int
    limit: int
    items: list[RegionOut]


class RegionDetailOut(RegionOut):
    ancestors: dict[str, RegionRefOut]
    geometry: dict


class ErrorOut(Schema):
    code: str
    message: str
    message_en: str


def _region_out(region) -> dict:
    return {
        "code": region.code,
        "name": region.name,
        "level": region.level,
        "parent": region.parent.code if region.parent_id else None,
        "centroid_lon": region.centroid_lon,
        "centroid_lat": region.centroid_lat,
        "bbox": [region.min_lon, region.min_lat, region.max_lon, region.max_lat],
        "area_km2": region.area_km2,
        "generated": region.generated,
        "source": region.source,
    }


@router.get(
    "/locate",
    response={200: LocationOut, 400: ErrorOut, 422: ErrorOut},
    summary="坐标定位到网格 / locate a point: city, district, street, community, grid",
)
def locate(request, lon: str, lat: str, crs: str = "wgs84"):
    """lon/lat are taken as text so that a malformed number answers our 400 `invalid_coordinates`.
    crs: wgs84 (default), gcj02 (高德/腾讯), bd09 (百度). Outside the city: 422 `outside_city`."""
    return selectors.locate_point(lon=lon, lat=lat, crs=crs).as_dict()


@router.get("/regions", response={200: RegionListOut, 400: ErrorOut}, summary="区域列表 / list regions")
def regions(request, level: str | None = None, parent: str | None = None, offset: Offset = 0,
            limit: page_size(MAX_LIMIT) = DEFAULT_LIMIT):
    qs = selectors.region_list(level=level, parent=parent).defer("geometry")
    items = [_region_out(r) for r in qs[offset : offset + limit]]
    return {"count": qs.count(), "offset": offset, "limit": limit, "items": items}


@router.get(
    "/regions.geojson",
    response={400: ErrorOut},
    summary="区域 GeoJSON / regions as a GeoJSON FeatureCollection",
    openapi_extra={"responses": {"200": {"description": "GeoJSON FeatureCollection", "content": {
        "application/geo+json": {"schema": {"type": "object", "required": ["type", "features"]}}}}}},
)
def regions_geojson(request, level: str | None = None, parent: str | None = None, simplify: str | None = None,
                    limit: page_size(50_000) = MAX_LIMIT):
    """simplify: tolerance in degrees (e.g. 0.0005 ≈ 50 m) to make big shapes light for a map."""
    tolerance = selectors.parse_simplify(simplify)
    qs = selectors.region_list(level=level, parent=parent)[:limit]
    features = []
    for region in qs:
        geometry = region.geometry
        if tolerance:
            geom = shapely.simplify(shapely.from_geojson(json.dumps(geometry)), tolerance, preserve_topology=True)
            geometry = json.loads(shapely.to_geojson(geom))
        props = _region_out(region)
        props.pop("bbox")
        features.append({"type": "Feature", "id": region.code, "properties": props, "geometry": geometry})
    body = json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False, separators=(",", ":"))
    return HttpResponse(body, content_type="application/geo+json; charset=utf-8")


@router.get("/regions/{code}", response={200: RegionDetailOut, 404: ErrorOut}, summary="区域详情 / one region")
def region_detail(request, code: str):
    region = selectors.region_get(code)
    out = _region_out(region)
    out["ancestors"] = selectors.region_chain(code)
    out["geometry"] = region.geometry
    return out
