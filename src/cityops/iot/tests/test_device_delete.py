"""Readings and rollups have no database foreign key to their device (ingest speed): deleting a device goes
through services.device_delete(), and retention sweeps the orphans a stale ingest cache can still write."""

import json

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from cityops.core.audit import audit_verify
from cityops.core.timeline import timeline_for
from cityops.iot.ingest import Ingestor, Message
from cityops.iot.models import Alarm, Device, Reading, Rollup, Rule
from cityops.iot.services import device_delete, retention_apply

from .conftest import reading


def _feed(ing, device, *mids):
    ing.process([Message(device.code, json.dumps([reading(m, 0.1) for m in mids]))])


def _stored(device_id):
    return (Reading.objects.filter(device_id=device_id).count(), Rollup.objects.filter(device_id=device_id).count())


def test_device_delete_removes_readings_and_rollups_and_is_on_the_timeline(wuhan, make_device):
    gone, kept = make_device(), make_device()
    ing = Ingestor()
    _feed(ing, gone, "a", "b", "c")
    _feed(ing, kept, "a")
    pk = gone.pk
    assert _stored(pk) == (3, 2)  # minute and hour rollups

    counts = device_delete(device=gone, actor=None)

    assert counts["readings"] == 3 and counts["rollups"] == 2
    assert not Device.objects.filter(pk=pk).exists()
    assert _stored(pk) == (0, 0)
    assert _stored(kept.pk) == (1, 2)
    entry = timeline_for(("iot.device", str(pk))).last()
    assert entry.action == "delete" and entry.params["readings"] == 3 and entry.params["code"] == gone.code


def test_deleting_a_device_ends_its_alarms_timelines_so_the_audit_stays_clean(wuhan, make_device):
    """The ORM cascade takes the device's alarms (workflow objects): each chain records the deletion, so
    `audit verify` does not report a chain whose object vanished (issue 10 §5)."""
    device = make_device()
    Rule.objects.create(name="积水", kind="threshold", device_type="water_level", metric="water_level",
                        threshold=0.15, severity="yellow")
    Ingestor().process([Message(device.code, json.dumps(reading("x", 0.3)))])
    alarm = Alarm.objects.get(device=device)
    device_delete(device=device, actor=None)
    assert timeline_for(alarm).last().action == "delete"
    assert audit_verify(subject_type="iot.alarm") == (len(timeline_for(alarm)), [])


@pytest.mark.parametrize("bulk", [False, True])
def test_admin_delete_goes_through_the_service(wuhan, make_device, client, bulk):
    device = make_device()
    _feed(Ingestor(), device, "a", "b")
    pk = device.pk
    admin = get_user_model().objects.create_superuser("iot-admin", "iot-admin@example.com", "pw-not-used-1")
    client.force_login(admin)
    if bulk:
        url = reverse("admin:iot_device_changelist")
        response = client.post(url, {"action": "delete_selected", "_selected_action": [pk], "post": "yes"})
    else:
        url = reverse("admin:iot_device_delete", args=[pk])
        page = client.get(url)
        assert page.status_code == 200
        # Readings are counted on the confirmation page, not listed one by one (a busy sensor has millions).
        readings = list(Reading.objects.filter(device_id=pk))
        assert ("读数", len(readings)) in [(str(k), v) for k, v in page.context["model_count"]] and readings
        assert not any(str(r) in page.content.decode() for r in readings)
        response = client.post(url, {"post": "yes"})
    assert response.status_code == 302
    assert not Device.objects.filter(pk=pk).exists()
    assert _stored(pk) == (0, 0)
    assert timeline_for(("iot.device", str(pk))).last().actor_name == "iot-admin"


def test_retention_sweeps_readings_of_a_deleted_device(wuhan, make_device):
    gone, kept = make_device(), make_device()
    ing = Ingestor()
    _feed(ing, gone, "a")
    _feed(ing, kept, "a")
    pk = gone.pk
    device_delete(device=gone, actor=None)
    # This consumer's device cache (reloaded every ingest.RELOAD_S) still knows the device: the reading is
    # stored, and without a database foreign key nothing refuses it.
    _feed(ing, gone, "late")
    assert _stored(pk) == (1, 2)

    done = retention_apply()

    assert done["orphan_readings"] == 1 and done["orphan_rollups"] == 2
    assert _stored(pk) == (0, 0)
    assert _stored(kept.pk) == (1, 2)
