"""Every read of the public portal. Nobody is signed in, so nothing personal is read into an answer:
no reporter, no phone, locations on the public map rounded to ~100 m."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from cityops.cases.models import Case, Category
from cityops.cases.services import duplicates_near
from cityops.cases.workflow import OPEN_STATES
from cityops.core.errors import NotFound
from cityops.core.timeline import timeline_for
from cityops.geo.coords import parse_lon_lat
from cityops.open311.selectors import PUBLIC_ACTIONS, mask_personal, private_codes
from cityops.open311.status import extended_status, open311_status, plain_words

MAP_DECIMALS = 3  # 0.001° ≈ 111 m north-south, ≈ 96 m east-west at Wuhan's latitude


def categories() -> list[Category]:
    return list(Category.objects.filter(active=True).order_by("code"))


def nearby_open(*, category: str, lon, lat) -> list[dict]:
    """Open cases of the same category near the point ("is it one of these?"), nearest first, within the
    category's duplicate radius (default 100 m) and the duplicate window (default 72 h) — the cases app's own
    duplicate rule (cases.services.duplicates_near)."""
    x, y = parse_lon_lat(lon, lat)
    cat = Category.objects.filter(code=(category or "").upper(), active=True).first()
    if cat is None or cat.code in private_codes():
        return []
    return [
        {
            "code": c.code, "distance_m": round(c.distance_m), "status": plain_words(c.state),
            "description": mask_personal(c.description)[:80],
            "reported": timezone.localtime(c.created_at).strftime("%m-%d %H:%M"), "supporters": c.merged_reports,
        }
        for c in duplicates_near(category=cat, lon=x, lat=y)[:10]
    ]


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


def my_reports(*, user, limit: int = 20) -> list[Case]:
    """The signed-in user's own reports, newest first (the portal home's "我的反映")."""
    if not user.is_authenticated:
        return []
    return list(Case.objects.select_related("category").filter(reporter=user).order_by("-created_at", "-id")[:limit])
