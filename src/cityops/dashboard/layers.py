"""The map's layers: a registry any app can add to, like the home page's cards (core/home.py).

A layer is a key, a label, a group and a function `features(user, view) -> dict` that answers one view of the map
(a bounding box, a zoom, the filters, the drill-down region) with GeoJSON features whose properties say how to draw
and what the card says: `title`, `lines` (the card's text), `url` (the object's page), `color`, and for points
`n` (a count: an aggregated bin) — or, for the cases, the aggregation's own answer (aggregation.case_view).

Where the layers come from:
- `CORE_LAYERS` below: the cases, the drill-down's areas, the early warnings (this app's own), and the layers of
  the apps that exist as this is written (iot, disputes, stability) — read through those apps' selectors;
- any AppConfig's `dashboard_layers(user) -> list[Layer]` (the layers that user may see): the safety and
  emergency apps (risk points, hazards, incidents, shelters) add theirs there when they exist, and an app that
  declares a layer under a key listed here replaces the built-in one.
Every layer reads through its app's selector scoped to the user; a layer the user may not read is not listed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from django.apps import apps
from django.db.models import Count, F
from django.db.models.functions import Floor
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext_lazy as _

from cityops.dashboard import aggregation
from cityops.dashboard.aggregation import POINTS_MAX, Box


@dataclass(frozen=True)
class View:
    box: Box
    zoom: int
    filters: dict
    region: str = ""


@dataclass(frozen=True)
class Layer:
    key: str
    label: object
    group: object
    features: Callable  # (user, view) -> dict
    on: bool = False  # shown when the page opens
    legend: list = field(default_factory=list)  # [(color, label)]
    allowed: Callable = lambda user: True  # noqa: E731


RISK_COLORS = {"high": "#d1242f", "medium": "#e16f24", "low": "#1a7f37", "major": "#8250df", "": "#6e7781"}


def _url(name: str, *args) -> str:
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return ""


def _point(lon, lat, **props) -> dict:
    return {"type": "Feature", "geometry": {"type": "Point", "coordinates": [round(lon, 6), round(lat, 6)]},
            "properties": props}


def _collection(features: list, *, total: int | None = None, note: str = "") -> dict:
    return {"type": "FeatureCollection", "features": features,
            "total": len(features) if total is None else total, "note": note}


def points_or_bins(qs, view: View, feature: Callable, *, bin_color: str) -> dict:
    """Rows with lon/lat in the view: each as a feature when at most POINTS_MAX, otherwise counted per square bin
    (as the cases, aggregation.case_view) — the map never gets more than a few thousand shapes."""
    qs = aggregation.in_box(qs.order_by(), view.box)
    few = qs.values("pk")[: POINTS_MAX + 1].count()
    if few <= POINTS_MAX:
        return _collection([feature(row) for row in qs[:POINTS_MAX]])
    size = aggregation.bin_size(view.zoom)
    rows = (qs.annotate(bx=Floor(F("lon") / size), by=Floor(F("lat") / size)).values("bx", "by")
            .annotate(n=Count("pk")))
    features = [_point((r["bx"] + 0.5) * size, (r["by"] + 0.5) * size, n=r["n"], color=bin_color,
                       title=str(_("%(n)s 个") % {"n": r["n"]}), lines=[str(_("放大地图查看每一个"))], url="")
                for r in rows]
    return _collection(features, total=sum(f["properties"]["n"] for f in features))


# --- the cases and the drill-down's areas (this app) ----------------------------------------------------------
def cases_layer(user, view: View) -> dict:
    return aggregation.case_view(user=user, box=view.box, zoom=view.zoom, filters=view.filters, region=view.region)


def areas_layer(user, view: View) -> dict:
    area = aggregation.area_view(user=user, region=view.region, filters=view.filters)
    features = [{"type": "Feature", "geometry": c["shape"], "properties": {
        "code": c["code"], "level": c["level"], "n": c["n"], "late": c["late"], "title": c["name"],
        "lines": [str(_("案件 %(n)s 件，其中超期 %(late)s 件") % {"n": c["n"], "late": c["late"]})],
        "url": "", "drill": c["level"] != "grid"}} for c in area["children"]]
    return _collection(features)


# --- early warnings (this app) --------------------------------------------------------------------------------
def warnings_layer(user, view: View) -> dict:
    from django.db.models import Avg

    from cityops.dashboard import selectors
    from cityops.dashboard.models import EarlyWarning
    from cityops.geo.models import Region

    warnings = list(selectors.warning_list(user=user, open_only=True)[:500])
    places = {r.code: (r.centroid_lon, r.centroid_lat)
              for r in Region.objects.filter(code__in={w.region_code for w in warnings})}
    # A spike around one site is drawn where its cases are (their mean), not at its community's centre.
    sites = (EarlyWarning.cases.through.objects
             .filter(earlywarning_id__in=[w.pk for w in warnings if w.region_level == "community"])
             .values("earlywarning_id").annotate(lon=Avg("case__lon"), lat=Avg("case__lat")).order_by())
    at_site = {s["earlywarning_id"]: (s["lon"], s["lat"]) for s in sites}
    features = []
    for w in warnings:
        point = at_site.get(w.pk) or places.get(w.region_code)
        if point is None:
            continue
        features.append(_point(point[0], point[1], color="#cf222e", kind="warning",
                               title=f"{w.region_name} · {w.category.name_zh}",
                               lines=[str(_("窗口内 %(n)s 件，通常 %(e).1f 件") % {"n": w.observed, "e": w.expected}),
                                      str(w.state_label())],
                               url=f"/dashboard/warnings/{w.pk}/"))
    return _collection(features)


# --- iot: devices and open alarms -----------------------------------------------------------------------------
DEVICE_COLORS = {"online": "#1a7f37", "offline": "#6e7781", "maintenance": "#bf8700"}
SEVERITY_COLORS = {"red": "#cf222e", "orange": "#e16f24", "yellow": "#bf8700", "blue": "#0969da"}


def devices_layer(user, view: View) -> dict:
    from cityops.iot.selectors import device_list

    def feature(d):
        return _point(d.lon, d.lat, color=DEVICE_COLORS.get(d.status, "#6e7781"), kind="device",
                      title=d.name or d.code, lines=[d.get_type_display(), d.get_status_display(), d.address],
                      url=_url("iot:device", d.code))

    return points_or_bins(device_list(user=user).filter(lon__isnull=False, lat__isnull=False), view, feature,
                          bin_color="#0969da")


def alarms_layer(user, view: View) -> dict:
    from cityops.iot.selectors import alarm_list

    qs = alarm_list(user=user, open_only=True).filter(device__lon__isnull=False).annotate(
        lon=F("device__lon"), lat=F("device__lat"))

    def feature(a):
        return _point(a.lon, a.lat, color=SEVERITY_COLORS.get(a.severity, "#cf222e"),
                      kind="alarm", title=f"{a.device.name or a.device.code} · {a.get_severity_display()}",
                      lines=[a.message, str(a.state_label())], url=_url("iot:alarm", a.pk))

    return points_or_bins(qs, view, feature, bin_color="#cf222e")


# --- disputes by risk; screening campaigns' coverage ----------------------------------------------------------
def disputes_layer(user, view: View) -> dict:
    from cityops.disputes.selectors import dispute_list
    from cityops.disputes.workflow import DISPUTE_WORKFLOW

    done = [s for s, st in DISPUTE_WORKFLOW.states.items() if st.terminal]
    qs = dispute_list(user=user).exclude(state__in=done).filter(lon__isnull=False, lat__isnull=False)
    if view.region:
        qs = qs.filter(region_code__startswith=view.region)

    def feature(d):
        return _point(d.lon, d.lat, color=RISK_COLORS.get(d.risk_level, "#6e7781"), kind="dispute",
                      title=f"{d.code} · {d.get_risk_level_display()}{_('风险')}",
                      lines=[str(d.state_label())], url=_url("dispute_page", d.pk))

    return points_or_bins(qs, view, feature, bin_color="#8250df")


def campaigns_layer(user, view: View) -> dict:
    from cityops.disputes.campaigns import campaign_figures, open_campaigns
    from cityops.geo.models import Region

    features = []
    for campaign in open_campaigns(user=user)[:50]:
        figures = campaign_figures(campaign)
        coverage = figures.coverage
        lines = [str(_("走访 %(v)s 次，覆盖 %(h)s 户") % {"v": figures.visits, "h": figures.households_visited}),
                 str(_("覆盖率 %(p)s") % {"p": f"{coverage:.0%}" if coverage is not None else "—"}),
                 str(_("发现纠纷 %(n)s 件") % {"n": figures.disputes_found})]
        color = "#6e7781" if coverage is None else ("#1a7f37" if coverage >= 0.8 else
                                                    "#bf8700" if coverage >= 0.4 else "#cf222e")
        for region in Region.objects.filter(code__in=campaign.region_codes):
            features.append({"type": "Feature", "geometry": aggregation._shape(region), "properties": {
                "kind": "campaign", "color": color, "title": f"{campaign.name} · {region.name}", "lines": lines,
                "url": _url("disputes_campaign_list")}})
    return _collection(features)


# --- stability: decisions' areas -------------------------------------------------------------------------------
def decisions_layer(user, view: View) -> dict:
    from cityops.stability.selectors import decision_list, with_region_nesting

    qs = decision_list(user=user).exclude(state__in=("closed", "withdrawn")).filter(area__isnull=False)
    if view.region:
        qs = qs.filter(with_region_nesting(view.region))  # any of its regions, not only the first
    features = [{"type": "Feature", "geometry": d.area, "properties": {
        "kind": "decision", "color": RISK_COLORS.get(d.level, "#6e7781"), "title": d.title,
        "lines": [str(d.state_label()), str(_("风险等级：%(l)s") % {"l": d.get_level_display() or "—"})],
        "url": _url("stability_page", d.pk)}} for d in qs[:200]]
    return _collection(features)


def _app(label: str) -> bool:
    return apps.is_installed(f"cityops.{label}")


def core_layers() -> list[Layer]:
    layers = [
        Layer("cases", _("案件"), _("城市事件"), cases_layer, on=True,
              legend=[("#1a7f37", _("绿灯")), ("#bf8700", _("黄灯")), ("#cf222e", _("红灯／超期"))]),
        Layer("heat", _("案件密度"), _("城市事件"), cases_layer),
        Layer("areas", _("区域负荷"), _("城市事件"), areas_layer, on=True),
        Layer("warnings", _("异常预警"), _("预测预防"), warnings_layer, on=True),
    ]
    if _app("iot"):
        layers += [Layer("devices", _("物联设备"), _("物联感知"), devices_layer),
                   Layer("alarms", _("未处理告警"), _("物联感知"), alarms_layer, on=True)]
    if _app("disputes"):
        from cityops.disputes.selectors import dispute_list

        def sees_disputes(user):
            return dispute_list(user=user).exists() or user.role_codes & {"leader", "admin", "centre_staff"}

        layers += [Layer("disputes", _("矛盾纠纷（按风险）"), _("矛盾纠纷"), disputes_layer, allowed=sees_disputes,
                         legend=[(RISK_COLORS["high"], _("高")), (RISK_COLORS["medium"], _("中")),
                                 (RISK_COLORS["low"], _("低"))]),
                   Layer("campaigns", _("排查覆盖"), _("矛盾纠纷"), campaigns_layer, allowed=sees_disputes)]
    if _app("stability"):
        layers.append(Layer("decisions", _("稳评决策范围"), _("社会稳定风险评估"), decisions_layer))
    return layers


def layers_for(user) -> list[Layer]:
    """The layers this user may switch on: the built-in ones and every app's `dashboard_layers(user)` (an app's
    layer replaces a built-in one of the same key)."""
    found = {layer.key: layer for layer in core_layers() if layer.allowed(user)}
    for config in apps.get_app_configs():
        contribute = getattr(config, "dashboard_layers", None)
        if contribute is not None:
            for layer in contribute(user):
                found[layer.key] = layer
    return list(found.values())


def layer_for(user, key: str) -> Layer:
    from cityops.core.errors import NotFound

    for layer in layers_for(user):
        if layer.key == key:
            return layer
    raise NotFound(f"图层 {key[:40]} 不存在", f"No layer {key[:40]}", code="layer_not_found")
