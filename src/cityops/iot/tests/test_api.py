"""HTTP ingestion with a device token (hashed), the read API with scoping, alarm actions."""

import json
from datetime import timedelta
from urllib.parse import quote

import pytest
from django.utils import timezone

from cityops.core import roles
from cityops.iot.models import Alarm, DeadLetter, Device, Reading, Rule
from cityops.iot.services import device_token_issue

from .conftest import reading


@pytest.fixture
def device_client(make_device, client):
    device = make_device()
    token = device_token_issue(device=device, actor=None)

    def post(body, token=token):
        data = body if isinstance(body, str | bytes) else json.dumps(body)
        return client.post("/api/v1/iot/readings", data=data, content_type="application/json",
                           HTTP_AUTHORIZATION=f"Bearer {token}")

    return device, token, post


def test_token_is_stored_hashed(device_client):
    device, token, _post = device_client
    device.refresh_from_db()
    assert token.startswith("dv_") and token not in (device.token_hash, device.token_id)
    assert len(device.token_hash) == 64 and device.token_matches(token)


def test_posting_the_same_batch_twice_stores_it_once(wuhan, device_client):
    device, _token, post = device_client
    batch = [reading("h1", 0.01), reading("h2", 0.02)]
    first = post(batch)
    assert first.status_code == 200, first.content
    assert first.json() == {"accepted": 2, "stored": 2, "duplicates": 0, "rejected": []}
    again = post(batch)
    assert again.json() == {"accepted": 2, "stored": 0, "duplicates": 2, "rejected": []}
    assert Reading.objects.filter(device=device).count() == 2


def test_bad_items_are_rejected_with_reasons_the_rest_stored(wuhan, device_client):
    device, _token, post = device_client
    answer = post([reading("ok", 0.01), {"id": "bad", "metric": "water_level", "value": None,
                                          "ts": "2026-07-01T08:00:00+08:00"}]).json()
    assert answer["stored"] == 1 and answer["rejected"][0]["index"] == 1
    assert answer["rejected"][0]["reason"] == "bad_type"
    assert DeadLetter.objects.filter(device_code=device.code, source="http").count() == 1


def test_bad_json_is_400_and_dead_lettered(wuhan, device_client):
    device, _token, post = device_client
    response = post("[{oops")
    assert response.status_code == 400 and response.json()["code"] == "bad_json"
    assert DeadLetter.objects.get(device_code=device.code).reason == "bad_json"


def test_wrong_token_is_401(wuhan, device_client):
    _device, token, post = device_client
    assert post([reading("x", 1)], token=token[:-2] + "xx").status_code == 401
    assert post([reading("x", 1)], token="co_abc_def").status_code == 401


def test_device_list_and_readings_with_message_ids(wuhan, make_device, operator, api_client_for):
    device = make_device()
    from cityops.iot.ingest import Ingestor, Message

    t0 = timezone.now().replace(microsecond=0) - timedelta(hours=1)
    Ingestor().process([Message(device.code, json.dumps([
        reading("r1", 0.01, ts=t0.isoformat()),
        reading("r2", 0.02, ts=(t0 + timedelta(minutes=1)).isoformat()),
        reading("r3", 3.6, metric="battery", ts=(t0 + timedelta(minutes=1)).isoformat()),
    ]))])
    api = api_client_for(operator)
    listed = api.get("/api/v1/iot/devices").json()
    item = next(d for d in listed["items"] if d["code"] == device.code)
    assert item["metrics"] == {"water_level": "m", "battery": "V"} and item["location"]["district"]
    assert item["status"] == "online"
    since = quote((t0 + timedelta(seconds=30)).isoformat())
    until = quote((t0 + timedelta(minutes=30)).isoformat())
    answer = api.get(f"/api/v1/iot/devices/{device.code}/readings?metric=water_level&from={since}&to={until}").json()
    assert [r["id"] for r in answer["items"]] == ["r2"]
    assert api.get(f"/api/v1/iot/devices/{device.code}/readings?limit=2").json()["count"] == 2
    assert api.get("/api/v1/iot/devices/NOPE/readings").status_code == 404


def test_department_sees_only_its_own_devices(wuhan, make_device, make_user, api_client_for):
    water = make_device(type="water_level")
    gas = make_device(type="gas")
    sw = make_user("t_sw", roles.DEPT_HANDLER, org_units=["SW"])
    codes = {d["code"] for d in api_client_for(sw).get("/api/v1/iot/devices").json()["items"]}
    assert water.code in codes and gas.code not in codes
    assert api_client_for(sw).get(f"/api/v1/iot/devices/{gas.code}/readings").status_code == 404


def test_alarm_actions_go_through_the_workflow(wuhan, make_device, operator, api_client_for):
    from cityops.iot.ingest import Ingestor, Message

    device = make_device()
    Rule.objects.create(name="积水", kind="threshold", device_type="water_level", metric="water_level",
                        threshold=0.15, hysteresis=0.03, severity="yellow")
    Ingestor().process([Message(device.code, json.dumps(reading("a1", 0.3)))])
    alarm = Alarm.objects.get(device=device)
    api = api_client_for(operator)
    refused = api.post(f"/api/v1/iot/alarms/{alarm.pk}/close", content_type="application/json")
    assert refused.status_code == 409, refused.content  # not cleared yet
    assert api.post(f"/api/v1/iot/alarms/{alarm.pk}/acknowledge", content_type="application/json").json()["state"] == "acknowledged"
    answer = api.post(f"/api/v1/iot/alarms/{alarm.pk}/dispatch", content_type="application/json").json()
    assert answer["state"] == "dispatched" and answer["case_code"]
    assert api.post(f"/api/v1/iot/alarms/{alarm.pk}/acknowledge", content_type="application/json").status_code == 409


def test_device_pages_render_with_the_24h_chart(wuhan, make_device, operator, client):
    from cityops.iot.ingest import Ingestor, Message

    device = make_device()
    Ingestor().process([Message(device.code, json.dumps([reading(f"p{i}", i / 100) for i in range(5)]))])
    client.force_login(operator)
    page = client.get(f"/iot/devices/{device.code}/")
    assert page.status_code == 200
    body = page.content.decode()
    assert "<svg" in body and "<polyline" in body and "http" not in body.split("<svg", 1)[1].split("</svg>")[0].replace(
        "http://www.w3.org/2000/svg", "")
    assert client.get("/iot/").status_code == 200
    assert client.get("/iot/alarms/").status_code == 200


def test_device_status_maintenance_refuses_http_ingestion(wuhan, device_client):
    device, _token, post = device_client
    Device.objects.filter(pk=device.pk).update(status="maintenance")
    assert post([reading("m", 0.1)]).status_code == 401
