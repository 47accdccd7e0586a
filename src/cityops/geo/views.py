import logging

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse, HttpResponseNotModified, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from django.views.decorators.http import require_GET

from cityops.core.edge import coded_json
from cityops.geo import basemap, pmtiles_file
from cityops.geo.models import Region
from cityops.geo.names import short_name
from cityops.geo.selectors import parse_address

logger = logging.getLogger(__name__)
# Browsers keep a tile this long before asking again (then with If-None-Match: 304 while nothing changed).
TILE_MAX_AGE = 300


@login_required
def region_map(request):
    """The drill-down map: districts → streets → communities → grids, all from /api/v1/geo/regions.geojson."""
    config = {
        "api": "/api/v1/geo/",
        "text": {
            "city": Region.objects.filter(level="city").values_list("name", flat=True).first() or _("全市"),
            "loading": _("加载中…"),
            "failed": _("加载失败"),
            "count": _("个区域"),
            "generated": _("生成的示意边界"),
        },
    }
    return render(request, "geo/map.html", {"geo_config": config})


# --- The base map's tiles: public, since the resident portal's maps draw them too ------------------------------
# Region names and outlines are the city's public reference data (DESIGN.md "Geography"); nothing else is in a tile.
@require_GET
def outline_tile(request, z: int, x: int, y: int):
    """District, street, community and grid outlines with their names, and the water, of one z/x/y tile
    (geo/basemap.py). ETag: the region index's version token, so an unchanged tile answers 304 unbuilt."""
    if not basemap.valid_tile(z, x, y):
        raise Http404("no such tile")
    etag = basemap.tile_etag(z, x, y)
    if etag in _etags(request):
        response = HttpResponseNotModified()
    else:
        response = HttpResponse(basemap.tile_json(z, x, y), content_type="application/json")
    response["ETag"] = etag
    response["Cache-Control"] = f"public, max-age={TILE_MAX_AGE}"
    return response


@require_GET
def base_tile(request, z: int, x: int, y: int):
    """A tile of the city's own base map, read from the PMTiles file CITYOPS_PMTILES; 404 without one."""
    try:
        source = pmtiles_file.archive()
    except (OSError, ValueError) as exc:
        logger.error("CITYOPS_PMTILES %s cannot be read: %s", getattr(settings, "CITYOPS_PMTILES", ""), exc)
        source = None
    if source is None:
        raise Http404("no base map file configured")
    etag = f'"{source.etag_part}-{z}-{x}-{y}"'
    if etag in _etags(request):
        response = HttpResponseNotModified()
    else:
        tile = source.tile(z, x, y, request.headers.get("Accept-Encoding", ""))
        if tile is None:
            raise Http404("no such tile")
        response = HttpResponse(tile.data, content_type=tile.content_type)
        if tile.encoding:
            response["Content-Encoding"] = tile.encoding
    response["ETag"] = etag
    response["Cache-Control"] = f"public, max-age={TILE_MAX_AGE}"
    return response


def _etags(request) -> set[str]:
    return {tag.strip() for tag in request.headers.get("If-None-Match", "").split(",") if tag.strip()}


@require_GET
def address_point(request):
    """Address → point for a map (the portal's report map): the platform's one address parser
    (geo.selectors.parse_address, the hotline's), so the pin lands where a report would be placed without one.
    Public, like the portal. 404 when it finds no place, or more than one with nothing to tell them apart."""
    parsed = parse_address(text=request.GET.get("q", ""))
    location = parsed.located() if parsed.text else None
    if parsed.text and parsed.ambiguous:
        places = "、".join(" ".join(ref.name for ref in (c.district, c.street, c.community) if ref)
                          for c in parsed.candidates)
        return coded_json("address_ambiguous", gettext_noop("这个地名有好几处（%(places)s），请写明所在的区或街道，或在地图上点选位置"),
                          status=404, extra={"found": False}, places=places)
    if location is None:
        return coded_json("address_not_found", gettext_noop("没有找到该地址，请换个说法或在地图上点选位置"),
                          status=404, extra={"found": False})
    names = [short_name(ref.name) for ref in (location.district, location.street, location.community) if ref]
    zoom = 17 if parsed.method == "landmark" else 16 if location.community else 15 if location.street else 13
    return JsonResponse({"found": True, "lon": round(location.lon, 6), "lat": round(location.lat, 6),
                         "label": " ".join(names), "zoom": zoom})
