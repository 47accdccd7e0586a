"""Local-practice numbers of the IoT app (RULES.md §7), each overridable in settings as CITYOPS_IOT_<NAME>
(and most from the environment, see `get`)."""

import os

from django.conf import settings

DEFAULTS = {
    # Broker of `cityops iot ingest` / `cityops iot simulate`.
    "MQTT_HOST": "127.0.0.1",
    "MQTT_PORT": 1883,
    "MQTT_USERNAME": "",
    "MQTT_PASSWORD": "",
    "MQTT_TLS": False,
    "MQTT_CA_FILE": "",
    "MQTT_TOPIC_PREFIX": "cityops/readings",
    "MQTT_CLIENT_ID": "cityops-ingest",  # fixed id: the broker keeps the session (and queued messages)
    "MQTT_SHARED_GROUP": "",  # e.g. "cityops": several consumers share `$share/cityops/cityops/readings/+`
    "MQTT_SESSION_EXPIRY_S": 7 * 24 * 3600,
    "MQTT_RECEIVE_MAXIMUM": 65535,  # QoS 1 messages the broker may have in flight to one consumer
    # Batching: a batch is written in one transaction when it has BATCH_MAX readings or FLUSH_MS passed.
    "BATCH_MAX": 20000,  # messages
    "BATCH_MAX_BYTES": 2_000_000,  # payload bytes (~25,000 readings), so a backlog of big messages still
    #                                commits in steps of a fraction of a second
    "FLUSH_MS": 50,
    # Validation.
    "MAX_FUTURE_S": 300,  # a timestamp more than 5 minutes ahead of the server clock is refused
    "MAX_PAYLOAD_BYTES": 1024 * 1024,
    "MAX_ITEMS_PER_MESSAGE": 10000,
    # Alarms: this severity and above become city cases automatically (red > orange > yellow > blue).
    "CASE_SEVERITY": "orange",
    "NOTIFY_INTERVAL_S": 600,
    # A condition back within this long after its alarm cleared re-opens that alarm (and keeps its case)
    # instead of raising a new alarm and a new case: a flapping sensor must not flood anyone.
    "REOPEN_S": 900,  # at most one notification per alarm in this interval (throttling)
    "LAST_SEEN_WRITE_S": 30,  # how stale `Device.last_seen_at` may be in the database
    "NO_DATA_SWEEP_S": 30,
    # Retention.
    "RETENTION_DAYS": 90,  # raw readings
    "MINUTE_ROLLUP_DAYS": 14,
    "HOUR_ROLLUP_DAYS": 800,
    "DEAD_LETTER_DAYS": 30,
}

_INT = {k for k, v in DEFAULTS.items() if isinstance(v, int) and not isinstance(v, bool)}
_BOOL = {k for k, v in DEFAULTS.items() if isinstance(v, bool)}


def get(name: str):
    """settings.CITYOPS_IOT_<NAME>, else the environment variable of the same name, else the default."""
    key = f"CITYOPS_IOT_{name}"
    if hasattr(settings, key):
        return getattr(settings, key)
    raw = os.environ.get(key)
    if raw is None:
        return DEFAULTS[name]
    if name in _BOOL:
        return raw.strip().lower() in {"1", "true", "yes", "on"}
    if name in _INT:
        return int(raw)
    return raw
