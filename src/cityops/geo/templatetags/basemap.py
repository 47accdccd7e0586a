"""{% basemap %}: the local base map's settings, stylesheet and script for a page with a map (geo/basemap.js).
Put it in the page's scripts block before the page's own map script."""

import logging

from django import template
from django.conf import settings
from django.db import DatabaseError
from django.urls import reverse
from django.utils.translation import gettext as _

from cityops.geo import basemap as basemap_tiles
from cityops.geo import pmtiles_file

register = template.Library()
logger = logging.getLogger(__name__)


def basemap_config() -> dict:
    base = None
    try:
        source = pmtiles_file.archive()
    except (OSError, ValueError) as exc:
        logger.error("CITYOPS_PMTILES %s cannot be read: %s", settings.CITYOPS_PMTILES, exc)
        source = None
    if source is not None:
        base = {"url": reverse("geo:base_tile", args=[0, 0, 0]).replace("/0/0/0", "/{z}/{x}/{y}"),
                **source.describe()}
    try:
        city_bounds = basemap_tiles.city_bounds()
    except DatabaseError:
        city_bounds = None
    water = basemap_tiles.water()
    return {
        "outlines": reverse("geo:outline_tile", args=[0, 0, 0]).replace("/0/0/0.json", "/{z}/{x}/{y}.json"),
        "base": base,
        "tile_url": settings.CITYOPS_TILE_URL or "",
        "tile_attribution": settings.CITYOPS_TILE_ATTRIBUTION or "",
        "water_attribution": getattr(settings, "CITYOPS_WATER_ATTRIBUTION", "") if water else "",
        "city_bounds": city_bounds,
        "locate": reverse("geo:address_point"),
        "text": {
            "loading": _("地图加载中…"),
            # The report map's address search (portal/report.js)
            "override": _("您已在地图上标注了位置。要改用地址“%(address)s”的位置吗？"),
            "found": _("已按地址定位"),
            "kept": _("地图上的标注保持不变"),
        },
    }


@register.inclusion_tag("geo/_basemap.html")
def basemap():
    return {"basemap_config": basemap_config()}
