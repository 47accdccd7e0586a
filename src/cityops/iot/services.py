"""Every write of the IoT app except the reading hot path (iot.storage): devices and their tokens, the CSV
import, rules, alarms (through core.workflow.transition) and retention. RULES.md §7; STYLE.md conventions."""

from __future__ import annotations

import csv
import io
import logging
from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from cityops.accounts.models import OrgUnit
from cityops.core import roles
from cityops.core.errors import CityopsError, InvalidInput, NotFound
from cityops.core.notify import notify
from cityops.core.timeline import timeline_append
from cityops.core.workflow import create_with_timeline, transition
from cityops.iot import conf
from cityops.iot.catalog import METRICS, SEVERITY_LABELS, TYPES, metric_unit, severity_at_least
from cityops.iot.models import Alarm, DeadLetter, Device, Reading, Rollup, Rule
from cityops.iot.workflow import OPEN_STATES

logger = logging.getLogger(__name__)
SYSTEM_NAME = "system:iot"


# --- devices ------------------------------------------------------------------------------------------------
def _locate_fields(lon, lat) -> dict:
    """Region fields of a device point (WGS-84); empty when it has no point. Outside the city → error."""
    if lon in (None, "") or lat in (None, ""):
        return {"lon": None, "lat": None}
    from cityops.geo.selectors import locate_point

    loc = locate_point(lon=lon, lat=lat)
    deepest = loc.deepest
    return {
        "lon": loc.lon,
        "lat": loc.lat,
        "region_code": deepest.code if deepest else "",
        "district_code": loc.district.code if loc.district else "",
        "district_name": loc.district.name if loc.district else "",
        "street_name": loc.street.name if loc.street else "",
        "community_name": loc.community.name if loc.community else "",
        "grid_code": loc.grid.code if loc.grid else "",
    }


def _department(code: str) -> OrgUnit | None:
    if not code:
        return None
    unit = OrgUnit.objects.filter(code=code).first()
    if unit is None:
        raise InvalidInput(f"未知部门 {code!r}", f"Unknown department {code!r}", code="unknown_department")
    return unit


def _parse_metrics(raw) -> dict[str, str]:
    """`{"water_level": "m"}` or the CSV form `water_level:m;battery:V`."""
    if isinstance(raw, dict):
        metrics = {str(k).strip(): str(v).strip() for k, v in raw.items()}
    else:
        metrics = {}
        for part in str(raw or "").split(";"):
            if part.strip():
                name, _sep, unit = part.partition(":")
                metrics[name.strip()] = unit.strip()
    for name in metrics:
        if not name or len(name) > 32 or not name.replace("_", "").isalnum():
            raise InvalidInput(f"指标名无效：{name!r}", f"Invalid metric name {name!r}", code="invalid_metric")
    return metrics


@transaction.atomic
def device_save(
    *,
    actor,
    code: str,
    type: str,  # noqa: A002 - the domain word
    name: str = "",
    lon=None,
    lat=None,
    address: str = "",
    metrics=None,
    department: str = "",
    category: str = "",
    status: str = "",
) -> tuple[Device, str]:
    """Create or update a device: located to its grid/district, owner department and case category default
    to its type's. Each change is on the device's timeline. Returns (device, "created" | "updated" |
    "unchanged")."""
    code = (code or "").strip()
    if not code or len(code) > 64 or "/" in code or "+" in code or "#" in code:
        raise InvalidInput(f"设备编码无效：{code!r}", f"Invalid device code {code!r}", code="invalid_device_code")
    if type not in TYPES:
        raise InvalidInput(f"未知设备类型 {type!r}", f"Unknown device type {type!r}", code="unknown_device_type")
    spec = TYPES[type]
    values = {
        "name": (name or "").strip()[:100],
        "type": type,
        "metrics": _parse_metrics(metrics) if metrics else dict(spec["metrics"]),
        "address": (address or "").strip()[:200],
        "department": _department(department or spec["department"]),
        "category_code": (category or spec["category"]).strip().upper(),
        **_locate_fields(lon, lat),
    }
    if status:
        if status not in Device.Status.values:
            raise InvalidInput(f"未知状态 {status!r}", f"Unknown status {status!r}", code="invalid_status")
        values["status"] = status
    device = Device.objects.select_for_update().filter(code=code).first()
    created = device is None
    if created:
        device = Device.objects.create(code=code, **values)
        changes = {k: str(v) for k, v in values.items() if v not in (None, "", {})}
    else:
        changes = {}
        for key, value in values.items():
            if getattr(device, key) != value:
                changes[key] = str(value)
                setattr(device, key, value)
        if changes:
            device.save()
    if changes:
        timeline_append(subject=device, action="create" if created else "update", actor=actor, params=changes)
    return device, "created" if created else ("updated" if changes else "unchanged")


@transaction.atomic
def device_delete(*, device: Device, actor) -> dict[str, int]:
    """Delete a device with its readings and rollups, in one transaction, on the device's timeline.

    Readings and rollups have no database foreign key to the device (ingest speed, models.Reading), so this
    service is what keeps them from outliving it; the ORM cascade (rules, alarms) does the rest. A reading
    that a consumer's device cache (up to ingest.RELOAD_S stale) still accepts after this commits is removed
    by the next retention_apply() sweep of orphans. Returns the counts deleted."""
    locked = Device.objects.select_for_update().filter(pk=device.pk).first()
    if locked is None:
        raise NotFound(f"设备不存在：{device.code}", f"No such device: {device.code}", code="unknown_device")
    db = Reading.objects.db
    counts = {
        "readings": Reading.objects.filter(device_id=locked.pk)._raw_delete(db),
        "rollups": Rollup.objects.filter(device_id=locked.pk)._raw_delete(db),
    }
    timeline_append(
        subject=locked, action="delete", actor=actor,
        params={"code": locked.code, "type": locked.type, "name": locked.name, **counts},
    )
    # Its alarms go with it: each alarm's timeline ends by saying so, or `audit verify` would report a chain
    # whose object vanished.
    for alarm in Alarm.objects.select_for_update().filter(device_id=locked.pk).order_by("pk"):
        timeline_append(subject=alarm, action="delete", actor=actor, from_state=alarm.state, to_state=alarm.state,
                        params={"device": locked.code})
    counts["other"] = locked.delete()[0]  # rules and alarms (ORM cascade)
    return counts


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    errors: list[str] = field(default_factory=list)


def device_import_csv(*, actor, text: str) -> ImportResult:
    """Devices from CSV: code,type,name,lon,lat,address,department,category,metrics (header row; only code
    and type required; metrics as `name:unit;name:unit`). Each row stands alone: a bad row is reported with
    its line number and the others are imported."""
    result = ImportResult()
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    missing = {"code", "type"} - set(reader.fieldnames or [])
    if missing:
        raise InvalidInput(
            f"CSV 缺少列：{', '.join(sorted(missing))}", f"CSV lacks columns: {', '.join(sorted(missing))}",
            code="csv_columns",
        )
    for line, row in enumerate(reader, start=2):
        row = {k: (v or "").strip() for k, v in row.items() if k}
        try:
            _device, outcome = device_save(
                actor=actor, code=row.get("code", ""), type=row.get("type", ""), name=row.get("name", ""),
                lon=row.get("lon") or None, lat=row.get("lat") or None, address=row.get("address", ""),
                metrics=row.get("metrics") or None, department=row.get("department", ""),
                category=row.get("category", ""), status=row.get("status", ""),
            )
        except CityopsError as exc:
            result.errors.append(f"line {line}: {exc.message} / {exc.message_en}")
            continue
        if outcome == "created":
            result.created += 1
        elif outcome == "updated":
            result.updated += 1
    return result


@transaction.atomic
def device_token_issue(*, device: Device, actor) -> str:
    """A new HTTP ingestion token for the device; only its SHA-256 is stored, the token is shown once.
    Issuing a new one revokes the old."""
    token, key_id, digest = Device.new_token()
    Device.objects.filter(pk=device.pk).update(token_id=key_id, token_hash=digest)
    timeline_append(subject=device, action="token_issue", actor=actor, params={"token_id": key_id})
    return token


def device_for_token(token: str) -> Device | None:
    if not token.startswith(Device.TOKEN_PREFIX):
        return None
    key_id, _sep, secret = token[len(Device.TOKEN_PREFIX) :].partition("_")
    if not key_id or not secret:
        return None
    device = Device.objects.filter(token_id=key_id).first()
    if device is None or not device.token_matches(token) or device.status == Device.Status.MAINTENANCE:
        return None
    return device


# --- rules --------------------------------------------------------------------------------------------------
def rule_defaults_load(*, actor=None) -> int:
    """The default rules of each device type (catalog.DEFAULT_RULES), unless a rule of that name exists."""
    from cityops.iot.catalog import DEFAULT_RULES

    created = 0
    with transaction.atomic():
        for spec in DEFAULT_RULES:
            if Rule.objects.filter(name=spec["name"], device__isnull=True).exists():
                continue
            rule = Rule.objects.create(**spec)
            timeline_append(subject=rule, action="create", actor=actor, params={"name": rule.name})
            created += 1
    return created


# --- alarms -------------------------------------------------------------------------------------------------
def _recipients(device: Device, severity: str):
    """The owner department's people; a red alarm also reaches the shift leads of the centre."""
    User = get_user_model()
    q = Q(pk__in=[])
    if device.department_id:
        q |= Q(org_units=device.department_id, groups__name__in=[roles.DEPT_HANDLER, roles.DEPT_LEAD])
    if severity == "red":
        q |= Q(groups__name=roles.SHIFT_LEAD)
    return list(User.objects.filter(q, is_active=True).distinct())


def _notify_alarm(alarm_id: int, kind: str) -> None:
    """Throttled: one notification per alarm per NOTIFY_INTERVAL_S for repeated hits; claimed with a
    conditional update so that two consumers never send the same one (the Healthchecks `Flip` idea)."""
    now = timezone.now()
    interval = timedelta(seconds=int(conf.get("NOTIFY_INTERVAL_S")))
    claim = Alarm.objects.filter(pk=alarm_id)
    if kind == "hit":
        claim = claim.filter(Q(notified_at__isnull=True) | Q(notified_at__lt=now - interval))
    if not claim.update(notified_at=now):
        return
    alarm = Alarm.objects.select_related("device", "rule").get(pk=alarm_id)
    device = alarm.device
    label = SEVERITY_LABELS.get(alarm.severity, alarm.severity)
    title = {
        "open": f"【{label}告警】{device.name or device.code}：{alarm.rule.name}",
        "hit": f"【{label}告警持续】{device.name or device.code}：{alarm.rule.name}（{alarm.hits} 次）",
        "clear": f"【告警恢复】{device.name or device.code}：{alarm.rule.name}",
    }[kind]
    body = alarm.message + (f"；案件 {alarm.case_code}" if alarm.case_code else "")
    notify(recipients=_recipients(device, alarm.severity), kind=f"iot_alarm_{kind}", title=title, body=body,
           subject=alarm, url=f"/iot/alarms/{alarm.pk}/")


def _describe(device: Device, rule, value) -> str:
    """The alarm's message, kept as written (Chinese, like the rules' names): the metric by its name and unit from
    the metric catalogue — "水位 = 0.3 m", not "water_level = 0.3 m"."""
    unit = metric_unit(rule.metric, (device.metrics or {}).get(rule.metric, ""))
    where = device.name or device.code
    if rule.kind == "no_data":
        return f"{where} 已 {rule.no_data_minutes:g} 分钟无数据"
    name = METRICS[rule.metric].name_zh if rule.metric in METRICS else rule.metric
    return f"{where} {name} = {value:g} {unit}（规则：{rule.name}）"


def _recur(*, device_id: int, rule, value, ts, now) -> Alarm | None:
    """The condition is back soon after its alarm cleared: re-open that alarm (its case goes on) rather than
    raise a new alarm and a new case."""
    window = timedelta(seconds=int(conf.get("REOPEN_S")))
    alarm = (Alarm.objects.filter(device_id=device_id, rule_id=rule.id, state="cleared", cleared_at__gte=now - window)
             .order_by("-cleared_at").first())
    if alarm is None:
        return None

    def apply(locked: Alarm):
        locked.hits += 1
        locked.last_value = value
        locked.last_hit_at = ts
        locked.cleared_at = None
        if value is not None and locked.peak_value is not None:
            locked.peak_value = min(value, locked.peak_value) if rule.direction == "below" else max(value, locked.peak_value)
        return ["hits", "last_value", "last_hit_at", "cleared_at", "peak_value"]

    action = "recur_dispatched" if alarm.case_id else "recur"
    alarm = transition(alarm, action, None, params={"value": value, "reading_ts": ts.isoformat() if ts else None},
                       apply=apply)
    if alarm.case_id:
        from django.apps import apps

        case = apps.get_model("cases", "Case").objects.select_for_update().filter(pk=alarm.case_id).first()
        if case is not None:
            timeline_append(
                subject=case, action="iot_recur", actor=None, actor_name=SYSTEM_NAME, from_state=case.state,
                to_state=case.state, note=f"物联告警再次出现：{alarm.message}", params={"alarm": alarm.pk, "value": value},
            )
    transaction.on_commit(lambda: _notify_alarm(alarm.pk, "hit"))
    return alarm


def alarm_raise(*, device_id: int, rule, value, ts) -> Alarm:
    """Open the one alarm of (device, rule) (hits = 1) — or re-open the one that cleared less than REOPEN_S
    ago; at or above CASE_SEVERITY it becomes a case at once. Raises IntegrityError when an alarm is already
    open (another consumer was first)."""
    now = timezone.now()
    with transaction.atomic():
        recurred = _recur(device_id=device_id, rule=rule, value=value, ts=ts, now=now)
    if recurred is not None:
        return recurred
    device = Device.objects.select_related("department").get(pk=device_id)
    rule_row = Rule.objects.get(pk=rule.id)
    alarm = Alarm(
        device=device, rule=rule_row, severity=rule.severity, metric=rule.metric, first_value=value,
        last_value=value, peak_value=value, hits=1, opened_at=now, first_reading_at=ts, last_hit_at=ts,
        message=_describe(device, rule_row, value)[:300],
    )
    with transaction.atomic():
        create_with_timeline(alarm, actor=None, action="raise", params={
            "device": device.code, "rule": rule_row.name, "severity": rule.severity, "value": value,
            "reading_ts": ts.isoformat() if ts else None,
        })
    if severity_at_least(rule.severity, conf.get("CASE_SEVERITY")) and device.category_code:
        alarm = alarm_dispatch(alarm=alarm, actor=None)
    transaction.on_commit(lambda: _notify_alarm(alarm.pk, "open"))
    return alarm


def alarm_open_case(alarm: Alarm):
    """The city case an alarm becomes (RULES.md §7): category from the device, point → region → department
    by the cases service's routing, source IoT; red alarms are urgent. Returns the case."""
    from cityops.cases.services import case_create

    device = alarm.device
    description = f"物联感知告警：{alarm.message}。设备 {device.code}" + (f"，{device.address}" if device.address else "")
    intake = case_create(
        actor=None, category=device.category_code, description=description, source="iot", lon=device.lon,
        lat=device.lat, address=device.address, urgency="urgent" if alarm.severity == "red" else "normal",
    )
    return intake.case


def alarm_dispatch(*, alarm: Alarm, actor, note: str = "") -> Alarm:
    """派遣: the alarm becomes a city case. A case that cannot be created (device without a point, unknown
    category…) leaves the alarm active with the reason in `case_error`, and never stops ingestion."""

    def apply(locked: Alarm):
        case = alarm_open_case(locked)
        locked.case_id, locked.case_code, locked.case_error = case.pk, case.code, ""
        return ["case_id", "case_code", "case_error"]

    try:
        return transition(alarm, "dispatch", actor, note=note, apply=apply)
    except Exception as exc:
        if actor is not None:
            raise
        # The system path: a case that cannot be made must not cost a reading (the batch goes on).
        reason = exc.message if isinstance(exc, CityopsError) else f"{type(exc).__name__}: {exc}"
        logger.warning("alarm %s: no case: %s", alarm.pk, reason)
        Alarm.objects.filter(pk=alarm.pk).update(case_error=reason[:300])
        alarm.case_error = reason[:300]
        return alarm


def alarm_acknowledge(*, alarm: Alarm, actor, note: str = "") -> Alarm:
    return transition(alarm, "acknowledge", actor, note=note)


def alarm_close(*, alarm: Alarm, actor, note: str = "") -> Alarm:
    return transition(alarm, "close", actor, note=note)


def alarm_dismiss(*, alarm: Alarm, actor, reason: str) -> Alarm:
    """误报: close an alarm that was not real. If the condition still holds the rules raise a new one."""
    return transition(alarm, "dismiss", actor, note=reason, params={"reason": reason})


def alarm_clear(*, alarm: Alarm, value, ts) -> Alarm:
    """Back inside the band: the alarm clears by itself, and the clearing is written on its case's timeline
    (the department sees the sensor is normal again; the case still needs its own handling and closing)."""
    def apply(locked: Alarm):
        locked.cleared_at = timezone.now()
        if value is not None:
            locked.last_value = value
        return ["cleared_at", "last_value"]

    alarm = transition(alarm, "clear", None, params={"value": value, "reading_ts": ts.isoformat() if ts else None},
                       apply=apply)
    if alarm.case_id:
        from django.apps import apps

        Case = apps.get_model("cases", "Case")
        case = Case.objects.select_for_update().filter(pk=alarm.case_id).first()
        if case is not None:
            timeline_append(
                subject=case, action="iot_clear", actor=None, actor_name=SYSTEM_NAME, from_state=case.state,
                to_state=case.state, note=f"物联告警已恢复：{alarm.message}",
                params={"alarm": alarm.pk, "value": value, "reading_ts": ts.isoformat() if ts else None},
            )
    transaction.on_commit(lambda: _notify_alarm(alarm.pk, "clear"))
    return alarm


def _open_alarm(device_id: int, rule_id: int) -> Alarm | None:
    return Alarm.objects.filter(device_id=device_id, rule_id=rule_id, state__in=OPEN_STATES).first()


def _add_hits(key: tuple[int, int], hits: list, direction: str) -> bool:
    """Count repeated hits on the open alarm in one UPDATE; False if no alarm is open any more."""
    alarm = _open_alarm(*key)
    if alarm is None:
        return False
    values = [v for v, _ts in hits]
    peak = max(values) if direction != "below" else min(values)
    if alarm.peak_value is not None:
        peak = max(peak, alarm.peak_value) if direction != "below" else min(peak, alarm.peak_value)
    from django.db.models import F

    Alarm.objects.filter(pk=alarm.pk).update(
        hits=F("hits") + len(hits), last_value=values[-1], peak_value=peak, last_hit_at=hits[-1][1]
    )
    transaction.on_commit(lambda: _notify_alarm(alarm.pk, "hit"))
    return True


def alarm_apply_events(events) -> Counter:
    """Turn rule events into alarm writes, in order, inside the caller's transaction. Hits of one alarm are
    added up and written once; an "open" that finds an alarm already open counts as a hit."""
    counts: Counter = Counter()
    pending: dict[tuple[int, int], list] = {}
    specs = {}

    def flush(key):
        hits = pending.pop(key, None)
        if hits and not _add_hits(key, hits, specs[key].direction):
            # Closed by a person while the condition still holds: it is a new alarm.
            _raise_or_hit(key, specs[key], hits[-1][0], hits[-1][1])
            counts["open"] += 1

    def _raise_or_hit(key, spec, value, ts):
        try:
            with transaction.atomic():
                alarm_raise(device_id=key[0], rule=spec, value=value, ts=ts)
        except IntegrityError:
            _add_hits(key, [(value, ts)], spec.direction)

    for ev in events:
        key = (ev.device_id, ev.rule.id)
        specs[key] = ev.rule
        if ev.kind == "hit":
            pending.setdefault(key, []).append((ev.value, ev.ts))
            counts["hit"] += 1
            continue
        flush(key)
        if ev.kind == "open":
            _raise_or_hit(key, ev.rule, ev.value, ev.ts)
            counts["open"] += 1
        elif ev.kind == "clear":
            alarm = _open_alarm(*key)
            if alarm is not None:
                alarm_clear(alarm=alarm, value=ev.value, ts=ev.ts)
                counts["clear"] += 1
    for key in list(pending):
        flush(key)
    return counts


# --- retention ----------------------------------------------------------------------------------------------
def retention_apply(*, now=None, chunk: int = 50_000) -> dict[str, int]:
    """Delete readings, rollups and dead letters older than their retention (conf *_DAYS), per device and
    in chunks so that no statement holds locks for long."""
    now = now or timezone.now()
    cut_raw = now - timedelta(days=int(conf.get("RETENTION_DAYS")))
    cut_min = now - timedelta(days=int(conf.get("MINUTE_ROLLUP_DAYS")))
    cut_hour = now - timedelta(days=int(conf.get("HOUR_ROLLUP_DAYS")))
    done = Counter()
    for device_id in Device.objects.values_list("id", flat=True):
        while True:
            # Oldest first, a chunk at a time, through the (device, metric, ts) index.
            edge = list(Reading.objects.filter(device_id=device_id, ts__lt=cut_raw).order_by("ts")
                        .values_list("ts", flat=True)[chunk - 1 : chunk])
            upto = {"ts__lte": edge[0]} if edge else {"ts__lt": cut_raw}
            deleted = Reading.objects.filter(device_id=device_id, **upto)._raw_delete(Reading.objects.db)
            done["readings"] += deleted
            if not edge or not deleted:
                break
        done["minute_rollups"] += Rollup.objects.filter(device_id=device_id, period="m", start__lt=cut_min).delete()[0]
        done["hour_rollups"] += Rollup.objects.filter(device_id=device_id, period="h", start__lt=cut_hour).delete()[0]
    # Orphans: readings and rollups whose device no longer exists. They have no database foreign key, and a
    # consumer whose device cache (ingest.RELOAD_S, up to ~60 s stale) still knew a device can store readings
    # for it after device_delete() committed. One set-based anti-join statement per table (a scan of the
    # table, hourly); device ids are never reused (PostgreSQL sequence, SQLite AUTOINCREMENT), so a row whose
    # device id is gone can only be an orphan.
    gone = ~Exists(Device.objects.filter(pk=OuterRef("device_id")))
    done["orphan_readings"] = Reading.objects.filter(gone)._raw_delete(Reading.objects.db)
    done["orphan_rollups"] = Rollup.objects.filter(gone)._raw_delete(Rollup.objects.db)
    cut_dead = now - timedelta(days=int(conf.get("DEAD_LETTER_DAYS")))
    done["dead_letters"] = DeadLetter.objects.filter(received_at__lt=cut_dead).delete()[0]
    return dict(done)
