"""Every read of the IoT app, scoped by the user (DESIGN.md "Roles and scope"): city-wide roles see every
device and alarm, a department sees the devices it owns, grid workers and street staff the devices inside
their regions."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db.models import Q, QuerySet
from django.utils import timezone

from cityops.core.errors import NotFound
from cityops.core.scope import scope_filter
from cityops.iot.models import Alarm, DeadLetter, Device, Reading, Rollup


def device_list(*, user, type: str = "", status: str = "", q: str = "") -> QuerySet[Device]:  # noqa: A002
    qs = scope_filter(Device.objects.select_related("department"), user, region_field="region_code",
                      org_field="department")
    if type:
        qs = qs.filter(type=type)
    if status:
        qs = qs.filter(status=status)
    if q:
        qs = qs.filter(Q(code__icontains=q) | Q(name__icontains=q))
    return qs.order_by("code")


def device_get(*, user, code: str) -> Device:
    device = device_list(user=user).filter(code=code).first()
    if device is None:
        raise NotFound(f"未找到设备 {code}", f"No device {code}", code="device_not_found")
    return device


def reading_list(*, device: Device, metric: str = "", since: datetime | None = None, until: datetime | None = None,
                 limit: int = 1000) -> QuerySet[Reading]:
    """Newest first (the (device, metric, ts) index serves it)."""
    qs = Reading.objects.filter(device=device)
    if metric:
        qs = qs.filter(metric=metric)
    if since is not None:
        qs = qs.filter(ts__gte=since)
    if until is not None:
        qs = qs.filter(ts__lt=until)
    return qs.order_by("-ts", "-message_id")[:limit]


def rollup_series(*, device: Device, metric: str, hours: int = 24, period: str = "m") -> list[Rollup]:
    since = timezone.now() - timedelta(hours=hours)
    return list(
        Rollup.objects.filter(device=device, metric=metric, period=period, start__gte=since).order_by("start")
    )


def alarm_list(*, user, state: str = "", open_only: bool = False, severity: str = "") -> QuerySet[Alarm]:
    qs = scope_filter(Alarm.objects.select_related("device", "rule"), user, region_field="device__region_code",
                      org_field="device__department")
    if open_only:
        from cityops.iot.workflow import OPEN_STATES

        qs = qs.filter(state__in=OPEN_STATES)
    if state:
        qs = qs.filter(state=state)
    if severity:
        qs = qs.filter(severity=severity)
    return qs.order_by("-opened_at")


def alarm_get(*, user, pk: int) -> Alarm:
    alarm = alarm_list(user=user).filter(pk=pk).first()
    if alarm is None:
        raise NotFound("未找到告警", "No such alarm", code="alarm_not_found")
    return alarm


def dead_letter_counts() -> dict[str, int]:
    from django.db.models import Count

    return dict(DeadLetter.objects.values_list("reason").annotate(n=Count("id")).values_list("reason", "n"))
