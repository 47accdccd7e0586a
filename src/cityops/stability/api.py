"""The stability assessment under /api/v1/stability/: register a decision, read decisions in the user's scope,
keep the risk register, comment and moderate, record visits and hearings, read the monitoring, fetch the report,
and one POST per workflow action (core.actions)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from django.http import HttpResponse
from ninja import Router
from ninja.responses import Status
from pydantic import Field

from cityops.cases.api import TimelineOut, api_response
from cityops.core import actions
from cityops.core.errors import Forbidden, NotFound
from cityops.core.schemas import Day, Id, Schema, page_size
from cityops.core.timeline import timeline_for
from cityops.stability import selectors, services
from cityops.stability.models import Comment, Decision, Risk

router = Router(tags=["stability"])


class DecisionIn(Schema):
    title: str
    description: str
    proposing_unit: str  # org unit code
    assessing_unit: str
    region_codes: Annotated[list[Annotated[str, Field(max_length=20)]], Field(max_length=50)] = []
    region_code: Annotated[str, Field(max_length=20)] = ""  # one region only (the first form of this API)
    area: Any = None  # GeoJSON Polygon / MultiPolygon (or a Feature), optional


class RegionOut(Schema):
    code: str
    name: str


class DecisionOut(Schema):
    id: int
    title: str
    description: str
    proposing_unit: str
    proposing_unit_name: str
    assessing_unit: str
    assessing_unit_name: str
    region_code: str  # the main region (the first of `regions`)
    regions: list[RegionOut]  # every region the decision affects, by name
    area: dict | None
    state: str
    state_label: str
    scope: str
    consultation_ends_on: date | None
    level: str
    assessment: str
    outcome: str
    published_at: datetime | None
    deadline_at: datetime | None
    traffic_light: str
    comments: dict[str, int]
    version: int


class RiskIn(Schema):
    dimension: str
    description: str
    likelihood: int
    impact: int
    mitigation: str = ""
    owner_unit: str = ""


class RiskPatch(Schema):
    description: str | None = None
    likelihood: int | None = None
    impact: int | None = None
    mitigation: str | None = None
    owner_unit: str | None = None
    status: str | None = None


class RiskOut(Schema):
    id: int
    dimension: str
    description: str
    likelihood: int
    impact: int
    score: int
    level: str
    mitigation: str
    owner_unit: str
    status: str


class CommentIn(Schema):
    stance: str
    text: str


class CommentOut(Schema):
    id: int
    stance: str
    text: str
    status: str
    author: str
    created_at: datetime


class ModerateIn(Schema):
    approve: bool
    note: str = ""


class VisitIn(Schema):
    visited_on: Day
    place: str
    people_met: int
    findings: str


class HearingIn(Schema):
    held_on: Day
    place: str
    participants: int
    minutes: str


def decision_out(d: Decision, names: dict[str, str] | None = None) -> dict:
    codes = d.region_codes
    names = names if names is not None else selectors.region_names(codes)
    return {
        "id": d.pk, "title": d.title, "description": d.description, "proposing_unit": d.proposing_unit.code,
        "proposing_unit_name": d.proposing_unit.name, "assessing_unit": d.assessing_unit.code,
        "assessing_unit_name": d.assessing_unit.name, "region_code": d.region_code,
        "regions": [{"code": code, "name": names.get(code, code)} for code in codes], "area": d.area, "state": d.state,
        "state_label": d.state_label(), "scope": d.scope, "consultation_ends_on": d.consultation_ends_on,
        "level": d.level, "assessment": d.assessment, "outcome": d.outcome, "published_at": d.published_at,
        "deadline_at": d.deadline_at, "traffic_light": d.traffic_light(), "comments": selectors.stance_counts(decision=d),
        "version": d.version,
    }


def risk_out(r: Risk) -> dict:
    return {"id": r.pk, "dimension": r.dimension, "description": r.description, "likelihood": r.likelihood,
            "impact": r.impact, "score": r.score, "level": r.level, "mitigation": r.mitigation,
            "owner_unit": r.owner_unit.code if r.owner_unit else "", "status": r.status}


def comment_out(c: Comment) -> dict:
    return {"id": c.pk, "stance": c.stance, "text": c.text, "status": c.status, "author": c.author_shown,
            "created_at": c.created_at}


def _load(request, decision_id: int) -> Decision:
    decision = selectors.decision_get(user=request.auth, pk=decision_id)
    if decision is None:
        raise NotFound("决策事项不存在", "No such decision", code="decision_not_found")
    return decision


def _answer(request, decision: Decision, status: int):
    fresh = selectors.decision_list(user=request.auth).get(pk=decision.pk)
    return api_response(request, decision_out(fresh), status=status, etag=actions.etag(fresh))


@router.get("/decisions", response=list[DecisionOut], summary="重大决策列表 / decisions")
def list_decisions(request, state: str = ""):
    qs = selectors.decision_list(user=request.auth)
    if state:
        qs = qs.filter(state__in=state.split(",")[:20])
    page = list(qs[:200])
    names = selectors.region_names(code for d in page for code in d.region_codes)
    return [decision_out(d, names) for d in page]


@router.post("/decisions", response={201: DecisionOut}, summary="登记重大决策 / register a decision")
def create_decision(request, body: DecisionIn):
    decision = services.decision_create(actor=request.auth, **body.dict())
    return _answer(request, decision, 201)


@router.get("/decisions/{decision_id}", response=DecisionOut, summary="重大决策 / one decision")
def get_decision(request, decision_id: Id):
    return decision_out(_load(request, decision_id))


@router.get("/decisions/{decision_id}/timeline", response=list[TimelineOut], summary="时间线 / its timeline")
def get_timeline(request, decision_id: Id):
    decision = _load(request, decision_id)
    if not selectors.is_staff_reader(decision, request.auth):
        raise Forbidden("只有相关单位可以查看办理过程", "Only the units concerned read the timeline", code="role_not_allowed")
    return [{"seq": e.seq, "at": e.at, "actor": e.actor_name, "action": e.action, "from_state": e.from_state,
             "to_state": e.to_state, "note": e.note, "params": e.params} for e in timeline_for(decision)]


@router.get("/decisions/{decision_id}/risks", response=list[RiskOut], summary="风险清单 / the risk register")
def list_risks(request, decision_id: Id):
    decision = _load(request, decision_id)
    return [risk_out(r) for r in decision.risks.select_related("owner_unit")]


@router.post("/decisions/{decision_id}/risks", response={201: RiskOut}, summary="登记风险点 / add a risk")
def add_risk(request, decision_id: Id, body: RiskIn):
    risk = services.risk_add(decision=_load(request, decision_id), actor=request.auth, **body.dict())
    return Status(201, risk_out(risk))


@router.patch("/decisions/{decision_id}/risks/{risk_id}", response=RiskOut, summary="修改风险点 / change a risk")
def update_risk(request, decision_id: Id, risk_id: Id, body: RiskPatch):
    decision = _load(request, decision_id)
    risk = decision.risks.filter(pk=risk_id).first()
    if risk is None:
        raise NotFound("风险点不存在", "No such risk", code="risk_not_found")
    changes = body.dict(exclude_unset=True)
    return risk_out(services.risk_update(risk=risk, actor=request.auth, **changes))


@router.get("/decisions/{decision_id}/comments", response=list[CommentOut], summary="公众意见 / comments")
def list_comments(request, decision_id: Id, status: str = ""):
    decision = _load(request, decision_id)
    return [comment_out(c) for c in selectors.comment_list(decision=decision, user=request.auth, status=status)[:500]]


@router.post("/decisions/{decision_id}/comments", response={201: CommentOut}, summary="发表意见 / comment")
def add_comment(request, decision_id: Id, body: CommentIn):
    comment = services.comment_submit(decision=_load(request, decision_id), actor=request.auth, **body.dict())
    return Status(201, comment_out(comment))


@router.post("/decisions/{decision_id}/comments/{comment_id}/moderate", response=CommentOut,
             summary="审核意见 / moderate a comment")
def moderate_comment(request, decision_id: Id, comment_id: Id, body: ModerateIn):
    decision = _load(request, decision_id)
    comment = decision.comments.filter(pk=comment_id).first()
    if comment is None:
        raise NotFound("意见不存在", "No such comment", code="comment_not_found")
    return comment_out(services.comment_moderate(comment=comment, actor=request.auth, **body.dict()))


@router.post("/decisions/{decision_id}/visits", response={201: dict}, summary="登记走访 / record a visit")
def add_visit(request, decision_id: Id, body: VisitIn):
    visit = services.visit_record(decision=_load(request, decision_id), actor=request.auth, **body.dict())
    return Status(201, {"id": visit.pk})


@router.post("/decisions/{decision_id}/hearings", response={201: dict}, summary="登记听证 / record a hearing")
def add_hearing(request, decision_id: Id, body: HearingIn):
    hearing = services.hearing_record(decision=_load(request, decision_id), actor=request.auth, **body.dict())
    return Status(201, {"id": hearing.pk})


@router.get("/decisions/{decision_id}/monitoring", summary="跟踪监测 / cases and disputes in the area")
def monitoring(request, decision_id: Id, weeks: page_size(104) = 12):
    decision = _load(request, decision_id)
    disputes = selectors.linked_disputes(decision=decision)
    return {
        "published_at": decision.published_at,
        "cases": [c.code for c in selectors.linked_cases(decision=decision)[:200]],
        "disputes": None if disputes is None else [d.code for d in disputes[:200]],
        "weeks": [{"week": w["week"], "cases": w["cases"], "disputes": w["disputes"]}
                  for w in selectors.weekly_counts(decision=decision, weeks=weeks)],
    }


@router.get("/decisions/{decision_id}/report.pdf", summary="稳评报告 / the assessment report (PDF)")
def report_pdf(request, decision_id: Id):
    from cityops.stability.report import report_pdf as render

    decision = _load(request, decision_id)
    if not selectors.is_staff_reader(decision, request.auth):
        raise Forbidden("只有相关单位可以下载稳评报告", "Only the units concerned fetch the report", code="role_not_allowed")
    response = HttpResponse(render(decision=decision), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="stability-{decision.pk}.pdf"'
    return response


actions.add_action_routes(router, Decision, path="/decisions/{decision_id}", keys={"decision_id": Id}, load=_load,
                          answer=_answer, response=DecisionOut, name="stability")
