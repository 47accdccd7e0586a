"""The visit page without signal (天天敲门 in a stairwell): its service worker, served by cityops from the page's own
origin and path so that its scope is the visit pages only (/disputes/campaigns/visit/) — a script file like any
other of ours, so the site's CSP (script-src 'self') allows it and nothing inline is needed. What it does is in
static/disputes/visit_sw.js; the visits typed offline are kept and sent by visit.js."""

from pathlib import Path

from django.http import HttpResponse
from django.urls import path
from django.views.decorators.http import require_GET

SOURCE = Path(__file__).resolve().parent / "static" / "disputes" / "visit_sw.js"


@require_GET
def service_worker(request):
    """The worker's script. Public like any static file (it holds no data); never kept by the HTTP cache, so that
    the browser's update check sees a new version at once."""
    response = HttpResponse(SOURCE.read_bytes(), content_type="text/javascript; charset=utf-8")
    response["Cache-Control"] = "no-cache"
    return response


urlpatterns = [path("sw.js", service_worker, name="disputes_visit_sw")]
