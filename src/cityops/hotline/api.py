"""Hotline API under /api/v1/dispatch/: suggestions for a call, and accepting a call as a work order."""

from django.core.exceptions import PermissionDenied
from ninja import Router, Status

from cityops.core.schemas import Schema
from cityops.hotline import selectors, services

router = Router(tags=["dispatch"])


class SuggestIn(Schema):
    text: str
    address: str = ""


class Candidate(Schema):
    category: str
    name: str
    department: str
    score: float


class SuggestOut(Schema):
    candidates: list[Candidate]
    category: str | None  # the suggestion; null when uncertain (不确定/非城市管理事项): the operator chooses
    uncertain: bool
    empty: bool  # nothing said but greetings
    not_city_score: float
    urgency: str  # urgent | normal (never urgent by default)
    kind: str  # 12345 work-order type, "" when the operator must choose
    region: dict | None
    point: dict | None
    place: dict | None


@router.post("/suggest", response=SuggestOut, summary="派单建议 / suggest category, department and region")
def suggest(request, payload: SuggestIn):
    """Top 3 categories with calibrated probability and the department of each; `category` is the suggestion,
    null when the call is uncertain or no city matter (不确定/非城市管理事项) — then the operator chooses; the
    urgency and work-order type read from the text; the region parsed from the spoken address, or from the call
    text when the address names no place (`region.source`), with same-name candidates; its point (WGS-84) and the
    landmark or road recognised."""
    return selectors.suggest(text=payload.text, address=payload.address)


class AcceptIn(Schema):
    text: str
    category: str
    kind: str = "complaint"
    address: str = ""
    caller_phone: str = ""
    anonymous: bool = False  # the caller stays anonymous to the departments (the phone stays with intake)
    suggested: list[dict] = []
    point: dict | None = None


class AcceptOut(Schema):
    case: str
    corrected: bool
    duplicates: list[str]


@router.post("/calls", response={201: AcceptOut}, summary="受理来电 / accept a call as a hotline work order")
def accept(request, payload: AcceptIn):
    if not services.can_take_calls(request.user):
        raise PermissionDenied
    accepted = services.call_accept(
        actor=request.user, text=payload.text, category=payload.category, kind=payload.kind,
        address=payload.address, caller_phone=payload.caller_phone, suggested=payload.suggested,
        point=payload.point, anonymous=payload.anonymous,
    )
    return Status(201, {"case": accepted.call.case_code, "corrected": accepted.call.corrected,
                        "duplicates": [c.code for c in accepted.duplicates]})
