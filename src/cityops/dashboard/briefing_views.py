"""The briefings' pages: the list (/dashboard/briefings/, filtered by kind), one briefing with its headline figures
and the downloads (PDF, Excel) — all through briefings.briefing_list, scoped to the user (another area's briefing is
404, as if it did not exist)."""

from urllib.parse import quote

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import render

from cityops.core.errors import CityopsError
from cityops.dashboard import briefings
from cityops.dashboard.briefing_models import Briefing


@login_required
def briefing_list(request):
    kind = request.GET.get("kind", "")
    if kind not in briefings.KINDS:
        kind = ""
    qs = briefings.briefing_list(user=request.user, kind=kind)
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    return render(request, "dashboard/briefing_list.html", {
        "page": page, "kind": kind, "kinds": Briefing.Kind.choices,
        "rows": [{"b": b, "title": briefings.title_of(b), "period": briefings.period_label(b.kind, b.period_start)}
                 for b in page],
    })


def _get(request, pk) -> Briefing:
    try:
        return briefings.briefing_get(user=request.user, pk=pk)
    except CityopsError as exc:
        raise Http404(exc.message) from exc


@login_required
def briefing_detail(request, pk):
    b = _get(request, pk)
    return render(request, "dashboard/briefing_detail.html", {
        "b": b, "f": b.figures, "title": briefings.title_of(b), "period": briefings.period_label(b.kind, b.period_start),
    })


@login_required
def briefing_file(request, pk, fmt):
    b = _get(request, pk)
    try:
        content, ctype, name = briefings.file_of(b, fmt)
    except CityopsError as exc:
        raise Http404(exc.message) from exc
    return attachment(content, ctype, name)


def attachment(content: bytes, ctype: str, name: str) -> HttpResponse:
    response = HttpResponse(content, content_type=ctype)
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(name)}"
    response["X-Content-Type-Options"] = "nosniff"
    return response


def briefing_home_cards(user) -> list:
    """The home page's card (core.home): 运行简报 with the newest briefing the user may read, for those who may read
    any; nothing for the others."""
    from django.utils.translation import gettext_lazy as _

    from cityops.core.home import Card

    if not user.is_authenticated:
        return []
    newest = briefings.briefing_list(user=user).order_by("-generated_at").first()
    if newest is None:
        return []
    text = _("最新：%(title)s %(period)s") % {"title": briefings.title_of(newest),
                                            "period": briefings.period_label(newest.kind, newest.period_start)}
    return [Card(_("运行简报"), text, "/dashboard/briefings/", order=70)]
