"""The public portal at /portal/: report, track, rate, map. No login needed; CSRF on every form.
Views are thin: they read the form, call one service or selector, and show every error in both languages."""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from cityops.cases import conf as case_conf
from cityops.core.errors import CityopsError
from cityops.open311.status import open311_status, plain_words
from cityops.portal import selectors, services
from cityops.portal.models import PortalReport

MAX_PHOTOS = int(case_conf.get("MAX_PHOTOS"))


def _client_id(request) -> str:
    """Who submits, for rate limiting: the address plus the session (a NAT'd campus shares an address)."""
    if not request.session.session_key:
        request.session.save()
    raw = f"{request.META.get('REMOTE_ADDR', '')}|{request.session.session_key}"
    return hashlib.sha256(raw.encode()).hexdigest()[:24]


def _ip_id(request) -> str:
    return hashlib.sha256(request.META.get("REMOTE_ADDR", "").encode()).hexdigest()[:24]


def _error(exc: CityopsError) -> dict:
    return {"zh": exc.message, "en": exc.message_en, "code": exc.code}


@require_GET
def home(request):
    """Report, track, map — and for a signed-in resident, their own reports (a resident's home, core.home)."""
    mine = selectors.my_reports(user=request.user)
    for case in mine:
        case.plain_status = plain_words(case.state)
    return render(request, "portal/home.html", {"mine": mine})


@require_http_methods(["GET", "POST"])
def report(request):
    context = {
        "categories": selectors.categories(),
        "map_center": settings.CITYOPS_MAP_CENTER,
        "tile_url": settings.CITYOPS_TILE_URL,
        "form": request.POST,
        "max_photos": MAX_PHOTOS,
        "config": {
            "center": list(settings.CITYOPS_MAP_CENTER), "tile_url": settings.CITYOPS_TILE_URL,
            "nearby": reverse("portal:nearby"), "max_photos": MAX_PHOTOS,
            "text": {
                "same": _("我也遇到了"), "supporters": _("人附议"), "located": _("已标注位置"),
                "too_many": _("最多上传 %(n)s 张照片") % {"n": MAX_PHOTOS},
                "no_geo": _("无法获取您的位置，请在地图上点选"),
            },
        },
    }
    if request.method == "GET":
        return render(request, "portal/report.html", context)
    try:
        # One budget per address and one per session: a script that drops cookies still meets the first.
        services.rate_check(client_id=_client_id(request))
        services.rate_check(client_id="ip:" + _ip_id(request))
        supports = None
        if request.POST.get("supports"):
            supports = selectors.case_public(request.POST["supports"])
        submitted = services.report_submit(
            actor=request.user,
            category=request.POST.get("category", ""),
            description=request.POST.get("description", ""),
            lon=request.POST.get("lon") or None,
            lat=request.POST.get("lat") or None,
            address=request.POST.get("address", ""),
            phone=request.POST.get("phone", ""),
            anonymous=request.POST.get("anonymous") == "on",
            photos=request.FILES.getlist("photos"),
            supports=supports,
        )
    except CityopsError as exc:
        context["error"] = _error(exc)
        return render(request, "portal/report.html", context, status=429 if exc.status == 429 else 400)
    # Post/redirect/get: the key is shown once, from the session, never in a URL.
    request.session["portal_submitted"] = {
        "code": submitted.case.code, "key": submitted.key, "merged": submitted.merged,
        "supports": supports.code if supports else "",
    }
    return redirect(reverse("portal:done"))


@require_GET
def done(request):
    submitted = request.session.pop("portal_submitted", None)
    if not submitted:
        return redirect(reverse("portal:track"))
    return render(request, "portal/done.html", {"submitted": submitted})


@require_GET
def nearby(request):
    try:
        rows = selectors.nearby_open(
            category=request.GET.get("category", ""), lon=request.GET.get("lon"), lat=request.GET.get("lat")
        )
    except CityopsError as exc:
        return JsonResponse(exc.as_dict(), status=exc.status, json_dumps_params={"ensure_ascii": False})
    return JsonResponse({"cases": rows})


@require_http_methods(["GET", "POST"])
def track(request):
    """Status in plain words, the public timeline, the expected date; the reporter (key or phone) also
    sees their own description and may rate the result after closing."""
    data = request.POST if request.method == "POST" else request.GET
    code = (data.get("code") or "").strip()
    context = {"code": code}
    if not code:
        return render(request, "portal/track.html", context)
    key, phone = (data.get("key") or "").strip(), (data.get("phone") or "").strip()
    try:
        if request.method == "POST":
            case = selectors.case_private(code)
            services.rating_submit(
                case=case, phone=phone, key=key, client_id=_ip_id(request), satisfied=data.get("satisfied") == "yes",
                comment=data.get("comment", ""),
            )
            context["rated"] = True
        link = None
        if key or phone:
            case = selectors.case_private(code)
            link = services.report_for(case=case, phone=phone, key=key, client_id=_ip_id(request))
            if link is None:
                context["proof_error"] = {
                    "zh": _("查询码或手机号与该问题不符"), "en": "The tracking key or phone does not match this report",
                }
                case = selectors.case_public(code)
        else:
            case = selectors.case_public(code)
    except CityopsError as exc:
        context["error"] = _error(exc)
        response = render(request, "portal/track.html", context, status=exc.status if exc.status in (403, 404, 429) else 400)
        if exc.status == 429 and isinstance(exc.details, dict):
            response["Retry-After"] = str(exc.details["retry_after"])
        return response
    rated = isinstance(link, PortalReport) and link.rated_at is not None
    context.update({
        "case": case,
        "status_text": plain_words(case.state),
        "closed": open311_status(case.state) == "closed",
        "timeline": selectors.public_timeline(case),
        "expected": selectors.expected_at(case),
        "owner": link is not None,
        "key": key, "phone": phone,
        "can_rate": link is not None and case.state == "closed" and not rated,
        "photos": [ph for ph in case.photos.all() if ph.kind in ("report", "handled")] if link is not None else [],
    })
    return render(request, "portal/track.html", context)


@require_GET
def case_map(request):
    return render(request, "portal/map.html", {
        "categories": selectors.categories(), "districts": selectors.districts(),
        "config": {
            "center": list(settings.CITYOPS_MAP_CENTER), "tile_url": settings.CITYOPS_TILE_URL,
            "data": reverse("portal:map_data"), "track": reverse("portal:track"), "text": {"count": _("个问题")},
        },
    })


@require_GET
def map_data(request):
    data = selectors.map_features(category=request.GET.get("category", ""), district=request.GET.get("district", ""))
    response = JsonResponse(data)
    response["Cache-Control"] = "public, max-age=60"
    return response
