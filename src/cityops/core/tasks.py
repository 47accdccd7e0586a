"""Periodic and background work, run by `cityops worker` through django-tasks.

Each domain app may declare `PERIODIC = {name: (task, settings attribute holding the interval in seconds)}` in
its tasks.py; `periodic_tasks()` gathers them, so adding a periodic job never means editing core.
"""

import importlib
import importlib.util
import logging

from django.apps import apps
from django_tasks import task

from cityops.core.checkpoint import checkpoint_write
from cityops.core.workflow import sweep_overdue

logger = logging.getLogger(__name__)


@task()
def sweep_overdue_task() -> dict[str, int]:
    return sweep_overdue()


class InScheduler:
    """A periodic job that runs in the scheduler's own process instead of going on the queue (`enqueue` runs it):
    audit checkpoints go to a file on the host whose worker runs the scheduler, which must hold the key — not
    on whichever worker would take a queued task. A failure is logged; the scheduler goes on."""

    def __init__(self, fn):
        self.fn = fn

    def call(self):
        return self.fn()

    def enqueue(self) -> None:
        try:
            self.fn()
        except Exception:
            logger.exception("periodic job %s failed", self.fn.__name__)


def audit_checkpoint() -> dict[str, int] | None:
    """Sign the timeline heads changed since the last checkpoint (core.checkpoint)."""
    written = checkpoint_write()
    return None if written is None else {"heads": written.heads, "lines": written.lines, "upto": written.upto}


PERIODIC = {
    "sweep_overdue": (sweep_overdue_task, "CITYOPS_SWEEP_INTERVAL"),
    "audit_checkpoint": (InScheduler(audit_checkpoint), "CITYOPS_AUDIT_CHECKPOINT_INTERVAL"),
}


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
