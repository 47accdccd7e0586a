"""POST /api/v1/dispatch/suggest and /calls: answers, errors (400/401/403), a hotline work order created."""

import json

import pytest

URL = "/api/v1/dispatch/suggest"


def _post(client, url, body):
    return client.post(url, data=json.dumps(body), content_type="application/json")


def test_suggest_answers_top3_with_department_region_and_point(wuhan, model, operator, api_client_for):
    client = api_client_for(operator)
    response = _post(client, URL, {"text": "喂，你好，汉口火车站出站口那个井盖不见了，好危险", "address": "汉口火车站附近"})
    assert response.status_code == 200, response.content
    body = response.json()
    assert len(body["candidates"]) == 3
    first = body["candidates"][0]
    assert first == {"category": "C0101", "name": "井盖破损缺失", "department": "SW", "score": first["score"]}
    assert 0 < first["score"] <= 1
    assert body["region"]["district"] == {"code": "420103", "name": "江汉区"}
    assert set(body["point"]) == {"lon", "lat"}
    assert body["place"]["name"] == "汉口火车站"
    assert body["kind"] == "urgent"  # 井盖 is an urgent category


def test_suggest_lists_both_places_of_a_shared_name(wuhan, model, operator, api_client_for, client):
    """Issue 12 §6: 公园社区 is in 江岸区 and in 江汉区 — both are offered, no district is guessed; a street said
    the short way picks one and keeps the other as an alternative."""
    api = api_client_for(operator)
    body = _post(api, URL, {"text": "路灯坏了", "address": "公园社区门口"}).json()
    region = body["region"]
    assert region["ambiguous"] is True and region["district"] is None and body["point"] is None
    assert [c["district"]["name"] for c in region["candidates"]] == ["江岸区", "江汉区"]
    body = _post(api, URL, {"text": "路灯坏了", "address": "劳动街公园社区那边"}).json()
    assert body["region"]["ambiguous"] is False and body["region"]["district"]["name"] == "江岸区"
    client.force_login(operator)
    html = client.post("/hotline/suggest/", {"text": "路灯坏了", "address": "公园社区门口"}).content.decode()
    assert "同名地点" in html and "江岸区 › 劳动街办事处 › 公园社区" in html


def test_suggest_without_address_has_no_region(wuhan, model, operator, api_client_for):
    body = _post(api_client_for(operator), URL, {"text": "老板拖欠工资三个月了"}).json()
    assert body["candidates"][0]["category"] == "E0604"
    assert body["candidates"][0]["department"] == "RS"
    assert body["region"] is None and body["point"] is None


@pytest.mark.parametrize("text", ["", "   ", "喂？喂？你好"])
def test_an_empty_call_gets_no_category_and_is_not_urgent(wuhan, model, operator, api_client_for, text):
    """Issue 12 §7: an empty call is no urgent work order by default — no category, normal urgency, no type."""
    response = _post(api_client_for(operator), URL, {"text": text, "address": "武昌区"})
    assert response.status_code == 200
    body = response.json()
    assert body["empty"] is True and body["uncertain"] is True and body["category"] is None
    assert body["candidates"] == [] and body["urgency"] == "normal" and body["kind"] == ""
    assert body["region"]["district"]["name"] == "武昌区"


def test_text_too_long_is_400_with_a_code(wuhan, model, operator, api_client_for):
    response = _post(api_client_for(operator), URL, {"text": "井" * 4001})
    assert response.status_code == 400 and response.json()["code"] == "text_too_long"


def test_missing_text_field_is_400(wuhan, operator, api_client_for):
    response = _post(api_client_for(operator), URL, {"address": "武昌区"})
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_input"


def test_anonymous_is_401(client):
    response = _post(client, URL, {"text": "井盖不见了"})
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


def test_accept_creates_a_hotline_work_order_and_records_the_correction(wuhan, model, operator, api_client_for):
    from cityops.cases.models import Case
    from cityops.hotline.models import HotlineCall

    client = api_client_for(operator)
    text = "武昌区中南路街道这边路灯坏了好几天，晚上一片漆黑"
    suggestion = _post(client, URL, {"text": text, "address": "武昌区中南路街道"}).json()
    assert suggestion["candidates"][0]["category"] == "C0102"
    response = _post(client, "/api/v1/dispatch/calls", {
        "text": text, "category": "E0603", "kind": "complaint", "address": "武昌区中南路街道",
        "caller_phone": "13800001111", "suggested": suggestion["candidates"], "point": suggestion["point"],
    })
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["corrected"] is True
    case = Case.objects.get(code=body["case"])
    assert case.source == "hotline"
    assert case.hotline_kind == "complaint"
    assert case.category.code == "E0603"
    assert case.district_code == "420106"
    call = HotlineCall.objects.get(case_code=case.code)
    assert (call.suggested_category, call.chosen_category, call.operator) == ("C0102", "E0603", operator)


def test_accept_refused_to_a_resident(wuhan, model, resident, api_client_for):
    response = _post(api_client_for(resident), "/api/v1/dispatch/calls", {
        "text": "井盖不见了", "category": "C0101", "address": "武昌区中南路街道",
    })
    assert response.status_code == 403


def test_accept_unknown_category_is_400(wuhan, model, operator, api_client_for):
    response = _post(api_client_for(operator), "/api/v1/dispatch/calls", {
        "text": "井盖不见了", "category": "X9999", "address": "武昌区中南路街道",
    })
    assert response.status_code == 400
    assert response.json()["code"] == "unknown_category"
