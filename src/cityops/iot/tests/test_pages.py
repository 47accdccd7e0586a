"""IoT pages a duty officer can read (issue 13): the site's layout; metrics by name with typeset units from the
metric catalogue (水位 m, PM2.5 µg/m³, 甲烷 %LEL) in the page's language; the alarm timeline in the page's
language; case numbers as links; an empty chart that says so; how to start simulated sensors when none is on."""

import json
import re

import pytest
from django.test import Client

from cityops.iot.catalog import METRICS, TYPES, metric_label
from cityops.iot.ingest import Ingestor, Message
from cityops.iot.models import Alarm, Device, Rule

from .conftest import reading

pytestmark = pytest.mark.django_db


def client_for(user, language="zh-hans") -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    client.force_login(user)
    return client


def main(html: str) -> str:
    return re.search(r"<main.*?</main>", html, re.S).group(0)


def test_every_metric_of_every_device_type_is_in_the_catalogue():
    for spec in TYPES.values():
        for metric in spec["metrics"]:
            assert metric in METRICS, metric
            assert METRICS[metric].name_zh and METRICS[metric].name_en and METRICS[metric].unit
    assert (METRICS["pm25"].unit, METRICS["ch4"].unit, METRICS["tilt"].unit) == ("µg/m³", "%LEL", "°")


def test_metric_labels_follow_the_language():
    from django.utils import translation

    with translation.override("zh-hans"):
        assert metric_label("water_level", "m") == "水位（m）"
        assert metric_label("ch4", "%LEL") == "甲烷（%LEL）"
    with translation.override("en"):
        assert metric_label("pm25", "ug/m3") == "PM2.5 (µg/m³)"
    assert metric_label("odd_metric", "ug/m3") == "odd_metric（µg/m³）"


def test_device_page_names_metrics_and_says_when_a_chart_is_empty(make_device, dispatcher):
    device = make_device(type="dust", name="工地扬尘 1")
    html = main(client_for(dispatcher).get(f"/iot/devices/{device.code}/").content.decode())
    assert "PM2.5（µg/m³）" in html and "PM10（µg/m³）" in html
    assert "pm25" not in html and "ug/m3" not in html
    assert html.count("暂无数据") >= 2  # in the empty chart and its caption
    assert 'href="/static/iot/iot.css"' in client_for(dispatcher).get(f"/iot/devices/{device.code}/").content.decode()
    english = main(client_for(dispatcher, "en").get(f"/iot/devices/{device.code}/").content.decode())
    assert "PM2.5 (µg/m³)" in english


def test_a_reading_is_shown_with_the_metrics_name_and_unit(make_device, dispatcher):
    device = make_device(type="gas")
    Ingestor().process([Message(device.code, json.dumps(reading("g1", 3.5, metric="ch4")))])
    html = main(client_for(dispatcher).get(f"/iot/devices/{device.code}/").content.decode())
    readings = re.search(r'<section class="card" id="readings">.*?</section>', html, re.S).group(0)
    assert "甲烷" in readings and "3.5 %LEL" in readings


@pytest.fixture
def dispatched_alarm(make_device):
    device = make_device(name="雄楚大道下穿")
    Rule.objects.create(name="下穿通道积水 ≥ 0.27 m", kind="threshold", device_type="water_level", metric="water_level",
                        threshold=0.27, severity="red")
    Ingestor().process([Message(device.code, json.dumps(reading("w1", 0.3)))])
    alarm = Alarm.objects.get(device=device)
    assert alarm.state == "dispatched" and alarm.case_code, alarm.case_error
    return alarm


def test_alarm_pages_link_the_case_and_tell_the_timeline_in_the_pages_language(dispatched_alarm, dispatcher):
    alarm = dispatched_alarm
    assert "水位 = 0.3 m" in alarm.message
    link = f'<a href="/cases/{alarm.case_code}/">{alarm.case_code}</a>'
    for url in ("/iot/", "/iot/alarms/", "/iot/alarms/?open=1", f"/iot/alarms/{alarm.pk}/",
                f"/iot/devices/{alarm.device.code}/"):
        assert link in client_for(dispatcher).get(url).content.decode(), url
    html = main(client_for(dispatcher).get(f"/iot/alarms/{alarm.pk}/").content.decode())
    timeline = re.search(r'<section class="card" id="timeline">.*?</section>', html, re.S).group(0)
    assert "触发告警" in timeline and "转为城市事件" in timeline and "已转案件" in timeline and "系统" in timeline
    assert "raise" not in timeline and "dispatched" not in timeline
    english = main(client_for(dispatcher, "en").get(f"/iot/alarms/{alarm.pk}/").content.decode())
    timeline_en = re.search(r'<section class="card" id="timeline">.*?</section>', english, re.S).group(0)
    assert "转为城市事件" not in timeline_en and "触发告警" not in timeline_en


def test_the_open_alarms_list_leaves_out_closed_ones(dispatched_alarm, dispatcher):
    Alarm.objects.filter(pk=dispatched_alarm.pk).update(state="closed")
    assert "暂无告警" in client_for(dispatcher).get("/iot/alarms/?open=1").content.decode()
    assert dispatched_alarm.message in client_for(dispatcher).get("/iot/alarms/").content.decode()


def test_the_devices_page_says_how_to_start_simulated_sensors_while_all_are_offline(make_device, dispatcher):
    device = make_device()
    assert device.status == Device.Status.OFFLINE
    html = client_for(dispatcher).get("/iot/").content.decode()
    assert 'id="simulate-hint"' in html and "cityops iot simulate" in html
    Device.objects.filter(pk=device.pk).update(status=Device.Status.ONLINE)
    assert 'id="simulate-hint"' not in client_for(dispatcher).get("/iot/").content.decode()
