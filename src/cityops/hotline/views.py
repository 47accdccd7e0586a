"""The operator's call screen (/hotline/): type what the caller says, see suggestions live, accept in one click."""

import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.utils.html import format_html
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from cityops.core.errors import CityopsError
from cityops.hotline import selectors, services
from cityops.hotline.models import HotlineCall


def _operator(request) -> None:
    if not services.can_take_calls(request.user):
        raise PermissionDenied


def _config() -> dict:
    from django.conf import settings

    return {
        "tile_url": getattr(settings, "CITYOPS_TILE_URL", "") or "",
        "tile_attribution": getattr(settings, "CITYOPS_TILE_ATTRIBUTION", "") or "",
        "center": list(getattr(settings, "CITYOPS_MAP_CENTER", (30.593, 114.305))),
        "districts": "/api/v1/geo/regions.geojson?level=district&simplify=0.002",
    }


@login_required
def call_screen(request):
    _operator(request)
    return render(request, "hotline/call.html", {
        "kinds": HotlineCall.Kind.choices,
        "calls": selectors.call_list(user=request.user, limit=10),
        "map_config": _config(),
        "form": {},
    })


@login_required
@require_POST
def suggest_partial(request):
    """htmx: the suggestion panel for what has been typed so far."""
    _operator(request)
    text = request.POST.get("text", "")
    address = request.POST.get("address", "")
    if not text.strip():
        return render(request, "hotline/_suggestions.html", {"empty": True})
    try:
        answer = selectors.suggest(text=text, address=address)
    except CityopsError as exc:
        return render(request, "hotline/_suggestions.html", {"error": exc})
    duplicates = []
    if answer["candidates"]:
        duplicates = selectors.possible_duplicates(category_code=answer["candidates"][0]["category"],
                                                   point=answer["point"])
    return render(request, "hotline/_suggestions.html", {
        "answer": answer,
        "duplicates": duplicates,
        "kinds": HotlineCall.Kind.choices,
        "suggested_json": json.dumps([{"category": c["category"], "score": c["score"]} for c in answer["candidates"]]),
        "point_json": json.dumps(answer["point"]) if answer["point"] else "",
    })


@login_required
@require_POST
def accept(request):
    """One click: the chosen category (the top suggestion unless the operator picked another) becomes a
    hotline work order; the call and any correction are recorded."""
    _operator(request)
    post = request.POST
    try:
        suggested = json.loads(post.get("suggested") or "[]")
        point = json.loads(post.get("point") or "null")
    except ValueError:
        suggested, point = [], None
    try:
        accepted = services.call_accept(
            actor=request.user, text=post.get("text", ""), category=post.get("category", ""),
            kind=post.get("kind", "complaint"), address=post.get("address", ""),
            caller_phone=post.get("caller_phone", ""), suggested=suggested if isinstance(suggested, list) else [],
            point=point if isinstance(point, dict) else None, anonymous=post.get("anonymous") == "on",
        )
    except CityopsError as exc:
        messages.error(request, exc.message_en if (get_language() or "").startswith("en") else exc.message)
        return render(request, "hotline/call.html", {
            "kinds": HotlineCall.Kind.choices,
            "calls": selectors.call_list(user=request.user, limit=10),
            "map_config": _config(),
            "form": post,
        }, status=400)
    note = _("（已纠正推荐类别）") if accepted.call.corrected else ""
    code = accepted.call.case_code
    # The work order is a link to its case page (the message is marked safe; the code is escaped).
    link = format_html('<a href="/cases/{}/" id="accepted-case">{}</a>', code, code)
    messages.success(request, format_html(_("已受理，工单编号 {code}") + "{note}", code=link, note=note))
    if accepted.duplicates:
        messages.warning(request, _("可能重复：") + "、".join(c.code for c in accepted.duplicates))
    return redirect("hotline:call")
