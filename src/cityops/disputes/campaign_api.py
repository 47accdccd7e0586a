"""Screening campaigns and door-knocking visits in the API, under /api/v1/disputes/campaigns/. Thin: reads through
the selectors of campaigns.py (scoped by user), writes through its services; refusals are CityopsError answers.

A visit is sent as a form (multipart, so that a photo can go with it) and is stored once per (visitor, client_id):
the same client_id sent again answers 200 with the first visit instead of 201."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated
from uuid import UUID

from ninja import File, Form, Query, Router
from ninja.files import UploadedFile
from ninja.responses import Status
from pydantic import Field

from cityops.core.schemas import Day, Id, Moment, Offset, Schema, page_size
from cityops.disputes import campaigns
from cityops.disputes.models import Campaign, Dispute, Visit

router = Router(tags=["disputes"])

Line = Annotated[str, Field(max_length=200)]
Text = Annotated[str, Field(max_length=4000)]
Code = Annotated[str, Field(max_length=20)]


class CampaignIn(Schema):
    name: Line
    starts_on: Day
    ends_on: Day
    region_codes: Annotated[list[Code], Field(min_length=1, max_length=campaigns.MAX_REGIONS)]
    kinds: Annotated[list[Annotated[str, Field(max_length=20)]], Field(max_length=20)] = []
    goal: Annotated[str, Field(max_length=300)] = ""
    goal_households: Annotated[int, Field(ge=1, le=10_000_000)] | None = None
    description: Text = ""


class CampaignPatchIn(Schema):
    """The fields to change; those not sent keep their values."""

    name: Line | None = None
    starts_on: Day | None = None
    ends_on: Day | None = None
    region_codes: Annotated[list[Code], Field(min_length=1, max_length=campaigns.MAX_REGIONS)] | None = None
    kinds: Annotated[list[Annotated[str, Field(max_length=20)]], Field(max_length=20)] | None = None
    goal: Annotated[str, Field(max_length=300)] | None = None
    goal_households: Annotated[int, Field(ge=1, le=10_000_000)] | None = None
    description: Text | None = None


class Named(Schema):
    code: str
    name: str


class FiguresOut(Schema):
    visits: int
    households_visited: int
    households: int | None
    households_estimated: bool
    coverage: float | None  # households visited / households in the regions, 0…1; null when 户数 is unknown
    disputes_found: int
    disputes_resolved: int
    resolved_on_the_spot: int
    cases_found: int
    per_day: list[tuple[date, int]]


class CampaignOut(Schema):
    id: int
    code: str
    name: str
    description: str
    starts_on: date
    ends_on: date
    regions: list[Named]
    kinds: list[Named]
    goal: str
    goal_households: int | None
    created_at: datetime


class CampaignDetailOut(CampaignOut):
    figures: FiguresOut


class VisitOut(Schema):
    id: int
    client_id: UUID
    campaign: str | None
    visitor: str
    place_kind: str
    place: str
    region: Named
    lon: float | None
    lat: float | None
    people_met: str
    findings: str
    outcome: str
    outcome_label: str
    photo: str | None
    dispute: str | None
    case: str | None
    visited_at: datetime
    received_at: datetime


class VisitListOut(Schema):
    count: int
    offset: int
    limit: int
    items: list[VisitOut]


def _region_names(codes) -> dict[str, str]:
    from cityops.geo.models import Region

    return dict(Region.objects.filter(code__in=list(codes)).values_list("code", "name"))


def campaign_out(campaign: Campaign, names: dict[str, str] | None = None) -> dict:
    names = names if names is not None else _region_names(campaign.region_codes)
    kinds = dict(Dispute.Kind.choices)
    return {
        "id": campaign.pk, "code": campaign.code, "name": campaign.name, "description": campaign.description,
        "starts_on": campaign.starts_on, "ends_on": campaign.ends_on,
        "regions": [{"code": c, "name": names.get(c, c)} for c in campaign.region_codes],
        "kinds": [{"code": k, "name": str(kinds.get(k, k))} for k in campaign.kinds],
        "goal": campaign.goal, "goal_households": campaign.goal_households, "created_at": campaign.created_at,
    }


def figures_out(figures: campaigns.Figures) -> dict:
    return {**{k: getattr(figures, k) for k in (
        "visits", "households_visited", "households", "households_estimated", "disputes_found", "disputes_resolved",
        "resolved_on_the_spot", "cases_found", "per_day")}, "coverage": figures.coverage}


def visit_out(visit: Visit, names: dict[str, str]) -> dict:
    visitor = visit.visitor
    return {
        "id": visit.pk, "client_id": visit.client_id, "campaign": visit.campaign.code if visit.campaign_id else None,
        "visitor": visitor.get_full_name() or visitor.username, "place_kind": visit.place_kind, "place": visit.place,
        "region": {"code": visit.region_code, "name": names.get(visit.region_code, visit.region_code)},
        "lon": visit.lon, "lat": visit.lat, "people_met": visit.people_met, "findings": visit.findings,
        "outcome": visit.outcome, "outcome_label": str(visit.get_outcome_display()),
        "photo": visit.photo.url if visit.photo else None,
        "dispute": visit.dispute.code if visit.dispute_id else None,
        "case": visit.case.code if visit.case_id else None,
        "visited_at": visit.visited_at, "received_at": visit.received_at,
    }


# --- visits (before /{campaign_id}) -------------------------------------------------------------------------
class CampaignVisitIn(Schema):
    """A visit as the phone sends it. A finding that is a dispute names its type and parties (applicant, and the
    other side if known); one that is a city case names its category."""

    client_id: UUID
    campaign_id: Id | None = None
    place_kind: Annotated[str, Field(max_length=10)] = "household"
    place: Line
    region_code: Code = ""
    lon: float | Annotated[str, Field(max_length=40)] | None = None  # "" when the phone had no position
    lat: float | Annotated[str, Field(max_length=40)] | None = None
    crs: Annotated[str, Field(max_length=8)] = "wgs84"
    people_met: Line = ""
    findings: Text = ""
    outcome: Annotated[str, Field(max_length=10)] = "nothing"
    visited_at: Moment | None = None
    dispute_kind: Annotated[str, Field(max_length=20)] = ""
    dispute_title: Line = ""
    applicant_name: Annotated[str, Field(max_length=100)] = ""
    applicant_phone: Annotated[str, Field(max_length=20)] = ""
    respondent_name: Annotated[str, Field(max_length=100)] = ""
    respondent_phone: Annotated[str, Field(max_length=20)] = ""
    case_category: Annotated[str, Field(max_length=8)] = ""
    case_urgency: Annotated[str, Field(max_length=8)] = "normal"


def visit_args(data: dict) -> dict:
    """The flat fields of a visit form (API or page) as visit_log's arguments."""
    dispute = case = None
    if data.get("outcome") == Visit.Outcome.DISPUTE:
        parties = []
        for side in ("applicant", "respondent"):
            name = (data.get(f"{side}_name") or "").strip()
            if name:
                party = {"side": side, "kind": "person", "name": name}
                if (data.get(f"{side}_phone") or "").strip():
                    party["phone"] = data[f"{side}_phone"].strip()
                parties.append(party)
        dispute = {"kind": data.get("dispute_kind") or "", "title": data.get("dispute_title") or "",
                   "parties": parties}
    elif data.get("outcome") == Visit.Outcome.CASE:
        case = {"category": data.get("case_category") or "", "urgency": data.get("case_urgency") or "normal"}
    return {
        "client_id": data["client_id"], "campaign_id": data.get("campaign_id"),
        "place_kind": data.get("place_kind") or "household", "place": data.get("place") or "",
        "region_code": data.get("region_code") or "", "lon": data.get("lon"), "lat": data.get("lat"),
        "crs": data.get("crs") or "wgs84", "people_met": data.get("people_met") or "",
        "findings": data.get("findings") or "", "outcome": data.get("outcome") or "nothing",
        "visited_at": data.get("visited_at"), "dispute": dispute, "case": case,
    }


@router.post("/visits", response={200: VisitOut, 201: VisitOut},
             summary="登记走访（按 client_id 只存一次）/ log a visit (stored once per client_id)")
def create_visit(request, payload: Form[CampaignVisitIn], photo: File[UploadedFile] = None):  # noqa: B008
    image = photo.read(campaigns.photo_limit() + 1) if photo is not None else None  # one byte past the limit at most
    logged = campaigns.visit_log(actor=request.auth, photo=image, photo_name=photo.name if photo else "",
                                 **visit_args(payload.dict()))
    visit = Visit.objects.select_related("visitor", "campaign", "dispute", "case").get(pk=logged.visit.pk)
    return Status(201 if logged.created else 200, visit_out(visit, _region_names([visit.region_code])))


class VisitFilters(Schema):
    campaign_id: Id | None = None
    offset: Offset = 0
    limit: page_size(200) = 50


@router.get("/visits", response=VisitListOut, summary="走访记录 / visits")
def list_visits(request, filters: Query[VisitFilters]):
    campaign = campaigns.campaign_get(user=request.auth, pk=filters.campaign_id) if filters.campaign_id else None
    qs = campaigns.visit_list(user=request.auth, campaign=campaign)
    page = list(qs.select_related("visitor", "campaign", "dispute", "case")[filters.offset:filters.offset + filters.limit])
    names = _region_names({v.region_code for v in page})
    return {"count": qs.count(), "offset": filters.offset, "limit": filters.limit,
            "items": [visit_out(v, names) for v in page]}


# --- campaigns ----------------------------------------------------------------------------------------------
@router.get("", response=list[CampaignOut], summary="排查化解行动 / screening campaigns")
def list_campaigns(request):
    items = list(campaigns.campaign_list(user=request.auth)[:500])
    names = _region_names({c for campaign in items for c in campaign.region_codes})
    return [campaign_out(c, names) for c in items]


@router.post("", response={201: CampaignDetailOut}, summary="发起排查化解行动 / open a screening campaign")
def create_campaign(request, payload: CampaignIn):
    campaign = campaigns.campaign_create(actor=request.auth, **payload.dict())
    return Status(201, {**campaign_out(campaign), "figures": figures_out(campaigns.campaign_figures(campaign))})


@router.get("/{campaign_id}", response=CampaignDetailOut, summary="排查行动详情与覆盖率 / a campaign and its coverage")
def get_campaign(request, campaign_id: Id):
    campaign = campaigns.campaign_get(user=request.auth, pk=campaign_id)
    return {**campaign_out(campaign), "figures": figures_out(campaigns.campaign_figures(campaign))}


@router.patch("/{campaign_id}", response=CampaignDetailOut, summary="修改排查化解行动 / edit a screening campaign")
def update_campaign(request, campaign_id: Id, payload: CampaignPatchIn):
    """By an organiser whose regions hold the campaign's. A period that no longer holds the days of the visits
    recorded, or regions that no longer hold their places, are refused (409 `visits_outside_period`,
    `findings_outside_regions`); every change is on the campaign's timeline."""
    campaign = campaigns.campaign_get(user=request.auth, pk=campaign_id)
    campaign = campaigns.campaign_update(actor=request.auth, campaign=campaign, **payload.dict(exclude_unset=True))
    return {**campaign_out(campaign), "figures": figures_out(campaigns.campaign_figures(campaign))}
