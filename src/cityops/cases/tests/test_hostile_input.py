"""Numbers and dates no city record can hold are refused as bad input (400 with a code), never a server
error, and leave nothing half-written (issue 10 §1)."""

import json

import pytest

from cityops.cases import services as s
from cityops.cases.models import CaseTask

pytestmark = pytest.mark.django_db


def post(client, url, body):
    return client.post(url, json.dumps(body), content_type="application/json")


def refused(response, code=None):
    assert response.status_code == 400, response.content[:300]
    body = response.json()
    assert body["message"] and body["message_en"]
    if code:
        assert body["code"] == code, body
    return body


def test_offsets_beyond_a_bigint(reference, operator, api_client_for):
    c = api_client_for(operator)
    refused(c.get("/api/v1/cases?offset=9223372036854775808"), "invalid_input")
    refused(c.get("/api/v1/cases?limit=100000"), "invalid_input")
    refused(c.get("/api/v1/iot/devices?offset=9223372036854775808"), "invalid_input")
    refused(c.post("/api/v1/cases/X/tasks/9223372036854775808/done", "{}", content_type="application/json"))
    assert c.get("/api/v1/cases?offset=0&limit=200").status_code == 200


def test_evaluation_dates_and_format(reference, leader, api_client_for):
    c = api_client_for(leader)
    refused(c.get("/api/v1/evaluation/departments?from=9999-01-01&to=9999-12-31"), "invalid_input")
    refused(c.get("/api/v1/evaluation/departments?from=0001-01-01&to=2026-01-31"), "invalid_input")
    body = refused(c.get("/api/v1/evaluation/departments?from=2026-01-01&to=2026-01-31&format=pdf"), "invalid_input")
    assert "format" in json.dumps(body["details"])
    assert c.get("/api/v1/evaluation/departments?from=2026-01-01&to=2026-01-31&format=csv").status_code == 200


@pytest.mark.parametrize("limit", [1e12, -4, 0, "NaN", "Infinity"])
def test_sub_task_limits(new_case, operator, shift_lead, dispatcher, api_client_for, limit):
    case = new_case()
    s.case_register(case=case, actor=operator)
    c = api_client_for(dispatcher)
    body = {"department": "HW", "assisting": ["CG"], "task_limit_hours": limit}
    refused(post(c, f"/api/v1/cases/{case.code}/dispatch", body))
    case.refresh_from_db()
    assert case.state == "registered" and not CaseTask.objects.exists()


def test_sub_task_limit_refused_by_the_service_too(new_case, operator, dispatcher):
    # The web form and any other caller go through the same rule.
    from cityops.core.errors import InvalidInput

    case = new_case()
    s.case_register(case=case, actor=operator)
    for bad in (float("nan"), float("inf"), -1.0, 1e12):
        with pytest.raises(InvalidInput) as err:
            s.case_dispatch(case=case, actor=dispatcher, department="HW", assisting=["CG"], task_limit_hours=bad)
        assert err.value.code == "invalid_limit"
    done = s.case_dispatch(case=case, actor=dispatcher, department="HW", assisting=["CG"], task_limit_hours=6)
    assert done.state == "dispatched" and CaseTask.objects.get().clock_limit_s == 6 * 3600


def test_extension_hours(new_case, operator, dispatcher, handler_hw, api_client_for):
    case = new_case()
    s.case_register(case=case, actor=operator)
    s.case_dispatch(case=case, actor=dispatcher, department="HW")
    s.case_accept(case=case, actor=handler_hw)
    c = api_client_for(handler_hw)
    for bad in (1e12, -8, 0):
        refused(post(c, f"/api/v1/cases/{case.code}/extend_request", {"extra_hours": bad, "reason": "等材料"}))
    raw = '{"extra_hours": NaN, "reason": "x"}'
    refused(c.post(f"/api/v1/cases/{case.code}/extend_request", raw, content_type="application/json"), "invalid_number")
    case.refresh_from_db()
    assert case.state == "accepted" and case.pending_extra_hours is None
