"""Every read of the public portal. Nobody is signed in, so nothing personal is read into an answer:
no reporter, no phone, locations on the public map rounded to ~100 m."""

from __future__ import annotations

import math
from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from cityops.cases import conf as case_conf
from cityops.cases.models import Case, Category
from cityops.cases.workflow import OPEN_STATES
from cityops.core.errors import InvalidInput, NotFound
from cityops.core.timeline import timeline_for
from cityops.open311.selectors import PUBLIC_ACTIONS, mask_personal, private_codes
from cityops.open311.status import extended_status, open311_status, plain_words

MAP_DECIMALS = 3  # 0.001° ≈ 111 m north-south, ≈ 96 m east-west at Wuhan's latitude


def categories() -> list[Category]:
    return list(Category.objects.filter(active=True).order_by("code"))


def nearby_open(*, category: str, lon, lat) -> list[dict]:
    """Open cases of the same category near the point ("is it one of these?"), nearest first, within the
    category's duplicate radius (default 100 m) and the duplicate window (default 72 h)."""
    try:
        x, y = float(lon), float(lat)
    except (TypeError, ValueError):
        raise InvalidInput("位置无效", "Invalid location", code="invalid_coordinate") from None
    cat = Category.objects.filter(code=(category or "").upper(), active=True).first()
    if cat is None or cat.code in private_codes():
        return []
    radius = cat.duplicate_radius_m or float(case_conf.get("DUPLICATE_RADIUS_M"))
    since = timezone.now() - timedelta(hours=float(case_conf.get("DUPLICATE_WINDOW_H")))
    dlat = radius / 111_320
    dlon = radius / (111_320 * max(0.01, math.cos(math.radians(y))))
    rows = Case.objects.filter(
        category=cat, state__in=OPEN_STATES, created_at__gte=since,
        lat__range=(y - dlat, y + dlat), lon__range=(x - dlon, x + dlon),
    ).only("code", "lon", "lat", "state", "created_at", "description", "merged_reports")[:50]
    out = []
    for c in rows:
        d = _metres(x, y, c.lon, c.lat)
        if d <= radius:
            out.append({
                "code": c.code, "distance_m": round(d), "status": plain_words(c.state),
                "description": mask_personal(c.description)[:80], "reported": timezone.localtime(c.created_at).strftime("%m-%d %H:%M"),
                "supporters": c.merged_reports,
            })
    return sorted(out, key=lambda r: r["distance_m"])[:10]


def _metres(lon1, lat1, lon2, lat2) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    a = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    return 6_371_000 * 2 * math.asin(min(1.0, math.sqrt(a)))


def case_public(code: str) -> Case:
    case = (
        Case.objects.select_related("category", "lead_department", "duplicate_of")
        .exclude(category__code__in=private_codes())
        .filter(code=(code or "").strip())
        .first()
    )
    if case is None:
        raise NotFound(f"未找到编号为 {code} 的问题", f"No report with the code {code}", code="case_not_found")
    return case


def case_private(code: str) -> Case:
    """For the reporter (proved by key or phone): private categories too."""
    case = Case.objects.select_related("category", "lead_department").filter(code=(code or "").strip()).first()
    if case is None:
        raise NotFound(f"未找到编号为 {code} 的问题", f"No report with the code {code}", code="case_not_found")
    return case


def public_timeline(case: Case) -> list[dict]:
    """The steps a resident may see, in plain words; internal notes stay internal."""
    out = []
    for entry in timeline_for(case).filter(action__in=PUBLIC_ACTIONS - {"open311_update"}):
        text = plain_words(entry.to_state or case.state)
        if entry.action in ("handle", "self_handle") and entry.note:
            text = f"{text}：{mask_personal(entry.note)}"
        out.append({"at": entry.at, "text": text, "action": entry.action})
    return out


def expected_at(case: Case):
    return None if open311_status(case.state) == "closed" else case.deadline_at


def map_features(*, category: str = "", district: str = "") -> dict:
    """GeoJSON of open and recently closed cases: rounded points, category, plain status; nothing else."""
    days = int(getattr(settings, "CITYOPS_PORTAL_MAP_CLOSED_DAYS", 30))
    since = timezone.now() - timedelta(days=days)
    qs = Case.objects.exclude(category__code__in=private_codes()).exclude(state__in=("voided", "merged"))
    recent_closed = qs.filter(state__in=("closed", "archived"), state_changed_at__gte=since)
    qs = qs.filter(state__in=OPEN_STATES) | recent_closed
    if category:
        qs = qs.filter(category__code=category.upper())
    if district:
        qs = qs.filter(district_code=district)
    limit = int(getattr(settings, "CITYOPS_PORTAL_MAP_LIMIT", 5000))
    rows = qs.order_by("-created_at").values_list(
        "code", "lon", "lat", "state", "category__code", "category__name_zh", "district_name", "created_at"
    )[:limit]
    features = []
    for code, lon, lat, state, cat_code, cat_name, district_name, created in rows:
        features.append({
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [round(lon, MAP_DECIMALS), round(lat, MAP_DECIMALS)]},
            "properties": {
                "code": code, "category": cat_code, "category_name": cat_name, "district": district_name,
                "status": open311_status(state), "status_text": plain_words(state), "phase": extended_status(state),
                "reported": timezone.localtime(created).date().isoformat(),
            },
        })
    return {"type": "FeatureCollection", "features": features}


def districts() -> list[tuple[str, str]]:
    from cityops.geo.models import Region

    return list(Region.objects.filter(level="district").order_by("code").values_list("code", "name"))
