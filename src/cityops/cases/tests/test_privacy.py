"""Anonymous means anonymous (issue 10 §3): what staff see of the residents of a case, end to end — the case
page, the case API, the timeline API and page, the evaluation and its exports."""

import json

import pytest
from django.test import Client

from cityops.cases import services as s
from cityops.cases.tests.conftest import POINT_WUCHANG_A
from cityops.core import roles

pytestmark = pytest.mark.django_db

PHONE = "13812345678"
ACCOUNT_PHONE = "13900001111"


def client_for(user) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    client.force_login(user)
    return client


@pytest.fixture
def citizen(make_user):
    """A resident whose login and account phone must never reach staff."""
    return make_user("zhang_san_1984", roles.RESIDENT, first_name="张三", phone=ACCOUNT_PHONE)


def report_over_api(api_client_for, citizen, **fields) -> str:
    body = {"category": "E0101", "lon": POINT_WUCHANG_A[0], "lat": POINT_WUCHANG_A[1], "description": "楼下堆满垃圾",
            **fields}
    r = api_client_for(citizen).post("/api/v1/cases", json.dumps(body), content_type="application/json")
    assert r.status_code == 201, r.content
    return r.json()["code"]


def to_department(code, operator, dispatcher, handler_hw):
    from cityops.cases.models import Case

    case = Case.objects.get(code=code)
    case = s.case_register(case=case, actor=operator)
    case = s.case_dispatch(case=case, actor=dispatcher, department="HW")
    return s.case_accept(case=case, actor=handler_hw)


def everything_the_department_sees(code, handler_hw, api_client_for) -> str:
    api = api_client_for(handler_hw)
    seen = [
        client_for(handler_hw).get(f"/cases/{code}/").content.decode(),
        api.get(f"/api/v1/cases/{code}").content.decode(),
        api.get(f"/api/v1/cases/{code}/timeline").content.decode(),
        api.get(f"/api/v1/cases?q={code}").content.decode(),
    ]
    return "\n".join(seen)


def test_an_anonymous_report_shows_the_department_no_name_login_phone_or_account(
    reference, citizen, operator, dispatcher, handler_hw, api_client_for
):
    code = report_over_api(api_client_for, citizen, anonymous=True, reporter_phone=PHONE)
    case = to_department(code, operator, dispatcher, handler_hw)
    text = everything_the_department_sees(code, handler_hw, api_client_for)
    for secret in ("zhang_san_1984", "张三", PHONE, PHONE[-4:], ACCOUNT_PHONE[-4:]):
        assert secret not in text, secret
    api = api_client_for(handler_hw)
    timeline = api.get(f"/api/v1/cases/{code}/timeline").json()
    assert timeline[0]["action"] == "report" and timeline[0]["actor"] == "匿名市民"
    assert all(str(citizen.pk) != str(e["params"].get("reporter_id")) for e in timeline)  # no account link
    one = api.get(f"/api/v1/cases/{code}").json()
    assert one["reporter"] == "匿名市民" and one["reporter_phone"] == ""
    page = client_for(handler_hw).get(f"/cases/{code}/").content.decode()
    assert "匿名市民" in page
    # The intake operator calls back: the phone that was given, in full; still no login.
    op = api_client_for(operator).get(f"/api/v1/cases/{code}").json()
    assert op["reporter_phone"] == PHONE and op["reporter"] == "匿名市民"
    assert "zhang_san_1984" not in api_client_for(operator).get(f"/api/v1/cases/{code}/timeline").content.decode()
    assert case.reporter_id == citizen.pk  # the resident still finds their own report
    assert code in {c["code"] for c in api_client_for(citizen).get("/api/v1/cases").json()["items"]}


def test_an_anonymous_report_does_not_take_the_accounts_phone(reference, citizen, operator, api_client_for):
    code = report_over_api(api_client_for, citizen, anonymous=True)
    assert api_client_for(operator).get(f"/api/v1/cases/{code}").json()["reporter_phone"] == ""
    # Not anonymous: the account's phone is the callback number, as before.
    named = report_over_api(api_client_for, citizen, description="另一处垃圾")
    assert api_client_for(operator).get(f"/api/v1/cases/{named}").json()["reporter_phone"] == ACCOUNT_PHONE


def test_a_residents_login_is_never_shown_to_staff(reference, citizen, operator, dispatcher, handler_hw, api_client_for):
    code = report_over_api(api_client_for, citizen, reporter_phone=PHONE)
    to_department(code, operator, dispatcher, handler_hw)
    text = everything_the_department_sees(code, handler_hw, api_client_for)
    for secret in ("zhang_san_1984", "张三", PHONE):
        assert secret not in text, secret
    api = api_client_for(handler_hw)
    one = api.get(f"/api/v1/cases/{code}").json()
    assert one["reporter"] == "市民" and one["reporter_phone"] == "138****5678"  # a callback is allowed
    assert api.get(f"/api/v1/cases/{code}/timeline").json()[0]["actor"] == "市民"
    for staff in (operator, dispatcher):
        assert "zhang_san_1984" not in client_for(staff).get(f"/cases/{code}/").content.decode()
        assert "zhang_san_1984" not in api_client_for(staff).get(f"/api/v1/cases/{code}/timeline").content.decode()


def test_staff_still_see_staff(reference, grid_worker, operator, api_client_for):
    code = s.case_create(actor=grid_worker, category="E0101", lon=POINT_WUCHANG_A[0], lat=POINT_WUCHANG_A[1],
                         description="暴露垃圾").case.code
    api = api_client_for(operator)
    assert api.get(f"/api/v1/cases/{code}/timeline").json()[0]["actor"] == grid_worker.username
    assert api.get(f"/api/v1/cases/{code}").json()["reporter"] == grid_worker.username


def test_staff_cannot_report_anonymously_as_themselves(reference, grid_worker):
    from cityops.core.errors import InvalidInput

    with pytest.raises(InvalidInput) as e:
        s.case_create(actor=grid_worker, category="E0101", lon=POINT_WUCHANG_A[0], lat=POINT_WUCHANG_A[1],
                      description="x", anonymous=True)
    assert e.value.code == "anonymous_not_for_staff"


def test_a_hotline_caller_who_stays_anonymous(reference, operator, dispatcher, handler_hw, api_client_for):
    code = s.case_create(actor=operator, category="E0101", lon=POINT_WUCHANG_A[0], lat=POINT_WUCHANG_A[1],
                         description="噪音", source="hotline", reporter_phone=PHONE, anonymous=True).case.code
    to_department(code, operator, dispatcher, handler_hw)
    assert PHONE[-4:] not in everything_the_department_sees(code, handler_hw, api_client_for)
    assert api_client_for(operator).get(f"/api/v1/cases/{code}").json()["reporter_phone"] == PHONE


def test_the_field_worker_evaluation_and_its_exports_list_no_residents(reference, citizen, operator, leader, api_client_for):
    code = report_over_api(api_client_for, citizen)
    from cityops.cases.models import Case

    s.case_register(case=Case.objects.get(code=code), actor=operator)
    api = api_client_for(leader)
    rows = api.get("/api/v1/evaluation/field_workers?from=2000-01-01&to=2100-01-01").json()["rows"]
    assert citizen.pk not in {r["user_id"] for r in rows}
    csv = api.get("/api/v1/evaluation/field_workers?from=2000-01-01&to=2100-01-01&format=csv").content.decode()
    page = client_for(leader).get("/cases/evaluation/export.csv", {"kind": "field_workers", "from": "2000-01-01",
                                                                   "to": "2100-01-01"}).content.decode()
    for text in (csv, page):
        assert "zhang_san_1984" not in text and "张三" not in text


def test_a_deleted_account_is_shown_by_neither_login_nor_as_a_resident(reference, citizen, operator, handler_hw,
                                                                        dispatcher, api_client_for):
    code = report_over_api(api_client_for, citizen)
    to_department(code, operator, dispatcher, handler_hw)
    citizen.delete()  # the timeline keeps the actor's id and login; the account is gone
    actors = [e["actor"] for e in api_client_for(handler_hw).get(f"/api/v1/cases/{code}/timeline").json()]
    assert actors[0] == "已注销账号" and "zhang_san_1984" not in actors
    assert actors[1:] == ["t_operator", "t_dispatcher", "t_dept_hw"]
