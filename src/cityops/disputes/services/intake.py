"""Receiving a dispute (RULES.md §2): from every channel (walk-in, hotline, portal, screening, referral), the
hotline's link from a city case, and the referring body behind a service account. Checked (coded bilingual errors),
a repeat found (the same Idempotency-Key, the same referral, a case already turned into an open dispute), then
created with its parties and the first entry of its timeline — all or nothing."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models.functions import Length
from django.utils import timezone

from cityops.accounts.models import OrgUnit
from cityops.core import roles
from cityops.core.errors import Conflict, Forbidden, InvalidInput, NotFound, Unprocessable
from cityops.core.text import clean_text
from cityops.core.timeline import timeline_append
from cityops.core.workflow import create_with_timeline
from cityops.disputes import privacy
from cityops.disputes.models import Dispute, Party, Referrer
from cityops.disputes.services.notifications import notify_later, users_in

MAX_PARTIES = 30
MAX_AMOUNT = Decimal("999999999999.99")  # the column: 14 digits, 2 of them decimals
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


# --- small checks -------------------------------------------------------------------------------------------
def clean_choice(value, choices, *, field: str, label: str) -> str:
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
        side = clean_choice(raw.get("side"), Party.Side.values, field="side", label="当事人身份")
        kind = clean_choice(raw.get("kind") or "person", Party.Kind.values, field="party_kind", label="当事人类型")
        name = clean_text(raw.get("name"), field="party_name", label="当事人姓名或名称", max_length=100)
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
    idempotency_key = clean_text(idempotency_key, field="idempotency_key", label="幂等键", max_length=80, required=False)
    external_ref = clean_text(external_ref, field="external_ref", label="移交机构案号", max_length=64, required=False)
    if referrer is not None and not external_ref:
        raise InvalidInput("移交须附移交机构的案号", "A referral needs the referring body's case number",
                           code="external_ref_required")
    found = _existing(actor=actor, idempotency_key=idempotency_key, referrer=referrer, external_ref=external_ref)
    if found is not None:
        found.created = False
        return found

    actor_roles_ = _roles(actor)
    source = clean_choice(source, Dispute.Source.values, field="source", label="来源")
    if actor is not None and not _from_case and not actor_roles_ & SOURCE_ROLES[source]:
        raise Forbidden("您的角色不能登记这一来源的纠纷", f"Your role may not register disputes from source '{source}'",
                        code="role_not_allowed")
    if referrer is not None and REFERRAL_SOURCES[referrer.kind] != source:
        raise InvalidInput("来源与移交机构类型不符", "The source does not match the referring body", code="invalid_source")
    title = clean_text(title, field="title", label="纠纷事由", max_length=200)
    description = clean_text(description, field="description", label="纠纷情况", max_length=4000)
    address = clean_text(address, field="address", label="地址", max_length=300, required=False)
    kind = clean_choice(kind, Dispute.Kind.values, field="kind", label="纠纷类型")
    risk_level = clean_choice(risk_level or "low", Dispute.Risk.values, field="risk_level", label="风险等级")
    entrustment = clean_choice(entrustment or "", Dispute.Entrustment.values, field="entrustment", label="法院委托")
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
        notify_later(lambda: users_in(centre_id, roles.CENTRE_STAFF), "dispute_registered",
                      f"新纠纷待受理：{dispute.code} {dispute.title}", dispute)
    return dispute



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
