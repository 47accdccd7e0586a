"""The operator's call screen: login and role, live suggestions (htmx partial), one-click accept."""

import json


def test_screen_needs_login(client):
    response = client.get("/hotline/")
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_screen_is_for_operators(wuhan, resident, client):
    client.force_login(resident)
    assert client.get("/hotline/").status_code == 403


def test_operator_sees_the_screen_with_local_leaflet(wuhan, operator, client):
    client.force_login(operator)
    response = client.get("/hotline/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "leaflet/leaflet.js" in html and "hotline/call.js" in html
    assert "http://" not in html.replace("http://testserver", "") and "https://" not in html


def test_suggestions_partial_then_one_click_accept(wuhan, model, operator, client):
    from cityops.cases.models import Case
    from cityops.hotline.models import HotlineCall

    client.force_login(operator)
    form = {"text": "喂你好，光谷广场这边下大雨积水好深，车子都熄火了", "address": "光谷广场", "caller_phone": "13900002222"}
    partial = client.post("/hotline/suggest/", form, HTTP_HX_REQUEST="true")
    assert partial.status_code == 200
    html = partial.content.decode()
    assert 'value="E0501"' in html and "洪山区" in html
    suggested = html.split('name="suggested" value="')[1].split('"')[0].replace("&quot;", '"')
    point = html.split('name="point" value="')[1].split('"')[0].replace("&quot;", '"')
    assert json.loads(point)["lon"] > 114
    response = client.post("/hotline/accept/", {**form, "category": "E0501", "kind": "urgent",
                                                 "suggested": suggested, "point": point})
    assert response.status_code == 302
    call = HotlineCall.objects.get()
    assert call.corrected is False
    case = Case.objects.get(code=call.case_code)
    assert (case.source, case.hotline_kind, case.district_code) == ("hotline", "urgent", "420111")


def test_empty_text_partial_and_bad_accept(wuhan, model, operator, client):
    client.force_login(operator)
    assert "请输入来电内容" in client.post("/hotline/suggest/", {"text": " "}).content.decode()
    response = client.post("/hotline/accept/", {"text": "", "category": "E0101", "kind": "complaint"})
    assert response.status_code == 400


def test_a_caller_who_stays_anonymous(wuhan, model, operator, make_user, client):
    """Issue 10 §3: the operator marks the call anonymous; the callback phone stays with intake — the department
    that gets the work order sees neither the number nor a masked trace of it."""
    from django.test import Client

    from cityops.cases import services as cs
    from cityops.cases.models import Case
    from cityops.hotline.models import HotlineCall

    client.force_login(operator)
    response = client.post("/hotline/accept/", {"text": "小区门口井盖不见了", "address": "武昌区中南路街道",
                                                 "caller_phone": "13900003333", "category": "C0101",
                                                 "kind": "complaint", "anonymous": "on"})
    assert response.status_code == 302
    case = Case.objects.get(code=HotlineCall.objects.get().case_code)
    assert case.anonymous and case.reporter_phone == "13900003333"
    case = cs.case_register(case=case, actor=operator)
    case = cs.case_dispatch(case=case, actor=make_user("h_disp", "dispatcher"), department=case.proposed_department.code)
    department = Client()
    department.force_login(make_user("h_dept", "dept_handler", org_units=[case.lead_department.code]))
    page = department.get(f"/cases/{case.code}/").content.decode()
    assert "匿名市民" in page and "3333" not in page
    assert "13900003333" in client.get(f"/cases/{case.code}/").content.decode()  # intake calls back
