"""Periodic IoT work for `cityops worker` (added to core.tasks.PERIODIC): retention, at most once an hour
whatever the scheduler's tick."""

from django.core.cache import cache
from django_tasks import task

from cityops.iot.services import retention_apply

RETENTION_EVERY_S = 3600


@task()
def iot_retention_task() -> dict[str, int]:
    if not cache.add("cityops:iot:retention", 1, timeout=RETENTION_EVERY_S):
        return {}
    return retention_apply()


PERIODIC = {"iot_retention": (iot_retention_task, "CITYOPS_IOT_RETENTION_INTERVAL")}
