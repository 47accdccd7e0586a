"""The stability app's layer of the dashboard's map (dashboard/layers.py, through StabilityConfig.dashboard_layers):
稳评决策区域 — the decisions in public consultation or being monitored, each drawn as its area (its own polygon,
else its region's outline), read through selectors.decision_list, so scoped as the app's own pages are."""

from __future__ import annotations

import json

import shapely
from django.urls import reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from cityops.stability import selectors

STATES = ("consultation", "monitoring")
MAX_DECISIONS = 200
CONSULTATION_COLOUR = "#0969da"
LEVEL_COLOURS = {"high": "#d1242f", "medium": "#e16f24", "low": "#1a7f37"}


def _overlaps(geometry: dict, box) -> bool:
    west, south, east, north = shapely.from_geojson(json.dumps(geometry)).bounds
    return west <= box.east and east >= box.west and south <= box.north and north >= box.south


def decision_areas(user, view) -> dict:
    """One view of the map (its box and its drill-down region): the areas of the decisions in consultation or
    monitoring that the user may read and that reach into the box."""
    qs = selectors.decision_list(user=user).filter(state__in=STATES).order_by("-created_at", "-pk")
    if view.region:  # decisions with a region in the drilled-down region, or containing it
        qs = qs.filter(selectors.with_region_nesting(view.region))
    features = []
    for d in qs[:MAX_DECISIONS]:
        area = selectors.area_geojson(d)
        if area is None or not _overlaps(area, view.box):
            continue
        lines = [str(d.state_label())]
        if d.state == "consultation" and d.consultation_ends_on:
            lines.append(gettext("征求意见截止 %(day)s") % {"day": d.consultation_ends_on.isoformat()})
        if d.level:
            lines.append(gettext("风险等级：%(level)s") % {"level": d.get_level_display()})
        lines.append(gettext("评估主体：%(unit)s") % {"unit": d.assessing_unit.name})
        features.append({"type": "Feature", "geometry": area, "properties": {
            "kind": "decision", "state": d.state, "own_polygon": bool(d.area),
            "color": LEVEL_COLOURS.get(d.level, CONSULTATION_COLOUR) if d.state == "monitoring" else CONSULTATION_COLOUR,
            "title": d.title, "lines": lines, "url": reverse("stability_page", args=[d.pk])}})
    return {"type": "FeatureCollection", "features": features, "total": len(features), "note": ""}


def dashboard_layers(user) -> list:
    from cityops.dashboard.layers import Layer

    return [Layer("decisions", _("稳评决策区域"), _("社会稳定风险评估"), decision_areas,
                  legend=[(CONSULTATION_COLOUR, _("征求意见中")), (LEVEL_COLOURS["high"], _("跟踪监测·高风险")),
                          (LEVEL_COLOURS["medium"], _("跟踪监测·中风险")), (LEVEL_COLOURS["low"], _("跟踪监测·低风险"))])]
