"""Every URL of cityops, hostile (issue 10 §1, the outside review's sweep): each page route of Django's resolver and
each operation of the API's OpenAPI document, as anonymous and as every demo login, answers bad input with a 4xx
that says what was wrong — never a server error.

What is sent, per route: the route as it is (its ids replaced by objects of the city, so the handlers are reached);
query strings whose every parameter (the route's own, the names of the page's form fields and a common set) is
one hostile kind at a time — a huge integer (10**30), -1, 1e309, NaN, bad dates, bboxes and lon/lat out of range,
an unknown code, 100 kB, a NUL; each path parameter replaced by those; the methods it does not take (PUT, PATCH,
DELETE, HEAD, OPTIONS); and bodies: a form and a JSON object of each kind, raw NaN / 1e309 numbers, malformed
JSON and GeoJSON, a JSON array, text/plain, XML, an empty body, a plausible body sent twice (a duplicate
submission).

What is checked on every answer: no 5xx and no exception; an API answer of 4xx is the coded error (`code`,
`message`, `message_en`); a page's 4xx is our error page (or a page's JSON endpoint's coded error, or Open311's
error document).

Cost: one city, built once for the module (rolled back at its end); every role requests every route as it is, and
the hostile variants are dealt out among the roles in turn (variant i of a route to role (i + route) mod roles), so
the roles together send each variant once — about 680 requests and a few seconds per role (each prints its three
slowest requests). The API's schema-driven fuzz (schemathesis) is tests/test_api_fuzz.py.
"""

from __future__ import annotations

import functools
import json
import re
import time
from urllib.parse import quote

import pytest
from django.core import signals
from django.db import close_old_connections, transaction
from django.test import Client
from django.urls import URLResolver, get_resolver

# The first test builds the city and works out the requests (two to three minutes on a loaded machine).
pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]

PASSWORD = "pw-cityops-test"
HUGE = "1" + "0" * 30
LONG = "x" * 100_000
# One hostile kind at a time: its value for a query parameter / form field.
KINDS = {
    "huge": HUGE,
    "negative": "-1",
    "inf": "1e309",
    "nan": "NaN",
    "bad_date": "2024-13-45",
    "far_date": "9999-12-31T23:59:59",
    "unknown": "ZZ-NO-SUCH-9",
    "long": LONG,
    "empty": "",
    "nul": "a\x00b",
}
# Parameters with a shape of their own get their own hostile value for some kinds.
SHAPED = {
    "bbox": {"huge": f"{HUGE},0,1,1", "negative": "181,-91,-181,91", "inf": "1e309,0,1,1", "nan": "NaN,NaN,1,1",
             "unknown": "1,2,3"},
    "lon": {"negative": "-181", "huge": "181"},
    "lat": {"negative": "-91", "huge": "91"},
}
# Query names tried on every page besides its form fields: what list, map and export pages read.
COMMON_QUERY = ("page", "offset", "limit", "id", "from", "to", "day", "date", "start", "end", "lon", "lat", "bbox",
                "zoom", "z", "region", "category", "department", "state", "q", "code", "kind", "level", "period",
                "format", "after", "days", "weeks", "key", "at", "speed", "why", "layer", "metric", "next")
LONG_FIELDS = 4
PATH_KINDS = ("huge", "negative", "unknown", "long", "nul")
WRONG_METHODS = ("PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")


# --- The city -------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def city(_wuhan_session, django_db_blocker):
    """Demo logins of every app, cases in several states, a dispute, decisions, IoT devices and an alarm, an early
    warning, a briefing, a supervision order — made once for the module inside a transaction rolled back at its
    end (each request below runs in a savepoint rolled back after it)."""
    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
        try:
            made = _build_city()
        except BaseException:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)
            raise
    yield made
    with django_db_blocker.unblock():
        transaction.set_rollback(True)
        outer.__exit__(None, None, None)


def _build_city() -> dict:
    from datetime import timedelta

    from django.utils import timezone

    from cityops.accounts.demo import load_demo_users, load_departments, load_district_units, load_roles
    from cityops.accounts.models import User
    from cityops.cases import services as cases
    from cityops.cases.demo import load_categories
    from cityops.cases.models import Case, Category, SupervisionOrder
    from cityops.dashboard.briefing_models import Briefing
    from cityops.dashboard.models import EarlyWarning
    from cityops.disputes import demo as disputes_demo
    from cityops.disputes.models import Dispute
    from cityops.geo.demo import load_demo_geography
    from cityops.geo.models import Region
    from cityops.iot.demo import load_demo as load_iot
    from cityops.iot.models import Device, Rule
    from cityops.iot.services import alarm_raise
    from cityops.stability import demo as stability_demo
    from cityops.stability.models import Decision

    if not Region.objects.filter(code="420100").exists():  # a transactional test flushed the session's city
        load_demo_geography()
    load_roles()
    load_departments()
    load_categories()
    load_district_units()
    load_demo_users(password=PASSWORD)
    disputes_demo.load_demo()
    disputes_demo.load_demo_users(password=PASSWORD)
    stability_demo.load_demo()
    stability_demo.load_demo_decisions()
    load_iot(devices=3)
    users = {u.username: u for u in User.objects.filter(username__in=ROLES)}
    for user in users.values():
        user.set_password(PASSWORD)
        user.save(update_fields=["password"])
    codes = []
    for i, (lon, lat) in enumerate([(114.3162, 30.5434), (114.2734, 30.5951), (114.3055, 30.5928)]):
        codes.append(cases.case_create(actor=users["resident"], category="E0101", lon=lon, lat=lat,
                                       description=f"测试 {i}", reporter_phone="13800000000").case.code)
    cases.case_register(case=Case.objects.get(code=codes[1]), actor=users["operator"])
    device = Device.objects.order_by("code").first()
    rule = Rule.objects.filter(metric__in=list(device.metrics or {})).first() or Rule.objects.first()
    alarm = alarm_raise(device_id=device.pk, rule=rule, value=999.0, ts=timezone.now())
    now = timezone.now()
    warning = EarlyWarning.objects.create(
        category=Category.objects.get(code="E0101"), region_code="420106", region_level="district",
        region_name="武昌区", started_at=now - timedelta(hours=1), window_minutes=60, observed=9, expected=1.5,
        score=9.1,
    )
    briefing = Briefing.objects.create(kind="daily", period_start=now.date(), period_end=now.date(),
                                       region_level="city", region_name="武汉市", figures={})
    order = SupervisionOrder.objects.order_by("pk").first()
    return {
        "case": codes[1],
        "device": device.code,
        "alarm": alarm.pk,
        "dispute": Dispute.objects.order_by("pk").values_list("pk", flat=True).first() or 1,
        "decision": Decision.objects.order_by("pk").values_list("pk", flat=True).first() or 1,
        "warning": warning.pk,
        "briefing": briefing.pk,
        "order": order.pk if order else 1,
        "category": "E0101",
    }


ROLES = ["anonymous", "admin", "leader", "operator", "shiftlead", "dispatcher", "supervisor", "district_wc",
         "street_sgh", "community_dt", "gridworker", "dept_hw", "resident", "centre_hy", "mediator_hy", "police_hy",
         "grid_hy", "stability_hy"]


# --- The routes -----------------------------------------------------------------------------------------------
def _page_routes(patterns=None, prefix=""):
    for p in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(p, URLResolver):
            yield from _page_routes(p.url_patterns, prefix + str(p.pattern))
        elif not (prefix + str(p.pattern)).startswith(("admin/", "api/v1/", "media/")):
            yield prefix + str(p.pattern)


# (part of the route, parameter) → the city's object that fills it; the first that matches.
REAL = [
    ("devices", "code", "device"), ("services", "code", "category"), ("regions", "code", "420106"),
    ("", "code", "case"), ("alarm", "pk", "alarm"), ("alarm", "alarm_id", "alarm"),
    ("warning", "pk", "warning"), ("warning", "warning_id", "warning"), ("briefing", "pk", "briefing"),
    ("briefing", "briefing_id", "briefing"), ("disputes", "pk", "dispute"), ("", "dispute_id", "dispute"),
    ("stability", "pk", "decision"), ("", "decision_id", "decision"), ("supervision", "pk", "order"),
    ("", "order_id", "order"), ("briefing", "fmt", "pdf"), ("", "fmt", "json"), ("", "action", "close"),
    ("", "z", "12"), ("", "x", "3370"), ("", "y", "1680"), ("", "document", "agreement"), ("", "kind", "daily"),
]


def _real(route: str, name: str, city: dict) -> str:
    for part, param, value in REAL:
        if part in route and param == name:
            return str(city.get(value, value))
    return "1"


def _fill(route: str, city: dict, hostile: tuple[str, str] | None = None) -> str:
    """The route's URL, its parameters filled from the city — or one of them (`hostile`: name, kind) hostile."""

    def value(name: str) -> str:
        if hostile and hostile[0] == name:
            return KINDS[hostile[1]].replace("\x00", "%00") if hostile[1] == "nul" else KINDS[hostile[1]]
        return _real(route, name, city)

    url = "/" + route.replace("^", "").replace("$", "").replace("\\.", ".").lstrip("/")
    url = re.sub(r"\(\?P<(\w+)>[^)]*\)", lambda m: value(m.group(1)), url)
    url = re.sub(r"<(?:\w+:)?(\w+)>", lambda m: value(m.group(1)), url)
    return re.sub(r"\{(\w+)\}", lambda m: value(m.group(1)), url)


def _params(route: str) -> list[str]:
    return [a or b or c for a, b, c in re.findall(r"<(?:\w+:)?(\w+)>|\{(\w+)\}|\(\?P<(\w+)>", route)]


def _api_operations() -> list[dict]:
    from cityops.api import api

    document = api.get_openapi_schema()
    components = document.get("components", {}).get("schemas", {})
    operations = []
    for path, methods in document["paths"].items():
        for method, op in methods.items():
            body = (op.get("requestBody") or {}).get("content", {})
            content_type, schema = next(iter(body.items()), (None, {}))
            schema = schema.get("schema", {}) if schema else {}
            if "$ref" in schema:
                schema = components.get(schema["$ref"].rsplit("/", 1)[-1], {})
            operations.append({
                "route": path, "method": method.upper(),
                "query": [p["name"] for p in op.get("parameters", []) if p["in"] == "query"],
                "body_type": content_type, "fields": _fields(schema, components),
            })
    return operations


def _fields(schema: dict, components: dict) -> dict[str, str]:
    """name → JSON type of a body's properties (a $ref'd object's own; arrays and objects as such)."""
    out = {}
    for name, prop in (schema.get("properties") or {}).items():
        if "$ref" in prop:
            out[name] = "object"
            continue
        kinds = [prop.get("type")] + [p.get("type") for p in prop.get("anyOf", [])]
        out[name] = next((k for k in kinds if k and k != "null"), "string")
    return out


# --- The requests ---------------------------------------------------------------------------------------------
@functools.cache
def _quoted(name: str, kind: str) -> str:
    return f"{quote(name)}={quote(SHAPED.get(name, {}).get(kind, KINDS[kind]), safe='')}"


def _query(names, kind: str) -> str:
    if kind == "long":  # 100 kB in a few parameters is enough: the parser and the view see the same
        names = names[:LONG_FIELDS]
    return "&".join(_quoted(name, kind) for name in names)


def _json_value(kind: str, json_type: str):
    if kind == "huge":
        return 10**30
    if kind == "negative":
        return -1
    if kind == "nul":
        return "a\x00b"
    if kind == "geojson":
        return {"type": "Polygon", "coordinates": [[["a", None]]]}
    if kind == "wrong_type":
        return {"string": 7, "integer": "seven", "number": [1], "boolean": "ja", "array": {"a": 1}}.get(json_type, 7)
    return KINDS[kind]


def _plausible(fields: dict[str, str], city: dict) -> dict:
    """A body that looks right to the schema, for the duplicate submission."""
    sample = {"string": "测试", "integer": 1, "number": 1.0, "boolean": True, "array": [], "object": {}}
    body = {name: sample.get(t, "测试") for name, t in fields.items()}
    for name, value in (("lon", 114.3055), ("lat", 30.5928), ("category", city["category"]), ("phone", "13800000000"),
                        ("reporter_phone", "13800000000"), ("region_code", "420106")):
        if name in body:
            body[name] = value
    return body


def _body_requests(method: str, url: str, fields, city, *, api_body_type=None) -> list[tuple]:
    """(method, url, body, content type) for the hostile bodies of one route."""
    reqs = []
    names = list(fields) or ["description", "note", "reason", "lon", "lat", "category", "answer", "text"]
    for kind in ("huge", "negative", "inf", "nan", "bad_date", "unknown", "long", "empty", "nul"):
        chosen = names[:LONG_FIELDS] if kind == "long" else names
        form = {name: SHAPED.get(name, {}).get(kind, KINDS[kind]) for name in chosen}
        as_json = {name: _json_value(kind, (fields or {}).get(name, "string")) for name in chosen}
        if api_body_type == "application/json":
            reqs.append((method, url, json.dumps(as_json), "application/json"))
        else:
            reqs.append((method, url, form, "form"))
    as_wrong = {name: _json_value("wrong_type", (fields or {}).get(name, "string")) for name in names}
    as_geo = {name: _json_value("geojson", "object") for name in names}
    first = json.dumps(names[0])
    reqs += [
        (method, url, json.dumps(as_wrong), "application/json"),
        (method, url, json.dumps(as_geo), "application/json"),
        (method, url, f'{{{first}: NaN}}', "application/json"),
        (method, url, f'{{{first}: 1e309, "lon": 1e309, "lat": -1e309}}', "application/json"),
        (method, url, f'{{{first}: ', "application/json"),
        (method, url, "[1, 2]", "application/json"),
        (method, url, "", "application/json"),
        (method, url, "", "application/x-www-form-urlencoded"),
        (method, url, "lon=1&lat=2", "text/plain"),
        (method, url, '<?xml version="1.0"?><a>1</a>', "application/xml"),
        (method, url, json.dumps(_plausible(fields or {}, city)), "twice"),
    ]
    if api_body_type and api_body_type != "application/json":  # a form the API takes as multipart: send JSON
        reqs.append((method, url, {name: KINDS["huge"] for name in names} | {"photo": _NotAnImage()}, "form"))
    return reqs


class _NotAnImage:
    """An uploaded 'photo' that is text (Django's test client sends an object with read() and name as a file)."""

    name = "photo.jpg"

    def read(self):
        return b"not an image"


FIELD_NAME = re.compile(rb'<(?:input|select|textarea)[^>]*\sname="([\w.-]+)"')


def _variants(city: dict, admin) -> list[tuple[tuple, list[tuple]]]:
    """Per route: (its plain request, its hostile requests). A page's hostile query strings and bodies use the
    names of its form fields (as the administrator sees it) before the common ones."""
    out = []
    client = Client(raise_request_exception=False)
    client.force_login(admin)
    for route in sorted(set(_page_routes())):
        url = _fill(route, city)
        response = client.get(url)
        body = b"" if response.streaming else response.content
        _close(response)
        fields = dict.fromkeys(n.decode() for n in FIELD_NAME.findall(body) if n != b"csrfmiddlewaretoken")
        names = list(dict.fromkeys([*fields, *COMMON_QUERY]))
        hostile = [("GET", f"{url}?{_query(names, kind)}", None, None) for kind in KINDS]
        hostile += [("GET", _fill(route, city, (name, kind)), None, None)
                    for name in _params(route) for kind in PATH_KINDS]
        hostile += [(method, url, None, None) for method in WRONG_METHODS]
        hostile += _body_requests("POST", url, dict.fromkeys(fields, "string"), city)
        out.append((("GET", url, None, "page"), hostile))
    for op in _api_operations():
        route = op["route"]
        url = _fill(route, city)
        plain = (op["method"], url, "{}" if op["body_type"] == "application/json" else None,
                 "application/json" if op["body_type"] == "application/json" else None)
        hostile = [(op["method"], f"{url}?{_query(op['query'], kind)}", *plain[2:]) for kind in KINDS if op["query"]]
        hostile += [(op["method"], _fill(route, city, (name, kind)), *plain[2:])
                    for name in _params(route) for kind in PATH_KINDS]
        hostile += [(method, url, None, None) for method in WRONG_METHODS if method != op["method"]]
        if op["body_type"]:
            hostile += _body_requests(op["method"], url, op["fields"], city, api_body_type=op["body_type"])
        out.append((plain, hostile))
    return out


@pytest.fixture(scope="module")
def _worked_out() -> list:
    return []


@pytest.fixture
def sweep(city, db, _worked_out):
    """The requests, worked out by the module's first test (in a test's transaction: the test client's requests
    close the connection outside one) and kept for the others."""
    from cityops.accounts.models import User

    if not _worked_out:
        sid = transaction.savepoint()
        _worked_out.extend(_variants(city, User.objects.get(username="admin")))
        transaction.savepoint_rollback(sid)
    return _worked_out


# --- The checks -----------------------------------------------------------------------------------------------
def _send(client: Client, method: str, url: str, body, content_type):
    path, _, query = url.partition("?")
    extra = {"QUERY_STRING": query} if query else {}
    if content_type in (None, "page"):
        return client.generic(method, path, **extra)
    if content_type == "form":
        return client.post(path, body, **extra)
    if content_type == "twice":
        content_type = "application/json"
    return client.generic(method, path, body, content_type=content_type, **extra)


def _close(response) -> None:
    """Ends a streamed answer (the live feed) as a server does, but keeps the connection: the test client closes a
    streamed response's connection at its end, and with it the module's transaction."""
    if response.streaming:
        signals.request_finished.disconnect(close_old_connections)
        try:
            response.close()
        finally:
            signals.request_finished.connect(close_old_connections)


def _problem(method: str, url: str, response) -> str | None:
    status = response.status_code
    if status >= 500:
        return f"{status}"
    if status < 400 or method == "HEAD":
        return None
    content_type = response.get("Content-Type", "")
    body = b"" if response.streaming else response.content
    if url.startswith("/open311/"):  # the protocol's own error document, in JSON or XML: code and description
        return None if b"description" in body else f"{status} not Open311's error document: {body[:120]!r}"
    if url.startswith("/api/") or content_type.startswith("application/json"):
        try:
            data = json.loads(body)
        except ValueError:
            return f"{status} not JSON ({content_type})"
        if not (isinstance(data, dict) and data.get("code") and data.get("message") and data.get("message_en")):
            return f"{status} without code/message/message_en: {body[:120]!r}"
        return None
    # Our error page, or a page of ours that says what was wrong (a form shown again with its error).
    if b'class="error-page"' not in body and not (b"<!doctype html>" in body and b'role="alert"' in body):
        return f"{status} not our error page ({content_type}, {len(body)} bytes: {body[:80]!r})"
    return None


def _short(url: str) -> str:
    return re.sub(r"x{50,}", "x…", url.replace(HUGE, "1e30"))[:160]


@pytest.mark.parametrize("role", ROLES)
def test_every_route_answers_hostile_input_with_a_coded_4xx(role, sweep, db):
    from cityops.accounts.models import User

    client = Client(raise_request_exception=True)
    if role != "anonymous":
        client.force_login(User.objects.get(username=role))
    me = ROLES.index(role)
    failures, sent, slowest, api_answers = [], 0, [], 0
    for index, (plain, hostile) in enumerate(sweep):
        mine = [plain] + [r for i, r in enumerate(hostile) if (i + index) % len(ROLES) == me]
        for method, url, body, content_type in mine:
            sid, started = transaction.savepoint(), time.perf_counter()
            try:
                responses = [_send(client, method, url, body, content_type)]
                if content_type == "twice":  # a duplicate submission
                    responses.append(_send(client, method, url, body, content_type))
            except Exception as exc:  # noqa: BLE001 - every exception is a finding
                failures.append(f"{method} {_short(url)} [{content_type}]: {type(exc).__name__}: {exc}"[:400])
                responses = []
            finally:
                transaction.savepoint_rollback(sid)
            slowest = sorted([*slowest, (time.perf_counter() - started, method, _short(url)[:100])])[-3:]
            sent += len(responses)
            for response in responses:
                _close(response)
                api_answers += url.startswith("/api/v1/") and response.status_code != 404
                problem = _problem(method, url, response)
                if problem:
                    failures.append(f"{method} {_short(url)} [{content_type}]: {problem}")
    print(f"{role}: {sent} requests; slowest:", "; ".join(f"{s:.2f} s {m} {u}" for s, m, u in reversed(slowest)))
    assert sent > 300
    assert api_answers > 150, "the API's routes were not reached"
    assert not failures, f"{len(failures)} of {sent} requests:\n" + "\n".join(failures)
