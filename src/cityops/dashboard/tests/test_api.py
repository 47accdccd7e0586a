"""The warnings through the API and the pages, as each role: a district's people see only their district's
warnings (the list, one warning, its actions: 404 elsewhere); the shift lead acknowledges and closes (on the
timeline); a leader reads but cannot act; residents and departments see none. The page names the category and
the region and links the cases."""

from datetime import timedelta

import pytest

from cityops.core import roles
from cityops.core.timeline import timeline_for
from cityops.dashboard.models import EarlyWarning
from cityops.dashboard.services import early_warning_run

from .conftest import JIANGAN_STREET, NOW, WUCHANG_STREET

SPIKE = [2, 5, 8, 11, 14, 17, 20, 23, 26, 28]  # ten complaints in half an hour: a spike for the areas (score ≥ 8)


@pytest.fixture
def two_warnings(quiet_history, add_cases):
    add_cases("E0106", WUCHANG_STREET, [NOW - timedelta(minutes=m) for m in SPIKE])
    add_cases("E0106", JIANGAN_STREET, [NOW - timedelta(minutes=m) for m in SPIKE])
    early_warning_run(now=NOW)
    return EarlyWarning.objects.get(region_code="420106"), EarlyWarning.objects.get(region_code="420102")


@pytest.fixture
def users(make_user):
    return {
        "shift_lead": make_user("api_shiftlead", roles.SHIFT_LEAD),
        "leader": make_user("api_leader", roles.LEADER),
        "wuchang": make_user("api_wuchang", roles.DISTRICT_DISPATCHER, region_codes=["420106"]),
        "resident": make_user("api_resident", roles.RESIDENT),
        "handler": make_user("api_handler", roles.DEPT_HANDLER, org_units=["HB"]),
    }


def ids(response) -> set[int]:
    assert response.status_code == 200, response.content
    return {w["id"] for w in response.json()}


def test_each_role_sees_its_own_area(two_warnings, users, api_client_for):
    wuchang, jiangan = two_warnings
    url = "/api/v1/dashboard/warnings?open=true"
    assert ids(api_client_for(users["shift_lead"]).get(url)) == {wuchang.pk, jiangan.pk}
    assert ids(api_client_for(users["leader"]).get(url)) == {wuchang.pk, jiangan.pk}
    assert ids(api_client_for(users["wuchang"]).get(url)) == {wuchang.pk}
    assert ids(api_client_for(users["resident"]).get(url)) == set()
    assert ids(api_client_for(users["handler"]).get(url)) == set()
    district = api_client_for(users["wuchang"])
    assert district.get(f"/api/v1/dashboard/warnings/{jiangan.pk}").json()["code"] == "warning_not_found"
    refused = district.post(f"/api/v1/dashboard/warnings/{jiangan.pk}/acknowledge", {}, content_type="application/json")
    assert refused.status_code == 404
    assert EarlyWarning.objects.get(pk=jiangan.pk).state == "open"


def test_one_warning_names_its_category_region_and_cases(two_warnings, users, api_client_for):
    wuchang, _ = two_warnings
    body = api_client_for(users["wuchang"]).get(f"/api/v1/dashboard/warnings/{wuchang.pk}").json()
    assert (body["category_name"], body["region_name"], body["state"]) == ("噪声扰民", "武昌区", "open")
    assert body["case_count"] == len(body["cases"]) >= 7
    assert all(c["url"] == f"/cases/{c['code']}/" for c in body["cases"])
    assert "reporter_phone" not in str(body)


def test_the_shift_lead_acknowledges_and_closes_a_leader_cannot(two_warnings, users, api_client_for):
    wuchang, _ = two_warnings
    base = f"/api/v1/dashboard/warnings/{wuchang.pk}"
    leader = api_client_for(users["leader"]).post(f"{base}/acknowledge", {}, content_type="application/json")
    assert leader.status_code == 403
    lead = api_client_for(users["shift_lead"])
    answer = lead.post(f"{base}/acknowledge", {"note": "已通知水务"}, content_type="application/json")
    assert answer.status_code == 200 and answer.json()["state"] == "acknowledged"
    again = lead.post(f"{base}/acknowledge", {}, content_type="application/json")
    assert again.status_code == 409
    closed = lead.post(f"{base}/close", {"note": "已处置"}, content_type="application/json")
    assert closed.status_code == 200 and closed.json()["state"] == "closed" and closed.json()["closed_at"]
    steps = [(e.action, e.actor_id, e.note) for e in timeline_for(EarlyWarning.objects.get(pk=wuchang.pk))]
    assert steps == [("raise", None, ""), ("acknowledge", users["shift_lead"].pk, "已通知水务"),
                     ("close", users["shift_lead"].pk, "已处置")]


def test_bad_input_is_refused_with_a_code(two_warnings, users, api_client_for):
    lead = api_client_for(users["shift_lead"])
    assert lead.get(f"/api/v1/dashboard/warnings/{10**30}").status_code == 400
    assert lead.get("/api/v1/dashboard/warnings/99999").json()["code"] == "warning_not_found"
    assert lead.get("/api/v1/dashboard/warnings?limit=100000").status_code == 400
    wuchang, _ = two_warnings
    wrong_type = lead.post(f"/api/v1/dashboard/warnings/{wuchang.pk}/close", "note=x",
                           content_type="application/x-www-form-urlencoded")
    assert wrong_type.status_code == 415


def test_the_page_lists_open_warnings_by_name_with_their_cases(two_warnings, users, client):
    wuchang, jiangan = two_warnings
    client.force_login(users["wuchang"])
    page = client.get("/dashboard/warnings/").content.decode()
    assert "武昌区" in page and "噪声扰民" in page and "江岸区" not in page
    first_case = wuchang.cases.order_by("created_at").first()
    assert f'href="/cases/{first_case.code}/"' in page
    assert client.get(f"/dashboard/warnings/{jiangan.pk}/").status_code == 404
    detail = client.get(f"/dashboard/warnings/{wuchang.pk}/").content.decode()
    assert "构成预警的案件" in detail and "发出预警" in detail


def test_the_page_acts_and_says_when_nothing_is_open(two_warnings, users, client):
    wuchang, jiangan = two_warnings
    client.force_login(users["shift_lead"])
    client.post(f"/dashboard/warnings/{wuchang.pk}/close/", {"note": ""})
    client.post(f"/dashboard/warnings/{jiangan.pk}/close/", {"note": ""})
    assert set(EarlyWarning.objects.values_list("state", flat=True)) == {"closed"}
    assert "当前没有未关闭的预警" in client.get("/dashboard/warnings/").content.decode()
    everything = client.get("/dashboard/warnings/?all=1").content.decode()
    assert "武昌区" in everything and "江岸区" in everything


def test_the_page_in_english(two_warnings, users, client):
    client.force_login(users["shift_lead"])
    page = client.get("/dashboard/warnings/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Noise nuisance" in page and "Early warnings" in page


def test_the_home_page_counts_the_open_warnings_of_the_users_area(two_warnings, users, make_user, client):
    from cityops.core.home import home_cards

    def card(user):
        return next((c for c in home_cards(user) if str(c.title) == "异常预警"), None)

    assert card(users["shift_lead"]).count == 2
    assert card(users["wuchang"]).count == 1
    assert card(users["leader"]).count == 2
    assert card(users["resident"]) is None and card(users["handler"]) is None
    client.force_login(users["wuchang"])
    assert 'href="/dashboard/warnings/"' in client.get("/").content.decode()
