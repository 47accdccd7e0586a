"""Every write of the stability assessment. Workflow steps go through core.workflow.transition (roles, guards,
clock, the decision's timeline); the register, the comments, visits and hearings are recorded on the decision's
timeline in the same transaction, so nothing changes unrecorded."""

from __future__ import annotations

import json
import math
from datetime import date

import shapely
from django.db import transaction
from django.utils import timezone

from cityops.accounts.models import OrgUnit
from cityops.core.errors import Conflict, Forbidden, InvalidInput, RateLimited
from cityops.core.ratelimit import window_hit
from cityops.core.timeline import timeline_append
from cityops.core.workflow import actor_roles, create_with_timeline, transition
from cityops.stability import conf, selectors
from cityops.stability import workflow as flow
from cityops.stability.models import Comment, Decision, DecisionRegion, Hearing, Risk, Visit, risk_level

AREA_LEVELS = ("district", "street", "community")
MAX_TITLE, MAX_TEXT = 200, 4000
MAX_REGIONS = 50
# The register is written while the risks are being assessed; once decided, only mitigation and status move.
RISK_ADD_STATES = ("scoped", "risks_identified", "consultation", "assessed", "legality_review")
RISK_UPDATE_STATES = (*RISK_ADD_STATES, "decided", "published", "monitoring")


# --- checks of input ---------------------------------------------------------------------------------------
def _required(value, field: str, label: str, *, limit: int = MAX_TEXT) -> str:
    text = str(value or "").strip()
    if not text:
        raise InvalidInput(f"请填写{label}", f"{field} is required", code=f"{field}_required")
    if len(text) > limit:
        raise InvalidInput(f"{label}过长（最多 {limit} 字）", f"{field} is too long ({limit} characters at most)",
                           code="too_long")
    return text


def _unit(code: str, field: str) -> OrgUnit:
    unit = OrgUnit.objects.filter(code=str(code or "").strip(), active=True).first()
    if unit is None:
        raise InvalidInput(f"单位编码 {code!r} 不存在", f"Unknown org unit {code!r} ({field})", code="unknown_unit",
                           details={"field": field})
    return unit


def _regions(codes, *, actor) -> list[str]:
    """The regions a decision affects: known districts, streets or communities, each inside the actor's area
    (selectors.user_area); without repeats and without a region inside another one of the list; the first stays
    first (the main one)."""
    from cityops.geo.models import Region

    if not isinstance(codes, list | tuple) or not codes:
        raise InvalidInput("请选择决策影响的区域", "Choose the regions the decision affects", code="regions_required")
    if len(codes) > MAX_REGIONS:
        raise InvalidInput(f"影响区域最多 {MAX_REGIONS} 个", f"At most {MAX_REGIONS} regions", code="too_many_regions")
    codes = [str(code or "").strip()[:20] for code in codes]
    known = set(Region.objects.filter(code__in=codes, level__in=AREA_LEVELS).values_list("code", flat=True))
    unknown = [code for code in codes if code not in known]
    if unknown:
        raise InvalidInput(f"区域编码 {unknown[0]!r} 不存在（应为区、街道或社区编码）",
                           f"Unknown region {unknown[0]!r}: a district, street or community code is expected",
                           code="unknown_region", details={"unknown": unknown[:10]})
    area = selectors.user_area(actor)
    outside = [code for code in codes if area is not None and not any(code.startswith(a) for a in area)]
    if outside:
        names = selectors.region_names(outside)
        raise Forbidden(f"{'、'.join(names.get(c, c) for c in outside[:5])} 不在您负责的区域内",
                        f"{', '.join(outside[:5])}: outside your area", code="region_out_of_scope",
                        details={"regions": outside})
    kept: list[str] = []
    for code in sorted(dict.fromkeys(codes), key=len):  # the larger regions first, so that one inside them goes
        if not any(code.startswith(k) for k in kept):
            kept.append(code)
    return [code for code in dict.fromkeys(codes) if code in kept]


def _invalid_geojson(why: str, why_en: str) -> InvalidInput:
    return InvalidInput(f"影响范围不是有效的 GeoJSON 多边形：{why}", f"The area is not a valid GeoJSON polygon: {why_en}",
                        code="invalid_geojson")


def area_checked(area) -> dict | None:
    """The decision's area as a GeoJSON Polygon or MultiPolygon in WGS-84 that shapely finds valid (a geometry, or
    a Feature holding one); None for no area."""
    if area in (None, "", {}):
        return None
    if isinstance(area, str):
        try:
            area = json.loads(area)
        except ValueError:
            raise _invalid_geojson("无法解析", "it cannot be parsed") from None
    if isinstance(area, dict) and area.get("type") == "Feature":
        area = area.get("geometry")
    if not isinstance(area, dict) or area.get("type") not in ("Polygon", "MultiPolygon"):
        kind = area.get("type") if isinstance(area, dict) else type(area).__name__
        raise _invalid_geojson(f"类型应为 Polygon 或 MultiPolygon，收到 {kind}", f"expected Polygon or MultiPolygon, got {kind}")
    try:
        geom = shapely.from_geojson(json.dumps(area))
    except (shapely.errors.GEOSException, ValueError, TypeError) as exc:
        raise _invalid_geojson(f"无法解析（{exc}）", f"it cannot be read ({exc})") from None
    if geom.is_empty:
        raise _invalid_geojson("几何为空", "the geometry is empty")
    x0, y0, x1, y1 = geom.bounds
    if not all(math.isfinite(v) for v in geom.bounds) or x0 < -180 or x1 > 180 or y0 < -90 or y1 > 90:
        raise _invalid_geojson("坐标超出经纬度范围", "coordinates are not WGS-84 longitude, latitude")
    if not geom.is_valid:
        why = shapely.is_valid_reason(geom)
        raise _invalid_geojson(f"几何无效（如自相交）：{why}", f"invalid geometry (e.g. self-intersection): {why}")
    return json.loads(shapely.to_geojson(geom))


def _one_to_five(value, field: str, label: str) -> int:
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 5:
        raise InvalidInput(f"{label}应为 1～5 的整数", f"{field} must be a whole number from 1 to 5",
                           code=f"invalid_{field}")
    return value


def _choice(value, choices, field: str, label: str) -> str:
    if value not in choices.values:
        raise InvalidInput(f"{label}无效：{value!r}", f"Unknown {field}: {value!r} (one of {', '.join(choices.values)})",
                           code=f"unknown_{field}")
    return value


# --- who may write -----------------------------------------------------------------------------------------
def may_assess(decision: Decision, user) -> bool:
    """The assessing unit's staff (and admin) keep the register, moderate comments, record visits and hearings."""
    return bool(user is not None and user.is_authenticated
                and actor_roles(user, decision) & {flow.ASSESSOR, *flow.ADMIN})


def _require_assessor(decision: Decision, actor) -> None:
    if not may_assess(decision, actor):
        raise Forbidden("只有评估主体的工作人员可以办理", "Only the assessing unit's staff may do this", code="not_assessor")


def _locked(decision: Decision) -> Decision:
    return Decision.objects.select_for_update().get(pk=decision.pk)


def _record(decision: Decision, action: str, actor, *, note: str = "", **params) -> None:
    """A step that is no transition, on the decision's timeline (the locked row: the entry records its version)."""
    timeline_append(subject=decision, action=action, actor=actor, from_state=decision.state, to_state=decision.state,
                    note=note, params=params)


def _in_states(decision: Decision, states, what: str, what_en: str) -> None:
    if decision.state not in states:
        raise Conflict(f"当前状态「{decision.state_label()}」不能{what}",
                       f"Cannot {what_en} in state '{decision.state}'", code="illegal_state")


# --- the decision ------------------------------------------------------------------------------------------
def decision_create(*, actor, title: str, description: str, proposing_unit: str, assessing_unit: str,
                    region_codes: list[str] | None = None, region_code: str = "", area=None) -> Decision:
    """A major decision is registered by its proposing unit (or admin); its assessment starts at `proposed`. It
    affects one region or several (`region_codes`, the main one first; `region_code` alone is one region — the API's
    first form), each inside the registering user's area."""
    proposer = _unit(proposing_unit, "proposing_unit")
    if not actor_roles(actor, Decision(proposing_unit=proposer)) & {flow.PROPOSER, *flow.ADMIN}:
        raise Forbidden("只有决策提出单位的工作人员可以登记重大决策", "Only the proposing unit's staff may register a decision",
                        code="not_proposer")
    assessor = _unit(assessing_unit, "assessing_unit")
    codes = _regions(region_codes or ([region_code] if region_code else []), actor=actor)
    draft = Decision(
        title=_required(title, "title", "决策事项", limit=MAX_TITLE),
        description=_required(description, "description", "决策内容"),
        proposing_unit=proposer, assessing_unit=assessor, region_code=codes[0], area=area_checked(area),
        created_by=actor,
    )
    with transaction.atomic():
        decision = create_with_timeline(draft, actor=actor, params={
            "proposing_unit": proposer.code, "assessing_unit": assessor.code, "region": codes[0], "regions": codes})
        DecisionRegion.objects.bulk_create(DecisionRegion(decision=decision, code=code) for code in codes)
    return decision


def _step(decision: Decision, action: str, actor, *, note: str = "", fields: dict | None = None, **params) -> Decision:
    """A workflow step that also writes the decision's own fields (in the transition's transaction)."""
    return transition(decision, action, actor, note=note, apply=lambda d: _set(d, **(fields or {})), params=params)


def _set(obj, **fields) -> list[str]:
    for name, value in fields.items():
        setattr(obj, name, value)
    return list(fields)


def decision_scope(*, decision, actor, scope: str) -> Decision:
    scope = str(scope or "").strip()  # the transition's guards check it, after the role
    return _step(decision, "scope", actor, note=scope, fields={"scope": scope}, scope=scope)


def decision_open_consultation(*, decision, actor, ends_on: date, note: str = "") -> Decision:
    """公开征求意见 (条例 §14): the period's last day is fixed now and is at least 30 days away."""
    return _step(decision, "open_consultation", actor, note=note.strip(), ends_on=ends_on,
                 fields={"consultation_opened_at": timezone.now(), "consultation_ends_on": ends_on})


def decision_assess(*, decision, actor, level: str, summary: str) -> Decision:
    """The consultation ends and the assessors grade the risk (高 / 中 / 低) with their conclusion."""
    summary = str(summary or "").strip()
    return _step(decision, "assess", actor, note=summary, fields={"level": level, "assessment": summary}, level=level,
                 summary=summary)


def decision_submit_review(*, decision, actor, note: str = "") -> Decision:
    return _step(decision, "submit_review", actor, note=note.strip())


def decision_decide(*, decision, actor, outcome: str, note: str = "") -> Decision:
    """The decision organ decides, within what the level allows (guards in workflow.outcome_allowed)."""
    note = note.strip()
    return _step(decision, "decide", actor, note=note, fields={"outcome": outcome, "outcome_note": note},
                 outcome=outcome)


def decision_publish(*, decision, actor, note: str = "") -> Decision:
    return _step(decision, "publish", actor, note=note.strip(), fields={"published_at": timezone.now()})


def decision_post_evaluate(*, decision, actor, summary: str) -> Decision:
    summary = str(summary or "").strip()
    return _step(decision, "post_evaluate", actor, note=summary, fields={"post_evaluation": summary},
                 summary=summary)


def decision_withdraw(*, decision, actor, reason: str) -> Decision:
    reason = str(reason or "").strip()
    return _step(decision, "withdraw", actor, note=reason, reason=reason)


# --- the risk register -------------------------------------------------------------------------------------
@transaction.atomic
def risk_add(*, decision, actor, dimension: str, description: str, likelihood, impact, mitigation: str = "",
             owner_unit: str = "") -> Risk:
    """A risk point of the register (legality, rationality, feasibility, controllability, security), scored
    likelihood × impact on the 5×5 matrix."""
    decision = _locked(decision)
    _require_assessor(decision, actor)
    _in_states(decision, RISK_ADD_STATES, "登记风险点", "add a risk")
    likelihood = _one_to_five(likelihood, "likelihood", "可能性")
    impact = _one_to_five(impact, "impact", "影响程度")
    risk = Risk.objects.create(
        decision=decision, dimension=_choice(dimension, Risk.Dimension, "dimension", "风险维度"),
        description=_required(description, "description", "风险描述"), likelihood=likelihood, impact=impact,
        score=likelihood * impact, mitigation=str(mitigation or "").strip()[:MAX_TEXT],
        owner_unit=_unit(owner_unit, "owner_unit") if owner_unit else None,
    )
    _record(decision, "risk_add", actor, note=risk.description, risk=risk.pk, dimension=risk.dimension,
            likelihood=likelihood, impact=impact, score=risk.score, level=risk.level,
            mitigation=bool(risk.mitigation), owner_unit=owner_unit or "")
    return risk


def _shown(value):
    """A field's value as the timeline records it (a unit by its code)."""
    if value is None:
        return ""
    return value.code if isinstance(value, OrgUnit) else value


RISK_FIELDS = ("likelihood", "impact", "mitigation", "owner_unit", "status", "description")


@transaction.atomic
def risk_update(*, risk: Risk, actor, **changes) -> Risk:
    """Change a risk: before the decision anything; afterwards (monitoring) its mitigation, owner and status.
    The timeline keeps each changed field before and after."""
    decision = _locked(risk.decision)
    risk = Risk.objects.select_for_update().get(pk=risk.pk)
    _require_assessor(decision, actor)
    _in_states(decision, RISK_UPDATE_STATES, "修改风险点", "change a risk")
    unknown = set(changes) - set(RISK_FIELDS)
    if unknown:
        raise InvalidInput(f"不能修改的字段：{', '.join(sorted(unknown))}", f"Fields that cannot be changed: "
                           f"{', '.join(sorted(unknown))}", code="unknown_field")
    if decision.state not in RISK_ADD_STATES and {"likelihood", "impact", "description"} & set(changes):
        raise Conflict("决策作出后不能再修改风险的描述和评分", "Once decided, a risk's description and score stay as assessed",
                       code="illegal_state")
    new = {}
    if "likelihood" in changes:
        new["likelihood"] = _one_to_five(changes["likelihood"], "likelihood", "可能性")
    if "impact" in changes:
        new["impact"] = _one_to_five(changes["impact"], "impact", "影响程度")
    if "description" in changes:
        new["description"] = _required(changes["description"], "description", "风险描述")
    if "mitigation" in changes:
        new["mitigation"] = str(changes["mitigation"] or "").strip()[:MAX_TEXT]
    if "status" in changes:
        new["status"] = _choice(changes["status"], Risk.Status, "status", "状态")
    if "owner_unit" in changes:
        new["owner_unit"] = _unit(changes["owner_unit"], "owner_unit") if changes["owner_unit"] else None
    diff = {}
    for name, value in new.items():
        before = getattr(risk, name)
        if before != value:
            diff[name] = [_shown(before), _shown(value)]
            setattr(risk, name, value)
    if not diff:
        return risk
    risk.score = risk.likelihood * risk.impact
    risk.updated_at = timezone.now()
    risk.save()
    _record(decision, "risk_update", actor, risk=risk.pk, changes=diff, score=risk.score, level=risk_level(risk.score))
    return risk


# --- public consultation -----------------------------------------------------------------------------------
@transaction.atomic
def comment_submit(*, decision, actor, stance: str, text: str) -> Comment:
    """A signed-in resident's comment while the comment period runs; it waits for moderation before the public
    sees it. At most COMMENTS_PER_HOUR per person per hour."""
    if actor is None or not actor.is_authenticated:
        raise Forbidden("请先登录再发表意见", "Sign in to comment", code="login_required", status=401)
    decision = _locked(decision)
    if decision.state != "consultation" or timezone.now() >= decision.consultation_end:
        raise Conflict("该决策事项不在公开征求意见期内", "The decision is not open for public comment", code="consultation_closed")
    stance = _choice(stance, Comment.Stance, "stance", "态度")
    text = _required(text, "text", "意见内容", limit=2000)
    if len(text) < 5:
        raise InvalidInput("意见内容过短（至少 5 个字）", "The comment is too short (5 characters at least)",
                           code="text_too_short")
    per_hour = conf.get("COMMENTS_PER_HOUR")
    used, left = window_hit(key=f"stability-comment:{actor.pk}", window_s=3600)
    if used > per_hour:
        raise RateLimited(f"每小时最多提交 {per_hour} 条意见，请 {left // 60 + 1} 分钟后再试",
                          f"At most {per_hour} comments an hour: try again in {left // 60 + 1} minutes")
    comment = Comment.objects.create(decision=decision, author=actor, stance=stance, text=text)
    _record(decision, "comment", actor, comment=comment.pk, stance=stance)
    return comment


@transaction.atomic
def comment_moderate(*, comment: Comment, actor, approve: bool, note: str = "") -> Comment:
    """The assessing staff approve a comment (shown publicly, counted) or reject it (abuse, personal data,
    off-topic: kept, not shown). Each comment is moderated once."""
    decision = _locked(comment.decision)
    _require_assessor(decision, actor)
    comment = Comment.objects.select_for_update().get(pk=comment.pk)
    if comment.status != Comment.Status.PENDING:
        raise Conflict("该意见已审核", "The comment is already moderated", code="already_moderated")
    note = str(note or "").strip()[:300]
    if not approve and not note:
        raise InvalidInput("不予公开须说明理由", "Say why the comment is not shown", code="reason_required")
    comment.status = Comment.Status.APPROVED if approve else Comment.Status.REJECTED
    comment.moderated_by, comment.moderated_at, comment.moderation_note = actor, timezone.now(), note
    comment.save(update_fields=["status", "moderated_by", "moderated_at", "moderation_note"])
    _record(decision, "comment_moderate", actor, note=note, comment=comment.pk, status=comment.status)
    return comment


@transaction.atomic
def visit_record(*, decision, actor, visited_on: date, place: str, people_met, findings: str) -> Visit:
    """走访: the assessors visit the people affected while the consultation runs."""
    decision = _locked(decision)
    _require_assessor(decision, actor)
    _in_states(decision, ("risks_identified", "consultation"), "登记走访", "record a visit")
    people = _count(people_met, "people_met", "走访人数")
    _not_future(visited_on, "visited_on")
    visit = Visit.objects.create(decision=decision, visited_on=visited_on, place=_required(place, "place", "走访对象", limit=200),
                                 people_met=people, findings=_required(findings, "findings", "走访情况"), recorded_by=actor)
    _record(decision, "visit", actor, note=visit.place, visit=visit.pk, visited_on=visited_on, people_met=people)
    return visit


@transaction.atomic
def hearing_record(*, decision, actor, held_on: date, place: str, participants, minutes: str) -> Hearing:
    """听证 (optional, 条例 §16): its date, place, participants and minutes."""
    decision = _locked(decision)
    _require_assessor(decision, actor)
    _in_states(decision, ("consultation",), "登记听证", "record a hearing")
    people = _count(participants, "participants", "参加人数")
    _not_future(held_on, "held_on")
    hearing = Hearing.objects.create(decision=decision, held_on=held_on, place=_required(place, "place", "听证地点", limit=200),
                                     participants=people, minutes=_required(minutes, "minutes", "听证笔录", limit=20000),
                                     recorded_by=actor)
    _record(decision, "hearing", actor, note=hearing.place, hearing=hearing.pk, held_on=held_on, participants=people)
    return hearing


def _count(value, field: str, label: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 100_000:
        raise InvalidInput(f"{label}应为 1～100000 的整数", f"{field} must be a whole number from 1 to 100000",
                           code=f"invalid_{field}")
    return value


def _not_future(day: date, field: str) -> None:
    if not isinstance(day, date) or day > timezone.localdate():
        raise InvalidInput("日期不能晚于今天", f"{field} cannot be in the future", code="invalid_date")
