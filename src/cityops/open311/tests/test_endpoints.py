"""Every GeoReport v2 endpoint and its errors, in XML and JSON (RULES.md §8)."""

import json
import xml.etree.ElementTree as ET
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from cityops.cases import services as cs
from cityops.cases.models import Case
from cityops.core import roles
from cityops.open311.models import Open311Request

from .conftest import JIANGAN, ZHONGNAN

pytestmark = pytest.mark.django_db
FORMATS = ["xml", "json"]


def parse(response):
    if response["Content-Type"].startswith("application/json"):
        return json.loads(response.content)
    assert response["Content-Type"] == "text/xml; charset=utf-8"
    assert response.content.startswith(b'<?xml version="1.0" encoding="utf-8"?>')
    return ET.fromstring(response.content)


def errors_of(response, fmt):
    body = parse(response)
    if fmt == "json":
        return [(e["code"], e["description"]) for e in body]
    assert body.tag == "errors"
    return [(int(e.findtext("code")), e.findtext("description")) for e in body.findall("error")]


def requests_of(response, fmt):
    body = parse(response)
    if fmt == "json":
        return body
    assert body.tag == "service_requests"
    return [{child.tag: child.text for child in r} for r in body.findall("request")]


# --- discovery, services, definitions ---------------------------------------------------------------------
@pytest.mark.parametrize("fmt", FORMATS)
def test_discovery(client, city, fmt):
    for url in (f"/open311/v2/discovery.{fmt}", f"/open311/discovery.{fmt}"):
        body = parse(client.get(url))
        if fmt == "json":
            assert body["endpoints"][0]["specification"] == "http://wiki.open311.org/GeoReport_v2"
            assert body["endpoints"][0]["formats"] == ["text/xml", "application/json"]
            assert body["endpoints"][0]["url"].endswith("/open311/v2")
        else:
            assert body.tag == "discovery"
            assert [f.text for f in body.iter("format")] == ["text/xml", "application/json"]
            assert body.findtext("key_service")


@pytest.mark.parametrize("fmt", FORMATS)
def test_services_come_from_the_taxonomy(client, city, fmt):
    body = parse(client.get(f"/open311/v2/services.{fmt}"))
    services = body if fmt == "json" else [{c.tag: c.text for c in s} for s in body.findall("service")]
    by_code = {s["service_code"]: s for s in services}
    assert len(by_code) == 38
    manhole = by_code["C0101"]
    assert manhole["service_name"] == "井盖破损缺失"
    assert manhole["metadata"] in (True, "true")
    assert by_code["E0101"]["metadata"] in (False, "false")
    assert manhole["type"] == "realtime" and manhole["group"] == "公用设施"


def test_services_in_english_with_accept_language(client, city):
    body = json.loads(client.get("/open311/v2/services.json", HTTP_ACCEPT_LANGUAGE="en").content)
    assert {s["service_code"]: s["service_name"] for s in body}["C0101"] == "Damaged or missing manhole cover"


@pytest.mark.parametrize("fmt", FORMATS)
def test_service_definition(client, city, fmt):
    body = parse(client.get(f"/open311/v2/services/C0101.{fmt}"))
    if fmt == "json":
        attr = body["attributes"][0]
        assert body["service_code"] == "C0101"
        assert attr["code"] == "cover_state" and attr["datatype"] == "singlevaluelist"
        assert attr["required"] is True and attr["variable"] is True and attr["order"] == 1
        assert {"key": "missing", "name": "缺失"} in attr["values"]
    else:
        assert body.tag == "service_definition"
        attr = body.find("attributes/attribute")
        assert attr.findtext("code") == "cover_state" and attr.findtext("required") == "true"
        assert [v.findtext("key") for v in attr.findall("values/value")] == ["missing", "broken", "displaced", "sunken"]


@pytest.mark.parametrize("fmt", FORMATS)
def test_unknown_service_is_404(client, city, fmt):
    response = client.get(f"/open311/v2/services/X9999.{fmt}")
    assert response.status_code == 404
    code, description = errors_of(response, fmt)[0]
    assert code == 404 and "X9999" in description and "not found" in description


@pytest.mark.parametrize("fmt", FORMATS)
def test_other_jurisdiction_is_404_and_empty_or_ours_is_fine(client, city, fmt):
    assert client.get(f"/open311/v2/services.{fmt}?jurisdiction_id=sfgov.org").status_code == 404
    assert client.get(f"/open311/v2/services.{fmt}?jurisdiction_id=").status_code == 200
    assert client.get(f"/open311/v2/services.{fmt}?jurisdiction_id=WWW.Wuhan.gov.cn").status_code == 200


def test_jurisdiction_is_a_setting(client, city, settings):
    settings.CITYOPS_OPEN311_JURISDICTION = "city.example.org"
    assert client.get("/open311/v2/services.xml?jurisdiction_id=city.example.org").status_code == 200
    assert client.get("/open311/v2/services.xml?jurisdiction_id=wuhan.gov.cn").status_code == 404


def test_unsupported_format_is_a_400_xml_error(client, city):
    response = client.get("/open311/v2/services.html")
    assert response.status_code == 400
    assert errors_of(response, "xml")[0][0] == 400


# --- POST requests ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("fmt", FORMATS)
def test_post_creates_an_ordinary_case(post_request, fmt):
    response = post_request(fmt, email="zhang@example.com", first_name="三", last_name="张", phone="13812345678",
                            device_id="dev-1", account_id="acc-9", media_url="https://img.example.com/a.jpg")
    assert response.status_code == 200
    item = requests_of(response, fmt)[0]
    case = Case.objects.get(code=item["service_request_id"])
    assert "token" not in item
    assert case.source == "open311" and case.state == "reported" and case.category.code == "C0101"
    assert case.district_code == "420106" and case.reporter_phone == "13812345678"
    assert case.deadline_at is not None  # the registration clock runs
    link = Open311Request.objects.get(case=case)
    assert link.attributes == {"cover_state": "missing"} and link.email == "zhang@example.com"
    assert item["account_id"] in ("acc-9",)


def test_attribute_encodings_multivalue_and_lon_alias(post_request):
    response = post_request(
        "json", service_code="E0501", **{"attribute[cover_state]": None, "attribute[water_depth_cm]": "35,5",
                                         "attribute[passable][]": ["pedestrian", "bus"], "attribute[fixmystreet_id]": "77"},
        long=None, lon=ZHONGNAN[1],
    )
    assert response.status_code == 200, response.content
    link = Open311Request.objects.get(case__code=json.loads(response.content)[0]["service_request_id"])
    assert link.attributes == {"water_depth_cm": 35.5, "passable": ["pedestrian", "bus"]}


@pytest.mark.parametrize("fmt", FORMATS)
def test_post_errors(post_request, client, fmt):
    cases = [
        ({"api_key": None}, 403, "api_key"),
        ({"api_key": "o311_nothing_here"}, 403, "api_key"),
        ({"service_code": None}, 400, "service_code"),
        ({"service_code": "Z0000"}, 404, "Z0000"),
        ({"attribute[cover_state]": None}, 400, "cover_state"),
        ({"attribute[cover_state]": "stolen"}, 400, "cover_state"),
        ({"lat": None, "long": None}, 400, "location"),
        ({"long": None}, 400, "lat and long"),
        ({"lat": "abc"}, 400, "lat"),
        ({"lat": "40.0", "long": "116.4"}, 400, "outside"),
        ({"media_url": "javascript:alert(1)"}, 400, "media_url"),
        ({"description": "x" * 4001}, 400, "4,000"),
        ({"jurisdiction_id": "sfgov.org"}, 404, "jurisdiction"),
        ({"address_id": "999999", "lat": None, "long": None}, 404, "address_id"),
    ]
    for fields, status, words in cases:
        response = post_request(fmt, **fields)
        assert response.status_code == status, (fields, response.content)
        code, description = errors_of(response, fmt)[0]
        assert code == status and words in description, (fields, description)
    assert Case.objects.count() == 0


def test_revoked_key_is_403(post_request, o311_key):
    from cityops.open311.models import Open311Client
    from cityops.open311.services import client_revoke

    client_revoke(client=Open311Client.objects.get())
    assert post_request().status_code == 403


def test_strings_with_spaces_and_comma_decimals_address_and_region_id(post_request):
    assert post_request(lat=" 30,5373 ", long=" 114,3362 ").status_code == 200
    assert post_request(lat=None, long=None, address_string="武昌区中南路街道").status_code == 200
    by_region = post_request(lat=None, long=None, address_id="420106")
    assert by_region.status_code == 200
    case = Case.objects.get(code=requests_of(by_region, "xml")[0]["service_request_id"])
    assert case.district_code == "420106"


def test_api_key_in_the_query_string_and_json_body(client, o311_key):
    # The python `open311` package puts api_key and jurisdiction_id in the POST URL's query string.
    response = client.post(f"/open311/v2/requests.xml?api_key={o311_key}&jurisdiction_id=wuhan.gov.cn",
                           {"service_code": "E0101", "lat": ZHONGNAN[0], "long": ZHONGNAN[1], "description": "垃圾"})
    assert response.status_code == 200
    response = client.post("/open311/v2/requests.json", json.dumps({
        "api_key": o311_key, "service_code": "C0101", "lat": 30.5373, "long": 114.3362,
        "attribute": {"cover_state": "broken"}}), content_type="application/json")
    assert response.status_code == 200, response.content


def test_empty_description_is_filled_from_the_service(post_request):
    response = post_request("json", description="")
    case = Case.objects.get(code=json.loads(response.content)[0]["service_request_id"])
    assert case.description.startswith("井盖破损缺失（Open311）") and "cover_state=missing" in case.description


def test_rate_limit_per_client(post_request, settings):
    settings.CITYOPS_OPEN311_RATE_LIMIT_PER_MINUTE = 2
    from django.core.cache import cache

    cache.clear()
    assert [post_request().status_code for _ in range(3)] == [200, 200, 429]
    response = post_request("json")
    assert response.status_code == 429 and response["Retry-After"]
    assert errors_of(response, "json")[0][0] == 429


def test_batch_type_answers_a_token_and_tokens_resolve(post_request, client, settings):
    settings.CITYOPS_OPEN311_TYPE = "batch"
    item = requests_of(post_request("xml"), "xml")[0]
    assert "service_request_id" not in item and item["token"]
    for fmt in FORMATS:
        found = requests_of(client.get(f"/open311/v2/tokens/{item['token']}.{fmt}"), fmt)[0]
        assert found["service_request_id"] == Case.objects.get().code and found["token"] == item["token"]
        response = client.get(f"/open311/v2/tokens/nope.{fmt}")
        assert response.status_code == 404 and errors_of(response, fmt)[0][0] == 404


def test_post_is_csrf_exempt(o311_key, city):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    response = strict.post("/open311/v2/requests.xml", {"api_key": o311_key, "service_code": "E0101",
                                                        "lat": ZHONGNAN[0], "long": ZHONGNAN[1], "description": "垃圾"})
    assert response.status_code == 200


# --- GET requests ------------------------------------------------------------------------------------------
def _post(post_request, **fields):
    return requests_of(post_request("json", **fields), "json")[0]["service_request_id"]


@pytest.mark.parametrize("fmt", FORMATS)
def test_get_requests_never_shows_personal_data(post_request, client, fmt):
    _post(post_request, email="li@example.com", first_name="四", last_name="李", phone="13912345678",
          description="井盖没了，我的电话13912345678，邮箱 li@example.com", device_id="dev-x")
    response = client.get(f"/open311/v2/requests.{fmt}")
    text = response.content.decode()
    for secret in ("13912345678", "li@example.com", "dev-x", "李"):
        assert secret not in text
    item = requests_of(response, fmt)[0]
    assert "139****5678" in item["description"]
    assert item["status"] == "open" and item["service_code"] == "C0101"
    assert float(item["lat"]) == pytest.approx(30.5373) and float(item["long"]) == pytest.approx(114.3362)
    for field in ("requested_datetime", "updated_datetime", "expected_datetime"):
        assert item[field][-6:] == "+08:00", field  # ISO 8601 with the zone


@pytest.mark.parametrize("fmt", FORMATS)
def test_get_request_by_id_and_404(post_request, client, fmt):
    code = _post(post_request)
    items = requests_of(client.get(f"/open311/v2/requests/{code}.{fmt}"), fmt)
    assert len(items) == 1 and items[0]["service_request_id"] == code
    response = client.get(f"/open311/v2/requests/2020999999.{fmt}")
    assert response.status_code == 404 and errors_of(response, fmt)[0][0] == 404


@pytest.mark.parametrize("fmt", FORMATS)
def test_get_requests_filters(post_request, client, fmt):
    manhole = _post(post_request)
    garbage = _post(post_request, service_code="E0101", **{"attribute[cover_state]": None})
    far = _post(post_request, service_code="E0101", lat=JIANGAN[0], long=JIANGAN[1], **{"attribute[cover_state]": None})
    Case.objects.filter(code=far).update(created_at=timezone.now() - timedelta(days=200))

    def ids(query):
        response = client.get(f"/open311/v2/requests.{fmt}?{query}")
        assert response.status_code == 200, response.content
        return {r["service_request_id"] for r in requests_of(response, fmt)}

    assert ids("") == {manhole, garbage}  # the default window is the last 90 days
    assert ids("service_code=E0101") == {garbage}
    assert ids("service_code=E0101,C0101") == {manhole, garbage}
    assert ids("status=open") == {manhole, garbage}
    assert ids("status=Closed") == set()
    assert ids("status=OPEN,closed") == {manhole, garbage}
    # service_request_id overrides every other argument, the date window included
    assert ids(f"service_request_id={far},{manhole}&service_code=C0101&status=closed") == {far, manhole}
    old = (timezone.now() - timedelta(days=210)).strftime("%Y-%m-%dT%H:%M:%S")
    assert ids(f"start_date={old}%2B08:00&end_date={(timezone.now() - timedelta(days=150)).strftime('%Y-%m-%dT%H:%M:%SZ')}") == {far}
    # an unencoded "+08:00" arrives as " 08:00"
    assert ids(f"start_date={old}+08:00") == {far}
    assert ids("page_size=1") | ids("page_size=1&page=2") == {manhole, garbage}


@pytest.mark.parametrize("fmt", FORMATS)
def test_get_requests_errors(client, city, fmt):
    for query, words in (
        ("start_date=2026-01-01T00:00:00Z&end_date=2026-06-01T00:00:00Z", "90 days"),
        ("start_date=yesterday", "W3C"),
        ("start_date=2026-02-01T00:00:00Z&end_date=2026-01-01T00:00:00Z", "before"),
        ("status=pending", "status"),
        ("page_size=0", "page"),
        ("page=" + "9" * 30, "page may not be over"),  # an offset past the database's integer: a 500 before
        ("page=9223372036854775807", "page may not be over"),
    ):
        response = client.get(f"/open311/v2/requests.{fmt}?{query}")
        assert response.status_code == 400, query
        assert words in errors_of(response, fmt)[0][1]


def test_at_most_1000_rows(post_request, client, settings):
    settings.CITYOPS_OPEN311_MAX_ROWS = 3
    for _ in range(4):
        _post(post_request)
    assert len(requests_of(client.get("/open311/v2/requests.json"), "json")) == 3
    assert len(requests_of(client.get("/open311/v2/requests.json?page_size=50"), "json")) == 3


def test_private_categories_are_not_listed(post_request, client):
    code = _post(post_request, service_code="E0604", description="老板拖欠工资三个月", **{"attribute[cover_state]": None})
    assert requests_of(client.get("/open311/v2/requests.json"), "json") == []
    assert client.get(f"/open311/v2/requests/{code}.json").status_code == 404


def test_control_characters_never_break_the_xml(post_request, client):
    _post(post_request, description="井盖\x07没了\x1b")
    item = requests_of(client.get("/open311/v2/requests.xml"), "xml")[0]
    assert item["description"] == "井盖没了"


# --- the request follows the case through the full cycle ---------------------------------------------------
@pytest.fixture
def cycle_users(make_user):
    return {
        "operator": make_user("o311_op", roles.OPERATOR),
        "dispatcher": make_user("o311_disp", roles.DISPATCHER),
        "handler": make_user("o311_sw", roles.DEPT_HANDLER, org_units=["SW"]),
        "grid": make_user("o311_grid", roles.GRID_WORKER, region_codes=["420106"]),
        "lead": make_user("o311_lead", roles.SHIFT_LEAD),
    }


def close_case(case, u, result="已补装新井盖"):
    case = cs.case_register(case=case, actor=u["operator"])
    case = cs.case_dispatch(case=case, actor=u["dispatcher"], department="SW")
    case = cs.case_accept(case=case, actor=u["handler"])
    case = cs.case_handle(case=case, actor=u["handler"], result=result)
    case = cs.case_verify(case=case, actor=u["grid"], passed=True)
    return cs.case_close(case=case, actor=u["lead"])


@pytest.mark.parametrize("fmt", FORMATS)
def test_status_and_notes_follow_the_case(post_request, client, cycle_users, fmt):
    code = _post(post_request)
    case = Case.objects.get(code=code)
    case = cs.case_register(case=case, actor=cycle_users["operator"])
    case = cs.case_dispatch(case=case, actor=cycle_users["dispatcher"], department="SW")
    item = requests_of(client.get(f"/open311/v2/requests/{code}.{fmt}?extensions=true"), fmt)[0]
    assert item["status"] == "open" and item["status_notes"] == "已派给处理部门" and item["agency_responsible"] == "水务局"
    case = cs.case_accept(case=case, actor=cycle_users["handler"])
    case = cs.case_handle(case=case, actor=cycle_users["handler"], result="已补装新井盖，联系人 13800001111")
    case = cs.case_verify(case=case, actor=cycle_users["grid"], passed=True)
    case = cs.case_close(case=case, actor=cycle_users["lead"])
    item = requests_of(client.get(f"/open311/v2/requests/{code}.{fmt}"), fmt)[0]
    assert item["status"] == "closed"
    assert item["status_notes"].startswith("已处理完毕：已补装新井盖") and "13800001111" not in item["status_notes"]
    assert not item.get("expected_datetime")
    assert {r["service_request_id"] for r in requests_of(client.get(f"/open311/v2/requests.{fmt}?status=closed"), fmt)} == {code}


@pytest.mark.parametrize("fmt", FORMATS)
def test_servicerequestupdates(post_request, client, cycle_users, fmt):
    code = _post(post_request)
    close_case(Case.objects.get(code=code), cycle_users)
    response = client.get(f"/open311/v2/servicerequestupdates.{fmt}")
    body = parse(response)
    updates = body if fmt == "json" else [{c.tag: c.text for c in u} for u in body.findall("request_update")]
    assert [u["status"] for u in updates] == ["OPEN", "INVESTIGATING", "ACTION_SCHEDULED", "IN_PROGRESS", "FIXED", "FIXED", "FIXED"]
    assert all(u["service_request_id"] == code and u["update_id"] for u in updates)
    assert updates[4]["description"] == "已处理完毕：已补装新井盖"
    assert updates[-1]["external_status_code"] == "closed"
    later = timezone.now() + timedelta(hours=1)
    assert parse(client.get(f"/open311/v2/servicerequestupdates.json?start_date={later.isoformat().replace('+', '%2B')}")) == []
    response = client.get(f"/open311/v2/servicerequestupdates.{fmt}?start_date=2020-01-01T00:00:00Z&end_date=2021-01-01T00:00:00Z")
    assert response.status_code == 400 and "90" in errors_of(response, fmt)[0][1]


@pytest.mark.parametrize("fmt", FORMATS)
def test_post_servicerequestupdates_records_a_comment_without_changing_state(post_request, client, o311_key, fmt):
    code = _post(post_request)
    response = client.post(f"/open311/v2/servicerequestupdates.{fmt}", {
        "api_key": o311_key, "service_request_id": code, "status": "CLOSED", "description": "井盖附近又有人差点摔倒",
        "updated_datetime": "2026-05-01T10:00:00+08:00", "update_id_ext": "fms-1"})
    assert response.status_code == 200
    body = parse(response)
    update_id = body[0]["update_id"] if fmt == "json" else body.findtext("request_update/update_id")
    assert update_id
    assert Case.objects.get(code=code).state == "reported"
    updates = parse(client.get("/open311/v2/servicerequestupdates.json"))
    assert any(u["update_id"] == update_id and u["description"] == "井盖附近又有人差点摔倒" for u in updates)
    for fields, status in (({"api_key": ""}, 403), ({"service_request_id": "nope"}, 404), ({"description": ""}, 400)):
        data = {"api_key": o311_key, "service_request_id": code, "description": "x", **fields}
        response = client.post(f"/open311/v2/servicerequestupdates.{fmt}", data)
        assert response.status_code == status and errors_of(response, fmt)[0][0] == status


def test_cors_on_reads(client, city):
    assert client.get("/open311/v2/services.json")["Access-Control-Allow-Origin"] == "*"


# --- keys ---------------------------------------------------------------------------------------------------
def test_key_create_command_prints_the_key_once_and_stores_a_hash(city, capsys, post_request):
    from cityops.open311.models import Open311Client

    call_command("open311", "key", "create", "--name", "fixmystreet-wuhan")
    key = capsys.readouterr().out.strip()
    client = Open311Client.objects.get(name="fixmystreet-wuhan")
    assert key.startswith("o311_") and key not in client.key_hash and client.matches(key)
    assert post_request(api_key=key).status_code == 200
    call_command("open311", "key", "revoke", "--name", "fixmystreet-wuhan")
    assert post_request(api_key=key).status_code == 403
    call_command("open311", "key", "list")
    assert "revoked" in capsys.readouterr().out


def test_admin_creates_a_client_and_shows_the_key_once(admin_client, city):
    from cityops.open311.models import Open311Client

    response = admin_client.post("/admin/open311/open311client/add/", {"name": "wechat-mini", "contact": "x"}, follow=True)
    assert response.status_code == 200
    client = Open311Client.objects.get(name="wechat-mini")
    shown = [str(m) for m in response.context["messages"]]
    assert any(client.key_id in m for m in shown)
