"""Demo data of cases (`cityops load_demo`, through CasesConfig): the category taxonomy (data/categories.csv)
and simulated traffic."""

import csv
import json
import logging
import random
from functools import lru_cache
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


@lru_cache(maxsize=1)
def _descriptions() -> dict[str, list[str]]:
    with open(DATA / "demo_descriptions.json", encoding="utf-8") as f:
        return json.load(f)["descriptions"]


def demo_description(category: Category, rng: random.Random) -> str:
    """A report as residents and grid workers word it (data/demo_descriptions.json), for simulated cases."""
    texts = _descriptions().get(category.code)
    return rng.choice(texts) if texts else category.name_zh


def give_field_tasks(*, count: int = 3, seed: int = 7) -> int:
    """Fresh reports in the demo grid worker's community, each sent to him to verify on site (派核实), so the
    grid worker's flow can be tried at once after `load_demo` (the simulated traffic is spread over the city
    and rarely lands in his one community). Returns how many were made."""
    from cityops.accounts.models import User
    from cityops.cases.services import case_ask_check, case_create
    from cityops.geo.models import Region

    worker = User.objects.filter(username="gridworker").first()
    operator = User.objects.filter(username="operator").first()
    if worker is None or operator is None or not worker.region_codes:
        return 0
    grids = list(Region.objects.filter(level="grid", code__startswith=worker.region_codes[0]).order_by("code")[:count])
    categories = list(Category.objects.filter(active=True, kind="event").order_by("code"))
    rng = random.Random(seed)
    made = 0
    for grid in grids:
        category = rng.choice(categories)
        intake = case_create(actor=operator, category=category.code, source="hotline",
                             description=demo_description(category, rng),
                             lon=grid.centroid_lon, lat=grid.centroid_lat)
        case_ask_check(case=intake.case, actor=operator, note="请网格员到现场核实")
        made += 1
    return made


def load_demo_history(*, stdout, hours: float) -> None:
    """A demo city with history — queues, traffic lights, overdue cases and evaluation have something to show:
    `hours` of simulated traffic (`cityops simulate`), unless there are cases already; then a few reports for
    the demo grid worker to verify."""
    if Case.objects.exists():
        return
    notify_log = logging.getLogger("cityops.core.notify")
    level = notify_log.level
    notify_log.setLevel(logging.WARNING)  # the simulated residents' messages would flood the console
    try:
        call_command("simulate", hours=hours, rate=6, stdout=stdout)
        tasks = give_field_tasks()
    finally:
        notify_log.setLevel(level)
    if tasks:
        stdout.write(f"网格员 gridworker 有 {tasks} 件待核实 / the demo grid worker has {tasks} reports to verify")
