"""Local-practice numbers of the IoT app (RULES.md §7), each overridable in settings as CITYOPS_IOT_<NAME>
(and most from the environment, see `get`)."""

import os
import re
from pathlib import Path

from django.conf import settings

DEFAULTS = {
    # Broker of `cityops iot ingest` / `cityops iot simulate`.
    "MQTT_HOST": "127.0.0.1",
    "MQTT_PORT": 1883,
    "MQTT_USERNAME": "",
    "MQTT_PASSWORD": "",
    "MQTT_TLS": False,
    "MQTT_CA_FILE": "",
    # None: derived from the instance (`instance_name`), so two cityops on one broker neither steal each
    # other's session nor read each other's sensors: cityops/<instance>/readings, cityops-ingest-<instance>.
    "MQTT_TOPIC_PREFIX": None,
    "MQTT_CLIENT_ID": None,  # fixed per instance: the broker keeps the session (and queued messages)
    "MQTT_SHARED_GROUP": "",  # e.g. "cityops": several consumers share `$share/cityops/cityops/<instance>/readings/+`
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


def instance_name(database_name: str | None = None) -> str:
    """What tells this cityops apart from another on the same broker: CITYOPS_INSTANCE, else the name of its
    database (the PostgreSQL database, or the SQLite file without its suffix), as MQTT-safe characters."""
    name = os.environ.get("CITYOPS_INSTANCE") or getattr(settings, "CITYOPS_INSTANCE", "") or ""
    if not name:
        name = Path(str(database_name or settings.DATABASES["default"]["NAME"])).stem
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", name).strip("-") or "cityops"


def _derived(name: str) -> str:
    if name == "MQTT_TOPIC_PREFIX":
        return f"cityops/{instance_name()}/readings"
    return f"cityops-ingest-{instance_name()}"


def get(name: str):
    """settings.CITYOPS_IOT_<NAME>, else the environment variable of the same name, else the default."""
    key = f"CITYOPS_IOT_{name}"
    if hasattr(settings, key):
        return getattr(settings, key)
    raw = os.environ.get(key)
    if raw is None:
        return _derived(name) if DEFAULTS[name] is None else DEFAULTS[name]
    if name in _BOOL:
        return raw.strip().lower() in {"1", "true", "yes", "on"}
    if name in _INT:
        return int(raw)
    return raw
