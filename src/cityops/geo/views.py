from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.utils.translation import gettext as _

from cityops.geo.models import Region


@login_required
def region_map(request):
    """The drill-down map: districts → streets → communities → grids, all from /api/v1/geo/regions.geojson."""
    config = {
        "api": "/api/v1/geo/",
        "tile_url": getattr(settings, "CITYOPS_TILE_URL", "") or "",
        "tile_attribution": getattr(settings, "CITYOPS_TILE_ATTRIBUTION", "") or "",
        "text": {
            "city": Region.objects.filter(level="city").values_list("name", flat=True).first() or _("全市"),
            "loading": _("加载中…"),
            "failed": _("加载失败"),
            "count": _("个区域"),
            "generated": _("生成的示意边界"),
        },
    }
    return render(request, "geo/map.html", {"geo_config": config})
