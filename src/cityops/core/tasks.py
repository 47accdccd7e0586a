"""Periodic and background work, run by `cityops worker` through django-tasks."""

from django_tasks import task

from cityops.core.workflow import sweep_overdue


@task()
def sweep_overdue_task() -> dict[str, int]:
    return sweep_overdue()


# name → (task, interval seconds or a settings attribute); `cityops worker` enqueues each when due.
PERIODIC = {"sweep_overdue": (sweep_overdue_task, "CITYOPS_SWEEP_INTERVAL")}
