"""The dashboard's map of cases, aggregated in the database (issue 15: a million cases without a million points).

A view of the map is a bounding box and a zoom. The server answers with
- the cases themselves when few (≤ POINTS_MAX in view): each with its state, traffic light and a link;
- otherwise counts per square bin: one GROUP BY on floor(lon / size), floor(lat / size) inside the box, the bin
  about BIN_PIXELS screen pixels wide at that zoom, with the mean position of its cases (where the circle is
  drawn) and how many of them are overdue. On PostgreSQL the box and the counts come from one index
  (cases' case_lon_lat: (lon, lat) INCLUDE state, created_at, …), read without touching the table.

Per region (the drill-down: city → district → street → community → grid) the counts are one GROUP BY on the
case's stored code of the next level (district_code, street_code, …) inside the region's prefix.

Every count is of the cases the user may read (cases.selectors.case_list: core/scope.py), so a district's staff
never count another district's cases.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass
from types import SimpleNamespace

from django.conf import settings
from django.core.cache import cache
from django.db.models import Avg, Count, F, Q, QuerySet
from django.db.models.functions import Floor, Substr
from django.utils import timezone
from django.utils.translation import get_language

from cityops.cases.models import Case
from cityops.cases.selectors import case_list
from cityops.cases.workflow import OPEN_STATES
from cityops.core.errors import InvalidInput
from cityops.core.models import WorkflowModel
from cityops.dashboard import rollup

POINTS_MAX = 2000  # below this many cases in view, the map gets the cases themselves
BIN_PIXELS = 48  # a bin is about this many screen pixels wide
MIN_ZOOM, MAX_ZOOM = 3, 19
LEVELS = ("city", "district", "street", "community", "grid")
CODE_LENGTHS = {"district": 6, "street": 9, "community": 12, "grid": 14}
CODE_FIELDS = {"district": "district_code", "street": "street_code", "community": "community_code",
               "grid": "grid_code"}
STATUSES = ("open", "closed", "all")


@dataclass(frozen=True)
class Box:
    west: float
    south: float
    east: float
    north: float


def _clean_text(value, *, field: str, max_length: int = 200) -> str:
    text = "" if value is None else str(value)
    if "\x00" in text or len(text) > max_length:
        raise InvalidInput(f"参数 {field} 无效", f"Invalid parameter {field}", code=f"invalid_{field}")
    return text.strip()


def parse_bbox(value) -> Box:
    """`west,south,east,north` in degrees (WGS-84), west < east, south < north."""
    text = _clean_text(value, field="bbox", max_length=120)
    parts = text.split(",")
    try:
        nums = [float(p) for p in parts]
    except ValueError:
        nums = []
    ok = (len(nums) == 4 and all(math.isfinite(n) for n in nums)
          and -180 <= nums[0] < nums[2] <= 180 and -90 <= nums[1] < nums[3] <= 90)
    if not ok:
        raise InvalidInput("bbox 应为 西,南,东,北 四个经纬度（西<东，南<北）",
                           "bbox must be west,south,east,north in degrees (west < east, south < north)",
                           code="invalid_bbox")
    return Box(*nums)


def parse_zoom(value) -> int:
    text = _clean_text(value, field="zoom", max_length=8)
    if not text.isdigit() or not MIN_ZOOM <= int(text) <= MAX_ZOOM:
        raise InvalidInput(f"zoom 应为 {MIN_ZOOM}～{MAX_ZOOM} 的整数", f"zoom must be an integer from {MIN_ZOOM} to {MAX_ZOOM}",
                           code="invalid_zoom")
    return int(text)


def bin_size(zoom: int) -> float:
    """Degrees of longitude covered by BIN_PIXELS at `zoom` (256-pixel tiles), rounded to a power of two so that
    bins keep their edges while the map pans."""
    degrees = 360 / (256 * 2**zoom) * BIN_PIXELS
    return 2.0 ** round(math.log2(degrees))


def clean_filters(params: dict) -> dict:
    """The map's and the figures' filters from a query string: status (open | closed | all), category (a code),
    from / to (dates, on the report time), late (1: overdue only). Unknown values are refused with a code."""
    status = _clean_text(params.get("status") or "open", field="status", max_length=10)
    if status not in STATUSES:
        raise InvalidInput(f"status 应为 {'、'.join(STATUSES)} 之一", f"status must be one of {', '.join(STATUSES)}",
                           code="invalid_status")
    out = {"status": status}
    category = _clean_text(params.get("category"), field="category", max_length=8)
    if category:
        if not category.isalnum():
            raise InvalidInput("类别编码无效", "Invalid category code", code="invalid_category")
        out["category"] = category
    for key in ("from", "to"):
        value = _clean_text(params.get(key), field=key.replace("from", "from_date").replace("to", "to_date"),
                            max_length=10)
        if value:
            out[key] = value
    late = _clean_text(params.get("late"), field="late", max_length=5)
    if late not in ("", "0", "1", "true", "false"):
        raise InvalidInput("late 应为 1 或 0", "late must be 1 or 0", code="invalid_late")
    out["late"] = late in ("1", "true")
    return out


def cases_in_scope(*, user, filters: dict, region: str = "") -> QuerySet[Case]:
    """The cases the user may read, filtered; unordered (for GROUP BY)."""
    selector_filters = {k: filters[k] for k in ("category", "from", "to") if filters.get(k)}
    if region:
        selector_filters["region"] = region
    qs = case_list(user=user, filters=selector_filters).order_by()
    status = filters.get("status", "open")
    if status == "open":
        qs = qs.filter(state__in=OPEN_STATES)
    elif status == "closed":
        qs = qs.exclude(state__in=OPEN_STATES)
    if filters.get("late"):
        qs = qs.filter(late_q())
    return qs


def late_q() -> Q:
    """Overdue (red): marked overdue by the sweep, or past a running deadline. A paused clock has no deadline
    (core/workflow.py clears deadline_at when it pauses), so this is cases.home.late_q without the pause test —
    and is read from the map's index alone."""
    return Q(overdue=True) | Q(deadline_at__lt=timezone.now())


def in_box(qs: QuerySet, box: Box) -> QuerySet:
    """[west, east) × [south, north): a case on the edge between two views (or bins) is in one of them only."""
    return qs.filter(lon__gte=box.west, lon__lt=box.east, lat__gte=box.south, lat__lt=box.north)


# --- a short-lived cache of the aggregated answers ------------------------------------------------------------
# The command centre's screens and its leaders' phones ask for the same views (the city, a district) again and
# again; the counts behind them are scans of a large part of a million cases. Each answer is kept CACHE_SECONDS
# per scope (everyone city-wide shares one; anyone else has their own) and per request, the view's box snapped
# outwards to the bins' grid so that views a few pixels apart share it. The live feed shows what happened since.
def cache_seconds() -> int:
    return int(getattr(settings, "CITYOPS_DASHBOARD_CACHE_S", 30))


def scope_key(user) -> str:
    from cityops.core.scope import is_city_wide

    return "city" if is_city_wide(user) else f"user{user.pk}"


def cached(kind: str, user, params: dict, compute):
    seconds = cache_seconds()
    if seconds <= 0:
        return compute()
    digest = hashlib.sha256(json.dumps(params, sort_keys=True, default=str).encode()).hexdigest()
    key = f"dashboard:{kind}:{scope_key(user)}:{get_language() or ''}:{digest}"
    hit = cache.get(key)
    if hit is None:
        hit = compute()
        cache.set(key, hit, seconds)
    return hit


def snap(box: Box, size: float) -> Box:
    """The box widened to whole bins of `size` degrees (inside the world's limits)."""
    return Box(max(-180.0, math.floor(box.west / size) * size), max(-90.0, math.floor(box.south / size) * size),
               min(180.0, math.ceil(box.east / size) * size), min(90.0, math.ceil(box.north / size) * size))


def case_view(*, user, box: Box, zoom: int, filters: dict, region: str = "") -> dict:
    """The cases layer for one view (cached briefly, see `cached`); `_case_view` says what it answers."""
    box = snap(box, bin_size(zoom))
    return cached("cases", user, {"box": box, "zoom": zoom, "filters": filters, "region": region},
                  lambda: _case_view(user=user, box=box, zoom=zoom, filters=filters, region=region))


def _case_view(*, user, box: Box, zoom: int, filters: dict, region: str = "") -> dict:
    """The cases layer for one view: {"kind": "points", "points": [...]} when at most POINTS_MAX cases are in the
    box, else {"kind": "bins", "size": degrees, "bins": [{lon, lat, n, late}]}; "total" in both."""
    cases = cases_in_scope(user=user, filters=filters, region=region)
    qs = in_box(cases, box)
    # Enough to know whether it is "few": a LIMIT inside the count, not a count of the whole box. COUNT(*) and
    # columns of the map's index only (not the id): PostgreSQL then reads the index alone.
    few = qs.values("lon")[: POINTS_MAX + 1].count()
    if few <= POINTS_MAX:
        return {"kind": "points", "total": few, "points": _points(qs)}
    size = bin_size(zoom)
    if rollup.serves(user=user, filters=filters, region=region, size=size):  # finished cases stored, the rest live
        bins = rollup.bins(cases=cases, box=box, size=size, filters=filters, region=region)
        return {"kind": "bins", "size": size, "total": sum(b["n"] for b in bins), "bins": bins}
    rows = (
        qs.annotate(bx=Floor(F("lon") / size), by=Floor(F("lat") / size))
        .values("bx", "by")
        .annotate(n=Count("*"), late=Count("lon", filter=late_q()),
                  lon=Avg("lon"), lat=Avg("lat"))
    )
    bins = [{"lon": round(r["lon"], 5), "lat": round(r["lat"], 5), "n": r["n"], "late": r["late"]} for r in rows]
    return {"kind": "bins", "size": size, "total": sum(b["n"] for b in bins), "bins": bins}


POINT_FIELDS = ("code", "lon", "lat", "state", "address", "community_name", "street_name", "district_name",
                "created_at", "overdue", "deadline_at", "clock_mode", "clock_limit_s", "clock_used_s",
                "clock_started_at", "clock_paused_at", "category__name_zh", "category__name_en")


class _Clock(SimpleNamespace):
    """A case's row as read for the map, with the engine's own traffic light (the same code, not a copy)."""

    clock_used_now = WorkflowModel.clock_used_now
    traffic_light = WorkflowModel.traffic_light


def _points(qs: QuerySet) -> list[dict]:
    """The cases themselves (at most POINTS_MAX): only the columns a card shows and the traffic light needs, as
    rows, not models (building 2,000 Case objects was most of the answer's time)."""
    from cityops.cases.templatetags.cases_tags import light_of
    from cityops.core.models import state_label_for

    now = timezone.now()
    labels: dict[str, str] = {}
    out = []
    for row in qs.values(*POINT_FIELDS)[:POINTS_MAX]:
        case = _Clock(**row)
        if case.state not in labels:
            labels[case.state] = str(state_label_for(Case.workflow, case.state))
        out.append({
            "code": case.code, "lon": round(case.lon, 6), "lat": round(case.lat, 6), "state": case.state,
            "state_label": labels[case.state], "light": light_of(case, now),
            "category": row["category__name_zh"], "category_en": row["category__name_en"],
            "place": case.address or case.community_name or case.street_name or case.district_name,
            "created_at": case.created_at.isoformat(), "url": f"/cases/{case.code}/",
        })
    return out


def counts_by_child(*, user, region_code: str, child_level: str, filters: dict) -> dict[str, dict]:
    """Per child region of `region_code` (the next level down; "" is the city): how many cases (the filters'
    status) and how many of them overdue — one GROUP BY on the stored code of that level (cached briefly)."""
    return cached("children", user, {"region": region_code, "level": child_level, "filters": filters},
                  lambda: _counts_by_child(user=user, region_code=region_code, child_level=child_level,
                                           filters=filters))


def _counts_by_child(*, user, region_code: str, child_level: str, filters: dict) -> dict[str, dict]:
    qs = cases_in_scope(user=user, filters=filters, region=region_code)
    if child_level == "district" and not region_code and rollup.serves(user=user, filters=filters, region=""):
        return rollup.counts_by_district(cases=qs, filters=filters)
    # The child's code as the prefix of the case's region code (the same as its stored code of that level, and a
    # column of the map's index: the open cases are counted from the index alone).
    rows = (qs.values(child=Substr("region_code", 1, CODE_LENGTHS[child_level]))
            .annotate(n=Count("*"), late=Count("lon", filter=late_q())))
    return {r["child"]: {"n": r["n"], "late": r["late"]} for r in rows
            if r["child"] and len(r["child"]) == CODE_LENGTHS[child_level]}


# --- drill-down: city → district → street → community → grid -------------------------------------------------
SIMPLIFY = {"district": 0.002, "street": 0.0008, "community": 0.0003, "grid": 0.0001}  # degrees, ~ a few pixels
_shapes: dict[tuple[str, str], dict] = {}


def area_roots(user) -> list[str]:
    """Where the user's drill-down starts: [""] (the city) for the city-wide roles and the units' staff (their
    counts are still only their unit's cases); a region-bound user's own regions (a district's staff: their
    district). An empty list: no area at all."""
    from cityops.core import roles
    from cityops.core.scope import is_city_wide

    if is_city_wide(user) or not (user.role_codes & roles.REGION_BOUND_ROLES):
        return [""]
    return sorted(str(c) for c in (user.region_codes or []) if c)


def clean_region(user, value) -> str:
    """A region code the user may drill into ("" = the user's top): digits only, inside the user's area."""
    code = _clean_text(value, field="region", max_length=20)
    if code and not code.isdigit():
        raise InvalidInput("区域编码应为数字", "A region code is digits", code="invalid_region")
    roots = area_roots(user)
    if not code:
        return "" if roots == [""] or len(roots) != 1 else roots[0]
    if "" not in roots and not any(code.startswith(root) for root in roots):
        from cityops.core.errors import Forbidden

        raise Forbidden("该区域不在您的管辖范围内", "This region is outside your area", code="region_outside_scope")
    return code


def _shape(region) -> dict:
    """The region's outline as GeoJSON, simplified for its level (cached per region index version)."""
    import json

    import shapely

    from cityops.geo.models import RegionIndexVersion

    key = (region.code, RegionIndexVersion.current())
    if key not in _shapes:
        geom = shapely.from_geojson(json.dumps(region.geometry))
        simple = shapely.simplify(geom, SIMPLIFY.get(region.level, 0.0005), preserve_topology=True)
        if len(_shapes) > 5000:
            _shapes.clear()
        _shapes[key] = json.loads(shapely.to_geojson(simple))
    return _shapes[key]


def _ref(region) -> dict:
    return {"code": region.code, "name": region.name, "level": region.level}


def area_view(*, user, region: str, filters: dict) -> dict:
    """One step of the drill-down: the region (None: the city or the user's regions), the way back up to the
    user's top (breadcrumb), and its children with their counts, outlines and extents."""
    from cityops.core.errors import NotFound
    from cityops.geo.models import Region

    roots = area_roots(user)
    if not roots:
        return {"region": None, "breadcrumb": [], "child_level": "", "children": [], "bounds": None}
    current = None
    if region:
        current = Region.objects.filter(code=region).first()
        if current is None:
            raise NotFound(f"区域 {region} 不存在", f"Region {region} does not exist", code="region_not_found")
        children_qs = Region.objects.filter(parent=current)
    elif roots == [""]:
        children_qs = Region.objects.filter(level="district")
    else:
        children_qs = Region.objects.filter(code__in=roots)
    children = list(children_qs.select_related("parent").order_by("code"))
    child_level = children[0].level if children else ""
    counts = (counts_by_child(user=user, region_code=region, child_level=child_level, filters=filters)
              if child_level in CODE_FIELDS else {})
    if not region and roots != [""]:  # a user with several regions: each counted by its own prefix
        counts = {code: cases_in_scope(user=user, filters=filters, region=code).aggregate(
            n=Count("*"), late=Count("lon", filter=late_q())) for code in roots}
    crumbs, walk = [], current
    while walk is not None and walk.level != "city":
        crumbs.append(_ref(walk))
        if any(walk.code == root for root in roots):
            break
        walk = walk.parent
    crumbs.reverse()
    out_children = [{
        **_ref(c), "n": counts.get(c.code, {}).get("n", 0), "late": counts.get(c.code, {}).get("late", 0),
        "centroid": [c.centroid_lon, c.centroid_lat], "bounds": [c.min_lon, c.min_lat, c.max_lon, c.max_lat],
        "shape": _shape(c),
    } for c in children]
    if current is not None:
        bounds = [current.min_lon, current.min_lat, current.max_lon, current.max_lat]
    elif children:
        bounds = [min(c.min_lon for c in children), min(c.min_lat for c in children),
                  max(c.max_lon for c in children), max(c.max_lat for c in children)]
    else:
        bounds = None
    return {"region": _ref(current) if current else None, "breadcrumb": crumbs, "child_level": child_level,
            "children": out_children, "bounds": bounds}
