"""Device import, rollups, no-data rules, retention, and the pipeline's refusal of bad input."""

import json
from datetime import timedelta

from django.utils import timezone

from cityops.iot.ingest import Ingestor, Message
from cityops.iot.models import Alarm, DeadLetter, Device, Reading, Rollup, Rule
from cityops.iot.services import device_import_csv, retention_apply

from .conftest import reading

CSV = """code,type,name,lon,lat,address,department,category,metrics
WL-T1,water_level,雄楚大道下穿,114.352,30.507,雄楚大道,,,
GS-T1,gas,燃气 1,114.317,30.529,,RQ,E0503,ch4:%LEL
BAD-1,rocket,?,114.3,30.5,,,,
OUT-1,noise,城外,100.0,20.0,,,,
"""


def test_csv_import_locates_and_reports_bad_rows(wuhan, reference):
    result = device_import_csv(actor=None, text=CSV)
    assert (result.created, result.updated) == (2, 0)
    assert len(result.errors) == 2 and result.errors[0].startswith("line 4")
    wl = Device.objects.get(code="WL-T1")
    assert wl.department.code == "SW" and wl.category_code == "E0501" and wl.district_code.startswith("4201")
    assert wl.grid_code and wl.metrics == {"water_level": "m", "battery": "V"}
    assert Device.objects.get(code="GS-T1").metrics == {"ch4": "%LEL"}
    again = device_import_csv(actor=None, text=CSV)
    assert (again.created, again.updated) == (0, 0)


def test_rollups_count_only_new_readings(wuhan, make_device):
    device = make_device()
    ing = Ingestor()
    base = timezone.now().replace(second=0, microsecond=0) - timedelta(minutes=5)
    items = [reading(f"r{i}", float(i), ts=(base + timedelta(seconds=i)).isoformat()) for i in range(5)]
    ing.process([Message(device.code, json.dumps(items))])
    ing.process([Message(device.code, json.dumps(items))])
    minute = Rollup.objects.get(device=device, metric="water_level", period="m")
    assert (minute.count, minute.sum, minute.min, minute.max) == (5, 10.0, 0.0, 4.0)


def test_timestamps_naive_or_future_or_too_old_are_refused(wuhan, make_device):
    device = make_device()
    old = (timezone.now() - timedelta(days=400)).isoformat()
    result = Ingestor().process([Message(device.code, json.dumps([
        reading("a", 1, ts="2026-07-01T08:00:00"),
        reading("b", 1, ts=(timezone.now() + timedelta(hours=1)).isoformat()),
        reading("c", 1, ts=old),
        reading("d", 1, ts=int(timezone.now().timestamp()) - 60),  # epoch seconds are fine
        {"id": True, "metric": "water_level", "value": 1, "ts": old},
    ]))])
    assert result.stored == 1
    reasons = sorted(DeadLetter.objects.filter(device_code=device.code).values_list("reason", flat=True))
    assert reasons == ["bad_timestamp", "bad_type", "future_timestamp", "too_old"]


def test_no_data_rule_opens_and_next_reading_clears(wuhan, make_device):
    device = make_device()
    Rule.objects.create(name="无数据", kind="no_data", no_data_minutes=30, severity="blue")
    Device.objects.filter(pk=device.pk).update(last_seen_at=timezone.now() - timedelta(minutes=45))
    ing = Ingestor()
    assert ing.sweep_silent()["open"] == 1
    assert ing.sweep_silent().get("open", 0) == 0
    alarm = Alarm.objects.get(device=device)
    assert alarm.state == "active" and alarm.case_id is None
    ing.process([Message(device.code, json.dumps(reading("back", 0.01)))])
    alarm.refresh_from_db()
    assert alarm.state == "cleared"


def test_per_device_rule_replaces_the_type_rule(wuhan, make_device):
    deep, normal = make_device(), make_device()
    Rule.objects.create(name="type", kind="threshold", device_type="water_level", metric="water_level",
                        threshold=0.15, severity="yellow")
    Rule.objects.create(name="deep", kind="threshold", device=deep, metric="water_level", threshold=0.5,
                        severity="yellow")
    Ingestor().process([Message(d.code, json.dumps(reading("x", 0.3))) for d in (deep, normal)])
    assert list(Alarm.objects.values_list("device_id", flat=True)) == [normal.pk]


def test_case_that_cannot_be_made_keeps_the_alarm_and_the_reading(wuhan, make_device):
    device = make_device()
    Device.objects.filter(pk=device.pk).update(category_code="X9999")
    Rule.objects.create(name="red", kind="threshold", device_type="water_level", metric="water_level",
                        threshold=0.15, severity="red")
    result = Ingestor().process([Message(device.code, json.dumps(reading("x", 0.3)))])
    assert result.stored == 1
    alarm = Alarm.objects.get(device=device)
    assert alarm.state == "active" and alarm.case_error


def test_retention_deletes_old_readings_and_rollups(wuhan, make_device, settings):
    device = make_device()
    ing = Ingestor()
    ing.process([Message(device.code, json.dumps([reading("new", 1.0), reading(
        "old", 1.0, ts=(timezone.now() - timedelta(days=20)).isoformat())]))])
    settings.CITYOPS_IOT_RETENTION_DAYS = 10
    settings.CITYOPS_IOT_MINUTE_ROLLUP_DAYS = 10
    done = retention_apply()
    assert done["readings"] == 1 and done["minute_rollups"] == 1
    assert list(Reading.objects.filter(device=device).values_list("message_id", flat=True)) == ["new"]
