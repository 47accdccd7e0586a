"""Fault test: the consumer dies (SIGKILL, mid-batch, unacknowledged messages in its memory) while a device
keeps publishing at QoS 1; the broker keeps the persistent session; a new consumer with the same client id
gets everything the first one did not acknowledge. Every reading is stored exactly once."""

import os
import signal
import subprocess
import sys
import threading
import time

import pytest
from django.db import connection

from cityops.iot.models import Reading

from .conftest import HOST, PORT, Publisher, reading, unique

TOTAL = 2000
RATE = 250  # messages/s: the broker queues ~this × downtime for the absent consumer (Mosquitto's default
#            max_queued_messages is 1000, so the downtime stays well under 4 s)


def _database_url() -> str:
    s = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{s['NAME']}"
    return f"postgres://{s['USER']}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


def _start_consumer(client_id: str, prefix: str) -> subprocess.Popen:
    env = {**os.environ, "DATABASE_URL": _database_url(), "CITYOPS_IOT_MQTT_SESSION_EXPIRY_S": "300",
           "CITYOPS_IOT_MQTT_HOST": HOST, "CITYOPS_IOT_MQTT_PORT": str(PORT), "CITYOPS_LOG_LEVEL": "WARNING"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "cityops", "iot", "ingest", "--client-id", client_id, "--topic-prefix", prefix,
         "--flush-ms", "20", "--batch-max", "200"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    # The command prints one line once it is connected and subscribed.
    line = proc.stdout.readline()
    assert "iot ingest:" in line, line + (proc.stdout.read() if proc.poll() is not None else "")
    return proc


def _count(device) -> int:
    return Reading.objects.filter(device=device).count()


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_consumer_killed_mid_stream_loses_nothing_and_stores_nothing_twice(reference, topic_prefix):
    from cityops.iot.services import device_save

    device, _ = device_save(actor=None, code=unique("FAULT"), type="water_level")
    client_id = unique("cityops-test-fault")
    first = _start_consumer(client_id, topic_prefix)
    publisher = Publisher(topic_prefix)
    sent = []

    def publish_all():
        for i in range(TOTAL):
            sent.append(publisher.send(device.code, reading(f"f{i}", i / 1000), wait=False))
            time.sleep(1 / RATE)

    thread = threading.Thread(target=publish_all)
    thread.start()
    try:
        # Kill once the first consumer has stored some readings (so it dies in the middle of the stream).
        deadline = time.monotonic() + 20
        while _count(device) < 200 and time.monotonic() < deadline:
            time.sleep(0.05)
        stored_before_kill = _count(device)
        assert 0 < stored_before_kill < TOTAL
        first.send_signal(signal.SIGKILL)
        first.wait(10)
        time.sleep(1.0)  # messages keep coming while no consumer is connected
        second = _start_consumer(client_id, topic_prefix)
        thread.join(60)
        for info in sent:
            info.wait_for_publish(10)
        deadline = time.monotonic() + 60
        while _count(device) < TOTAL and time.monotonic() < deadline:
            time.sleep(0.1)
        second.send_signal(signal.SIGTERM)
        out, _ = second.communicate(timeout=30)
    finally:
        publisher.close()
        for proc in (first, locals().get("second")):
            if proc is not None and proc.poll() is None:
                proc.kill()
    ids = list(Reading.objects.filter(device=device).values_list("message_id", flat=True))
    assert len(ids) == TOTAL, f"stored {len(ids)} of {TOTAL} (before the kill: {stored_before_kill})"
    assert set(ids) == {f"f{i}" for i in range(TOTAL)}
    assert second.returncode == 0, out
    print(f"stored before the kill: {stored_before_kill}; second consumer: {out.strip().splitlines()[-1]}")
