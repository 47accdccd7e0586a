"""Demo data of cases (`cityops load_demo`, through CasesConfig): the category taxonomy (data/categories.csv)
and simulated traffic."""

import csv
import logging
from pathlib import Path

from django.core.management import call_command
from django.db import transaction

from cityops.cases.models import Case, Category
from cityops.core.timeline import timeline_append

DATA = Path(__file__).parent / "data"
FIELDS = ("kind", "major_zh", "name_zh", "name_en", "department_code", "handle_limit_wh", "urgent")


def read_categories(path: Path = DATA / "categories.csv") -> list[dict]:
    rows = []
    with open(path, encoding="utf-8") as f:
        for row in csv.DictReader(f):
            rows.append(
                {
                    "code": row["code"].strip(),
                    "kind": row["kind"].strip(),
                    "major_zh": row["major_zh"].strip(),
                    "name_zh": row["name_zh"].strip(),
                    "name_en": row["name_en"].strip(),
                    "department_code": row["department"].strip(),
                    "handle_limit_wh": float(row["handle_limit_wh"]),
                    "urgent": row["urgent"].strip() in ("1", "true", "True"),
                }
            )
    return rows


@transaction.atomic
def load_categories(*, actor=None) -> tuple[int, int]:
    """Insert new categories and update changed ones (each change on the category's timeline).
    Idempotent: a second run changes nothing. Returns (created, updated)."""
    existing = {c.code: c for c in Category.objects.all()}
    created = updated = 0
    for row in read_categories():
        cat = existing.get(row["code"])
        if cat is None:
            cat = Category.objects.create(**row)
            timeline_append(subject=cat, action="create", actor=actor, params=row)
            created += 1
            continue
        changes = {k: row[k] for k in FIELDS if getattr(cat, k) != row[k]}
        if changes:
            for k, v in changes.items():
                setattr(cat, k, v)
            cat.save(update_fields=list(changes))
            timeline_append(subject=cat, action="update", actor=actor, params=changes)
            updated += 1
    return created, updated


def load_demo() -> str:
    created, updated = load_categories()
    return f"categories: {Category.objects.count()} ({created} new, {updated} updated)"


def load_demo_history(*, stdout, hours: float) -> None:
    """A demo city with history — queues, traffic lights, overdue cases and evaluation have something to show:
    `hours` of simulated traffic (`cityops simulate`), unless there are cases already."""
    if Case.objects.exists():
        return
    notify_log = logging.getLogger("cityops.core.notify")
    level = notify_log.level
    notify_log.setLevel(logging.WARNING)  # the simulated residents' messages would flood the console
    try:
        call_command("simulate", hours=hours, rate=6, stdout=stdout)
    finally:
        notify_log.setLevel(level)
