"""Every write of the hotline app: accepting a call as a 12345 work order, and recording the choice made."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction

from cityops.core import roles
from cityops.core.errors import Forbidden, InvalidInput
from cityops.hotline.models import HotlineCall
from cityops.hotline.selectors import categories, check_text

INTAKE_ROLES = frozenset({roles.OPERATOR, roles.SHIFT_LEAD, roles.ADMIN})


@dataclass
class Accepted:
    call: HotlineCall
    case: object  # cases.Case
    duplicates: list


def can_take_calls(user) -> bool:
    return bool(user is not None and user.is_authenticated and (user.is_superuser or user.role_codes & INTAKE_ROLES))


@transaction.atomic
def call_accept(
    *,
    actor,
    text: str,
    category: str,
    kind: str,
    address: str = "",
    caller_phone: str = "",
    suggested: list[dict] | None = None,
    point: dict | None = None,
    region_code: str = "",
    anonymous: bool = False,
) -> Accepted:
    """Accept a hotline call (12345 受理): the case is created by the cases service as a hotline work order
    of the given type (RULES.md §1: urgent same day, consultation/help 3 wd, complaint/suggestion 15 wd — the
    cases workflow sets the limit from `hotline_kind`), and the call is recorded with what was suggested and
    what was chosen; a choice other than the top suggestion is a correction the classifier learns from. An
    anonymous caller (匿名) is nobody to the departments; the callback phone stays with intake (cases.privacy)."""
    if not can_take_calls(actor):
        raise Forbidden("只有受理员可以受理热线来电", "Only operators may accept hotline calls", code="role_not_allowed")
    text = check_text(text)
    category = (category or "").strip().upper()
    if category not in categories.get():
        raise InvalidInput(f"未知的案件类别 {category!r}", f"Unknown case category {category!r}", code="unknown_category")
    if kind not in HotlineCall.Kind.values:
        raise InvalidInput("工单类型须为 urgent/consultation/help/complaint/suggestion",
                           "kind must be urgent, consultation, help, complaint or suggestion", code="invalid_kind")
    suggested = [
        {"category": str(c.get("category", ""))[:8], "score": float(c.get("score", 0) or 0)}
        for c in (suggested or [])[:3] if isinstance(c, dict)
    ]
    top = suggested[0]["category"] if suggested else ""
    lon = lat = None
    if point and point.get("lon") is not None and point.get("lat") is not None:
        lon, lat = float(point["lon"]), float(point["lat"])
    intake = _create_work_order(
        actor=actor, category=category, description=text, address=address, caller_phone=caller_phone,
        kind=kind, lon=lon, lat=lat, anonymous=anonymous,
    )
    case = intake.case
    call = HotlineCall.objects.create(
        text=text,
        address=(address or "").strip()[:300],
        caller_phone=(caller_phone or "").strip()[:20],
        kind=kind,
        suggested=suggested,
        suggested_category=top,
        chosen_category=category,
        corrected=bool(top) and top != category,
        region_code=getattr(case, "region_code", "") or region_code,
        lon=getattr(case, "lon", lon),
        lat=getattr(case, "lat", lat),
        case_code=getattr(case, "code", ""),
        operator=actor,
    )
    return Accepted(call, case, list(intake.duplicates))


def _create_work_order(*, actor, category, description, address, caller_phone, kind, lon, lat, anonymous=False):
    """The one place where the hotline app writes a case: through cases.services.case_create, source hotline.
    The point found from the address (a landmark's point or a region's centroid) is given when known, so the
    case lands in a grid; otherwise the cases service locates the address itself."""
    from cityops.cases.services import case_create

    return case_create(
        actor=actor,
        category=category,
        description=description,
        source="hotline",
        lon=lon,
        lat=lat,
        address=address,
        reporter_phone=caller_phone,
        urgency="urgent" if kind == HotlineCall.Kind.URGENT else "normal",
        hotline_kind=kind,
        anonymous=anonymous,
    )
