"""IoT fixtures: the Wuhan demo geography (cases need it), departments and categories, devices, and MQTT
helpers against the real broker. Topics and client ids are unique per run: other people test on this
machine and broker at the same time."""

import atexit
import json
import os
import socket
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest

# The tests run against a real Mosquitto: by default a private one this session starts, configured the way
# docs/deployment.md tells operators to run it (max_queued_messages raised: Mosquitto's default of 1,000 drops
# messages queued for a persistent session whose consumer is down, which the fault test provokes on purpose,
# and a loaded CI machine restarts the consumer slowly). CITYOPS_IOT_TEST_BROKER=host:port uses another broker.
_BROKER_CONF = """listener {port} 127.0.0.1
allow_anonymous true
persistence false
max_queued_messages 10000000
max_queued_bytes 0
"""


def _start_private_broker() -> tuple[str, int]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    conf = Path(tempfile.mkdtemp(prefix="cityops-test-mqtt-")) / "mosquitto.conf"
    conf.write_text(_BROKER_CONF.format(port=port))
    proc = subprocess.Popen(["mosquitto", "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    atexit.register(proc.terminate)
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return "127.0.0.1", port
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("the private mosquitto for the IoT tests did not start")


if os.environ.get("CITYOPS_IOT_TEST_BROKER"):
    _host, _port = os.environ["CITYOPS_IOT_TEST_BROKER"].rsplit(":", 1)
    HOST, PORT = _host, int(_port)
else:
    HOST, PORT = _start_private_broker()


def unique(name: str) -> str:
    return f"{name}-{os.getpid()}-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def reference(db):
    """Departments (SW 水务局, RQ 燃气集团…) and the case categories."""
    from cityops.accounts.demo import load_departments
    from cityops.cases.demo import load_categories

    load_departments()
    load_categories()


@pytest.fixture(autouse=True)
def _fresh_index_check():
    # A rolled-back or flushed test may have changed the regions: the point index checks its version.
    from cityops.geo import index

    index.recheck()
    yield
    index.recheck()


@pytest.fixture
def make_device(reference, wuhan):
    from cityops.iot.services import device_save

    def make(code=None, type="water_level", lon=114.352, lat=30.507, **extra):  # noqa: A002
        device, _ = device_save(actor=None, code=code or unique("WL"), type=type, lon=lon, lat=lat, **extra)
        return device

    return make


@pytest.fixture
def topic_prefix():
    return f"cityops-test/{unique('run')}/readings"


class Publisher:
    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=unique("cityops-test-pub"))
        self.client.max_inflight_messages_set(1000)
        self.client.connect(HOST, PORT)
        self.client.loop_start()

    def send(self, code: str, payload, *, raw: bool = False, wait: bool = True):
        body = payload if raw else json.dumps(payload)
        info = self.client.publish(f"{self.prefix}/{code}", body, qos=1)
        if wait:
            info.wait_for_publish(10)
        return info

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


@pytest.fixture
def publisher(topic_prefix):
    pub = Publisher(topic_prefix)
    yield pub
    pub.close()


@pytest.fixture
def consumer(topic_prefix):
    from cityops.iot.mqtt import BrokerConfig, Consumer

    c = Consumer(broker=BrokerConfig(HOST, PORT), client_id=unique("cityops-test-ingest"), topic_prefix=topic_prefix,
                 shared_group="", session_expiry=120, flush_ms=20)
    c.start()
    yield c
    c.stop(drain=False)


def drain(consumer, until, timeout: float = 15.0) -> None:
    """Run the consumer in this thread (inside the test's transaction) until `until()` holds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        consumer.poll(0.05)
        if until():
            # One more short round: whatever would come extra (a duplicate stored twice) shows up too.
            consumer.poll(0.2)
            return
    raise AssertionError("timed out waiting for the consumer")


def reading(mid, value, metric="water_level", ts=None):
    from datetime import datetime, timedelta, timezone

    ts = ts or datetime.now(timezone(timedelta(hours=8))).isoformat()
    return {"id": mid, "metric": metric, "value": value, "ts": ts}
