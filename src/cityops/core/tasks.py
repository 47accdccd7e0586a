"""Periodic and background work, run by `cityops worker` through django-tasks.

Each domain app may declare `PERIODIC = {name: (task, settings attribute holding the interval in seconds)}` in
its tasks.py; `periodic_tasks()` gathers them, so adding a periodic job never means editing core.
"""

import importlib
import importlib.util

from django.apps import apps
from django_tasks import task

from cityops.core.workflow import sweep_overdue


@task()
def sweep_overdue_task() -> dict[str, int]:
    return sweep_overdue()


PERIODIC = {"sweep_overdue": (sweep_overdue_task, "CITYOPS_SWEEP_INTERVAL")}


def periodic_tasks() -> dict:
    found = dict(PERIODIC)
    for config in apps.get_app_configs():
        if not config.name.startswith("cityops.") or config.name == "cityops.core":
            continue
        module_name = f"{config.name}.tasks"
        if importlib.util.find_spec(module_name) is None:
            continue
        found.update(getattr(importlib.import_module(module_name), "PERIODIC", {}))
    return found
