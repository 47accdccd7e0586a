"""The map's API, mounted at /api/v1/dashboard/map/: the layers the user may switch on, one layer for one view
(bounding box, zoom, filters, drill-down region), the drill-down step (a region's children with their counts) and
the figures (KPIs). Everything is scoped to the user's area; bad input is refused with a code (aggregation.py)."""

from __future__ import annotations

from django.utils.translation import get_language
from ninja import Query, Router
from pydantic import Field

from cityops.core.schemas import Schema
from cityops.dashboard import aggregation, kpis, layers, scores

router = Router(tags=["dashboard map"])


class LayerOut(Schema):
    key: str
    label: str
    group: str
    on: bool
    legend: list[list[str]]


class ViewQuery(Schema):
    bbox: str = Field(..., description="west,south,east,north (WGS-84 degrees)", examples=["113.7,29.9,115.1,31.4"])
    zoom: str = Field(..., description=f"map zoom, {aggregation.MIN_ZOOM}–{aggregation.MAX_ZOOM}", examples=["10"])
    region: str = Field("", description="drill-down region code (empty: the user's area)")
    status: str = Field("open", description="cases: open | closed | all")
    category: str = Field("", description="cases: a category code")
    from_: str = Field("", alias="from", description="cases reported from (YYYY-MM-DD)")
    to: str = Field("", description="cases reported until (YYYY-MM-DD)")
    late: str = Field("", description="1: overdue cases only")


class AreaQuery(Schema):
    region: str = ""
    status: str = "open"
    category: str = ""
    from_: str = Field("", alias="from")
    to: str = ""
    late: str = ""


class KpiQuery(Schema):
    region: str = ""
    from_: str = Field("", alias="from", description="first day of the period (default: 6 days before `to`)")
    to: str = Field("", description="last day of the period (default: today)")


def _filters(q) -> dict:
    return aggregation.clean_filters({"status": q.status, "category": q.category, "from": q.from_, "to": q.to,
                                      "late": q.late})


@router.get("/layers", response=list[LayerOut], summary="图层 / the map's layers this user may switch on")
def list_layers(request):
    return [{"key": layer.key, "label": str(layer.label), "group": str(layer.group), "on": layer.on,
             "legend": [[color, str(label)] for color, label in layer.legend]} for layer in layers.layers_for(request.auth)]


@router.get("/layers/{key}", summary="一个图层的一个视图 / one layer for one view of the map",
            description="GeoJSON features (title, lines, url, color; `n` on an aggregated bin). The cases layer "
                        "answers `kind: points` (at most 2,000 cases) or `kind: bins` (counts per square bin of "
                        "`size` degrees, computed in the database).")
def get_layer(request, key: str, q: Query[ViewQuery]):
    key = aggregation._clean_text(key, field="layer", max_length=40)
    view = layers.View(box=aggregation.parse_bbox(q.bbox), zoom=aggregation.parse_zoom(q.zoom), filters=_filters(q),
                       region=aggregation.clean_region(request.auth, q.region))
    return layers.layer_for(request.auth, key).features(request.auth, view)


@router.get("/area", summary="下钻 / one step of the drill-down: a region's children with their case counts",
            description="region empty: the user's area (the city for the city's roles, a district for its staff). "
                        "Each child has its outline (simplified), extent and counts; `breadcrumb` leads back up.")
def get_area(request, q: Query[AreaQuery]):
    region = aggregation.clean_region(request.auth, q.region)
    return aggregation.area_view(user=request.auth, region=region, filters=_filters(q))


@router.get("/scores", summary="区域评分 / the scores of a region's children (the cases evaluation) for a period",
            description="For the areas layer coloured by score: each child of `region` (the drill-down's children) "
                        "with its score, grade and rank among its siblings from the cases evaluation of regions "
                        "(cases/evaluation/regions.py) for the period [from, to]; `legend` gives the colour classes. "
                        "403 for those who may not read the regions' evaluation.")
def get_scores(request, q: Query[KpiQuery]):
    region = aggregation.clean_region(request.auth, q.region)
    start, end = kpis.parse_period(q.from_, q.to)
    return scores.children_scores(user=request.auth, region=region, start=start, end=end)


@router.get("/kpis", summary="指标 / today's and a period's figures for the user's area or a region")
def get_kpis(request, q: Query[KpiQuery]):
    region = aggregation.clean_region(request.auth, q.region)
    start, end = kpis.parse_period(q.from_, q.to)
    out = kpis.figures(user=request.auth, region=region, start=start, end=end)
    out["region"] = region
    out["language"] = get_language()
    return out

