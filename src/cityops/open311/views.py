"""GeoReport v2 endpoints at /open311/v2/ (RULES.md §8). Plain Django views: the protocol is
form-encoded in and XML/JSON out, so a JSON-schema API framework would fight it. Views are thin: they
read the format, call one selector or service and render; every refusal is an Open311 error document.
"""

from __future__ import annotations

import functools
import json
import logging

from django.http import HttpRequest, HttpResponse, QueryDict
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from cityops.core.errors import CityopsError, InvalidInput
from cityops.open311 import conf, selectors, services
from cityops.open311 import params as p
from cityops.open311.render import FORMATS, answer, error_answer

log = logging.getLogger(__name__)


def _http_status(error: CityopsError) -> int:
    # The spec knows 404 (no such resource), 403 (api_key) and 400 (everything else); 429 says "slow down".
    if error.status in (401, 403):
        return 403
    if error.status in (404, 429):
        return error.status
    return 400


def error_document(request: HttpRequest, error: CityopsError) -> HttpResponse:
    """Any error under /open311/ as the spec's `<errors>` document, in the format the URL asks for (XML unless
    it ends in .json): also what the edge answers for a route that does not exist or a refused request."""
    fmt = "json" if request.path_info.lower().endswith(".json") else "xml"
    status = error.status if error.status >= 500 or error.status in (405, 413, 415) else _http_status(error)
    response = error_answer(fmt, status, [(status, f"{error.message} / {error.message_en}")])
    if status == 429 and isinstance(error.details, dict):
        response["Retry-After"] = str(error.details.get("retry_after", 60))
    return response


def endpoint(view):
    """Format check, jurisdiction check, CORS for reads, and every error as an `<errors>` document."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args, fmt: str = "xml", **kwargs):
        fmt = (fmt or "").lower()
        if fmt not in FORMATS:
            return error_answer("xml", 400, [(400, f"不支持的格式「{fmt}」，请用 .xml 或 .json / unsupported format '{fmt}': use .xml or .json")])
        try:
            data = _form(request)
            p.check_jurisdiction(data)
            response = view(request, *args, fmt=fmt, data=data, **kwargs)
        except CityopsError as exc:
            response = error_document(request, exc)
        if request.method == "GET":
            response["Access-Control-Allow-Origin"] = "*"
        return response

    return wrapper


def _form(request: HttpRequest):
    """GET: the query string. POST: the form body (urlencoded or multipart); keys a client put in the query
    string (the python `open311` package sends api_key and jurisdiction_id there) count too; a JSON body
    is accepted from clients that send one."""
    if request.method != "POST":
        return request.GET
    data = QueryDict(mutable=True)
    for key in request.GET:
        data.setlist(key, request.GET.getlist(key))
    if request.content_type == "application/json":
        try:
            body = json.loads(request.body or b"{}")
        except ValueError:
            body = None
        if not isinstance(body, dict):
            raise InvalidInput("JSON 请求体无效", "The JSON body is not an object", code="invalid_json")
        for key, value in body.items():
            if isinstance(value, dict):  # {"attribute": {"code": "v"}}
                for sub, v in value.items():
                    data.setlist(f"{key}[{sub}]", [str(x) for x in v] if isinstance(v, list) else [str(v)])
            else:
                data.setlist(key, [str(x) for x in value] if isinstance(value, list) else ["" if value is None else str(value)])
        return data
    for key in request.POST:
        data.setlist(key, request.POST.getlist(key))
    return data


@require_http_methods(["GET"])
@endpoint
def discovery(request, *, fmt, data):
    base = request.build_absolute_uri("/open311/v2")
    changeset = conf.get("CHANGESET")
    body = {
        "changeset": changeset,
        "contact": conf.get("CONTACT"),
        "key_service": conf.get("KEY_SERVICE"),
        "endpoints": [
            {
                "specification": "http://wiki.open311.org/GeoReport_v2",
                "url": base,
                "changeset": changeset,
                "type": conf.get("ENDPOINT_TYPE"),
                "formats": ["text/xml", "application/json"],
            }
        ],
    }
    return answer(fmt, "discovery", body)


@require_http_methods(["GET"])
@endpoint
def service_list(request, *, fmt, data):
    return answer(fmt, "services", selectors.service_list())


@require_http_methods(["GET"])
@endpoint
def service_definition(request, code, *, fmt, data):
    return answer(fmt, "service_definition", selectors.service_definition(code))


@csrf_exempt
@require_http_methods(["GET", "POST"])
@endpoint
def requests_(request, *, fmt, data):
    if request.method == "POST":
        client = services.client_for_key(p.value(data, "api_key"))
        services.rate_check(client=client)
        posted = services.request_create(client=client, data=data)
        item = {"service_notice": selectors.service_notice(posted.handle_limit_wh), "account_id": posted.link.account_id or None}
        if conf.get("TYPE") == "batch":
            item = {"token": posted.link.token, **item}
        else:
            item = {"service_request_id": posted.case.code, **item}
        log.info("open311 request %s from %s", posted.case.code, client.name)
        return answer(fmt, "service_requests", [item])
    extensions = p.value(data, "extensions").lower() in ("1", "true", "yes")
    return answer(fmt, "service_requests", selectors.request_list(data, request=request, extensions=extensions))


@require_http_methods(["GET"])
@endpoint
def request_detail(request, code, *, fmt, data):
    extensions = p.value(data, "extensions").lower() in ("1", "true", "yes")
    return answer(fmt, "service_requests", [selectors.request_get(code, request=request, extensions=extensions)])


@require_http_methods(["GET"])
@endpoint
def token_detail(request, token, *, fmt, data):
    link = selectors.token_get(token)
    return answer(fmt, "service_requests", [{"service_request_id": link.case.code, "token": link.token}])


@csrf_exempt
@require_http_methods(["GET", "POST"])
@endpoint
def service_request_updates(request, *, fmt, data):
    if request.method == "POST":
        client = services.client_for_key(p.value(data, "api_key"))
        services.rate_check(client=client)
        update_id = services.update_create(client=client, data=data)
        return answer(fmt, "service_request_updates", [{"update_id": update_id}])
    return answer(fmt, "service_request_updates", selectors.update_list(data))
