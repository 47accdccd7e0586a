"""Every write of a dispute (RULES.md §2): intake from every channel, the hooks the workflow names, the risk level,
and the hotline's link from a city case. Each write is one transaction through core.workflow (roles, guards, clock,
timeline); a refusal is a coded bilingual error and leaves nothing written."""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models.functions import Length
from django.utils import timezone

from cityops.accounts.models import OrgUnit
from cityops.core import roles
from cityops.core.errors import Conflict, Forbidden, InvalidInput, NotFound, Unprocessable
from cityops.core.notify import notify
from cityops.core.timeline import timeline_append
from cityops.core.workflow import actor_roles, create_with_timeline, transition
from cityops.disputes import privacy
from cityops.disputes import schemas as s
from cityops.disputes import workflow as dwf
from cityops.disputes.models import Agreement, Dispute, Party, Referrer, Signature

MAX_PARTIES = 30
MAX_AMOUNT = Decimal("999999999999.99")  # the column: 14 digits, 2 of them decimals
RISK_ORDER = {"low": 0, "medium": 1, "high": 2}
REFERRAL_SOURCES = {"court": "court", "police": "police", "petition": "petition"}  # Referrer.kind → source

# Who registers through which channel (the system, actor None, through any).
SOURCE_ROLES = {
    "walk_in": {roles.CENTRE_STAFF, roles.ADMIN},
    "hotline": {roles.OPERATOR, roles.SHIFT_LEAD, roles.CENTRE_STAFF, roles.ADMIN},
    "portal": {roles.RESIDENT, roles.ADMIN},
    "screening": {roles.GRID_WORKER, roles.REGION_STAFF, roles.CENTRE_STAFF, roles.ADMIN},
    "court": {roles.REFERRER, roles.CENTRE_STAFF, roles.ADMIN},
    "police": {roles.REFERRER, roles.CENTRE_STAFF, roles.ADMIN},
    "petition": {roles.REFERRER, roles.CENTRE_STAFF, roles.ADMIN},
}
# Who turns a city case (a hotline call's work order, any case) into a dispute.
CASE_LINK_ROLES = frozenset({roles.OPERATOR, roles.SHIFT_LEAD, roles.CENTRE_STAFF, roles.ADMIN})
# Who raises a dispute's risk level (global or per-object roles).
RISK_ROLES = frozenset({dwf.CENTRE_STAFF, dwf.COMMITTEE_MEDIATOR, dwf.ASSIGNED_MEDIATOR, roles.POLICE_LIAISON,
                        roles.GRID_WORKER, roles.ADMIN})


# --- small checks -------------------------------------------------------------------------------------------
def _text(value, *, field: str, label: str, max_length: int, required: bool = True) -> str:
    """A text as typed, trimmed; NUL bytes (which no database column stores) and overlong texts are refused."""
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise InvalidInput(f"「{label}」须为文本", f"'{field}' must be text", code=f"invalid_{field}")
    value = value.strip()
    if "\x00" in value:
        raise InvalidInput(f"「{label}」含有不允许的控制字符（NUL）", f"'{field}' contains a NUL character",
                           code="invalid_text", details={"field": field})
    if required and not value:
        raise InvalidInput(f"请填写「{label}」", f"'{field}' is required", code=f"{field}_required")
    if len(value) > max_length:
        raise InvalidInput(f"「{label}」过长（最多 {max_length} 字）", f"'{field}' is too long (max {max_length})",
                           code=f"{field}_too_long")
    return value


def _choice(value, choices, *, field: str, label: str) -> str:
    value = value or ""
    if value not in choices:
        raise InvalidInput(f"「{label}」的取值 {str(value)[:40]!r} 无效，可选：{'、'.join(c for c in choices if c)}",
                           f"Invalid {field} {str(value)[:40]!r}; use one of {', '.join(c for c in choices if c)}",
                           code=f"invalid_{field}")
    return value


def _amount(value) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        amount = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        amount = None
    if amount is None or not amount.is_finite():
        raise InvalidInput("争议金额须为数字", "The amount in dispute must be a number", code="invalid_amount")
    if amount < 0 or amount > MAX_AMOUNT:
        raise InvalidInput("争议金额须在 0 至 999999999999.99 元之间",
                           "The amount in dispute must be between 0 and 999999999999.99 yuan", code="invalid_amount")
    return amount.quantize(Decimal("0.01"))


def _roles(actor) -> frozenset[str]:
    return actor.role_codes if actor is not None else frozenset({"system"})


def _users_in(unit_id: int, role: str):
    return get_user_model().objects.filter(org_units=unit_id, groups__name=role, is_active=True).distinct()


def _role_users(role: str):
    return get_user_model().objects.filter(groups__name=role, is_active=True).distinct()


def _notify_later(recipients_fn, kind: str, title: str, dispute: Dispute, body: str = "") -> None:
    pk = dispute.pk

    def send():
        notify(recipients=list(recipients_fn()), kind=kind, title=title, body=body or dispute_body(dispute),
               subject=dispute, url=f"/disputes/{pk}/")

    transaction.on_commit(send)


def dispute_body(dispute: Dispute) -> str:
    """What a notification about a dispute says besides its title: type, risk, where, the description's start."""
    text = " ".join((dispute.description or "").split())
    lines = [f"{dispute.get_kind_display()} · 风险{dispute.get_risk_level_display()} · {dispute.address}".strip(" ·"),
             text[:120] + ("…" if len(text) > 120 else "")]
    return "\n".join(line for line in lines if line)


# --- parties ------------------------------------------------------------------------------------------------
def _clean_parties(parties, *, actor) -> list[tuple[Party, str, str]]:
    """Each party dict checked and turned into an unsaved Party with its protected forms; at least one applicant
    and one respondent."""
    if not isinstance(parties, list | tuple) or not parties:
        raise InvalidInput("请填写当事人（申请方与被申请方）", "The parties (applicant and respondent) are required",
                           code="parties_required")
    if len(parties) > MAX_PARTIES:
        raise InvalidInput(f"当事人最多 {MAX_PARTIES} 个", f"At most {MAX_PARTIES} parties", code="too_many_parties")
    staff = bool(_roles(actor) - {roles.RESIDENT})
    out = []
    for i, raw in enumerate(parties):
        if not isinstance(raw, dict):
            raise InvalidInput("当事人格式不正确", "A party must be an object", code="invalid_party", details={"index": i})
        side = _choice(raw.get("side"), Party.Side.values, field="side", label="当事人身份")
        kind = _choice(raw.get("kind") or "person", Party.Kind.values, field="party_kind", label="当事人类型")
        name = _text(raw.get("name"), field="party_name", label="当事人姓名或名称", max_length=100)
        id_number = uscc = ""
        if kind == "person":
            if raw.get("id_number"):
                id_number = privacy.clean_id_number(str(raw["id_number"]))
        elif raw.get("uscc"):
            uscc = privacy.clean_uscc(str(raw["uscc"]))
        phone = privacy.clean_phone(str(raw.get("phone") or ""))
        party = Party(side=side, kind=kind, name=name, uscc=uscc)
        user_id = raw.get("user_id")
        if user_id not in (None, ""):
            if not staff:  # a resident links only themselves (below), never another account
                raise Forbidden("只能由工作人员关联当事人的居民账号", "Only staff link a party to a resident account",
                                code="party_user_not_allowed")
            if not isinstance(user_id, int) or isinstance(user_id, bool) or not get_user_model().objects.filter(
                    pk=user_id, is_active=True).exists():
                raise InvalidInput("当事人的居民账号不存在", "The party's resident account does not exist",
                                   code="unknown_party_user")
            party.user_id = user_id
        privacy.protect_party(party, id_number=id_number, phone=phone)
        out.append(party)
    sides = {p.side for p in out}
    if sides != {"applicant", "respondent"}:
        raise InvalidInput("当事人须至少有一个申请方和一个被申请方", "There must be at least one applicant and one respondent",
                           code="parties_incomplete")
    return out


# --- intake ------------------------------------------------------------------------------------------------
def _locate(*, lon, lat, crs: str, address: str, case):
    from cityops.geo.selectors import locate_address, locate_point

    if lon not in (None, "") and lat not in (None, ""):
        return locate_point(lon=lon, lat=lat, crs=crs or "wgs84")
    if address:
        location = locate_address(text=address)
        if location is None:
            raise Unprocessable("无法根据地址确定所在区域，请在地图上标注位置",
                                "The address names no known region; please give the point on the map",
                                code="address_not_found")
        return location
    if case is not None and case.lon is not None and case.lat is not None:
        return locate_point(lon=case.lon, lat=case.lat)
    raise InvalidInput("请提供纠纷发生地的坐标或地址", "Give either lon/lat or an address of the dispute",
                       code="location_required")


def _centre_for(*, centre, referrer, actor, region_code: str) -> OrgUnit | None:
    """The centre that handles the dispute: the one given, the referring body's, the registering staff's own, else
    the centre whose region holds the place most closely (a city-wide centre last)."""
    if centre is not None:
        unit = centre if isinstance(centre, OrgUnit) else OrgUnit.objects.filter(pk=centre).first()
        if unit is None or unit.kind != OrgUnit.Kind.CENTRE or not unit.active:
            raise InvalidInput("所选调处中心不存在", "No such dispute resolution centre", code="unknown_centre")
        return unit
    if referrer is not None:
        return referrer.centre
    if actor is not None and roles.CENTRE_STAFF in actor.role_codes:
        own = OrgUnit.objects.filter(pk__in=actor.org_unit_ids, kind=OrgUnit.Kind.CENTRE, active=True).first()
        if own is not None:
            return own
    candidates = [u for u in OrgUnit.objects.filter(kind=OrgUnit.Kind.CENTRE, active=True)
                  if region_code.startswith(u.region_code or "")]
    return max(candidates, key=lambda u: (len(u.region_code or ""), -u.pk), default=None)


def _next_code(now) -> str:
    """TJ + the local date + a serial of that day (TJ202611300001)."""
    prefix = "TJ" + timezone.localtime(now).strftime("%Y%m%d")
    last = (Dispute.objects.filter(code__startswith=prefix).order_by(Length("code").desc(), "-code")
            .values_list("code", flat=True).first())
    serial = int(last[len(prefix):]) + 1 if last else 1
    return f"{prefix}{serial:04d}"


def _existing(*, actor, idempotency_key: str, referrer, external_ref: str) -> Dispute | None:
    if referrer is not None and external_ref:
        found = Dispute.objects.filter(referrer=referrer, external_ref=external_ref).first()
        if found is not None:
            return found
    if idempotency_key and actor is not None:
        return Dispute.objects.filter(created_by=actor, idempotency_key=idempotency_key).first()
    return None


def register_dispute(*, actor, source, title, description, kind, parties: list[dict], amount=None, lon=None,
                     lat=None, crs="wgs84", address="", centre=None, campaign=None, case=None, referrer=None,
                     external_ref="", applicant=None, risk_level="low", entrustment="", idempotency_key="",
                     _from_case=False) -> Dispute:
    """A new dispute from any channel: checked (coded bilingual errors), located to grid and community, given to
    its centre, coded TJ+yyyymmdd+serial, created with its parties and the first entry of its timeline — all or
    nothing. The same Idempotency-Key from the same user, or the same referral (referring body + its own case
    number), returns the dispute created the first time (`dispute.created` is False then)."""
    idempotency_key = _text(idempotency_key, field="idempotency_key", label="幂等键", max_length=80, required=False)
    external_ref = _text(external_ref, field="external_ref", label="移交机构案号", max_length=64, required=False)
    if referrer is not None and not external_ref:
        raise InvalidInput("移交须附移交机构的案号", "A referral needs the referring body's case number",
                           code="external_ref_required")
    found = _existing(actor=actor, idempotency_key=idempotency_key, referrer=referrer, external_ref=external_ref)
    if found is not None:
        found.created = False
        return found

    actor_roles_ = _roles(actor)
    source = _choice(source, Dispute.Source.values, field="source", label="来源")
    if actor is not None and not _from_case and not actor_roles_ & SOURCE_ROLES[source]:
        raise Forbidden("您的角色不能登记这一来源的纠纷", f"Your role may not register disputes from source '{source}'",
                        code="role_not_allowed")
    if referrer is not None and REFERRAL_SOURCES[referrer.kind] != source:
        raise InvalidInput("来源与移交机构类型不符", "The source does not match the referring body", code="invalid_source")
    title = _text(title, field="title", label="纠纷事由", max_length=200)
    description = _text(description, field="description", label="纠纷情况", max_length=4000)
    address = _text(address, field="address", label="地址", max_length=300, required=False)
    kind = _choice(kind, Dispute.Kind.values, field="kind", label="纠纷类型")
    risk_level = _choice(risk_level or "low", Dispute.Risk.values, field="risk_level", label="风险等级")
    entrustment = _choice(entrustment or "", Dispute.Entrustment.values, field="entrustment", label="法院委托")
    amount = _amount(amount)
    cleaned = _clean_parties(parties, actor=actor)
    if source == "portal" and actor is not None and roles.RESIDENT in actor_roles_:
        applicant = actor  # a resident applies for themselves
        for party in cleaned:
            if party.side == "applicant" and party.user_id is None:
                party.user_id = actor.pk
                break
    location = _locate(lon=lon, lat=lat, crs=crs, address=address, case=case)
    if location.district is None:
        raise Unprocessable("该位置不在本市任何区内", "The point lies in no district of the city", code="outside_city")
    region = location.deepest.code
    centre_unit = _centre_for(centre=centre, referrer=referrer, actor=actor, region_code=region)

    def code_of(level):
        ref = getattr(location, level)
        return ref.code if ref is not None else ""

    now = timezone.now()
    dispute = Dispute(
        title=title, description=description, kind=kind, amount=amount, source=source, entrustment=entrustment,
        risk_level=risk_level, centre=centre_unit, lon=location.lon, lat=location.lat, address=address,
        region_code=region, district_code=code_of("district"), street_code=code_of("street"),
        community_code=code_of("community"), grid_code=code_of("grid"), applicant=applicant, case=case,
        campaign=campaign, referrer=referrer, external_ref=external_ref,
        idempotency_key=idempotency_key if actor is not None else "", created_by=actor, created_at=now,
    )
    params = {"source": source, "kind": kind, "region": region, "risk_level": risk_level,
              "centre": centre_unit.code if centre_unit else "", "parties": len(cleaned),
              **({"case": case.code} if case is not None else {}),
              **({"referrer": referrer.code, "external_ref": external_ref} if referrer is not None else {}),
              **({"campaign": campaign.code} if campaign is not None else {}),
              **({"entrustment": entrustment} if entrustment else {})}
    for attempt in range(5):
        try:
            with transaction.atomic():
                dispute.code = _next_code(now)
                create_with_timeline(dispute, actor=actor, action="register", params=params, savepoint=False)
                for party in cleaned:
                    party.dispute = dispute
                Party.objects.bulk_create(cleaned)
            break
        except IntegrityError:
            dispute.pk = None
            found = _existing(actor=actor, idempotency_key=idempotency_key, referrer=referrer,
                              external_ref=external_ref)
            if found is not None:  # the same request twice at once: the other one won
                found.created = False
                return found
            if attempt == 4:
                raise
    dispute.created = True
    if source != "walk_in" and centre_unit is not None:
        centre_id = centre_unit.pk
        _notify_later(lambda: _users_in(centre_id, roles.CENTRE_STAFF), "dispute_registered",
                      f"新纠纷待受理：{dispute.code} {dispute.title}", dispute)
    return dispute


# --- the workflow's hooks ----------------------------------------------------------------------------------
def accept(*, dispute: Dispute, actor, channel: str, committee_id: int, note: str = "") -> Dispute:
    """受理并分流: the centre routes the dispute to a channel and a committee; the level (市/区/街道/社区) is the
    committee's, and a court-entrusted dispute keeps its entrustment (its mediation limit, 15 or 7 days)."""
    channel = _choice(channel, s.CHANNELS, field="channel", label="化解渠道")
    note = _text(note, field="note", label="备注", max_length=4000, required=False)
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
        _notify_later(lambda: _users_in(committee_id_, roles.MEDIATOR), "dispute_routed",
                      f"纠纷分流至本调解组织：{done.code} {done.title}", done)
    return done


def _party_of(dispute: Dispute, party_id: int) -> Party:
    party = Party.objects.filter(pk=party_id, dispute_id=dispute.pk).first()
    if party is None:
        raise InvalidInput("该当事人不属于此纠纷", "The party does not belong to this dispute", code="unknown_party")
    return party


def refuse(*, dispute: Dispute, actor, party_id: int, reason: str) -> Dispute:
    """当事人拒绝调解 (人民调解法 §17): which party refused, and what they said; no mediation follows."""
    reason = _text(reason, field="reason", label="原因", max_length=4000)
    party = _party_of(dispute, party_id)
    with transaction.atomic():
        return transition(dispute, "refuse", actor, note=reason,
                          params={"party": party.pk, "side": party.side, "reason": reason})


def assign(*, dispute: Dispute, actor, mediator_id: int, note: str = "") -> Dispute:
    """指派调解员: a mediator (the role) who is a member of the committee the dispute is routed to."""
    note = _text(note, field="note", label="备注", max_length=4000, required=False)
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
        _notify_later(lambda: [mediator], "dispute_assigned", f"您被指派调解纠纷：{done.code} {done.title}", done)
    return done


def extend(*, dispute: Dispute, actor, extra_days: int, consents: list[dict], reason: str) -> Dispute:
    """延长调解期限: only with every party's recorded consent (each party of the dispute, with how it was given);
    the extra days are added to the mediation clock (calendar days)."""
    reason = _text(reason, field="reason", label="原因", max_length=4000)
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
                                "note": _text(c.get("note", ""), field="note", label="备注", max_length=200,
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
    facts = _text(facts, field="facts", label="纠纷主要事实", max_length=4000)
    terms = _text(terms, field="terms", label="协议内容", max_length=4000)
    performance_method = _text(performance_method, field="performance_method", label="履行方式", max_length=200)
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
    court = _text(court, field="court", label="申请确认的法院", max_length=200)
    note = _text(note, field="note", label="备注", max_length=4000, required=False)

    def apply(d):
        Agreement.objects.filter(dispute=d).update(court=court)
        return []

    with transaction.atomic():
        return transition(dispute, "request_confirmation", actor, note=note, apply=apply, params={"court": court})


def follow_up(*, dispute: Dispute, actor, result: str, satisfied: bool = True) -> Dispute:
    """回访并结案: how the parties are after performance."""
    result = _text(result, field="result", label="回访情况", max_length=4000)

    def apply(d):
        d.satisfied = bool(satisfied)
        return ["satisfied"]

    with transaction.atomic():
        return transition(dispute, "follow_up", actor, note=result, apply=apply,
                          params={"result": result, "satisfied": bool(satisfied)})


def terminate(*, dispute: Dispute, actor, reason: str, detail: str = "") -> Dispute:
    """终止调解 with a reason from the list (and what happened, required for 其他原因)."""
    reason = _choice(reason, s.TERMINATION_REASONS, field="termination_reason", label="终止原因")
    detail = _text(detail, field="detail", label="具体情况", max_length=4000, required=reason == "other")

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
    routes = list(dict.fromkeys(_choice(r, s.ROUTES, field="route", label="救济途径") for r in routes))
    informed_how = _text(informed_how, field="informed_how", label="告知方式", max_length=200)
    note = _text(note, field="note", label="备注", max_length=4000, required=False)

    def apply(d):
        d.referred_routes = routes
        return ["referred_routes"]

    with transaction.atomic():
        done = transition(dispute, "refer", actor, note=note, apply=apply,
                          params={"routes": routes, "informed_how": informed_how})
        pk = done.pk
        _notify_later(lambda: _party_users(pk), "dispute_referred",
                      f"纠纷 {done.code} 已告知救济途径并移交", done)
    return done


def _party_users(dispute_pk: int):
    model = get_user_model()
    return model.objects.filter(is_active=True).filter(
        pk__in=list(Party.objects.filter(dispute_id=dispute_pk, user__isnull=False).values_list("user_id", flat=True))
        + list(Dispute.objects.filter(pk=dispute_pk, applicant__isnull=False).values_list("applicant_id", flat=True)))


def escalation_recipients(dispute: Dispute):
    """Who is alerted at once when a dispute is escalated (§25): every police liaison of its centre, and every
    leader."""
    liaisons = list(_users_in(dispute.centre_id, roles.POLICE_LIAISON)) if dispute.centre_id else []
    return liaisons + list(_role_users(roles.LEADER))


def escalate(*, dispute: Dispute, actor, reason: str) -> Dispute:
    """升级 (§25): violence or a crime is feared. From any open state; the risk level becomes high; the police
    liaison of the centre and the leaders are alerted as the step commits."""
    reason = _text(reason, field="reason", label="原因", max_length=4000)

    def apply(d):
        raised = d.risk_level != Dispute.Risk.HIGH
        d.risk_level = Dispute.Risk.HIGH
        return ["risk_level"] if raised else []

    with transaction.atomic():
        before = Dispute.objects.filter(pk=dispute.pk).values_list("risk_level", flat=True).first()
        done = transition(dispute, "escalate", actor, note=reason, apply=apply,
                          params={"reason": reason, "risk_from": before, "risk_level": "high"})
        _notify_later(lambda: escalation_recipients(done), "dispute_escalated",
                      f"【纠纷升级】{done.code} {done.title}：可能激化，请立即处置", done,
                      body=f"{reason}\n{dispute_body(done)}")
    return done


def note_reason(*, dispute: Dispute, actor, reason: str, action: str) -> Dispute:
    """A step whose input is a reason (法院不予确认, 申请强制执行, 未履行, 移交公安, 恢复调解)."""
    reason = _text(reason, field="reason", label="原因", max_length=4000)
    with transaction.atomic():
        return transition(dispute, action, actor, note=reason, params={"reason": reason})


# --- the risk level ---------------------------------------------------------------------------------------
def raise_risk(dispute: Dispute, actor, level: str, reason: str) -> Dispute:
    """The risk level rises (never falls) from any open state, with the reason on the timeline."""
    level = _choice(level, Dispute.Risk.values, field="risk_level", label="风险等级")
    reason = _text(reason, field="reason", label="原因", max_length=4000)
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


# --- the hotline's link: a city case becomes a dispute ---------------------------------------------------------
CASE_SOURCES = {"field": "screening"}  # a case's source → the dispute's; every other case came through 12345


def dispute_from_case(*, actor, case, kind: str, parties: list[dict], title: str = "", description: str = "",
                      amount=None, risk_level: str = "low", idempotency_key: str = "") -> Dispute:
    """An operator turns a hotline call's work order (or any city case) into a dispute: registered at the centre of
    the case's place, linked to the case (Dispute.case), and the step is on the case's timeline too. A case with an
    open dispute already is refused (`case_has_dispute`). The caller finds `case` in the actor's scope."""
    if actor is not None and not actor.role_codes & CASE_LINK_ROLES:
        raise Forbidden("您的角色不能将案件转为矛盾纠纷", "Your role may not turn a case into a dispute",
                        code="role_not_allowed")
    from cityops.cases.models import Case

    terminal = [code for code, st in Dispute.workflow.states.items() if st.terminal]
    with transaction.atomic():
        locked = Case.objects.select_for_update().get(pk=case.pk)
        key = (idempotency_key or "").strip()[:80]
        if key and actor is not None:
            again = Dispute.objects.filter(created_by=actor, idempotency_key=key, case=locked).first()
            if again is not None:
                again.created = False
                return again
        open_one = Dispute.objects.filter(case=locked).exclude(state__in=terminal).first()
        if open_one is not None:
            raise Conflict(f"该案件已转为纠纷 {open_one.code}", f"This case is already dispute {open_one.code}",
                           code="case_has_dispute", details={"dispute": open_one.code, "id": open_one.pk})
        category = locked.category.name_zh if locked.category_id else ""
        dispute = register_dispute(
            actor=actor, source=CASE_SOURCES.get(locked.source, "hotline"), title=title or category or locked.code,
            description=description or locked.description, kind=kind, parties=parties, amount=amount,
            lon=locked.lon, lat=locked.lat, address=locked.address, case=locked, risk_level=risk_level,
            idempotency_key=key, _from_case=True)
        timeline_append(subject=locked, action="to_dispute", actor=actor, from_state=locked.state,
                        to_state=locked.state, note=dispute.title,
                        params={"dispute": dispute.code, "dispute_id": dispute.pk})
    return dispute


def referrer_of(user) -> Referrer:
    """The referring body whose service account `user` is (404 when it is none, 403 when switched off)."""
    referrer = Referrer.objects.select_related("centre").filter(user_id=getattr(user, "pk", None)).first()
    if referrer is None:
        raise NotFound("此账号不是移交机构的系统账号", "This account is not a referring body's service account",
                       code="not_a_referrer", status=403)
    if not referrer.active:
        raise Forbidden("该移交机构已停用", "This referring body is switched off", code="referrer_inactive")
    return referrer
