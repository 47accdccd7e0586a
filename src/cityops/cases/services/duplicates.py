"""Duplicates (RULES.md §1): open cases of the same category near a report, suggested at intake, and merging
one into another (合并)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import F
from django.utils import timezone

from cityops.cases import conf
from cityops.cases.models import Case, Category
from cityops.cases.services.lifecycle import _step
from cityops.cases.services.notifications import _notify_later
from cityops.cases.workflow import OPEN_STATES
from cityops.core.errors import InvalidInput
from cityops.core.timeline import timeline_append


def _metres(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    # Haversine; enough for "within 100 m".
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 6_371_000 * 2 * math.asin(min(1.0, math.sqrt(a)))


DUPLICATE_SCAN_CAP = 500
DUPLICATE_MAX = 50


@dataclass
class Nearby:
    """An open case near a report (a possible duplicate): what intake shows of it, not a loaded Case."""

    id: int
    code: str
    state: str
    lon: float
    lat: float
    description: str
    created_at: datetime
    merged_reports: int  # reports merged into it (residents who reported the same)
    distance_m: float = 0.0

    @property
    def pk(self) -> int:
        return self.id


_NEARBY_FIELDS = ("id", "code", "state", "lon", "lat", "description", "created_at", "merged_reports")


def _duplicate_candidates(case: Case, radius: float, window: timedelta):
    """Open cases of the case's category in the bounding box of the radius and inside the time window (the
    case itself among them: the caller skips it, cheaper than an exclude here): an index range of
    (category, lat, lon). No ORDER BY (the caller sorts by distance): ordered by time, PostgreSQL may walk the
    category's whole window instead of the few cases in the box. The cap only bounds a pathological pile-up."""
    dlat = radius / 111_320
    dlon = radius / (111_320 * max(0.01, math.cos(math.radians(case.lat))))
    return Case.objects.filter(
        category_id=case.category_id,
        lat__range=(case.lat - dlat, case.lat + dlat),
        lon__range=(case.lon - dlon, case.lon + dlon),
        created_at__range=(case.created_at - window, case.created_at + window),
        state__in=OPEN_STATES,
    ).order_by().values_list(*_NEARBY_FIELDS)[:DUPLICATE_SCAN_CAP]


def case_duplicates(case: Case, *, radius_m: float | None = None, window_h: float | None = None) -> list[Nearby]:
    """Open cases of the same category within the radius (per category, default 100 m) and time window
    (default 72 h) of this one, nearest (then newest) first (RULES.md §1 Duplicates): one query on the
    bounding box, then the exact distance here."""
    radius = radius_m or case.category.duplicate_radius_m or float(conf.get("DUPLICATE_RADIUS_M"))
    window = timedelta(hours=window_h or float(conf.get("DUPLICATE_WINDOW_H")))
    near = []
    for row in _duplicate_candidates(case, radius, window):
        c = Nearby(*row)
        c.distance_m = _metres(case.lon, case.lat, c.lon, c.lat)
        if c.distance_m <= radius and c.id != case.pk:
            near.append(c)
    near.sort(key=lambda c: (c.distance_m, -c.created_at.timestamp()))
    for c in near:
        c.distance_m = round(c.distance_m, 1)
    return near[:DUPLICATE_MAX]


def duplicates_near(*, category: Category, lon: float, lat: float) -> list[Nearby]:
    """Open cases of the category near a point now (the hotline's and the portal's "is it one of these?"): the
    duplicate rule of `case_duplicates`, for a report not yet made."""
    return case_duplicates(Case(category=category, lon=lon, lat=lat, created_at=timezone.now()))


# --- merging --------------------------------------------------------------------------------------------
def case_merge(*, case: Case, actor, into: Case, note: str = "") -> Case:
    """合并: `case` is a duplicate of `into`; both reporters are told, and the kept case counts one more
    supervision report (merged_reports)."""
    if into.pk == case.pk:
        raise InvalidInput("不能与自身合并", "A case cannot be merged into itself", code="merge_self")
    if into.state not in OPEN_STATES and into.state != "closed":
        raise InvalidInput("只能合并到未办结的案件", "Merge only into an open case", code="merge_target_closed")
    if into.duplicate_of_id:
        raise InvalidInput("目标案件本身已被合并", "The target was itself merged", code="merge_target_merged")

    def apply(c, stamp):
        c.duplicate_of = into
        Case.objects.filter(pk=into.pk).update(merged_reports=F("merged_reports") + 1 + c.merged_reports)
        kept = Case.objects.select_for_update().get(pk=into.pk)  # the entry records the state and version it commits with
        timeline_append(subject=kept, action="merge_in", actor=actor, from_state=kept.state, to_state=kept.state,
                        note=note, params={"merged": c.code, "source": c.source})
        return ["duplicate_of"]

    result = _step(case, "merge", actor, note=note, apply=apply, params={"into": into.code})
    people = [u for u in (result.reporter, into.reporter) if u is not None]
    if people:
        _notify_later(lambda: people, "case_merged", f"案件 {result.code} 已并入 {into.code} 一并处理", result)
    return result
