"""The workflow's hooks (workflow.py names them): each step of a dispute once it is received — routing,
assigning, mediation, agreement, confirmation, performance, termination, referral, escalation — and the risk level.
Each is one transaction through core.workflow.transition (roles, guards, clock, timeline); a refusal is a coded
bilingual error and leaves nothing written."""

from __future__ import annotations

from datetime import date

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from cityops.accounts.models import OrgUnit
from cityops.core import roles
from cityops.core.errors import Conflict, Forbidden, InvalidInput
from cityops.core.text import clean_text
from cityops.core.timeline import timeline_append
from cityops.core.workflow import actor_roles, transition
from cityops.disputes import schemas as s
from cityops.disputes import workflow as dwf
from cityops.disputes.models import Agreement, Dispute, Party, Signature
from cityops.disputes.services.intake import clean_choice
from cityops.disputes.services.notifications import (
    dispute_body,
    escalation_recipients,
    notify_later,
    party_users,
    users_in,
)

RISK_ORDER = {"low": 0, "medium": 1, "high": 2}
# Who raises a dispute's risk level (global or per-object roles).
RISK_ROLES = frozenset({dwf.CENTRE_STAFF, dwf.COMMITTEE_MEDIATOR, dwf.ASSIGNED_MEDIATOR, roles.POLICE_LIAISON,
                        roles.GRID_WORKER, roles.ADMIN})



# --- the workflow's hooks ----------------------------------------------------------------------------------
def accept(*, dispute: Dispute, actor, channel: str, committee_id: int, note: str = "") -> Dispute:
    """受理并分流: the centre routes the dispute to a channel and a committee; the level (市/区/街道/社区) is the
    committee's, and a court-entrusted dispute keeps its entrustment (its mediation limit, 15 or 7 days)."""
    channel = clean_choice(channel, s.CHANNELS, field="channel", label="化解渠道")
    note = clean_text(note, field="note", label="备注", max_length=4000, required=False)
    committee = OrgUnit.objects.filter(pk=committee_id, kind=OrgUnit.Kind.COMMITTEE, active=True).first()
    if committee is None:
        raise InvalidInput("所选调解组织不存在", "No such mediation committee", code="unknown_committee")
    level = committee.level

    def apply(d):
        d.channel, d.committee, d.level = channel, committee, level
        return ["channel", "committee", "level"]

    with transaction.atomic():
        done = transition(dispute, "accept", actor, note=note, apply=apply,
                          params={"channel": channel, "committee": committee.code, "level": level,
                                  **({"entrustment": dispute.entrustment} if dispute.entrustment else {})})
        committee_id_ = committee.pk
        notify_later(lambda: users_in(committee_id_, roles.MEDIATOR), "dispute_routed",
                      f"纠纷分流至本调解组织：{done.code} {done.title}", done)
    return done


def _party_of(dispute: Dispute, party_id: int) -> Party:
    party = Party.objects.filter(pk=party_id, dispute_id=dispute.pk).first()
    if party is None:
        raise InvalidInput("该当事人不属于此纠纷", "The party does not belong to this dispute", code="unknown_party")
    return party


def refuse(*, dispute: Dispute, actor, party_id: int, reason: str) -> Dispute:
    """当事人拒绝调解 (人民调解法 §17): which party refused, and what they said; no mediation follows."""
    reason = clean_text(reason, field="reason", label="原因", max_length=4000)
    party = _party_of(dispute, party_id)
    with transaction.atomic():
        return transition(dispute, "refuse", actor, note=reason,
                          params={"party": party.pk, "side": party.side, "reason": reason})


def assign(*, dispute: Dispute, actor, mediator_id: int, note: str = "") -> Dispute:
    """指派调解员: a mediator (the role) who is a member of the committee the dispute is routed to."""
    note = clean_text(note, field="note", label="备注", max_length=4000, required=False)
    mediator = (get_user_model().objects.filter(pk=mediator_id, is_active=True, groups__name=roles.MEDIATOR,
                                                org_units=dispute.committee_id).first()
                if dispute.committee_id else None)
    if mediator is None:
        raise InvalidInput("所选人员不是本纠纷调解组织的调解员", "The person is not a mediator of the dispute's committee",
                           code="mediator_not_in_committee")

    def apply(d):
        d.mediator = mediator
        return ["mediator"]

    with transaction.atomic():
        done = transition(dispute, "assign", actor, note=note, apply=apply, params={"mediator": mediator.pk})
        notify_later(lambda: [mediator], "dispute_assigned", f"您被指派调解纠纷：{done.code} {done.title}", done)
    return done


def extend(*, dispute: Dispute, actor, extra_days: int, consents: list[dict], reason: str) -> Dispute:
    """延长调解期限: only with every party's recorded consent (each party of the dispute, with how it was given);
    the extra days are added to the mediation clock (calendar days)."""
    reason = clean_text(reason, field="reason", label="原因", max_length=4000)
    if not isinstance(extra_days, int) or isinstance(extra_days, bool) or not 1 <= extra_days <= 90:
        raise InvalidInput("延长天数须为 1 至 90", "extra_days must be 1 to 90", code="invalid_extra_days")
    party_ids = set(Party.objects.filter(dispute_id=dispute.pk).values_list("pk", flat=True))
    given, unrecorded = {}, []
    for c in consents or []:
        c = c if isinstance(c, dict) else c.dict()
        if c.get("party_id") not in party_ids:
            raise InvalidInput("同意记录中的当事人不属于此纠纷", "A consent names a party not of this dispute",
                               code="unknown_party", details={"party_id": c.get("party_id")})
        if c.get("method") not in s.CONSENT_METHODS:  # a consent not recorded in a known way is no consent
            unrecorded.append(c["party_id"])
            continue
        given[c["party_id"]] = {"party": c["party_id"], "method": c["method"],
                                "note": clean_text(c.get("note", ""), field="note", label="备注", max_length=200,
                                              required=False)}
    missing = sorted(party_ids - set(given))
    if missing:
        raise Conflict("延长调解期限须经全体当事人同意，尚缺当事人的同意记录（同意方式须为书面、电话录音、当面或平板签名）",
                       "Extending mediation needs every party's recorded consent (written, recorded call, in person "
                       "or on a tablet); some parties' consent is missing",
                       code="consent_missing", details={"missing_party_ids": missing,
                                                        "methods": list(s.CONSENT_METHODS),
                                                        **({"unknown_method_party_ids": sorted(set(unrecorded))}
                                                           if unrecorded else {})})
    with transaction.atomic():
        return transition(dispute, "extend", actor, note=reason,
                          params={"extra_hours": extra_days * 24.0, "extra_days": extra_days, "reason": reason,
                                  "consents": [given[k] for k in sorted(given)]})


def agree(*, dispute: Dispute, actor, facts: str, terms: str, performance_method: str,
          performance_deadline: date | None = None) -> Dispute:
    """达成调解协议 (人民调解法 §29): the agreement with its facts, terms, performance method and deadline."""
    facts = clean_text(facts, field="facts", label="纠纷主要事实", max_length=4000)
    terms = clean_text(terms, field="terms", label="协议内容", max_length=4000)
    performance_method = clean_text(performance_method, field="performance_method", label="履行方式", max_length=200)
    if performance_deadline is not None and performance_deadline < timezone.localdate():
        raise InvalidInput("履行期限不能早于今天", "The performance deadline cannot be in the past",
                           code="deadline_past")

    def apply(d):
        # A new agreement after a failed confirmation (remediate → agree): the parties sign the new terms afresh.
        # The earlier signatures' rows go now, their files once this commits (the timeline keeps the sign entries).
        old = list(Signature.objects.filter(agreement__dispute=d))
        if old:
            Signature.objects.filter(pk__in=[sig.pk for sig in old]).delete()
            transaction.on_commit(lambda: [sig.file.delete(save=False) for sig in old if sig.file])
        Agreement.objects.update_or_create(dispute=d, defaults={
            "facts": facts, "terms": terms, "performance_method": performance_method,
            "performance_deadline": performance_deadline, "created_at": timezone.now(), "created_by": actor,
            "court": ""})
        return []

    with transaction.atomic():
        done = transition(dispute, "agree", actor, apply=apply,
                          params={"performance_method": performance_method,
                                  "performance_deadline": performance_deadline.isoformat()
                                  if performance_deadline else None})
    return done


def request_confirmation(*, dispute: Dispute, actor, court: str, note: str = "") -> Dispute:
    """申请司法确认 within 30 days of the agreement (the guard), at the court named."""
    court = clean_text(court, field="court", label="申请确认的法院", max_length=200)
    note = clean_text(note, field="note", label="备注", max_length=4000, required=False)

    def apply(d):
        Agreement.objects.filter(dispute=d).update(court=court)
        return []

    with transaction.atomic():
        return transition(dispute, "request_confirmation", actor, note=note, apply=apply, params={"court": court})


def follow_up(*, dispute: Dispute, actor, result: str, satisfied: bool = True) -> Dispute:
    """回访并结案: how the parties are after performance."""
    result = clean_text(result, field="result", label="回访情况", max_length=4000)

    def apply(d):
        d.satisfied = bool(satisfied)
        return ["satisfied"]

    with transaction.atomic():
        return transition(dispute, "follow_up", actor, note=result, apply=apply,
                          params={"result": result, "satisfied": bool(satisfied)})


def terminate(*, dispute: Dispute, actor, reason: str, detail: str = "") -> Dispute:
    """终止调解 with a reason from the list (and what happened, required for 其他原因)."""
    reason = clean_choice(reason, s.TERMINATION_REASONS, field="termination_reason", label="终止原因")
    detail = clean_text(detail, field="detail", label="具体情况", max_length=4000, required=reason == "other")

    def apply(d):
        d.termination_reason = reason
        return ["termination_reason"]

    with transaction.atomic():
        return transition(dispute, "terminate", actor, note=detail, apply=apply,
                          params={"reason": reason, "detail": detail})


def refer(*, dispute: Dispute, actor, routes: list[str], informed_how: str, note: str = "") -> Dispute:
    """告知途径并移交 (§26): the routes (arbitration, administrative, court, …) the parties were told of, and how."""
    if not routes:
        raise InvalidInput("请选择告知当事人的救济途径", "Choose the routes the parties were told of", code="routes_required")
    routes = list(dict.fromkeys(clean_choice(r, s.ROUTES, field="route", label="救济途径") for r in routes))
    informed_how = clean_text(informed_how, field="informed_how", label="告知方式", max_length=200)
    note = clean_text(note, field="note", label="备注", max_length=4000, required=False)

    def apply(d):
        d.referred_routes = routes
        return ["referred_routes"]

    with transaction.atomic():
        done = transition(dispute, "refer", actor, note=note, apply=apply,
                          params={"routes": routes, "informed_how": informed_how})
        pk = done.pk
        notify_later(lambda: party_users(pk), "dispute_referred",
                      f"纠纷 {done.code} 已告知救济途径并移交", done)
    return done



def escalate(*, dispute: Dispute, actor, reason: str) -> Dispute:
    """升级 (§25): violence or a crime is feared. From any open state; the risk level becomes high; the police
    liaison of the centre and the leaders are alerted as the step commits."""
    reason = clean_text(reason, field="reason", label="原因", max_length=4000)

    def apply(d):
        raised = d.risk_level != Dispute.Risk.HIGH
        d.risk_level = Dispute.Risk.HIGH
        return ["risk_level"] if raised else []

    with transaction.atomic():
        before = Dispute.objects.filter(pk=dispute.pk).values_list("risk_level", flat=True).first()
        done = transition(dispute, "escalate", actor, note=reason, apply=apply,
                          params={"reason": reason, "risk_from": before, "risk_level": "high"})
        notify_later(lambda: escalation_recipients(done), "dispute_escalated",
                      f"【纠纷升级】{done.code} {done.title}：可能激化，请立即处置", done,
                      body=f"{reason}\n{dispute_body(done)}")
    return done


def note_reason(*, dispute: Dispute, actor, reason: str, action: str) -> Dispute:
    """A step whose input is a reason (法院不予确认, 申请强制执行, 未履行, 移交公安, 恢复调解)."""
    reason = clean_text(reason, field="reason", label="原因", max_length=4000)
    with transaction.atomic():
        return transition(dispute, action, actor, note=reason, params={"reason": reason})


# --- the risk level ---------------------------------------------------------------------------------------
def raise_risk(dispute: Dispute, actor, level: str, reason: str) -> Dispute:
    """The risk level rises (never falls) from any open state, with the reason on the timeline."""
    level = clean_choice(level, Dispute.Risk.values, field="risk_level", label="风险等级")
    reason = clean_text(reason, field="reason", label="原因", max_length=4000)
    terminal = {code for code, st in Dispute.workflow.states.items() if st.terminal}
    with transaction.atomic():
        locked = Dispute.objects.select_for_update().get(pk=dispute.pk)
        if not actor_roles(actor, locked) & RISK_ROLES:
            raise Forbidden("您的角色不能调整此纠纷的风险等级", "Your role may not raise this dispute's risk level",
                            code="role_not_allowed")
        if locked.state in terminal:
            raise Conflict("纠纷已办结，不能再调整风险等级", "The dispute is finished; its risk level cannot change",
                           code="dispute_finished")
        if RISK_ORDER[level] <= RISK_ORDER[locked.risk_level]:
            raise Conflict(f"风险等级只能上调（当前为「{locked.get_risk_level_display()}」）",
                           f"The risk level can only rise (it is '{locked.risk_level}')", code="risk_not_raised")
        before = locked.risk_level
        locked.risk_level = level
        locked.version += 1
        locked.save(update_fields=["risk_level", "version"])
        timeline_append(subject=locked, action="raise_risk", actor=actor, from_state=locked.state,
                        to_state=locked.state, note=reason, params={"from": before, "to": level, "reason": reason})
    return locked

