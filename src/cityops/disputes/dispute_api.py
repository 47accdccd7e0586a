"""The disputes API (/api/v1/disputes/): intake (walk-in, portal, hotline, screening), the list with filters, a
dispute with its parties masked, every workflow action (core.actions: If-Match, Idempotency-Key, coded errors),
raising the risk level, a city case turned into a dispute, and the referral API of courts, police and 信访
(bearer token of the body's own service account)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated

from django.utils import timezone
from ninja import Query, Router
from pydantic import Field

from cityops.core import actions
from cityops.core.errors import NotFound
from cityops.core.schemas import Id, Offset, Schema, page_size
from cityops.disputes import schemas as s
from cityops.disputes import selectors, services
from cityops.disputes.models import Dispute

router = Router(tags=["disputes"])

Name = Annotated[str, Field(max_length=100)]
Short = Annotated[str, Field(max_length=40)]
Amount = Annotated[Decimal, Field(ge=0, le=services.MAX_AMOUNT, allow_inf_nan=False)]
Coordinate = Annotated[float, Field(ge=-180, le=180, allow_inf_nan=False)]


class PartyIn(Schema):
    side: Short  # applicant | respondent
    kind: Short = "person"  # person | organisation
    name: Name
    id_number: Short = ""  # 居民身份证号 (a person)
    uscc: Short = ""  # 统一社会信用代码 (an organisation)
    phone: Short = ""
    user_id: Id | None = None  # the party's resident account (staff only)


class DisputeIn(Schema):
    """A new dispute. `source` defaults to the channel of the user's role (walk_in at the centre, portal for a
    resident, hotline for an operator, screening for a grid worker)."""

    source: Short = ""
    title: s.Line
    description: s.Text
    kind: Short
    parties: Annotated[list[PartyIn], Field(max_length=services.MAX_PARTIES)]
    amount: Amount | None = None
    lon: Coordinate | None = None
    lat: Coordinate | None = None
    crs: Short = "wgs84"
    address: Annotated[str, Field(max_length=300)] = ""
    centre_id: Id | None = None
    campaign_id: Id | None = None
    risk_level: Short = "low"
    entrustment: Short = ""


class FromCaseIn(Schema):
    """A city case (a hotline call's work order) turned into a dispute: the case gives place and description."""

    kind: Short
    parties: Annotated[list[PartyIn], Field(max_length=services.MAX_PARTIES)]
    title: s.Line = ""
    description: s.Text = ""
    amount: Amount | None = None
    risk_level: Short = "low"


class ReferralIn(Schema):
    """A referral from a court, police or 信访 system. `external_ref` is the body's own case number: the same
    referral sent twice returns the first dispute."""

    external_ref: Annotated[str, Field(min_length=1, max_length=64)]
    title: s.Line
    description: s.Text
    kind: Short
    parties: Annotated[list[PartyIn], Field(max_length=services.MAX_PARTIES)]
    amount: Amount | None = None
    lon: Coordinate | None = None
    lat: Coordinate | None = None
    address: Annotated[str, Field(max_length=300)] = ""
    risk_level: Short = "low"
    entrustment: Short = ""  # court_15 | court_7 for a court-entrusted mediation


class DisputeRiskIn(Schema):
    level: Short  # medium | high: the risk only rises
    reason: s.Text


class UnitOut(Schema):
    id: int
    code: str
    name: str


class PersonOut(Schema):
    id: int
    name: str


class PartyOut(Schema):
    id: int
    side: str
    kind: str
    name: str
    id_masked: str
    uscc: str
    phone_masked: str


class AgreementOut(Schema):
    facts: str
    terms: str
    performance_method: str
    performance_deadline: date | None
    court: str


class DisputeOut(Schema):
    id: int
    code: str
    title: str
    description: str
    kind: str
    kind_label: str
    source: str
    channel: str
    entrustment: str
    state: str
    state_label: str
    risk_level: str
    level: str
    amount: str | None
    address: str
    region_code: str
    community_code: str
    grid_code: str
    centre: UnitOut | None
    committee: UnitOut | None
    mediator: PersonOut | None
    parties: list[PartyOut]
    agreement: AgreementOut | None
    case_code: str | None
    external_ref: str
    termination_reason: str
    referred_routes: list[str]
    deadline_at: datetime | None
    overdue: bool
    traffic_light: str
    created_at: datetime
    version: int


class DisputeRowOut(Schema):
    id: int
    code: str
    title: str
    kind: str
    state: str
    state_label: str
    risk_level: str
    committee: UnitOut | None
    mediator: PersonOut | None
    deadline_at: datetime | None
    traffic_light: str
    created_at: datetime


class DisputeListOut(Schema):
    count: int
    offset: int
    limit: int
    items: list[DisputeRowOut]


def _unit(unit) -> dict | None:
    return {"id": unit.pk, "code": unit.code, "name": unit.name} if unit is not None else None


def _person(user) -> dict | None:
    return {"id": user.pk, "name": user.first_name or user.username} if user is not None else None


def dispute_out(d: Dispute) -> dict:
    agreement = getattr(d, "agreement", None) if hasattr(d, "agreement") else None
    return {
        "id": d.pk, "code": d.code, "title": d.title, "description": d.description, "kind": d.kind,
        "kind_label": str(d.get_kind_display()), "source": d.source, "channel": d.channel,
        "entrustment": d.entrustment, "state": d.state, "state_label": d.state_label(), "risk_level": d.risk_level,
        "level": d.level, "amount": str(d.amount) if d.amount is not None else None, "address": d.address,
        "region_code": d.region_code, "community_code": d.community_code, "grid_code": d.grid_code,
        "centre": _unit(d.centre), "committee": _unit(d.committee), "mediator": _person(d.mediator),
        "parties": [{"id": p.pk, "side": p.side, "kind": p.kind, "name": p.name, "id_masked": p.id_masked,
                     "uscc": p.uscc, "phone_masked": p.phone_masked} for p in d.parties.all()],
        "agreement": {"facts": agreement.facts, "terms": agreement.terms,
                      "performance_method": agreement.performance_method,
                      "performance_deadline": agreement.performance_deadline,
                      "court": agreement.court} if agreement is not None else None,
        "case_code": d.case.code if d.case_id else None, "external_ref": d.external_ref,
        "termination_reason": d.termination_reason, "referred_routes": list(d.referred_routes or []),
        "deadline_at": d.deadline_at, "overdue": d.overdue, "traffic_light": d.traffic_light(),
        "created_at": d.created_at, "version": d.version,
    }


def _fresh(pk: int) -> Dispute:
    return (Dispute.objects.select_related("centre", "committee", "mediator", "case", "agreement")
            .prefetch_related("parties").get(pk=pk))


def _answer(request, d: Dispute, status: int):
    from cityops.cases.api import api_response
    from cityops.core.actions import etag

    d = _fresh(d.pk)
    return api_response(request, dispute_out(d), status=status, etag=etag(d))


def _load(request, dispute_id: int) -> Dispute:
    d = selectors.dispute_get(user=request.auth, pk=dispute_id)
    if d is None:
        raise NotFound(f"纠纷 {dispute_id} 不存在", f"Dispute {dispute_id} does not exist", code="dispute_not_found")
    return d


DEFAULT_SOURCES = (("centre_staff", "walk_in"), ("operator", "hotline"), ("shift_lead", "hotline"),
                   ("grid_worker", "screening"), ("region_staff", "screening"), ("resident", "portal"))


def _default_source(user) -> str:
    return next((src for role, src in DEFAULT_SOURCES if role in user.role_codes), "walk_in")


# --- the referral API (declared before the routes with a dispute id) -----------------------------------------
@router.post("/referrals", response={200: DisputeOut, 201: DisputeOut},
             summary="移交纠纷（法院、公安、信访系统）/ refer a dispute")
def refer_dispute(request, payload: ReferralIn):
    referrer = services.referrer_of(request.auth)
    data = payload.dict()
    d = services.register_dispute(actor=request.auth, source=referrer.kind, referrer=referrer, **data)
    return _answer(request, d, 201 if d.created else 200)


@router.get("/referrals/{external_ref}", response=DisputeOut, summary="查询移交的纠纷 / follow a referral")
def follow_referral(request, external_ref: str):
    referrer = services.referrer_of(request.auth)
    d = Dispute.objects.filter(referrer=referrer, external_ref=external_ref[:64]).first()
    if d is None:
        raise NotFound("未找到该案号移交的纠纷", "No dispute was referred with this case number",
                       code="referral_not_found")
    return _answer(request, d, 200)


@router.post("/from-case/{code}", response={200: DisputeOut, 201: DisputeOut},
             summary="将热线工单或城市事件转为矛盾纠纷 / turn a city case into a dispute")
def from_case(request, code: str, payload: FromCaseIn):
    from cityops.cases.selectors import case_get

    case = case_get(user=request.auth, code=code[:40])
    data = payload.dict()
    d = services.dispute_from_case(actor=request.auth, case=case,
                                   idempotency_key=request.headers.get("Idempotency-Key", ""), **data)
    return _answer(request, d, 201 if d.created else 200)


# --- intake and reads ------------------------------------------------------------------------------------
@router.post("", response={200: DisputeOut, 201: DisputeOut}, summary="登记矛盾纠纷 / register a dispute")
def create_dispute(request, payload: DisputeIn):
    from cityops.disputes.models import Campaign

    data = payload.dict()
    data["source"] = data["source"] or _default_source(request.auth)
    centre_id, campaign_id = data.pop("centre_id"), data.pop("campaign_id")
    campaign = None
    if campaign_id is not None:
        campaign = Campaign.objects.filter(pk=campaign_id).first()
        if campaign is None:
            raise NotFound("排查行动不存在", "No such screening campaign", code="campaign_not_found")
    d = services.register_dispute(actor=request.auth, centre=centre_id, campaign=campaign,
                                  idempotency_key=request.headers.get("Idempotency-Key", ""), **data)
    return _answer(request, d, 201 if d.created else 200)


class ListFilters(Schema):
    state: Short | None = None
    kind: Short | None = None
    risk_level: Short | None = None
    source: Short | None = None
    channel: Short | None = None
    committee_id: Id | None = None
    mediator_id: Id | None = None
    centre_id: Id | None = None
    open: bool | None = None
    q: Annotated[str, Field(max_length=100)] | None = None
    offset: Offset = 0
    limit: page_size(200) = 50


@router.get("", response=DisputeListOut, summary="矛盾纠纷列表 / list disputes")
def list_disputes(request, filters: Query[ListFilters]):
    data = filters.dict()
    offset, limit = data.pop("offset"), data.pop("limit")
    if "\x00" in (data.get("q") or ""):
        data["q"] = data["q"].replace("\x00", "")
    qs = selectors.dispute_search(user=request.auth, filters=data)
    now = timezone.now()
    rows = list(qs[offset: offset + limit])
    return {"count": qs.count(), "offset": offset, "limit": limit, "items": [
        {"id": d.pk, "code": d.code, "title": d.title, "kind": d.kind, "state": d.state,
         "state_label": d.state_label(), "risk_level": d.risk_level, "committee": _unit(d.committee),
         "mediator": _person(d.mediator), "deadline_at": d.deadline_at, "traffic_light": d.traffic_light(now),
         "created_at": d.created_at} for d in rows]}


@router.get("/{dispute_id}", response=DisputeOut, summary="矛盾纠纷详情（当事人信息已脱敏）/ a dispute")
def get_dispute(request, dispute_id: Id):
    return _answer(request, _load(request, dispute_id), 200)


class ReasonOut(Schema):
    zh: str
    en: str


class SuggestionOut(Schema):
    channel: str
    channel_label: str
    committee_id: int | None
    committee_name: str
    mediator_id: int | None
    mediator_name: str
    reasons: list[ReasonOut]


@router.get("/{dispute_id}/suggestion", response=SuggestionOut,
            summary="分流建议（渠道、调解组织、调解员）/ the routing suggestion")
def routing_suggestion(request, dispute_id: Id):
    """What the centre's staff are offered to confirm when they accept the dispute (routing.suggest)."""
    from cityops.core.errors import Forbidden
    from cityops.core.workflow import actor_roles
    from cityops.disputes import routing
    from cityops.disputes import workflow as dwf

    d = _load(request, dispute_id)
    if not actor_roles(request.auth, d) & dwf.STAFF:
        raise Forbidden("只有调处中心工作人员可以查看分流建议", "Only the centre's staff see the routing suggestion",
                        code="role_not_allowed")
    return routing.suggest(d).as_dict()


@router.post("/{dispute_id}/raise-risk", response=DisputeOut, summary="上调风险等级 / raise the risk level")
def raise_risk(request, dispute_id: Id, payload: DisputeRiskIn):
    d = _load(request, dispute_id)
    d = services.raise_risk(d, request.auth, payload.level, payload.reason)
    return _answer(request, d, 200)


actions.add_action_routes(router, Dispute, path="/{dispute_id}", keys={"dispute_id": Id}, load=_load,
                          answer=_answer, response={200: DisputeOut})
