"""The demo city's dispute resolution (issue 14): 汉阳区矛盾纠纷多元化解中心 and the bodies around it.

- `load_demo` (after geo's regions): the centre (OrgUnit kind centre, region 汉阳区 420105); a people's mediation
  committee for every street of 汉阳区 and for the first community of three of them, and the district's; the
  industry committees (物业纠纷、劳动争议、医疗纠纷、交通事故), the court's invited-mediation studio and the market
  regulator's consumer-dispute mediation — each with its remit (CommitteeRemit) so routing finds them.
- `load_demo_users` (after accounts' users): the demo logins (DEMO_USERS, in the README's table), a roster mediator
  in every committee that has no demo login (no password: names for routing and the simulation), the referring
  bodies (汉阳区人民法院, 汉阳公安分局, 汉阳区信访局: Referrer rows with their service users), a few disputes in
  various states played through the real services, and a screening campaign with door-knocking visits.
- `load_demo_history`: nothing of its own — `cityops simulate` (cases.simulation) runs the dispute traffic of
  simulation.py beside the city's cases when the demo's history is simulated.

Idempotent: a second run finds everything and writes nothing new.
"""

from __future__ import annotations

import io
import uuid
from datetime import timedelta
from functools import lru_cache

from django.conf import settings
from django.contrib.auth.models import Group
from django.db import transaction
from django.utils import timezone

from cityops.accounts.models import OrgUnit, User
from cityops.core import roles
from cityops.disputes.models import Campaign, CommitteeRemit, Dispute, Referrer

DISTRICT = "420105"  # 汉阳区 (geo.demo.DISTRICTS)
CENTRE_CODE = f"TJZX-{DISTRICT}"
CENTRE_NAME = "汉阳区矛盾纠纷多元化解中心"
COMMUNITY_COMMITTEES = 3  # streets whose first community has a committee of its own


def committee_code(region_code: str) -> str:
    return f"TW-{region_code}"


# code suffix → (name, English name, channel, kinds)
DISTRICT_BODIES = {
    "": ("汉阳区人民调解委员会", "Hanyang District People's Mediation Committee", "people", []),
    "WY": ("汉阳区物业纠纷人民调解委员会", "Hanyang property management dispute mediation committee", "industry",
           ["property"]),
    "LD": ("汉阳区劳动争议调解委员会", "Hanyang labour dispute mediation committee", "industry", ["labour"]),
    "YL": ("汉阳区医疗纠纷人民调解委员会", "Hanyang medical dispute mediation committee", "industry", ["medical"]),
    "JT": ("汉阳区道路交通事故纠纷人民调解委员会", "Hanyang road traffic accident mediation committee", "industry",
           ["traffic"]),
    "FY": ("汉阳区人民法院特邀调解工作室", "Hanyang District Court invited-mediation studio", "court_invited", []),
    "XF": ("汉阳区市场监管局消费纠纷行政调解室", "Hanyang market regulator's consumer dispute mediation",
           "administrative", ["consumer"]),
}

# username → (role, display name, org unit: "centre", a district body's suffix, or "street:<n>" (n-th street))
DEMO_USERS = {
    "centre_hy": (roles.CENTRE_STAFF, "调处中心 陈芳", "centre"),
    "mediator_hy": (roles.MEDIATOR, "翠微街调委会 调解员 刘建国", "street:1"),
    "mediator_hy2": (roles.MEDIATOR, "翠微街调委会 调解员 王秀兰", "street:1"),
    "mediator_wy": (roles.MEDIATOR, "物业纠纷调委会 调解员 张志强", "WY"),
    "mediator_ld": (roles.MEDIATOR, "劳动争议调委会 调解员 李娜", "LD"),
    "police_hy": (roles.POLICE_LIAISON, "汉阳公安分局 联络员 赵军", "centre"),
    "grid_hy": (roles.GRID_WORKER, "翠微街网格员 周敏", None),
}
# Referring bodies: code → (name, kind, service user). Their systems sign in with an API token of that user.
REFERRERS = {
    "HY-COURT": ("汉阳区人民法院", Referrer.Kind.COURT, "referrer_court_hy"),
    "HY-POLICE": ("汉阳公安分局", Referrer.Kind.POLICE, "referrer_police_hy"),
    "HY-PETITION": ("汉阳区信访局", Referrer.Kind.PETITION, "referrer_petition_hy"),
}


def demo_usernames() -> list[str]:
    return [*DEMO_USERS, *(user for _n, _k, user in REFERRERS.values())]


def _streets():
    from cityops.geo.models import Region

    return list(Region.objects.filter(level="street", code__startswith=DISTRICT).order_by("code"))


def _short(name: str) -> str:
    from cityops.geo.names import short_name

    return short_name(name)


def _committee_name(region) -> str:
    name = _short(region.name)
    return f"{name.removesuffix('街道')}街人民调解委员会" if region.level == "street" else f"{name}人民调解委员会"


@transaction.atomic
def load_bodies() -> tuple[OrgUnit | None, int]:
    """The centre and the committees with their remits; (centre, committees) — (None, 0) without 汉阳区's regions."""
    from cityops.geo.models import Region

    streets = _streets()
    if not streets:
        return None, 0
    centre, _ = OrgUnit.objects.update_or_create(code=CENTRE_CODE, defaults={
        "name": CENTRE_NAME, "name_en": "Hanyang District Dispute Resolution Centre", "kind": OrgUnit.Kind.CENTRE,
        "region_code": DISTRICT})
    units = []
    for suffix, (name, name_en, channel, kinds) in DISTRICT_BODIES.items():
        code = committee_code(DISTRICT) + (f"-{suffix}" if suffix else "")
        units.append((code, name, name_en, DISTRICT, channel, kinds))
    for i, street in enumerate(streets):
        units.append((committee_code(street.code), _committee_name(street), "", street.code, "people", []))
        if 1 <= i <= COMMUNITY_COMMITTEES:  # 翠微街's communities go to the street's committee (demo mediators)
            community = Region.objects.filter(level="community", parent=street).order_by("code").first()
            if community is not None:
                units.append((committee_code(community.code), _committee_name(community), "", community.code,
                              "people", []))
    for code, name, name_en, region, channel, kinds in units:
        unit, _ = OrgUnit.objects.update_or_create(code=code, defaults={
            "name": name, "name_en": name_en, "kind": OrgUnit.Kind.COMMITTEE, "region_code": region,
            "parent": centre})
        if channel != "people" or kinds:
            CommitteeRemit.objects.update_or_create(committee=unit, defaults={"channel": channel, "kinds": kinds})
    return centre, len(units)


def load_demo() -> str:
    centre, n = load_bodies()
    if centre is None:
        return "汉阳区 has no regions: no centre (load geo's demo first)"
    return f"{CENTRE_NAME}, {n} committees"


# --- users ------------------------------------------------------------------------------------------------------
def _unit_for(where: str | None, centre: OrgUnit, streets) -> OrgUnit | None:
    if where is None:
        return None
    if where == "centre":
        return centre
    if where.startswith("street:"):
        return OrgUnit.objects.get(code=committee_code(streets[int(where[7:]) - 1].code))
    return OrgUnit.objects.get(code=f"{committee_code(DISTRICT)}-{where}")


def _user(username: str, role: str, display: str, *, password: str | None, units=(), regions=()) -> User:
    user, _ = User.objects.get_or_create(username=username)
    user.first_name = display
    if password:
        user.set_password(password)
    else:
        user.set_unusable_password()
    user.region_codes = list(regions)
    user.save()
    user.groups.set(Group.objects.filter(name=role))
    user.org_units.set(units)
    return User.objects.get(pk=user.pk)


@transaction.atomic
def load_demo_users(*, password: str | None = None) -> list[tuple[str, str]]:
    """The logins, the roster mediators, the referring bodies; then the demo disputes and the campaign."""
    centre = OrgUnit.objects.filter(code=CENTRE_CODE).first()
    if centre is None:
        return []
    password = password or settings.DEMO_PASSWORD
    streets = _streets()
    made = []
    for username, (role, display, where) in DEMO_USERS.items():
        unit = _unit_for(where, centre, streets)
        regions = [streets[0].code] if role == roles.GRID_WORKER else []
        _user(username, role, display, password=password, units=[unit] if unit else [], regions=regions)
        made.append((username, str(roles.ROLE_LABELS[role])))
    # Every committee without a demo login gets a roster mediator (no password: routing and the simulation
    # need someone to assign; nobody signs in as them).
    staffed = set(User.objects.filter(groups__name=roles.MEDIATOR).values_list("org_units", flat=True))
    for unit in OrgUnit.objects.filter(kind=OrgUnit.Kind.COMMITTEE, parent=centre).exclude(pk__in=staffed):
        _user(f"tj_{unit.code.lower()}", roles.MEDIATOR, f"{unit.name} 调解员", password=None, units=[unit])
    for code, (name, kind, username) in REFERRERS.items():
        service = _user(username, roles.REFERRER, f"{name}（系统对接）", password=None)
        Referrer.objects.update_or_create(code=code, defaults={"name": name, "kind": kind, "user": service,
                                                               "centre": centre})
        made.append((username, f"{roles.ROLE_LABELS[roles.REFERRER]} · {name}"))
    load_demo_disputes(centre)
    load_demo_campaign(centre)
    return made


# --- disputes in various states ----------------------------------------------------------------------------------
def _point(community_index: int, street_index: int = 0) -> dict:
    """lon/lat of a grid of the n-th community of the n-th street of 汉阳区 (its centroid lies inside it)."""
    from cityops.geo.models import Region

    street = _streets()[street_index]
    communities = list(Region.objects.filter(level="community", parent=street).order_by("code"))
    community = communities[min(community_index, len(communities) - 1)]
    grid = Region.objects.filter(level="grid", parent=community).order_by("code").first() or community
    return {"lon": grid.centroid_lon, "lat": grid.centroid_lat}


PARTIES = [
    {"side": "applicant", "kind": "person", "name": "刘桂英", "phone": "13871000001"},
    {"side": "respondent", "kind": "person", "name": "孙建华", "phone": "13871000002"},
]

# (title, kind, source, steps, community of 翠微街 (index), extra)
DEMO_DISPUTES = [
    ("楼上漏水致楼下墙面受损", "neighbour", "walk_in", [], 1, {}),
    ("借款纠纷诉前委派调解", "other", "court", [], 2, {"entrustment": "court_15"}),
    ("停车位争执引发口角", "neighbour", "police", ["accept"], 3, {}),
    ("物业费收取与电梯维修纠纷", "property", "portal", ["accept", "assign", "start"], 1, {"amount": "3600"}),
    ("装修工人工资拖欠", "labour", "hotline", ["accept", "assign", "start"], 2, {"amount": "18000"}),
    ("相邻通道堆放杂物", "neighbour", "walk_in", ["accept", "assign", "start"], 4, {}),
    ("赡养费分担纠纷", "family", "walk_in", ["accept", "assign", "start", "agree"], 5, {}),
    ("房屋租赁押金返还", "neighbour", "walk_in",
     ["accept", "assign", "start", "agree", "request_confirmation", "confirm"], 1, {"amount": "5000"}),
    ("网购家电退货纠纷", "consumer", "hotline", ["accept", "assign", "start", "agree", "perform", "follow_up"], 3,
     {"amount": "2999"}),
    ("宅基地边界争议", "land", "petition", ["accept", "assign", "start", "terminate"], 2, {}),
    ("邻里噪音纠纷多次激化", "neighbour", "walk_in", ["accept", "assign", "start", "escalate"], 4,
     {"risk_level": "medium"}),
]


# Who registers each channel's demo dispute (accounts' demo operator and resident, the referring bodies' systems).
SOURCE_ACTORS = {"walk_in": "centre_hy", "hotline": "operator", "portal": "resident", "court": "referrer_court_hy",
                 "police": "referrer_police_hy", "petition": "referrer_petition_hy"}


@lru_cache(maxsize=1)
def _tablet_stroke() -> bytes:
    """A signature drawn on the tablet: a stroke on a white pad (PNG)."""
    from PIL import Image, ImageDraw

    img = Image.new("RGB", (160, 48), "white")
    ImageDraw.Draw(img).line((12, 36, 60, 12, 100, 34, 148, 14), fill="black", width=3)
    out = io.BytesIO()
    img.save(out, "PNG")
    return out.getvalue()


def sign_all(dispute: Dispute, actor) -> None:
    """Every party signs the agreement on the tablet (人民调解法 §29), as judicial confirmation requires."""
    from cityops.disputes.signatures import signature_record

    for party in dispute.parties.all():
        signature_record(dispute=dispute, actor=actor, party_id=party.pk, method="tablet", data=_tablet_stroke())


def load_demo_disputes(centre: OrgUnit) -> int:
    """The demo disputes (DEMO_DISPUTES), each taken through its steps by the people who take them; once."""
    from cityops.core.workflow import transition
    from cityops.disputes import routing, services

    if Dispute.objects.filter(centre=centre).exists():
        return 0
    staff = User.objects.get(username="centre_hy")
    referrers = {r.kind: r for r in Referrer.objects.filter(centre=centre)}
    made = 0
    for n, (title, kind, source, steps, community, extra) in enumerate(DEMO_DISPUTES, start=1):
        actor = User.objects.filter(username=SOURCE_ACTORS[source]).first()
        if actor is None:  # accounts' demo users not loaded: the centre's staff register it at the desk
            actor, source = staff, "walk_in" if source == "portal" else source
        referral = {"referrer": referrers[source], "external_ref": f"（2026）鄂0105-DEMO-{n:03d}"} \
            if source in referrers else {}
        d = services.register_dispute(
            actor=actor, source=source, title=title, kind=kind, parties=PARTIES, centre=centre,
            description=f"{title}。双方多次协商未果，申请调解。（演示数据）", **_point(community),
            **referral, **extra)
        made += 1
        mediator = None
        for step in steps:
            if step == "accept":
                s = routing.suggest(d)
                d = services.accept(dispute=d, actor=staff, channel=s.channel, committee_id=s.committee.pk,
                                    note="按分流建议受理")
            elif step == "assign":
                mediator = routing.suggest_mediator(d.committee, d)
                d = services.assign(dispute=d, actor=staff, mediator_id=mediator.pk)
            elif step == "start":
                d = transition(d, "start", mediator)
            elif step == "agree":
                d = services.agree(dispute=d, actor=mediator, facts=f"{title}，经调解双方查明事实。",
                                   terms="双方自愿达成协议：被申请方于十日内一次性支付约定款项，双方不再因此事发生争执。",
                                   performance_method="一次性当面支付",
                                   performance_deadline=timezone.localdate() + timedelta(days=10))
            elif step == "request_confirmation":
                sign_all(d, mediator)
                d = services.request_confirmation(dispute=d, actor=mediator, court="汉阳区人民法院")
            elif step == "confirm":
                d = transition(d, "confirm", staff, note="法院裁定调解协议有效")
            elif step == "perform":
                d = transition(d, "perform", mediator, note="双方确认已履行")
            elif step == "follow_up":
                d = services.follow_up(dispute=d, actor=mediator, result="回访：双方关系缓和，对调解满意")
            elif step == "terminate":
                d = services.terminate(dispute=d, actor=mediator, reason="no_agreement", detail="双方分歧较大")
            elif step == "escalate":
                d = services.escalate(dispute=d, actor=mediator, reason="一方扬言报复，可能激化为治安案件")
    return made


# --- a screening campaign --------------------------------------------------------------------------------------
def _estimate_households(street_codes: list[str]) -> None:
    """户数 of the campaign's communities where none is recorded: an estimate from the area (marked as one)."""
    from cityops.geo.models import Region

    for region in Region.objects.filter(level="community", households__isnull=True,
                                        parent__code__in=street_codes):
        region.households = max(400, min(6000, round(region.area_km2 * 9000)))
        region.households_estimated = True
        region.save(update_fields=["households", "households_estimated"])


VISITS = [
    ("琴台大道 18 号 2 栋 301", "household", "nothing", "老两口身体尚好，无矛盾"),
    ("琴台大道 18 号 2 栋 302", "household", "resolved", "与楼下因晾晒滴水有口角，当场劝解"),
    ("琴台大道 18 号 3 栋 101", "household", "dispute", "与物业因停车费争执，要求调解"),
    ("西大街 45 号 1 单元 502", "household", "nothing", "无"),
    ("西大街 45 号 1 单元 601", "household", "nothing", "独居老人，已登记关爱"),
    ("钟家村菜市场", "place", "nothing", "摊位秩序正常"),
]


def load_demo_campaign(centre: OrgUnit) -> Campaign | None:
    """汉阳区矛盾纠纷排查化解专项行动 over the first two streets, with a few door-knocking visits by grid_hy."""
    from cityops.disputes import campaigns

    staff = User.objects.get(username="centre_hy")
    worker = User.objects.get(username="grid_hy")
    streets = [s.code for s in _streets()[:2]]
    _estimate_households(streets)
    campaign = Campaign.objects.filter(name__startswith="汉阳区矛盾纠纷排查化解专项行动").first()
    if campaign is None:
        today = timezone.localdate()
        campaign = campaigns.campaign_create(
            actor=staff, name="汉阳区矛盾纠纷排查化解专项行动（天天敲门）", starts_on=today - timedelta(days=7),
            ends_on=today + timedelta(days=23), region_codes=streets,
            kinds=["neighbour", "family", "property", "labour"], goal="翠微街、建桥街住户全覆盖走访，矛盾纠纷早发现早化解",
            goal_households=2000, description="“枫桥经验”天天敲门组：网格员逐户走访，发现矛盾当场化解或登记调解（演示数据）")
    now = timezone.now()
    for i, (place, kind, outcome, findings) in enumerate(VISITS):
        # Over the last days and across 翠微街's communities, so the campaign's daily counts and map have a shape.
        point, visited_at = _point(i), now - timedelta(days=i % 5, hours=i)
        extra = {}
        if outcome == "dispute":
            extra["dispute"] = {"kind": "property", "title": "停车费收取纠纷", "parties": [
                {"side": "applicant", "kind": "person", "name": "吴志明", "phone": "13871000011"},
                {"side": "respondent", "kind": "organisation", "name": "某物业服务公司"}]}
        campaigns.visit_log(actor=worker, client_id=uuid.uuid5(uuid.NAMESPACE_URL, f"cityops-demo-visit-{i}"),
                            place=place, place_kind=kind, campaign_id=campaign.pk, outcome=outcome,
                            findings=findings, people_met="住户本人" if kind == "household" else "摊主",
                            visited_at=visited_at, **point, **extra)
    return campaign


def load_demo_history(*, stdout, hours: float) -> None:
    """The dispute traffic is simulated with the city's (cityops simulate → cases.simulation → simulation.py)."""
    return None
