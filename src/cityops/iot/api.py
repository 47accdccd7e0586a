"""IoT API under /api/v1/iot/: HTTP ingestion with a device token, devices and their readings, alarms and
their actions (one POST per action). Reads go through selectors (scoped by user), writes through services."""

from __future__ import annotations

import threading
from datetime import datetime

from django.http import HttpRequest
from ninja import Query, Router
from ninja.security import HttpBearer

from cityops.core import actions
from cityops.core.errors import InvalidInput, NotAuthenticated
from cityops.core.schemas import Id, Moment, Offset, Schema, page_size
from cityops.iot import selectors, services
from cityops.iot.ingest import Ingestor, Message
from cityops.iot.models import Alarm

router = Router(tags=["iot"])

MAX_LIMIT = 10_000


class DeviceToken(HttpBearer):
    """`Authorization: Bearer dv_…` — a device's own token (`cityops iot token CODE`), stored hashed."""

    openapi_scheme = "bearer"

    def authenticate(self, request, token: str):
        device = services.device_for_token(token)
        if device is None:
            raise NotAuthenticated("设备令牌无效", "Invalid device token", code="invalid_device_token")
        return device


class DeviceRegionOut(Schema):
    district: str
    street: str
    community: str
    grid: str
    region_code: str


class DeviceOut(Schema):
    code: str
    name: str
    type: str
    metrics: dict[str, str]
    lon: float | None
    lat: float | None
    location: DeviceRegionOut
    department: str | None
    category: str
    status: str
    last_seen_at: datetime | None


class DeviceListOut(Schema):
    count: int
    items: list[DeviceOut]


class ReadingOut(Schema):
    id: str  # the device's message id
    metric: str
    value: float
    ts: datetime
    received_at: datetime


class ReadingListOut(Schema):
    device: str
    count: int
    items: list[ReadingOut]


class IngestOut(Schema):
    accepted: int
    stored: int
    duplicates: int
    rejected: list[dict]


class AlarmOut(Schema):
    id: int
    device: str
    rule: str
    severity: str
    state: str
    state_label: str
    metric: str
    message: str
    hits: int
    first_value: float | None
    last_value: float | None
    peak_value: float | None
    opened_at: datetime
    cleared_at: datetime | None
    case_code: str
    case_error: str


def _device_out(d) -> dict:
    return {
        "code": d.code, "name": d.name, "type": d.type, "metrics": d.metrics or {}, "lon": d.lon, "lat": d.lat,
        "location": {"district": d.district_name, "street": d.street_name, "community": d.community_name,
                     "grid": d.grid_code, "region_code": d.region_code},
        "department": d.department.code if d.department_id else None, "category": d.category_code,
        "status": d.status, "last_seen_at": d.last_seen_at,
    }


def _alarm_out(a) -> dict:
    return {
        "id": a.pk, "device": a.device.code, "rule": a.rule.name, "severity": a.severity, "state": a.state,
        "state_label": a.state_label(), "metric": a.metric, "message": a.message, "hits": a.hits,
        "first_value": a.first_value, "last_value": a.last_value, "peak_value": a.peak_value,
        "opened_at": a.opened_at, "cleared_at": a.cleared_at, "case_code": a.case_code, "case_error": a.case_error,
    }


_ingestor: Ingestor | None = None
_ingestor_lock = threading.Lock()


@router.post(
    "/readings", auth=DeviceToken(), response=IngestOut, summary="上报读数（设备令牌）/ post readings",
    openapi_extra={"requestBody": {"content": {"application/json": {"schema": {
        "type": "array", "items": {"type": "object", "properties": {
            "id": {"type": "string"}, "metric": {"type": "string"}, "value": {"type": "number"},
            "ts": {"type": "string", "format": "date-time"}}}}}}, "required": True}},
)
def post_readings(request: HttpRequest):
    """A JSON array (or one object) of readings of the token's device. Idempotent: a reading whose id was
    stored before counts as a duplicate. Bad items are kept in the dead-letter table and listed in
    `rejected`; the others are stored."""
    global _ingestor
    device = request.auth
    body = request.body
    if not body.strip():
        raise InvalidInput("请求体为空", "Empty request body", code="empty_body")
    with _ingestor_lock:
        if _ingestor is None:
            _ingestor = Ingestor()
        result = _ingestor.process_safely([Message(device.code, body, topic="http", source="http")])
    whole = [r for r in result.rejected if r["index"] is None]
    if whole:  # the body as a whole was refused (not JSON, too large): kept in the dead-letter table
        raise InvalidInput("请求体无法解析：" + whole[0]["detail"], "The body was refused: " + whole[0]["detail"],
                           code=whole[0]["reason"])
    return {"accepted": result.readings, "stored": result.stored, "duplicates": result.duplicates,
            "rejected": result.rejected}


class DeviceFilter(Schema):
    type: str = ""
    status: str = ""
    q: str = ""
    limit: page_size(5000) = 200
    offset: Offset = 0


@router.get("/devices", response=DeviceListOut, summary="设备列表 / devices")
def list_devices(request, filters: Query[DeviceFilter]):
    qs = selectors.device_list(user=request.user, type=filters.type, status=filters.status, q=filters.q)
    start, size = filters.offset, filters.limit
    return {"count": qs.count(), "items": [_device_out(d) for d in qs[start : start + size]]}


@router.get("/devices/{code}", response=DeviceOut, summary="设备详情 / one device")
def get_device(request, code: str):
    return _device_out(selectors.device_get(user=request.user, code=code))


@router.get("/devices/{code}/readings", response=ReadingListOut, summary="设备读数 / readings of a device")
def list_readings(request, code: str, metric: str = "", limit: page_size(MAX_LIMIT) = 1000,
                  from_: Moment | None = Query(None, alias="from"),  # noqa: B008
                  to: Moment | None = None):
    """Newest first; `from` inclusive, `to` exclusive (ISO 8601); at most 10,000 per request."""
    device = selectors.device_get(user=request.user, code=code)
    rows = selectors.reading_list(device=device, metric=metric, since=from_, until=to, limit=limit)
    items = [{"id": r.message_id, "metric": r.metric, "value": r.value, "ts": r.ts, "received_at": r.received_at}
             for r in rows]
    return {"device": device.code, "count": len(items), "items": items}


@router.get("/alarms", response=list[AlarmOut], summary="告警列表 / alarms")
def list_alarms(request, state: str = "", severity: str = "", open: bool = False, limit: page_size(2000) = 200):  # noqa: A002
    qs = selectors.alarm_list(user=request.user, state=state, severity=severity, open_only=open)
    return [_alarm_out(a) for a in qs[:limit]]


@router.get("/alarms/{alarm_id}", response=AlarmOut, summary="告警详情 / one alarm")
def get_alarm(request, alarm_id: Id):
    return _alarm_out(selectors.alarm_get(user=request.user, pk=alarm_id))


def _alarm_answer(request, alarm, status: int):
    from cityops.api import api

    return api.create_response(request, _alarm_out(selectors.alarm_get(user=request.user, pk=alarm.pk)), status=status)


# One POST per action a person takes on an alarm (acknowledge, dispatch, close, dismiss), from its workflow.
actions.add_action_routes(
    router, Alarm, path="/alarms/{alarm_id}", keys={"alarm_id": Id}, response=AlarmOut, answer=_alarm_answer,
    load=lambda request, alarm_id: selectors.alarm_get(user=request.user, pk=alarm_id), name="alarm",
)
