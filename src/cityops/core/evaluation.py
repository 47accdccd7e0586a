"""Indicators any workflow domain gets without code of its own (DESIGN.md "The workflow engine"): from the
entries the engine stamped (a model's `evaluation_fields` and `on_time`) and the objects' own clocks —
per responsible unit or per region: steps taken, steps on time, on-time rate, and open items overdue now.
Cases keep their fuller evaluation (cases/evaluation/, RULES.md §1); a new domain starts here."""

from collections import defaultdict
from datetime import datetime

from cityops.core.models import TimelineEntry


def _path(model, key: str) -> str:
    return model.evaluation_fields[key].replace(".", "__")


def indicators(model, *, start: datetime, end: datetime, by: str | None = None) -> list[dict]:
    """One row per unit (or per value of the stamp key `by`, e.g. "region"), sorted by the unit: `steps`
    (transitions stamped in [start, end)), `on_time`, `on_time_rate` (None without steps), `overdue_open`."""
    key = by or model.evaluation_unit
    rows: dict[str, dict] = defaultdict(lambda: {"steps": 0, "on_time": 0, "overdue_open": 0})
    entries = TimelineEntry.objects.filter(subject_type=model._meta.label_lower, at__gte=start, at__lt=end)
    for params in entries.values_list("params", flat=True).iterator():
        if isinstance(params, dict) and "on_time" in params:
            row = rows[str(params.get(key) or "")]
            row["steps"] += 1
            row["on_time"] += bool(params["on_time"])
    terminal = [code for code, state in model.workflow.states.items() if state.terminal]
    overdue = model.objects.filter(overdue=True).exclude(state__in=terminal).values_list(_path(model, key), flat=True)
    for unit in overdue:
        rows[str(unit or "")]["overdue_open"] += 1
    return [
        {key: unit, **row, "on_time_rate": round(row["on_time"] / row["steps"], 4) if row["steps"] else None}
        for unit, row in sorted(rows.items())
    ]
