"""The engine's generic layer (issue 11), on the test-only permit domain (core/tests/sample): actions from data,
the dry run with object guards, a second clock on a child object, a minimum duration, an any-state source, a
per-object role; its API, pages and evaluation come from core; the OpenAPI document has every action."""

import json
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.test import Client
from django.utils import timezone

from cityops.core import actions
from cityops.core.evaluation import indicators
from cityops.core.tests.sample.models import Permit, PermitInspection
from cityops.core.workflow import create_with_timeline, sweep_overdue

pytestmark = pytest.mark.django_db
TZ = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def applicant(make_user):
    return make_user("t_applicant")


@pytest.fixture
def permit(applicant):
    return create_with_timeline(Permit(title="管线抢修占道", applicant=applicant, unit_code="JT", region_code="420106"),
                                actor=applicant)


def names(obj, user):
    return [t.action for t in actions.available_actions(obj, user)]


def post(client, url, body=None):
    return client.post(url, json.dumps(body or {}), content_type="application/json")


def test_actions_from_data_and_the_dry_run(permit, applicant, dispatcher, make_user):
    other = make_user("t_other_applicant")
    assert names(permit, dispatcher) == ["publish"]
    assert names(permit, applicant) == ["withdraw"]  # the per-object role: only on their own permit
    assert names(permit, other) == []
    published = actions.run_action(permit, "publish", dispatcher, {"note": "公示"})
    assert published.state == "notice" and published.deadline_at is not None
    # approve is the dispatcher's by role, but its minimum-duration guard (a guard about the object) says no yet
    assert names(published, dispatcher) == []
    Permit.objects.filter(pk=permit.pk).update(state_changed_at=timezone.now() - timedelta(days=6))
    assert names(Permit.objects.get(pk=permit.pk), dispatcher) == ["approve"]


def test_minimum_duration_is_a_floor(permit, dispatcher, api_client_for):
    api = api_client_for(dispatcher)
    assert post(api, f"/api/v1/permits/{permit.pk}/publish").json()["state"] == "notice"
    early = post(api, f"/api/v1/permits/{permit.pk}/approve")
    assert early.status_code == 409 and early.json()["code"] == "too_early" and "公示期" in early.json()["message"]
    assert Permit.objects.get(pk=permit.pk).state == "notice"
    Permit.objects.filter(pk=permit.pk).update(state_changed_at=timezone.now() - timedelta(days=5, minutes=1))
    assert post(api, f"/api/v1/permits/{permit.pk}/approve").json()["state"] == "approved"


def test_any_open_state_and_the_per_object_role(permit, applicant, dispatcher, make_user, api_client_for):
    assert set(Permit.workflow.find("withdraw", "notice").sources) == {"submitted", "notice"}
    stranger = post(api_client_for(make_user("t_stranger")), f"/api/v1/permits/{permit.pk}/withdraw", {"reason": "x"})
    assert stranger.status_code == 404  # not in the stranger's scope at all
    actions.run_action(permit, "publish", dispatcher, {})
    mine = api_client_for(applicant)
    refused = post(mine, f"/api/v1/permits/{permit.pk}/withdraw", {"reason": " "})
    assert refused.status_code == 400 and refused.json()["code"] == "reason_required"
    assert post(mine, f"/api/v1/permits/{permit.pk}/withdraw", {"reason": "工期改期"}).json()["state"] == "withdrawn"
    again = post(mine, f"/api/v1/permits/{permit.pk}/withdraw", {"reason": "x"})
    assert again.status_code == 409  # a terminal state is not an open one


def test_two_clocks_run_side_by_side(permit, dispatcher, applicant, monkeypatch):
    start = datetime(2026, 11, 23, 9, 0, tzinfo=TZ)  # Monday
    monkeypatch.setattr(timezone, "now", lambda: start)
    notice = actions.run_action(permit, "publish", dispatcher, {})
    inspection = create_with_timeline(PermitInspection(permit=notice), actor=dispatcher)
    assert notice.clock_mode == "calendar" and notice.deadline_at == start + timedelta(days=10)
    assert inspection.clock_mode == "work" and inspection.deadline_at.date() == datetime(2026, 11, 24).date() + timedelta(days=1)
    later = start + timedelta(days=4)
    monkeypatch.setattr(timezone, "now", lambda: later)
    counts = sweep_overdue(now=later)
    assert counts.get("overdue") == 1  # the inspection's 16 working hours are gone; the notice runs on
    assert PermitInspection.objects.get().overdue and not Permit.objects.get().overdue


def test_pages_from_core(permit, dispatcher, applicant):
    client = Client()
    client.force_login(dispatcher)
    assert "管线抢修占道" in client.get("/permits/").content.decode()
    page = client.get(f"/permits/{permit.pk}/").content.decode()
    assert f"/permits/{permit.pk}/act/publish/" in page and "/act/withdraw/" not in page
    client.post(f"/permits/{permit.pk}/act/publish/", {"note": "见报"})
    assert Permit.objects.get(pk=permit.pk).state == "notice"
    mine = Client()
    mine.force_login(applicant)
    assert "/act/withdraw/" in mine.get(f"/permits/{permit.pk}/").content.decode()
    mine.post(f"/permits/{permit.pk}/act/withdraw/", {"reason": ""})  # refused: the reason is required
    assert Permit.objects.get(pk=permit.pk).state == "notice"


def test_evaluation_from_the_engines_stamps(permit, dispatcher, applicant):
    actions.run_action(permit, "publish", dispatcher, {})
    rows = indicators(Permit, start=timezone.now() - timedelta(hours=1), end=timezone.now() + timedelta(hours=1))
    assert rows == [{"unit": "JT", "steps": 1, "on_time": 1, "overdue_open": 0, "on_time_rate": 1.0}]
    by_region = indicators(Permit, start=timezone.now() - timedelta(hours=1), end=timezone.now() + timedelta(hours=1),
                           by="region")
    assert by_region[0]["region"] == "420106"


def test_the_openapi_document_has_every_action_with_its_body(client):
    from cityops.api import api
    from cityops.cases.models import Case, CaseTask
    from cityops.disputes.models import Dispute
    from cityops.iot.models import Alarm
    from cityops.stability.models import Decision

    document = api.get_openapi_schema()
    paths = document["paths"]
    for model, prefix, segment in ((Case, "/api/v1/cases/{code}/", str),
                                   (CaseTask, "/api/v1/cases/{code}/tasks/{task_id}/", lambda a: a.removeprefix("task_")),
                                   (Alarm, "/api/v1/iot/alarms/{alarm_id}/", str),
                                   (Permit, "/api/v1/permits/{permit_id}/", str),
                                   (Dispute, "/api/v1/disputes/{dispute_id}/", str),
                                   (Decision, "/api/v1/stability/decisions/{decision_id}/", str)):
        documented = {p.removeprefix(prefix) for p in paths if p.startswith(prefix) and "post" in paths[p]}
        expected = {segment(t.action) for t in actions.person_actions(model.workflow)}
        assert expected <= documented, (model, expected - documented)
        for t in actions.person_actions(model.workflow):
            body = paths[prefix + segment(t.action)]["post"]["requestBody"]["content"]["application/json"]["schema"]
            ref = body["$ref"].rsplit("/", 1)[-1]
            assert set(document["components"]["schemas"][ref]["properties"]) == set(actions.action_input(t).model_fields)


def test_an_action_is_taken_once_per_idempotency_key(permit, dispatcher, api_client_for):
    from cityops.core.timeline import timeline_for

    api = api_client_for(dispatcher)
    url = f"/api/v1/permits/{permit.pk}/publish"
    first = api.post(url, "{}", content_type="application/json", HTTP_IDEMPOTENCY_KEY="k-1")
    again = api.post(url, "{}", content_type="application/json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert first.status_code == again.status_code == 200 and again.json()["state"] == "notice"
    assert [e.action for e in timeline_for(permit)] == ["create", "publish"]
    assert api.post(url, "{}", content_type="application/json", HTTP_IDEMPOTENCY_KEY="k-2").status_code == 409
    # If-Match: a view of the permit from before the publish is stale, whatever else would be said.
    stale = api.post(f"/api/v1/permits/{permit.pk}/approve", "{}", content_type="application/json", HTTP_IF_MATCH='"0"')
    assert stale.status_code == 412 and stale.json()["code"] == "stale_version"
