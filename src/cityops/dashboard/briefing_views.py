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
