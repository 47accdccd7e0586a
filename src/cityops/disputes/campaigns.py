"""Screening campaigns (排查化解行动) and door-knocking visits (天天敲门), RULES.md §2 last paragraph: a campaign has a
period, regions and dispute types; grid and community workers log the households and places they visit; what
they find enters intake with the campaign's tag — a dispute through `services.register_dispute` (source
"screening", the campaign linked), a city case through the cases intake (`case_create`, the campaign named at the
head of its description; the visit links the case). Coverage = distinct households visited / households (户数,
geo.Region.households) in the campaign's regions.

Services write (`campaign_create`, `visit_log`), selectors read in the user's scope (`campaign_list`,
`visit_list`); pages (campaign_views.py) and the API (campaign_api.py) call only these."""

from __future__ import annotations

import re
import unicodedata
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models import Count, Max, Min, Q, QuerySet
from django.db.models.functions import TruncDate
from django.utils import timezone

from cityops.core import roles
from cityops.core.errors import Conflict, Forbidden, InvalidInput, NotFound, Unprocessable
from cityops.core.scope import is_city_wide
from cityops.core.text import clean_text
from cityops.core.timeline import timeline_append
from cityops.disputes.models import Campaign, Dispute, Visit

# Who organises a campaign: the centre's staff, street and community staff, a district's command centre.
ORGANISERS = frozenset({roles.CENTRE_STAFF, roles.REGION_STAFF, roles.DISTRICT_DISPATCHER, roles.ADMIN})
# Who knocks on doors: grid workers and community staff (社区工作人员).
VISITORS = frozenset({roles.GRID_WORKER, roles.REGION_STAFF, roles.ADMIN})
# Org-bound roles of the disputes work whose scope is the region of their centre or committee.
_UNIT_REGION_ROLES = frozenset({roles.CENTRE_STAFF, roles.MEDIATOR, roles.POLICE_LIAISON})

# A dispute counts as resolved (化解) once the parties reached an agreement, whatever followed it.
RESOLVED_STATES = ("agreed", "confirmation_requested", "confirmed", "not_confirmed", "performed", "closed",
                   "enforcement")

MAX_CAMPAIGN_DAYS = 366
MAX_REGIONS = 200
# A phone's clock may run a little ahead; a visit further in the future is a typo.
FUTURE_SLACK = timedelta(minutes=10)
# How long after a campaign's end a visit typed during it may still arrive (a phone offline for days).
LATE_ARRIVAL = timedelta(days=7)


def normalise_place(text: str) -> str:
    """The same household typed twice counts once: full-width forms folded (NFKC), runs of spaces collapsed."""
    return re.sub(r"\s+", " ", unicodedata.normalize("NFKC", text)).strip()


# --- scope --------------------------------------------------------------------------------------------------
def user_regions(user) -> list[str] | None:
    """The region codes `user` works in; None for the whole city. Grid workers and street/community staff have
    their own region codes; the centre's staff, mediators and the police liaison the regions of their centre or
    committee (a unit without a region code works for the whole city)."""
    if is_city_wide(user):
        return None
    if not user.is_authenticated:
        return []
    codes: set[str] = set()
    if user.role_codes & roles.REGION_BOUND_ROLES:
        codes.update(code for code in (user.region_codes or []) if isinstance(code, str) and code)
    if user.role_codes & _UNIT_REGION_ROLES and user.org_unit_ids:
        from cityops.accounts.models import OrgUnit

        unit_codes = list(OrgUnit.objects.filter(pk__in=user.org_unit_ids).values_list("region_code", flat=True))
        if any(not code for code in unit_codes):
            return None
        codes.update(unit_codes)
    return sorted(codes)


def _overlaps(a: str, b: str) -> bool:
    """Region codes nest by prefix: two regions overlap when one contains the other."""
    return a.startswith(b) or b.startswith(a)


def _inside(code: str, regions: list[str] | None) -> bool:
    return regions is None or any(code.startswith(region) for region in regions)


def campaign_list(*, user) -> QuerySet[Campaign]:
    """The campaigns `user` may read: every one for the city's roles; otherwise those whose regions overlap the
    user's regions (a grid worker sees the district's campaign that covers their grid), and their own."""
    qs = Campaign.objects.all()
    regions = user_regions(user)
    if regions is None:
        return qs
    if not user.is_authenticated:
        return qs.none()
    ids = [pk for pk, codes in qs.values_list("pk", "region_codes")
           if any(_overlaps(code, region) for code in codes or [] for region in regions)]
    return qs.filter(Q(pk__in=ids) | Q(created_by=user))


def campaign_get(*, user, pk) -> Campaign:
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        pk = 0
    campaign = campaign_list(user=user).filter(pk=pk).first() if 0 < pk < 2**63 else None
    if campaign is None:
        raise NotFound("排查行动不存在或无权查看", "No such campaign, or not yours to see", code="campaign_not_found")
    return campaign


def visit_list(*, user, campaign: Campaign | None = None) -> QuerySet[Visit]:
    """The visits `user` may read: every one for the city's roles; otherwise those in the user's regions, and
    their own."""
    qs = Visit.objects.all()
    if campaign is not None:
        qs = qs.filter(campaign=campaign)
    regions = user_regions(user)
    if regions is None:
        return qs
    if not user.is_authenticated:
        return qs.none()
    q = Q(visitor=user)
    for region in regions:
        q |= Q(region_code__startswith=region)
    return qs.filter(q)


# --- campaigns ----------------------------------------------------------------------------------------------
def _region_codes(value, *, actor) -> list[str]:
    """Known region codes inside the actor's regions, without repeats and without a region inside another one of
    the list (coverage would count its households twice)."""
    from cityops.geo.models import Region

    if not isinstance(value, list | tuple) or not value:
        raise InvalidInput("请选择排查区域", "Choose at least one region", code="regions_required")
    if len(value) > MAX_REGIONS:
        raise InvalidInput(f"排查区域过多（最多 {MAX_REGIONS} 个）", f"Too many regions (max {MAX_REGIONS})",
                           code="too_many_regions")
    codes = []
    for raw in value:
        code = (clean_text(raw, field="region_codes", label="区域编码", max_length=20, required=False)
                if isinstance(raw, str) else None)
        if not code or not code.isdigit():
            raise InvalidInput(f"区域编码格式不正确：{str(raw)[:30]!r}", f"Not a region code: {str(raw)[:30]!r}",
                               code="invalid_region_code")
        codes.append(code)
    known = set(Region.objects.filter(code__in=codes).values_list("code", flat=True))
    unknown = [code for code in codes if code not in known]
    if unknown:
        raise InvalidInput(f"未知区域编码：{'、'.join(unknown[:5])}", f"Unknown region codes: {', '.join(unknown[:5])}",
                           code="unknown_region")
    mine = user_regions(actor)
    outside = [code for code in codes if not _inside(code, mine)]
    if outside:
        raise Forbidden(f"区域 {'、'.join(outside[:5])} 不在您负责的范围内",
                        f"Regions {', '.join(outside[:5])} are outside your regions", code="region_out_of_scope")
    unique = sorted(set(codes), key=len)
    kept: list[str] = []
    for code in unique:
        if not any(code.startswith(k) for k in kept):
            kept.append(code)
    return sorted(kept)


def _kinds(value) -> list[str]:
    if value in (None, ""):
        return []
    if not isinstance(value, list | tuple):
        raise InvalidInput("纠纷类型须为列表", "kinds must be a list", code="invalid_kinds")
    allowed = set(Dispute.Kind.values)
    bad = [str(k)[:30] for k in value if k not in allowed]
    if bad:
        raise InvalidInput(f"未知纠纷类型：{'、'.join(bad[:5])}", f"Unknown dispute types: {', '.join(bad[:5])}",
                           code="unknown_dispute_kind")
    return [k for k in Dispute.Kind.values if k in value]  # in the model's order, once each


def _next_code(year: int) -> str:
    prefix = f"PC{year}"
    last = (Campaign.objects.filter(code__startswith=prefix).order_by("-code").values_list("code", flat=True).first())
    serial = int(last[len(prefix):]) + 1 if last and last[len(prefix):].isdigit() else 1
    return f"{prefix}{serial:04d}"


def _campaign_fields(*, actor, name, starts_on, ends_on, region_codes, kinds, goal, goal_households,
                     description) -> dict:
    """A campaign's fields checked, for opening one and for editing it: the period's end not before its start and at
    most a year on, the regions known and inside the actor's own, the dispute types known."""
    name = clean_text(name, field="name", label="行动名称", max_length=200)
    goal = clean_text(goal, field="goal", label="目标", max_length=300, required=False)
    description = clean_text(description, field="description", label="说明", max_length=4000, required=False)
    if not isinstance(starts_on, date) or not isinstance(ends_on, date):
        raise InvalidInput("请填写开始和结束日期", "Give the start and end dates", code="dates_required")
    starts_on = starts_on.date() if isinstance(starts_on, datetime) else starts_on
    ends_on = ends_on.date() if isinstance(ends_on, datetime) else ends_on
    if ends_on < starts_on:
        raise InvalidInput("结束日期早于开始日期", "The campaign ends before it starts", code="ends_before_start")
    if (ends_on - starts_on).days >= MAX_CAMPAIGN_DAYS:
        raise InvalidInput(f"排查行动最长 {MAX_CAMPAIGN_DAYS} 天", f"A campaign lasts at most {MAX_CAMPAIGN_DAYS} days",
                           code="campaign_too_long")
    if goal_households is not None and (isinstance(goal_households, bool) or not isinstance(goal_households, int)
                                        or not 0 < goal_households <= 10_000_000):
        raise InvalidInput("目标走访户数须为 1 至 10000000 的整数", "goal_households must be an integer from 1 to 10,000,000",
                           code="invalid_goal_households")
    return {"name": name, "description": description, "starts_on": starts_on, "ends_on": ends_on,
            "region_codes": _region_codes(region_codes, actor=actor), "kinds": _kinds(kinds), "goal": goal,
            "goal_households": goal_households}


def campaign_create(*, actor, name: str, starts_on: date, ends_on: date, region_codes: list[str],
                    kinds: list[str] | None = None, goal: str = "", goal_households: int | None = None,
                    description: str = "") -> Campaign:
    """Open a screening campaign (排查化解行动): a period, regions inside the organiser's own, dispute types (none =
    every type) and a goal. Coded PC<year><serial>; on the campaign's timeline."""
    if actor is None or not actor.role_codes & ORGANISERS:
        raise Forbidden("您的角色不能组织排查行动", "Your role may not organise screening campaigns",
                        code="role_not_allowed")
    fields = _campaign_fields(actor=actor, name=name, starts_on=starts_on, ends_on=ends_on, region_codes=region_codes,
                              kinds=kinds, goal=goal, goal_households=goal_households, description=description)
    for attempt in range(3):
        try:
            with transaction.atomic():
                campaign = Campaign.objects.create(code=_next_code(fields["starts_on"].year), **fields,
                                                   created_by=actor, created_at=timezone.now())
                timeline_append(subject=campaign, action="campaign_create", actor=actor, new_subject=True,
                                params={"code": campaign.code, "regions": fields["region_codes"],
                                        "kinds": fields["kinds"], "starts_on": fields["starts_on"].isoformat(),
                                        "ends_on": fields["ends_on"].isoformat()})
            return campaign
        except IntegrityError:
            if attempt == 2:  # another organiser took the same serial three times in a row
                raise
    raise AssertionError("unreachable")


EDITABLE = ("name", "description", "starts_on", "ends_on", "region_codes", "kinds", "goal", "goal_households")


def may_edit(user, campaign: Campaign) -> bool:
    """Who may edit a campaign: an organiser (who may open one) whose regions hold every region of the campaign —
    a street's staff do not edit the district's campaign that covers their street."""
    if not getattr(user, "is_authenticated", False) or not user.role_codes & ORGANISERS:
        return False
    mine = user_regions(user)
    return all(_inside(code, mine) for code in campaign.region_codes)


def _keeps_its_findings(campaign: Campaign, fields: dict) -> None:
    """What was recorded under the campaign stays inside it: every visit's day inside the period, every visit's and
    every found dispute's place inside the regions (409 otherwise: coverage and yield count them)."""
    from cityops.geo.models import Region

    span = Visit.objects.filter(campaign=campaign).aggregate(first=Min("visited_at"), last=Max("visited_at"))
    if span["first"] is not None:
        first, last = (timezone.localtime(span[k]).date() for k in ("first", "last"))
        if first < fields["starts_on"] or last > fields["ends_on"]:
            raise Conflict(f"已登记的走访在 {first} 至 {last} 之间，排查期间须包含这些日期",
                           f"Visits were recorded from {first} to {last}; the period must include those days",
                           code="visits_outside_period",
                           details={"first_visit": first.isoformat(), "last_visit": last.isoformat()})
    places = (set(Visit.objects.filter(campaign=campaign).values_list("region_code", flat=True).distinct())
              | set(Dispute.objects.filter(campaign=campaign).values_list("region_code", flat=True).distinct()))
    # Only what the edit would leave out: a dispute tagged with the campaign but registered elsewhere (through the
    # API) was never inside it, and does not stop every edit of its regions.
    outside = sorted(code for code in places
                     if _inside(code, campaign.region_codes) and not _inside(code, fields["region_codes"]))
    if outside:
        dropped = sorted({old for old in campaign.region_codes for code in outside if code.startswith(old)})
        names = dict(Region.objects.filter(code__in=dropped).values_list("code", "name"))
        shown = "、".join(names.get(code, code) for code in dropped[:5])
        raise Conflict(f"{shown} 已有走访或发现的纠纷，不能移出排查区域",
                       f"Visits or disputes were recorded in {shown}; it cannot leave the campaign's regions",
                       code="findings_outside_regions", details={"regions": dropped})


def _shown(value):
    return value.isoformat() if isinstance(value, date) else value


def campaign_update(*, actor, campaign: Campaign, **changes) -> Campaign:
    """Edit a campaign (its name, description, period, regions, dispute types, goal): an organiser whose regions
    hold the campaign's (`may_edit`), the same checks as opening one (the new regions inside the actor's own), and
    nothing recorded under it left outside (`_keeps_its_findings`). Fields not given keep their values; each change,
    before and after, on the campaign's timeline (`campaign_update`); a change to nothing writes nothing. The code
    stays (PC<year of the first start>…)."""
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise TypeError(f"campaign_update() got unexpected fields {sorted(unknown)}")
    if actor is None or not actor.role_codes & ORGANISERS:
        raise Forbidden("您的角色不能组织排查行动", "Your role may not organise screening campaigns",
                        code="role_not_allowed")
    with transaction.atomic():
        locked = Campaign.objects.select_for_update().get(pk=campaign.pk)
        if not may_edit(actor, locked):
            raise Forbidden("该排查行动的区域超出您负责的范围，不能修改",
                            "The campaign's regions reach beyond yours; you may not edit it", code="campaign_not_yours")
        fields = _campaign_fields(actor=actor, **{name: changes.get(name, getattr(locked, name)) for name in EDITABLE})
        changed = {name: (getattr(locked, name), value) for name, value in fields.items()
                   if getattr(locked, name) != value}
        if not changed:
            return locked
        _keeps_its_findings(locked, fields)
        for name, (_before, after) in changed.items():
            setattr(locked, name, after)
        locked.save(update_fields=list(changed))
        timeline_append(subject=locked, action="campaign_update", actor=actor,
                        params={"changes": {name: {"from": _shown(before), "to": _shown(after)}
                                            for name, (before, after) in changed.items()}})
    return locked


# --- visits -------------------------------------------------------------------------------------------------
@dataclass
class Logged:
    visit: Visit
    created: bool


def _client_id(value) -> uuid.UUID:
    if isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(str(value or "").strip())
    except ValueError as exc:
        raise InvalidInput("终端记录号须为 UUID", "client_id must be a UUID", code="invalid_client_id") from exc


def _existing(actor, client_id) -> Visit | None:
    return Visit.objects.filter(visitor=actor, client_id=client_id).first()


def photo_limit() -> int:
    return int(getattr(settings, "CITYOPS_MAX_PHOTO_BYTES", 5 * 1024 * 1024))


def _photo(data: bytes) -> tuple[bytes, str, str]:
    """The photo as the cases app takes one (cases.services.photos): size limit, JPEG/PNG/WebP by content,
    metadata (GPS among it) stripped. Returns (public bytes, extension, sha256)."""
    import hashlib

    from cityops.cases.services.photos import sniff_image, strip_metadata

    limit = photo_limit()
    if len(data) > limit:
        raise InvalidInput(f"图片超过 {limit // 1024 // 1024} MB", f"The photo exceeds {limit} bytes",
                           code="photo_too_large")
    sniffed = sniff_image(data)
    if sniffed is None:
        raise InvalidInput("只接受 JPEG、PNG 或 WebP 图片", "Only JPEG, PNG or WebP images are accepted",
                           code="invalid_image_type")
    _ctype, ext, fmt = sniffed
    return strip_metadata(data, fmt), ext, hashlib.sha256(data).hexdigest()


def _where(*, actor, region_code, lon, lat, crs):
    """(region code, lon, lat) of a visit: the point's deepest region when the phone had a position, else the
    region the worker chose (their grid), else their only region."""
    from cityops.geo.models import Region
    from cityops.geo.selectors import locate_point

    if lon not in (None, "") and lat not in (None, ""):
        location = locate_point(lon=lon, lat=lat, crs=crs or "wgs84")
        if location.deepest is None or location.district is None:
            raise Unprocessable("该位置不在本市任何区内", "The point lies in no district of the city", code="outside_city")
        return location.deepest.code, location.lon, location.lat
    code = clean_text(region_code, field="region_code", label="区域编码", max_length=20, required=False)
    if not code:
        mine = [c for c in (actor.region_codes or []) if isinstance(c, str)]
        if len(mine) != 1:
            raise InvalidInput("请选择走访所在区域或提供位置", "Give the visit's region or its position",
                               code="location_required")
        code = mine[0]
    if not Region.objects.filter(code=code).exists():
        raise InvalidInput(f"未知区域编码：{code[:20]}", f"Unknown region code: {code[:20]}", code="unknown_region")
    return code, None, None


def _fits(campaign: Campaign, *, visited_at: datetime, code: str = "") -> None:
    """A visit belongs to a campaign only on a day of its period and (once its place is known) in its regions."""
    if not campaign.starts_on <= timezone.localtime(visited_at).date() <= campaign.ends_on:
        raise Unprocessable("走访日期不在排查行动期间内", "The visit's date is outside the campaign's period",
                            code="visit_outside_period")
    if code and not _inside(code, campaign.region_codes):
        raise Unprocessable("走访地点不在排查行动的区域内", "The visit's place is outside the campaign's regions",
                            code="visit_outside_campaign")


def visit_log(*, actor, client_id, place: str, place_kind: str = Visit.Place.HOUSEHOLD, campaign_id=None,
              region_code: str = "", lon=None, lat=None, crs: str = "wgs84", people_met: str = "",
              findings: str = "", outcome: str = Visit.Outcome.NOTHING, visited_at: datetime | None = None,
              photo: bytes | None = None, photo_name: str = "", dispute: dict | None = None,
              case: dict | None = None) -> Logged:
    """Log a door-knocking visit (天天敲门), once per (visitor, client_id): the phone makes the client_id when
    the visit is typed, so a visit sent again after the signal returns gives back the first one (`created`
    False). A finding becomes, in the same transaction, a dispute (outcome "dispute": `dispute` = {kind, title?,
    parties, amount?, risk_level?}) registered with source "screening" and the campaign, or a city case
    (outcome "case": `case` = {category, urgency?}) through the cases intake, the campaign named in it."""
    client_id = _client_id(client_id)
    if actor is None or not getattr(actor, "is_authenticated", False):
        raise Forbidden("请先登录", "Sign in first", code="not_authenticated")
    existing = _existing(actor, client_id)
    if existing is not None:
        return Logged(existing, False)
    if not actor.role_codes & VISITORS:
        raise Forbidden("您的角色不能登记走访", "Your role may not log visits", code="role_not_allowed")
    place = normalise_place(clean_text(place, field="place", label="户或场所", max_length=200))
    people_met = clean_text(people_met, field="people_met", label="见到的人", max_length=200, required=False)
    findings = clean_text(findings, field="findings", label="发现情况", max_length=4000, required=False)
    if place_kind not in Visit.Place.values:
        raise InvalidInput("走访对象须为住户或场所", "place_kind must be household or place", code="invalid_place_kind")
    if outcome not in Visit.Outcome.values:
        raise InvalidInput(f"未知走访结果 {str(outcome)[:20]!r}", f"Unknown outcome {str(outcome)[:20]!r}",
                           code="invalid_outcome")
    if outcome in (Visit.Outcome.DISPUTE, Visit.Outcome.CASE, Visit.Outcome.RESOLVED) and not findings:
        raise InvalidInput("请填写发现情况", "Describe what was found", code="findings_required")
    now = timezone.now()
    visited_at = visited_at or now
    if not isinstance(visited_at, datetime):
        raise InvalidInput("走访时间格式不正确", "visited_at must be a date and time", code="invalid_visited_at")
    if timezone.is_naive(visited_at):
        visited_at = timezone.make_aware(visited_at)
    if visited_at > now + FUTURE_SLACK:
        raise InvalidInput("走访时间不能晚于现在", "The visit cannot be in the future", code="visit_in_future")

    campaign = None
    if campaign_id not in (None, ""):
        campaign = campaign_get(user=actor, pk=campaign_id)
        _fits(campaign, visited_at=visited_at)
        if now.date() > campaign.ends_on + LATE_ARRIVAL:
            raise Unprocessable("排查行动已结束，不再接收走访记录", "The campaign has ended; no more visits are taken",
                                code="campaign_ended")

    code, lon, lat = _where(actor=actor, region_code=region_code, lon=lon, lat=lat, crs=crs)
    if not _inside(code, user_regions(actor)):
        raise Forbidden("走访地点不在您负责的区域内", "The visit's place is outside your regions",
                        code="region_out_of_scope")
    if campaign is not None:
        _fits(campaign, visited_at=visited_at, code=code)
    if outcome == Visit.Outcome.DISPUTE and not isinstance(dispute, dict):
        raise InvalidInput("发现矛盾纠纷时请填写纠纷类型和当事人", "A dispute found needs its type and parties",
                           code="dispute_required")
    if outcome == Visit.Outcome.CASE and not isinstance(case, dict):
        raise InvalidInput("发现城市事件时请选择案件类别", "A city case found needs its category", code="case_required")
    public = None
    if photo:
        public, ext, digest = _photo(photo)

    try:
        with transaction.atomic():
            if campaign is not None:  # as it stands now: an edit may have moved its period or regions meanwhile
                campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
                _fits(campaign, visited_at=visited_at, code=code)
            visit = Visit(campaign=campaign, visitor=actor, client_id=client_id, place_kind=place_kind, place=place,
                          region_code=code, lon=lon, lat=lat, people_met=people_met, findings=findings,
                          outcome=outcome, visited_at=visited_at, received_at=now)
            visit.save()
            if outcome == Visit.Outcome.DISPUTE:
                visit.dispute = _register_dispute(visit=visit, actor=actor, data=dispute)
            elif outcome == Visit.Outcome.CASE:
                visit.case = _report_case(visit=visit, actor=actor, data=case, photo=photo, photo_name=photo_name)
            if public is not None:  # the file last: a refused finding leaves no file behind
                visit.photo.save(f"{digest[:16]}.{ext}", ContentFile(public), save=False)
            visit.save(update_fields=["dispute", "case", "photo"])
            timeline_append(subject=visit, action="visit_log", actor=actor, new_subject=True,
                            params={"campaign": campaign.code if campaign else "", "region": code,
                                    "outcome": outcome, "client_id": str(client_id),
                                    "dispute": visit.dispute.code if visit.dispute_id else "",
                                    "case": visit.case.code if visit.case_id else ""})
    except IntegrityError:
        # The same visit sent twice at once: the other request's row won the unique constraint.
        existing = _existing(actor, client_id)
        if existing is not None:
            return Logged(existing, False)
        raise
    return Logged(visit, True)


def campaign_tag(campaign: Campaign | None) -> str:
    """The tag a city case found in a campaign carries at the head of its description."""
    return f"【排查行动 {campaign.code} {campaign.name}】" if campaign is not None else "【天天敲门走访】"


def _register_dispute(*, visit: Visit, actor, data: dict) -> Dispute:
    from cityops.disputes import services

    parties = data.get("parties")
    if not isinstance(parties, list) or not parties:
        raise InvalidInput("请填写当事人", "Give the parties of the dispute", code="parties_required")
    # A campaign's dispute types are what it looks for, not a filter: a dispute of another type found at a door
    # is registered all the same (with the campaign), never turned away.
    kind = data.get("kind") or ""
    title = clean_text(data.get("title") or visit.findings.splitlines()[0][:60], field="title", label="纠纷事由",
                       max_length=200)
    return services.register_dispute(
        actor=actor, source=Dispute.Source.SCREENING, title=title, description=visit.findings, kind=kind,
        parties=parties, amount=data.get("amount"), address=visit.place, campaign=visit.campaign,
        risk_level=data.get("risk_level") or "low", idempotency_key=f"visit:{visit.client_id}", **_point(visit))


def _point(visit: Visit) -> dict:
    """Where a finding is: the visit's position; a visit without one at its region's centroid (the grid the worker
    chose), so that the dispute or case is located to the same region."""
    from cityops.geo.models import Region

    if visit.lon is not None and visit.lat is not None:
        return {"lon": visit.lon, "lat": visit.lat}
    region = Region.objects.filter(code=visit.region_code).values("centroid_lon", "centroid_lat").first()
    return {"lon": region["centroid_lon"], "lat": region["centroid_lat"]} if region else {}


def _report_case(*, visit: Visit, actor, data: dict, photo: bytes | None, photo_name: str):
    from cityops.cases.services.intake import case_create
    from cityops.cases.services.photos import case_photo_add

    intake = case_create(
        actor=actor, category=str(data.get("category") or ""), source="field",
        description=f"{campaign_tag(visit.campaign)}{visit.findings}", address=visit.place,
        urgency=str(data.get("urgency") or "normal"), idempotency_key=f"visit:{visit.client_id}", **_point(visit))
    if photo and intake.created:
        case_photo_add(case=intake.case, actor=actor, data=photo, filename=photo_name, kind="report")
    return intake.case


# --- figures ------------------------------------------------------------------------------------------------
def households_in(region_codes: list[str]) -> tuple[int | None, bool]:
    """(households, estimated) in these regions: a region's own 户数, else the sum of its communities' (None
    when no figure is known for some region). `estimated` when any figure used is an estimate."""
    from cityops.geo.models import Region

    total, estimated = 0, False
    for code in region_codes:
        own = Region.objects.filter(code=code).values("households", "households_estimated").first()
        if own is None:
            return None, estimated
        if own["households"] is not None:
            total += own["households"]
            estimated |= own["households_estimated"]
            continue
        rows = list(Region.objects.filter(level="community", code__startswith=code, households__isnull=False)
                    .values_list("households", "households_estimated"))
        if not rows:
            return None, estimated
        total += sum(n for n, _e in rows)
        estimated |= any(e for _n, e in rows)
    return total, estimated


@dataclass
class Figures:
    visits: int
    households_visited: int
    households: int | None
    households_estimated: bool
    disputes_found: int
    disputes_resolved: int
    resolved_on_the_spot: int
    cases_found: int
    per_day: list[tuple[date, int]] = field(default_factory=list)

    @property
    def coverage(self) -> float | None:
        """Distinct households visited / households in the campaign's regions (0…1), None when 户数 unknown."""
        if not self.households:
            return None
        return self.households_visited / self.households


def campaign_figures(campaign: Campaign) -> Figures:
    """The campaign's counts (whole campaign, no personal data): visits, distinct households visited (the same
    household visited twice counts once), 户数, disputes found and resolved, cases found, visits per day."""
    visits = Visit.objects.filter(campaign=campaign)
    households, estimated = households_in(campaign.region_codes)
    disputes = Dispute.objects.filter(campaign=campaign).aggregate(
        found=Count("pk"), resolved=Count("pk", filter=Q(state__in=RESOLVED_STATES)))
    counts = visits.aggregate(
        visits=Count("pk"), spot=Count("pk", filter=Q(outcome=Visit.Outcome.RESOLVED)),
        cases=Count("pk", filter=Q(case__isnull=False)))
    per_day = list(visits.annotate(day=TruncDate("visited_at", tzinfo=timezone.get_current_timezone()))
                   .values_list("day").annotate(n=Count("pk")).order_by("day"))
    return Figures(
        visits=counts["visits"],
        households_visited=visits.filter(place_kind=Visit.Place.HOUSEHOLD).order_by().values("place").distinct().count(),
        households=households, households_estimated=estimated, disputes_found=disputes["found"],
        disputes_resolved=disputes["resolved"], resolved_on_the_spot=counts["spot"], cases_found=counts["cases"],
        per_day=[(day, n) for day, n in per_day])


def todays_visits(*, user) -> int:
    """The user's own visits today (the grid worker's home card 今日走访)."""
    start = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
    return Visit.objects.filter(visitor=user, visited_at__gte=start).count()


def open_campaigns(*, user, day: date | None = None) -> QuerySet[Campaign]:
    """The campaigns of the user's scope running on `day` (today)."""
    day = day or timezone.localdate()
    return campaign_list(user=user).filter(starts_on__lte=day, ends_on__gte=day)
