"""No input gives a server error, and every error answer has the shape its caller reads: coded JSON under
/api/, the Open311 error document under /open311/, a page of ours in the user's language elsewhere."""

import json

import pytest
from django.test import Client, override_settings
from django.urls import path

from cityops.urls import urlpatterns as real_urlpatterns

pytestmark = pytest.mark.django_db


def boom(request):
    raise RuntimeError("a bug")


urlpatterns = [path("boom/", boom), path("api/v1/boom", boom), *real_urlpatterns]
handler500 = "cityops.core.views.server_error"


def coded(response, status, code=None):
    assert response.status_code == status, response.content[:300]
    assert response["Content-Type"].startswith("application/json"), response["Content-Type"]
    body = response.json()
    assert body["message"] and body["message_en"] and body["code"]
    if code:
        assert body["code"] == code, body
    return body


def branded_page(response, status):
    assert response.status_code == status
    assert response["Content-Type"].startswith("text/html")
    html = response.content.decode()
    assert "cityops" in html and f"<h1>{status}</h1>" in html and "Traceback" not in html
    return html


@pytest.fixture
def token_client(api_client_for, make_user):
    from cityops.core import roles

    return api_client_for(make_user("t_edge_operator", roles.OPERATOR))


def test_nul_in_query_refused_everywhere(token_client):
    # Public pages without login, Open311 and the API: 400 invalid_characters, never a server error.
    page = Client().get("/portal/track/?code=a%00")
    assert "invalid_characters" in branded_page(page, 400)
    o311 = Client().get("/open311/v2/requests.json?service_code=a%00")
    assert o311.status_code == 400 and o311.json()[0]["code"] == 400 and "NUL" in o311.json()[0]["description"]
    o311_xml = Client().get("/open311/v2/requests.xml?status=open%00")
    assert o311_xml.status_code == 400 and b"<errors>" in o311_xml.content
    coded(token_client.get("/api/v1/cases?q=a%00"), 400, "invalid_characters")


def test_nul_in_json_and_form_bodies(token_client):
    from cityops.cases.models import Case

    body = json.dumps({"category": "E0101", "description": "a\u0000b", "lon": 114.31, "lat": 30.55})
    assert "\\u0000" in body
    coded(token_client.post("/api/v1/cases", body, content_type="application/json"), 400, "invalid_characters")
    raw = b'{"category": "E0101", "description": "a\x00b"}'
    coded(token_client.post("/api/v1/cases", raw, content_type="application/json"), 400, "invalid_characters")
    assert not Case.objects.exists()
    # A backslash followed by the text "u0000" is not a NUL: that body gets past the edge.
    fine = json.dumps({"category": "NOPE", "description": "\\u0000"})
    assert coded(token_client.post("/api/v1/cases", fine, content_type="application/json"), 400)["code"] != "invalid_characters"
    form = Client().post("/accounts/login/", "username=a%00&password=b", content_type="application/x-www-form-urlencoded")
    branded_page(form, 400)


def test_multipart_without_boundary(token_client):
    r = token_client.post("/api/v1/cases/X/photos", b"--x\r\n", content_type="multipart/form-data")
    coded(r, 400, "invalid_multipart")
    r = token_client.post("/api/v1/iot/alarms/1/acknowledge", b"--x\r\n", content_type="multipart/form-data")
    coded(r, 400, "invalid_multipart")
    r = Client().post("/iot/alarms/1/acknowledge/", b"--x\r\n", content_type="multipart/form-data")
    branded_page(r, 400)


def test_body_types(token_client):
    body = json.dumps({"category": "E0101", "description": "x"})
    coded(token_client.post("/api/v1/cases", body, content_type="text/plain"), 415, "unsupported_media_type")
    r = token_client.generic("POST", "/api/v1/cases", body.encode())  # no Content-Type at all
    coded(r, 415, "unsupported_media_type")
    coded(token_client.post("/api/v1/cases", "{not json", content_type="application/json"), 400, "invalid_json")
    nan = '{"category": "E0101", "description": "x", "lon": NaN, "lat": Infinity}'
    coded(token_client.post("/api/v1/cases", nan, content_type="application/json"), 400, "invalid_number")


@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=1000)
def test_oversize_body_is_413(token_client):
    big = json.dumps({"category": "E0101", "description": "x" * 5000})
    coded(token_client.post("/api/v1/cases", big, content_type="application/json"), 413, "request_too_large")
    branded_page(Client().post("/accounts/login/", {"username": "x" * 5000}), 413)


def test_unknown_route_and_method_under_api(token_client):
    coded(token_client.get("/api/v1/no/such/thing"), 404, "not_found")
    r = token_client.delete("/api/v1/cases")
    coded(r, 405, "method_not_allowed")
    assert "GET" in r["Allow"]
    r = Client().get("/open311/v2/nothing.json")
    assert r.status_code == 404 and r.json()[0]["code"] == 404


def test_a_method_a_page_does_not_take_gets_our_page():
    """Django answers a view's refused method (require_POST, LogoutView's GET) with an empty 405: ours instead."""
    r = Client().get("/accounts/logout/")
    assert "method_not_allowed" in branded_page(r, 405) and "POST" in r["Allow"]
    r = Client().put("/portal/")
    assert "method_not_allowed" in branded_page(r, 405) and "GET" in r["Allow"]


def test_csrf_failure_is_coded_and_bilingual(make_user):
    from cityops.core import roles

    user = make_user("t_edge_csrf", roles.OPERATOR)
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    body = coded(client.post("/api/v1/cases", "{}", content_type="application/json"), 403, "csrf_failed")
    assert "CSRF" in body["message_en"] and "刷新" in body["message"]
    page = client.post("/accounts/logout/")
    assert "csrf_failed" in branded_page(page, 403)


def test_pages_answer_in_the_users_language():
    zh = branded_page(Client().get("/no-such-page/"), 404)
    assert "未找到该地址" in zh
    en = branded_page(Client(HTTP_ACCEPT_LANGUAGE="en").get("/no-such-page/"), 404)
    assert "No such address" in en.split("error-other")[0]


@override_settings(ROOT_URLCONF=__name__, DEBUG=False)
def test_server_error_is_ours():
    client = Client(raise_request_exception=False)
    assert "server_error" in branded_page(client.get("/boom/"), 500)
    with override_settings(TEMPLATES=[]):  # the page itself cannot be rendered: still ours, still bilingual
        bare = client.get("/boom/")
    assert "Internal server error" in branded_page(bare, 500)
    coded(client.get("/api/v1/boom"), 500, "server_error")
