"""Pages of screening campaigns (排查化解行动) and door-knocking visits (天天敲门), under /disputes/campaigns/:
the list of campaigns, a new campaign, a campaign's page (coverage, visits per day, disputes and cases found, a
map of the visits) for staff and leaders, and the phone page on which grid and community workers log a visit —
it works without signal (static/disputes/visit.js keeps the visit in the browser and sends it once the phone is
back online; the client_id makes a second sending harmless). Views are thin: reads through the selectors of
campaigns.py (scoped by user), writes through its services."""

from __future__ import annotations

import uuid

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _

from cityops.core import roles
from cityops.core.errors import CityopsError
from cityops.disputes import campaigns
from cityops.disputes.campaign_api import visit_args
from cityops.disputes.models import Dispute, Visit

# Who reads campaigns: every staff role with a scope; residents and referring bodies do not.
READERS = frozenset(roles.ALL_ROLES) - {roles.RESIDENT, roles.REFERRER}


def _error_text(exc: CityopsError) -> str:
    return exc.message_en if (get_language() or "").startswith("en") else exc.message


def _reader(user) -> None:
    if not user.role_codes & READERS:
        raise PermissionDenied(_("您的角色不能查看排查行动"))


def _region_names(codes) -> dict[str, str]:
    from cityops.geo.models import Region

    return {code: short for code, short in (
        (r.code, r.display_name) for r in Region.objects.filter(code__in=list(codes)).only("code", "name"))}


# --- list ---------------------------------------------------------------------------------------------------
@login_required
def campaign_list(request):
    user = request.user
    _reader(user)
    items = list(campaigns.campaign_list(user=user)[:200])
    names = _region_names({code for c in items for code in c.region_codes})
    today = timezone.localdate()
    rows = [{"campaign": c, "regions": [names.get(code, code) for code in c.region_codes],
             "figures": campaigns.campaign_figures(c), "running": c.starts_on <= today <= c.ends_on} for c in items]
    return render(request, "disputes/campaign_list.html", {
        "rows": rows, "can_organise": bool(user.role_codes & campaigns.ORGANISERS),
        "can_visit": bool(user.role_codes & campaigns.VISITORS)})


# --- new campaign -------------------------------------------------------------------------------------------
def region_choices(user) -> list[tuple[str, str]]:
    """The districts, streets and communities a user may screen, by name (indented by level)."""
    from cityops.geo.models import Region

    mine = campaigns.user_regions(user)
    qs = Region.objects.filter(level__in=("district", "street", "community")).only("code", "name", "level")
    if mine is not None:
        q = Q(pk__in=[])
        for code in mine:
            q |= Q(code__startswith=code)
        qs = qs.filter(q)
    else:
        qs = qs.exclude(level="community")  # the whole city: districts and streets (a community through the API)
    indent = {"district": "", "street": "　", "community": "　　"}
    return [(r.code, f"{indent[r.level]}{r.display_name}") for r in qs.order_by("code")[:600]]


class CampaignForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("行动名称"), max_length=200)
    # ISO dates: what <input type="date"> takes as its value (the locale's own format shows it empty).
    starts_on = forms.DateField(label=gettext_lazy("开始日期"),
                                widget=forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"}))
    ends_on = forms.DateField(label=gettext_lazy("结束日期"),
                              widget=forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"}))
    region_codes = forms.MultipleChoiceField(label=gettext_lazy("排查区域"), widget=forms.SelectMultiple(attrs={"size": 8}))
    kinds = forms.MultipleChoiceField(label=gettext_lazy("纠纷类型（不选即全部）"), required=False,
                                      choices=Dispute.Kind.choices, widget=forms.CheckboxSelectMultiple)
    goal = forms.CharField(label=gettext_lazy("目标"), max_length=300, required=False)
    goal_households = forms.IntegerField(label=gettext_lazy("目标走访户数"), required=False, min_value=1,
                                         max_value=10_000_000)
    description = forms.CharField(label=gettext_lazy("说明"), required=False, max_length=4000,
                                  widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, user, campaign=None, **kwargs):
        super().__init__(*args, **kwargs)
        choices = region_choices(user)
        if campaign is not None:  # its own regions stay choosable (a community chosen through the API, say)
            listed = {code for code, _label in choices}
            names = _region_names(campaign.region_codes)
            choices += [(code, names.get(code, code)) for code in campaign.region_codes if code not in listed]
        self.fields["region_codes"].choices = choices

    def refused(self, exc: CityopsError) -> None:
        """The service's refusal beside the field it is about (the whole form's otherwise)."""
        self.add_error(FIELD_OF_ERROR.get(exc.code), _error_text(exc))


# The field a refusal of campaigns.campaign_create / campaign_update is about.
FIELD_OF_ERROR = {"ends_before_start": "ends_on", "campaign_too_long": "ends_on", "dates_required": "starts_on",
                  "visits_outside_period": "starts_on", "region_out_of_scope": "region_codes",
                  "unknown_region": "region_codes", "findings_outside_regions": "region_codes",
                  "regions_required": "region_codes", "name_required": "name"}


@login_required
def campaign_new(request):
    user = request.user
    if not user.role_codes & campaigns.ORGANISERS:
        raise PermissionDenied(_("您的角色不能组织排查行动"))
    form = CampaignForm(request.POST or None, user=user)
    if request.method == "POST" and form.is_valid():
        try:
            campaign = campaigns.campaign_create(actor=user, **form.cleaned_data)
        except CityopsError as exc:
            form.refused(exc)
        else:
            messages.success(request, _("已发起排查行动 %(code)s") % {"code": campaign.code})
            return redirect(reverse("disputes_campaign_detail", args=[campaign.pk]))
    return render(request, "disputes/campaign_new.html", {"form": form})


def _readable_campaign(user, pk: int):
    """The campaign for a user who may read campaigns and see this one (403 for the role, 404 outside their area)."""
    _reader(user)
    try:
        return campaigns.campaign_get(user=user, pk=pk)
    except CityopsError as exc:
        raise Http404(_error_text(exc)) from exc


@login_required
def campaign_edit(request, pk: int):
    """修改排查行动: the opening form with the campaign's values, for an organiser whose regions hold it."""
    user = request.user
    campaign = _readable_campaign(user, pk)
    if not campaigns.may_edit(user, campaign):
        raise PermissionDenied(_("您不能修改该排查行动：只有区域包含它的组织者可以修改"))
    initial = {name: getattr(campaign, name) for name in campaigns.EDITABLE}
    form = CampaignForm(request.POST or None, user=user, campaign=campaign, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            campaigns.campaign_update(actor=user, campaign=campaign, **form.cleaned_data)
        except CityopsError as exc:
            form.refused(exc)
        else:
            messages.success(request, _("已保存排查行动 %(code)s") % {"code": campaign.code})
            return redirect(reverse("disputes_campaign_detail", args=[campaign.pk]))
    return render(request, "disputes/campaign_new.html", {"form": form, "campaign": campaign})


# --- a campaign's page --------------------------------------------------------------------------------------
MAP_POINTS = 2000
OUTCOME_COLOURS = {"nothing": "#57606a", "resolved": "#1a7f37", "dispute": "#cf222e", "case": "#bf8700"}


def map_points(visits) -> list[dict]:
    """The visits on the map; one typed without a position at the centre of the region the worker chose
    (`approx`, drawn hollow)."""
    from cityops.geo.models import Region

    outcomes = dict(Visit.Outcome.choices)
    rows = list(visits.values_list("lon", "lat", "outcome", "place", "visited_at", "region_code")[:MAP_POINTS])
    centres = {code: (lon, lat) for code, lon, lat in Region.objects.filter(
        code__in={r[5] for r in rows if r[0] is None or r[1] is None}).values_list("code", "centroid_lon", "centroid_lat")}
    points = []
    for lon, lat, outcome, place, at, region in rows:
        approx = lon is None or lat is None
        if approx:
            if region not in centres:
                continue
            lon, lat = centres[region]
        points.append({"lon": lon, "lat": lat, "approx": approx, "outcome": outcome,
                       "label": str(outcomes.get(outcome, outcome)), "place": place,
                       "day": timezone.localtime(at).strftime("%m-%d")})
    return points


@login_required
def campaign_detail(request, pk: int):
    user = request.user
    campaign = _readable_campaign(user, pk)
    figures = campaigns.campaign_figures(campaign)
    visits = campaigns.visit_list(user=user, campaign=campaign).select_related("visitor", "dispute", "case")
    recent = list(visits[:50])
    names = _region_names({v.region_code for v in recent} | set(campaign.region_codes))
    for v in recent:
        v.region_name = names.get(v.region_code, v.region_code)
    points = map_points(visits)
    from cityops.disputes.selectors import dispute_list

    # The disputes themselves (titles name people) as the dispute pages' own scope allows; the counts are above.
    disputes = list(dispute_list(user=user).filter(campaign=campaign).order_by("-created_at")[:50])
    peak = max((n for _d, n in figures.per_day), default=0)
    per_day = [{"day": day, "n": n, "width": round(100 * n / peak) if peak else 0} for day, n in figures.per_day]
    return render(request, "disputes/campaign_detail.html", {
        "campaign": campaign, "figures": figures, "coverage_pct": None if figures.coverage is None
        else round(100 * figures.coverage, 1), "per_day": per_day, "recent": recent, "disputes": disputes,
        "regions": [names.get(code, code) for code in campaign.region_codes],
        "kinds": [label for code, label in Dispute.Kind.choices if code in campaign.kinds],
        "map_config": {"points": points, "colours": OUTCOME_COLOURS,
                       "legend": [{"outcome": k, "label": str(v), "colour": OUTCOME_COLOURS[k]}
                                  for k, v in Visit.Outcome.choices]},
        "approximate": sum(1 for p in points if p["approx"]),
        "can_visit": bool(user.role_codes & campaigns.VISITORS),
        "can_edit": campaigns.may_edit(user, campaign), "timeline": campaign_timeline(campaign),
    })


FIELD_LABELS = {"name": gettext_lazy("行动名称"), "description": gettext_lazy("说明"),
                "starts_on": gettext_lazy("开始日期"), "ends_on": gettext_lazy("结束日期"),
                "region_codes": gettext_lazy("排查区域"), "kinds": gettext_lazy("纠纷类型"),
                "goal": gettext_lazy("目标"), "goal_households": gettext_lazy("目标走访户数")}


def campaign_timeline(campaign) -> list[dict]:
    """The campaign's timeline as its page shows it: who opened it and each edit, a change per line with region
    and dispute-type names (never codes)."""
    from cityops.core.timeline import timeline_shown

    entries = timeline_shown(campaign, extra_actions={"campaign_create": gettext_lazy("发起排查行动"),
                                                      "campaign_update": gettext_lazy("修改排查行动")})
    changes = [e["params"].get("changes") or {} for e in entries]
    names = _region_names({code for c in changes for side in c.get("region_codes", {}).values() for code in side})
    kinds = dict(Dispute.Kind.choices)

    def shown(name, value):
        if name == "region_codes":
            return "、".join(names.get(code, code) for code in value)
        if name == "kinds":
            return "、".join(str(kinds.get(k, k)) for k in value) or _("全部类型")
        return "—" if value in (None, "") else str(value)

    for entry, changed in zip(entries, changes, strict=True):
        entry["changes"] = [{"field": FIELD_LABELS.get(name, name), "from": shown(name, c["from"]),
                             "to": shown(name, c["to"])} for name, c in changed.items()]
    return entries


# --- the phone page: log a visit ----------------------------------------------------------------------------
def visit_regions(user) -> list[tuple[str, str]]:
    """The regions a worker visits in: their own and the grids and communities inside them, by name."""
    from cityops.geo.models import Region

    mine = campaigns.user_regions(user) or []
    q = Q(pk__in=[])
    for code in mine:
        q |= Q(code__startswith=code)
    rows = Region.objects.filter(q, level__in=("street", "community", "grid")).only("code", "name", "level")
    return [(r.code, r.display_name) for r in rows.order_by("code")[:300]]


def _categories() -> list[tuple[str, list]]:
    from cityops.cases.selectors import category_list
    from cityops.cases.templatetags.cases_tags import cat_name

    groups: dict[str, list] = {}
    for c in sorted(category_list(), key=lambda c: (c.kind != "event", c.code)):
        groups.setdefault(c.major_zh, []).append((c.code, f"{c.code} {cat_name(c)}"))
    return list(groups.items())


@login_required
def visit_page(request):
    """登记走访 on a phone. Without JavaScript the form posts here; with it, visit.js queues the visit in the
    browser and sends it to the API (the same service), so that a visit typed without signal is kept."""
    user = request.user
    if not user.role_codes & campaigns.VISITORS:
        raise PermissionDenied(_("您的角色不能登记走访"))
    error = ""
    if request.method == "POST":
        data = {k: v for k, v in request.POST.items() if k != "csrfmiddlewaretoken"}
        data["client_id"] = data.get("client_id") or str(uuid.uuid4())
        photo = request.FILES.get("photo")
        try:
            logged = campaigns.visit_log(
                actor=user, photo=photo.read(campaigns.photo_limit() + 1) if photo else None,
                photo_name=photo.name if photo else "", **{**visit_args(data), "visited_at": None})
        except CityopsError as exc:
            error = _error_text(exc)
        else:
            messages.success(request, _("走访已登记：%(place)s") % {"place": logged.visit.place})
            return redirect(reverse("disputes_campaign_visit"))
    running = list(campaigns.open_campaigns(user=user))
    today = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
    mine_today = list(Visit.objects.filter(visitor=user, visited_at__gte=today).select_related("campaign")[:50])
    return render(request, "disputes/campaign_visit.html", {
        "client_id": uuid.uuid4(), "campaigns": running, "regions": visit_regions(user), "error": error,
        "kinds": Dispute.Kind.choices, "categories": _categories(), "outcomes": Visit.Outcome.choices,
        "places": Visit.Place.choices, "mine_today": mine_today, "posted": request.POST if error else {},
        "visit_config": {
            "api": "/api/v1/disputes/campaigns/visits",
            "user": user.pk,
            "text": {
                "waiting": _("待发送"), "sending": _("正在发送…"), "sent": _("已发送"),
                "refused": _("未被接受"), "offline": _("无信号：走访已保存在本机，恢复信号后自动发送"),
                "online": _("在线"), "saved": _("走访已保存，正在发送"), "none": _("没有待发送的走访"),
                "login": _("登录已失效：请重新登录后打开本页，待发送的走访仍保存在本机"),
                "remove": _("删除"), "no_storage": _("此浏览器不能在本机保存走访，请在有信号时提交"),
                "position": _("已取得位置"), "no_position": _("无法取得位置，请选择所在区域"),
            },
        },
    })


# --- home cards (core.home, through disputes.home) ----------------------------------------------------------
def campaign_home_cards(user) -> list:
    """今日走访 for the workers who knock on doors (their visits today); 排查化解行动 for organisers and leaders (the
    campaigns of their scope running today)."""
    from cityops.core.home import Card

    if not user.is_authenticated:
        return []
    cards = []
    if user.role_codes & campaigns.VISITORS - {roles.ADMIN}:
        cards.append(Card(gettext_lazy("今日走访"), gettext_lazy("天天敲门：登记今天走访的住户和场所，无信号也能登记"),
                          reverse("disputes_campaign_visit"), count=campaigns.todays_visits(user=user), order=35))
    if user.role_codes & (campaigns.ORGANISERS | {roles.LEADER}):
        cards.append(Card(gettext_lazy("排查化解行动"), gettext_lazy("进行中的排查行动：覆盖率、发现的纠纷和事件"),
                          reverse("disputes_campaign_list"), count=campaigns.open_campaigns(user=user).count(),
                          order=55))
    return cards
