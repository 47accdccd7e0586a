"""The ingestion pipeline shared by MQTT and HTTP: parse and validate messages, store a batch in one
transaction (readings, rollups, dead letters, last-seen), evaluate the rules in memory on the readings that
were new, and turn rule events into alarms (RULES.md §7).

A message is `Message(device_code, payload)`; its payload is a JSON object
`{"id": "...", "metric": "water_level", "value": 0.42, "ts": "2026-07-01T08:00:00+08:00"}` or an array of
them. Anything wrong with a message or an item lands in the dead-letter table with its reason and never
stops the pipeline.
"""

from __future__ import annotations

import json
import logging
import math
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime

from django.db import close_old_connections, transaction
from django.utils import timezone

from cityops.iot import conf, storage
from cityops.iot.models import Alarm, DeadLetter, Device, Rule
from cityops.iot.rules import RuleEngine, RuleSpec
from cityops.iot.workflow import OPEN_STATES

logger = logging.getLogger(__name__)

RELOAD_S = 60.0  # rules, devices and open alarms are re-read this often (changes by other processes)
UNKNOWN_TTL_S = 30.0  # an unknown device code is looked up again after this long
MAX_DETAIL = 300
MAX_KEPT_PAYLOAD = 4000


@dataclass(slots=True)
class Message:
    device_code: str
    payload: bytes | str | list | dict
    topic: str = ""
    source: str = "mqtt"
    received_at: datetime | None = None


@dataclass(slots=True)
class Point:
    device_id: int
    metric: str
    value: float
    ts: datetime
    epoch: float
    message_id: str


@dataclass(slots=True)
class DeviceInfo:
    id: int
    code: str
    type: str
    metrics: frozenset[str]


@dataclass
class BatchResult:
    messages: int = 0
    readings: int = 0  # valid readings in the batch
    stored: int = 0  # new readings written
    duplicates: int = 0
    dead: int = 0
    events: Counter = field(default_factory=Counter)
    rejected: list[dict] = field(default_factory=list)  # per item, for the HTTP answer


@dataclass(slots=True)
class Prepared:
    messages: list[Message]
    result: BatchResult
    now: datetime
    unique: dict[tuple[int, str], Point]
    rows: list[tuple]
    dead: list[DeadLetter]
    ordered: list[Point]  # unique points sorted by time
    buckets: dict  # their rollups
    copy_text: str | None  # PostgreSQL COPY text of rows


class Rejected(Exception):
    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.detail = detail[:MAX_DETAIL]


def parse_ts(raw) -> tuple[datetime, float]:
    """ISO 8601 with an offset (or Z), or epoch seconds / milliseconds. A time without offset is refused:
    a sensor's local clock is not known here."""
    if isinstance(raw, str):
        try:
            ts = datetime.fromisoformat(raw)
        except ValueError:
            raise Rejected(DeadLetter.Reason.BAD_TIMESTAMP, f"not an ISO 8601 time: {raw[:40]!r}") from None
        if ts.tzinfo is None:
            raise Rejected(DeadLetter.Reason.BAD_TIMESTAMP, f"time without UTC offset: {raw[:40]!r}")
        return ts, ts.timestamp()
    if isinstance(raw, int | float) and not isinstance(raw, bool) and math.isfinite(raw):
        epoch = raw / 1000.0 if raw > 1e11 else float(raw)
        try:
            return datetime.fromtimestamp(epoch, UTC), epoch
        except (OverflowError, OSError, ValueError):
            pass
    raise Rejected(DeadLetter.Reason.BAD_TIMESTAMP, f"bad ts: {str(raw)[:40]!r}")


class Ingestor:
    """One per process (consumer or web worker). Holds the device registry, the rules and their state."""

    def __init__(self) -> None:
        self.devices: dict[str, DeviceInfo] = {}
        self.unknown: dict[str, float] = {}
        self.engine = RuleEngine()
        self.last_seen: dict[int, float] = {}  # epoch of the last message per device (this process)
        self.last_written: dict[int, float] = {}  # when last_seen_at was last written per device
        self.loaded_at = 0.0
        self.rules_stale = False  # a device was registered since the rules were installed
        self.stats: Counter = Counter()
        self.max_future_s = float(conf.get("MAX_FUTURE_S"))
        self.retention_s = float(conf.get("RETENTION_DAYS")) * 86400
        self.last_seen_write_s = float(conf.get("LAST_SEEN_WRITE_S"))
        self.max_items = int(conf.get("MAX_ITEMS_PER_MESSAGE"))
        self.max_bytes = int(conf.get("MAX_PAYLOAD_BYTES"))

    # --- registry and rules --------------------------------------------------------------------------
    def reload(self) -> None:
        """Read devices, rules and open alarms (the database is the truth; memory is a cache of it)."""
        self.devices = {
            code: DeviceInfo(pk, code, dtype, frozenset(metrics or {}))
            for pk, code, dtype, metrics in Device.objects.values_list("id", "code", "type", "metrics")
        }
        self.unknown.clear()
        for pk, seen in Device.objects.filter(last_seen_at__isnull=False).values_list("id", "last_seen_at"):
            self.last_seen[pk] = max(self.last_seen.get(pk, 0.0), seen.timestamp())
        self._load_rules()
        self.loaded_at = time.monotonic()

    def _load_rules(self) -> None:
        rules = list(Rule.objects.filter(active=True))
        by_type: dict[str, list[Rule]] = {}
        by_device: dict[int, list[Rule]] = {}
        for rule in rules:
            if rule.device_id:
                by_device.setdefault(rule.device_id, []).append(rule)
            else:
                by_type.setdefault(rule.device_type or "", []).append(rule)
        device_rules: dict[int, list[RuleSpec]] = {}
        # Cleared before the snapshot of devices: a device the parsing thread registers after it marks the rules
        # stale again and is picked up by the next reload (cleared after, its rules were lost until then).
        self.rules_stale = False
        for info in list(self.devices.values()):  # the parsing thread may be adding a device
            own = by_device.get(info.id, [])
            replaced = {(r.kind, r.metric) for r in own}
            chosen = [
                r
                for r in by_type.get(info.type, []) + by_type.get("", [])
                if (r.kind, r.metric) not in replaced and (r.kind == "no_data" or r.metric in info.metrics)
            ] + own
            if chosen:
                device_rules[info.id] = [RuleSpec.from_model(r) for r in chosen]
        open_alarms = list(Alarm.objects.filter(state__in=OPEN_STATES).values_list("device_id", "rule_id"))
        self.engine.load(device_rules=device_rules, open_alarms=open_alarms)

    def maybe_reload(self) -> None:
        if time.monotonic() - self.loaded_at > RELOAD_S:
            self.reload()

    def device(self, code: str) -> DeviceInfo | None:
        info = self.devices.get(code)
        if info is not None:
            return info
        checked = self.unknown.get(code)
        if checked is not None and time.monotonic() - checked < UNKNOWN_TTL_S:
            return None
        row = Device.objects.filter(code=code).values_list("id", "code", "type", "metrics").first()
        if row is None:
            self.unknown[code] = time.monotonic()
            if len(self.unknown) > 100_000:  # a flood of made-up codes must not grow memory without bound
                self.unknown.clear()
            return None
        # A device registered after the last reload: install it, and its rules before the next evaluation
        # (in `store`, which may run in another thread than parsing).
        self.devices[code] = DeviceInfo(row[0], row[1], row[2], frozenset(row[3] or {}))
        self.rules_stale = True
        return self.devices[code]

    # --- parsing -------------------------------------------------------------------------------------
    def parse(self, msg: Message, now_epoch: float, points: list[Point], dead: list[DeadLetter],
              result: BatchResult, *, device: DeviceInfo | None = None) -> None:
        def reject(reason, detail="", payload=None, index=None):
            if isinstance(payload, bytes):
                payload = payload.decode("utf-8", "replace")
            elif payload is not None and not isinstance(payload, str):
                payload = json.dumps(payload, ensure_ascii=False, default=str)
            dead.append(DeadLetter(
                received_at=msg.received_at, source=msg.source, topic=msg.topic[:200],
                device_code=(msg.device_code or "")[:64], reason=reason, detail=str(detail)[:MAX_DETAIL],
                payload=(payload or "")[:MAX_KEPT_PAYLOAD],
            ))
            if msg.source == "http":
                result.rejected.append({"index": index, "reason": str(reason), "detail": str(detail)[:MAX_DETAIL]})

        payload = msg.payload
        if isinstance(payload, bytes | str):
            if len(payload) > self.max_bytes:
                reject(DeadLetter.Reason.TOO_LARGE, f"{len(payload)} bytes", payload[:MAX_KEPT_PAYLOAD])
                return
            try:
                payload = json.loads(payload)
            except (ValueError, UnicodeDecodeError) as exc:
                reject(DeadLetter.Reason.BAD_JSON, str(exc), msg.payload)
                return
        if device is None:
            device = self.device(msg.device_code)
            if device is None:
                reject(DeadLetter.Reason.UNKNOWN_DEVICE, f"no device {msg.device_code!r}", payload)
                return
        items = payload if isinstance(payload, list) else [payload]
        if len(items) > self.max_items:
            reject(DeadLetter.Reason.TOO_LARGE, f"{len(items)} items (max {self.max_items})", payload)
            return
        metrics = device.metrics
        device_id = device.id
        oldest = now_epoch - self.retention_s
        newest = now_epoch + self.max_future_s
        for index, item in enumerate(items):
            try:
                if not isinstance(item, dict):
                    raise Rejected(DeadLetter.Reason.BAD_PAYLOAD, "a reading must be a JSON object")
                try:
                    mid, metric, value, raw_ts = item["id"], item["metric"], item["value"], item["ts"]
                except KeyError as exc:
                    raise Rejected(DeadLetter.Reason.MISSING_FIELD, f"missing {exc.args[0]!r}") from None
                if isinstance(mid, bool) or not isinstance(mid, str | int) or mid == "":
                    raise Rejected(DeadLetter.Reason.BAD_TYPE, "id must be a non-empty string or integer")
                mid = str(mid)
                if len(mid) > 64:
                    raise Rejected(DeadLetter.Reason.BAD_TYPE, "id longer than 64 characters")
                if metric not in metrics:
                    if not isinstance(metric, str):
                        raise Rejected(DeadLetter.Reason.BAD_TYPE, "metric must be a string")
                    raise Rejected(DeadLetter.Reason.UNKNOWN_METRIC, f"{device.code} has no metric {metric[:32]!r}")
                if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
                    raise Rejected(DeadLetter.Reason.BAD_TYPE, f"value must be a finite number, not {str(value)[:30]!r}")
                ts, epoch = parse_ts(raw_ts)
                if epoch > newest:
                    raise Rejected(DeadLetter.Reason.FUTURE_TIMESTAMP, f"{raw_ts} is ahead of the server clock")
                if epoch < oldest:
                    raise Rejected(DeadLetter.Reason.TOO_OLD, f"{raw_ts} is older than the retention period")
            except Rejected as exc:
                reject(exc.reason, exc.detail, item, index)
                continue
            points.append(Point(device_id, metric, float(value), ts, epoch, mid))
        last = self.last_seen.get(device_id, 0.0)
        if now_epoch > last:
            self.last_seen[device_id] = now_epoch

    # --- one batch -----------------------------------------------------------------------------------
    def prepare(self, messages: list[Message], *, device: DeviceInfo | None = None, reload: bool = True) -> Prepared:
        """Parse and validate a batch (no writes). `store` then writes it: the MQTT consumer prepares the
        next batch in its main thread while its writer thread stores the previous one (parsing overlaps the
        database). reload=False there: only the writer re-reads the registry and the rules."""
        if reload:
            self.maybe_reload() if self.loaded_at else self.reload()
        result = BatchResult(messages=len(messages))
        now = timezone.now()
        now_epoch = now.timestamp()
        points: list[Point] = []
        dead: list[DeadLetter] = []
        for msg in messages:
            if msg.received_at is None:
                msg.received_at = now
            self.parse(msg, now_epoch, points, dead, result, device=device)
        result.readings = len(points)
        # One row per (device, message id): a reading repeated inside the batch is a duplicate too.
        unique: dict[tuple[int, str], Point] = {}
        for p in points:
            unique.setdefault((p.device_id, p.message_id), p)
        rows = [(p.device_id, p.metric, p.value, p.ts, p.epoch, p.message_id) for p in unique.values()]
        # Work that does not depend on which rows turn out new is done here, off the writer's critical path:
        # the COPY text, the points in time order, and their rollups (used as they are when every row was new,
        # the common case; recomputed from the new ones otherwise).
        ordered = sorted(unique.values(), key=_by_time)
        copy_text = storage.copy_text(rows) if storage.uses_copy() else None
        return Prepared(messages, result, now, unique, rows, dead, ordered, rollup_buckets(ordered), copy_text)

    def process(self, messages: list[Message], *, device: DeviceInfo | None = None) -> BatchResult:
        """Store one batch in one transaction. Raises only on a database failure (nothing is written then,
        and the caller retries: the batch is idempotent)."""
        return self.store(self.prepare(messages, device=device))

    def store(self, batch: Prepared) -> BatchResult:
        """Write a prepared batch in one transaction and evaluate the rules on the readings that were new.
        Raises only on a database failure (nothing is written then; the batch may be stored again)."""
        self.maybe_reload() if self.loaded_at else self.reload()
        if self.rules_stale:
            self._load_rules()
        result = batch.result
        now = batch.now
        seen_now = [
            (device_id, seen) for device_id, seen in list(self.last_seen.items())
            if seen - self.last_written.get(device_id, 0.0) >= self.last_seen_write_s
        ]
        try:
            with transaction.atomic():
                inserted = storage.insert_readings(batch.rows, received_at=now, copy_text=batch.copy_text)
                if inserted is None:
                    new, buckets = batch.ordered, batch.buckets
                else:
                    new = [p for p in batch.ordered if (p.device_id, p.message_id) in inserted]
                    buckets = rollup_buckets(new)
                storage.upsert_rollups(buckets)
                if batch.dead:
                    DeadLetter.objects.bulk_create(batch.dead, batch_size=1000)
                if seen_now:
                    storage.touch_devices((d, datetime.fromtimestamp(s, UTC)) for d, s in seen_now)
                events = self.engine.evaluate(new)
                if events:
                    from cityops.iot.services import alarm_apply_events

                    result.events = alarm_apply_events(events)
        except Exception:
            # Memory ran ahead of the database: re-read the truth before the retry.
            self.loaded_at = 0.0
            self.engine = RuleEngine()
            raise
        for device_id, seen in seen_now:
            self.last_written[device_id] = seen
        result.stored = len(new)
        result.duplicates = result.readings - len(new)
        result.dead = len(batch.dead)
        self.stats.update(messages=result.messages, stored=result.stored, duplicates=result.duplicates,
                          dead=result.dead)
        for d in batch.dead:
            self.stats[f"dead:{d.reason}"] += 1
        return result

    def process_safely(self, messages: list[Message] | Prepared, *, attempts: int = 3) -> BatchResult:
        """`process` (or `store` of a prepared batch), retried on database errors; if the batch still fails,
        message by message, and a message that fails alone is dead-lettered (store_failed). Never raises on
        input."""
        batch = messages if isinstance(messages, Prepared) else None
        if batch is not None:
            messages = batch.messages
        for attempt in range(attempts):
            try:
                if batch is not None and attempt == 0:
                    return self.store(batch)
                return self.process(messages)  # parsed again: the registry may have changed meanwhile
            except Exception:
                logger.exception("iot batch of %d messages failed (attempt %d)", len(messages), attempt + 1)
                close_old_connections()
                time.sleep(min(2.0, 0.2 * (attempt + 1)))
        total = BatchResult(messages=len(messages))
        for msg in messages:
            try:
                part = self.process([msg])
            except Exception as exc:  # one poisonous message: keep it for a person, move on
                logger.exception("iot message from %s could not be stored", msg.device_code)
                try:
                    DeadLetter.objects.create(
                        received_at=msg.received_at or timezone.now(), source=msg.source, topic=msg.topic[:200],
                        device_code=(msg.device_code or "")[:64], reason=DeadLetter.Reason.STORE_FAILED,
                        detail=str(exc)[:MAX_DETAIL], payload=_text(msg.payload)[:MAX_KEPT_PAYLOAD],
                    )
                except Exception:
                    logger.exception("dead letter could not be written either")
                    raise
                total.dead += 1
                continue
            total.stored += part.stored
            total.duplicates += part.duplicates
            total.dead += part.dead
            total.readings += part.readings
            total.events.update(part.events)
        return total

    def sweep_silent(self) -> Counter:
        """No-data rules: open an alarm for each device silent too long (by the freshest last-seen of any
        consumer, so a device another consumer heard from is not silent)."""
        self.maybe_reload() if self.loaded_at else self.reload()
        ids = list(self.engine.no_data)
        if not ids:
            return Counter()
        for pk, seen in Device.objects.filter(id__in=ids, last_seen_at__isnull=False).values_list("id", "last_seen_at"):
            self.last_seen[pk] = max(self.last_seen.get(pk, 0.0), seen.timestamp())
        events = self.engine.silent(last_seen=self.last_seen, now=time.time())
        if not events:
            return Counter()
        from cityops.iot.services import alarm_apply_events

        try:
            with transaction.atomic():
                return alarm_apply_events(events)
        except Exception:
            self.loaded_at = 0.0
            self.engine = RuleEngine()
            raise


def _by_time(p: Point) -> float:
    return p.epoch


def _text(payload) -> str:
    if isinstance(payload, bytes):
        return payload.decode("utf-8", "replace")
    if isinstance(payload, str):
        return payload
    return json.dumps(payload, ensure_ascii=False, default=str)


_BUCKET_CACHE: dict[float, datetime] = {}


def _bucket_dt(epoch: float) -> datetime:
    dt = _BUCKET_CACHE.get(epoch)
    if dt is None:
        if len(_BUCKET_CACHE) > 50_000:
            _BUCKET_CACHE.clear()
        dt = _BUCKET_CACHE[epoch] = datetime.fromtimestamp(epoch, UTC)
    return dt


def rollup_buckets(points: list[Point]) -> dict[tuple, list[float]]:
    """Minute and hour [count, sum, min, max] of the new readings, keyed for storage.upsert_rollups."""
    acc: dict[tuple, list[float]] = {}
    for p in points:
        e = p.epoch
        v = p.value
        for period, start in (("m", e - e % 60), ("h", e - e % 3600)):
            key = (p.device_id, p.metric, period, start)
            b = acc.get(key)
            if b is None:
                acc[key] = [1, v, v, v]
            else:
                b[0] += 1
                b[1] += v
                if v < b[2]:
                    b[2] = v
                if v > b[3]:
                    b[3] = v
    return {(d, m, period, _bucket_dt(start)): b for (d, m, period, start), b in acc.items()}
