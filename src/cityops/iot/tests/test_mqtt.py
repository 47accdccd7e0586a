"""Against a real Mosquitto broker (a private one the session starts, see conftest): stored, a duplicate stored once, a bad message in the
dead-letter table, a breach → exactly one alarm and one case, back inside the band → cleared (and written
on the case's timeline). These must not skip: with CI=true a skip fails."""

import pytest

from cityops.iot.models import Alarm, DeadLetter, Reading, Rollup, Rule

from .conftest import drain, reading


def test_published_readings_are_stored_with_rollups(wuhan, make_device, publisher, consumer):
    device = make_device()
    publisher.send(device.code, reading("m1", 0.01))
    publisher.send(device.code, [reading("m2", 0.02), reading("m3", 0.03, metric="battery")])
    drain(consumer, lambda: Reading.objects.filter(device=device).count() >= 3)
    stored = dict(Reading.objects.filter(device=device).values_list("message_id", "value"))
    assert stored == {"m1": 0.01, "m2": 0.02, "m3": 0.03}
    minute = Rollup.objects.get(device=device, metric="water_level", period="m")
    assert (minute.count, minute.min, minute.max) == (2, 0.01, 0.02)
    device.refresh_from_db()
    assert device.status == "online" and device.last_seen_at is not None


def test_a_duplicate_is_stored_once(wuhan, make_device, publisher, consumer):
    device = make_device()
    same = reading("dup-1", 0.05)
    publisher.send(device.code, same)
    publisher.send(device.code, same)  # re-sent after a reconnect
    publisher.send(device.code, [same, reading("dup-2", 0.06)])
    drain(consumer, lambda: Reading.objects.filter(device=device, message_id="dup-2").exists())
    assert Reading.objects.filter(device=device).count() == 2
    assert Rollup.objects.get(device=device, metric="water_level", period="h").count == 2
    assert consumer.ingestor.stats["duplicates"] == 2


@pytest.mark.parametrize(
    ("payload", "raw", "reason"),
    [
        (b"{not json", True, "bad_json"),
        ({"id": "x", "metric": "water_level", "value": "high", "ts": "2026-07-01T08:00:00+08:00"}, False, "bad_type"),
        ({"id": "x", "metric": "water_level", "value": 1.0, "ts": "2099-01-01T00:00:00+08:00"}, False,
         "future_timestamp"),
        ({"id": "x", "metric": "nope", "value": 1.0, "ts": "2026-07-01T08:00:00+08:00"}, False, "unknown_metric"),
        ({"id": "x", "value": 1.0}, False, "missing_field"),
        ([1, 2], False, "bad_payload"),
    ],
)
def test_a_bad_message_is_dead_lettered_and_the_consumer_goes_on(
    wuhan, make_device, publisher, consumer, payload, raw, reason
):
    device = make_device()
    publisher.send(device.code, payload, raw=raw)
    publisher.send(device.code, reading("after-bad", 0.01))
    drain(consumer, lambda: Reading.objects.filter(device=device, message_id="after-bad").exists())
    letters = list(DeadLetter.objects.filter(device_code=device.code))
    assert letters and {d.reason for d in letters} == {reason}
    assert all(d.source == "mqtt" and d.payload for d in letters)


def test_unknown_device_is_dead_lettered(wuhan, make_device, publisher, consumer):
    device = make_device()
    publisher.send("NO-SUCH-DEVICE", reading("u1", 1.0))
    publisher.send(device.code, reading("ok", 0.01))
    drain(consumer, lambda: Reading.objects.filter(device=device).exists())
    assert DeadLetter.objects.get(device_code="NO-SUCH-DEVICE").reason == "unknown_device"


def test_breach_makes_one_alarm_and_one_case_and_back_in_band_clears_it(wuhan, make_device, publisher, consumer):
    from cityops.cases.models import Case
    from cityops.core.timeline import timeline_for

    device = make_device(name="雄楚大道下穿通道积水监测")
    rule = Rule.objects.create(name="积水 ≥ 0.27 m", kind="threshold", device_type="water_level",
                               metric="water_level", direction="above", threshold=0.27, hysteresis=0.05,
                               severity="red")
    cases_before = Case.objects.count()
    publisher.send(device.code, [reading("b1", 0.05), reading("b2", 0.30)])
    publisher.send(device.code, reading("b3", 0.35))
    publisher.send(device.code, reading("b3", 0.35))  # duplicate: not a hit
    publisher.send(device.code, [reading("b4", 0.31), reading("b5", 0.25)])  # 0.25: inside the hysteresis
    drain(consumer, lambda: Reading.objects.filter(device=device, message_id="b5").exists())

    alarm = Alarm.objects.get(device=device, rule=rule)
    assert alarm.state == "dispatched" and alarm.hits == 3 and alarm.peak_value == 0.35
    assert Case.objects.count() == cases_before + 1
    case = Case.objects.get(pk=alarm.case_id)
    assert (case.source, case.category.code, case.urgency) == ("iot", "E0501", "urgent")
    assert case.proposed_department.code == "SW" and case.district_code == device.district_code
    assert alarm.case_code == case.code

    publisher.send(device.code, reading("b6", 0.10))
    drain(consumer, lambda: Alarm.objects.get(pk=alarm.pk).state == "cleared")
    alarm.refresh_from_db()
    assert alarm.cleared_at is not None and alarm.last_value == 0.10
    assert Alarm.objects.filter(device=device, rule=rule).count() == 1
    assert Case.objects.count() == cases_before + 1
    assert [e.action for e in timeline_for(alarm)] == ["raise", "dispatch", "clear"]
    assert "iot_clear" in [e.action for e in timeline_for(case)]

    # Back over the limit soon after clearing: the same alarm and the same case (a flapping sensor floods
    # no one), written on the case's timeline.
    publisher.send(device.code, reading("b7", 0.40))
    drain(consumer, lambda: Alarm.objects.get(pk=alarm.pk).state == "dispatched")
    alarm.refresh_from_db()
    assert alarm.hits == 4 and alarm.cleared_at is None
    assert Alarm.objects.filter(device=device, rule=rule).count() == 1
    assert Case.objects.count() == cases_before + 1
    assert "iot_recur" in [e.action for e in timeline_for(case)]


def test_breach_long_after_clearing_is_a_new_alarm(wuhan, make_device, settings):
    import json

    from cityops.iot.ingest import Ingestor, Message

    settings.CITYOPS_IOT_REOPEN_S = 0
    device = make_device()
    Rule.objects.create(name="积水", kind="threshold", device_type="water_level", metric="water_level",
                        threshold=0.15, hysteresis=0.03, severity="yellow")
    ing = Ingestor()
    for mid, value in (("n1", 0.3), ("n2", 0.05), ("n3", 0.3)):
        ing.process([Message(device.code, json.dumps(reading(mid, value)))])
    assert sorted(Alarm.objects.filter(device=device).values_list("state", flat=True)) == ["active", "cleared"]


def test_below_case_severity_alarm_stays_an_alarm(wuhan, make_device, publisher, consumer):
    from cityops.cases.models import Case

    device = make_device()
    Rule.objects.create(name="积水 ≥ 0.15 m", kind="threshold", device_type="water_level", metric="water_level",
                        threshold=0.15, hysteresis=0.03, severity="yellow")
    before = Case.objects.count()
    publisher.send(device.code, reading("y1", 0.2))
    drain(consumer, lambda: Alarm.objects.filter(device=device).exists())
    assert Alarm.objects.get(device=device).state == "active"
    assert Case.objects.count() == before


def test_shared_subscription_splits_the_load_and_stores_each_reading_once(wuhan, make_device, publisher, topic_prefix):
    from cityops.iot.mqtt import BrokerConfig, Consumer

    from .conftest import HOST, PORT, unique

    group = unique("grp")
    consumers = [
        Consumer(broker=BrokerConfig(HOST, PORT), client_id=unique("cityops-test-shared"), topic_prefix=topic_prefix,
                 shared_group=group, session_expiry=60, flush_ms=10)
        for _ in range(2)
    ]
    for c in consumers:
        c.start()
    try:
        assert consumers[0].topic == f"$share/{group}/{topic_prefix}/+"
        device = make_device()
        for i in range(200):
            publisher.send(device.code, reading(f"s{i}", 0.01), wait=False)
        publisher.send(device.code, reading("s-last", 0.01))
        import time

        deadline = time.monotonic() + 20
        while Reading.objects.filter(device=device).count() < 201 and time.monotonic() < deadline:
            for c in consumers:
                c.poll(0.02)
        assert Reading.objects.filter(device=device).count() == 201
        handled = [c.ingestor.stats["messages"] for c in consumers]
        assert sum(handled) == 201 and all(handled), handled
    finally:
        for c in consumers:
            c.stop(drain=False)


def test_two_instances_get_their_own_client_id_and_topics(settings, monkeypatch):
    """The defaults carry the instance (its database's name, or CITYOPS_INSTANCE), so two cityops on one broker
    never share a session or read each other's sensors."""
    from cityops.iot import conf

    for name in ("CITYOPS_IOT_MQTT_CLIENT_ID", "CITYOPS_IOT_MQTT_TOPIC_PREFIX", "CITYOPS_INSTANCE"):
        monkeypatch.delenv(name, raising=False)
    assert conf.instance_name("/srv/cityops/wuhan.sqlite3") == "wuhan"
    assert conf.instance_name("cityops_xiangyang") == "cityops_xiangyang"
    this = conf.instance_name()
    assert this and this in settings.DATABASES["default"]["NAME"]
    assert conf.get("MQTT_CLIENT_ID") == f"cityops-ingest-{this}"
    assert conf.get("MQTT_TOPIC_PREFIX") == f"cityops/{this}/readings"
    monkeypatch.setenv("CITYOPS_INSTANCE", "staging/2")
    assert conf.get("MQTT_TOPIC_PREFIX") == "cityops/staging-2/readings"
    assert conf.get("MQTT_CLIENT_ID") == "cityops-ingest-staging-2"
    monkeypatch.setenv("CITYOPS_IOT_MQTT_CLIENT_ID", "ops-ingest")
    assert conf.get("MQTT_CLIENT_ID") == "ops-ingest"


def test_a_session_taken_over_by_another_client_is_logged_once_with_the_fix(topic_prefix, caplog):
    """Two consumers with one client id knock each other off the broker in turn (Mosquitto closes the older
    connection each time the other reconnects): each says why at most once, however often it happens, and the
    log names the setting to change."""
    import logging
    import time

    from cityops.iot.mqtt import BrokerConfig, Consumer

    from .conftest import HOST, PORT, unique

    client_id = unique("cityops-test-same-id")
    twins = [
        Consumer(broker=BrokerConfig(HOST, PORT), client_id=client_id, topic_prefix=topic_prefix,
                 shared_group="", session_expiry=0, flush_ms=20)
        for _ in range(2)
    ]
    for c in twins:
        c.client.reconnect_delay_set(min_delay=1, max_delay=1)
    with caplog.at_level(logging.ERROR, logger="cityops.iot.mqtt"):
        try:
            for c in twins:
                c.start(wait=0)
            deadline = time.monotonic() + 20
            while sum(c.taken_over for c in twins) < 4 and time.monotonic() < deadline:
                time.sleep(0.1)
        finally:
            for c in twins:
                c.stop(drain=False)
    assert sum(c.taken_over for c in twins) >= 4
    lines = [r.getMessage() for r in caplog.records if "taken over" in r.getMessage()]
    assert 1 <= len(lines) <= 2  # once per consumer at most
    assert client_id in lines[0] and "CITYOPS_INSTANCE" in lines[0] and "会话被" in lines[0]


def test_a_plain_disconnect_is_not_a_takeover(topic_prefix):
    from cityops.iot.mqtt import BrokerConfig, Consumer

    from .conftest import HOST, PORT

    c = Consumer(broker=BrokerConfig(HOST, PORT), client_id="x", topic_prefix=topic_prefix, shared_group="")
    c._connected_at = 0.0  # connected long ago: a network drop, not another client
    c._on_disconnect(c.client, None, None, 128, None)
    c._on_disconnect(c.client, None, None, 128, None)
    assert c.taken_over == 0
    c._on_disconnect(c.client, None, None, 142, None)  # a broker that says so
    assert c.taken_over == 1
