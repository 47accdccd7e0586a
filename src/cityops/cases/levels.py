"""属地解决率: at which level cases are solved (市级统、区级联、街乡合、社区聚; workflow "Four levels").

Counted from the timeline like every evaluation: each `close` entry (结案, after the on-site check) carries the
level of the unit that handled the case (`resolved_level`: the community or street that claimed or was dispatched
it, a district bureau, a city department; a grid worker's 自处理 counts at the community). A case closed twice in
the period (reopened and closed again) counts twice, as in the other closing counts.

- resolved: cases closed in the period that were resolved at this level;
- share: resolved here / all resolved;
- local_rate (属地解决率): resolved at this level or below / all resolved — the community's row is what its
  communities solved themselves, the street's what never had to leave the street, and so on up to the city (1).

Per region (the regions evaluation's column, `local_rate_by_region`): the share of its closed cases that were
resolved at their street or community (属地, without a district or city unit).
"""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime, time, timedelta

from django.db.models import Count
from django.db.models.fields.json import KT
from django.utils import timezone

from cityops.cases.workflow import LEVEL_NAMES, LEVELS


def _bounds(start: date, end: date) -> tuple[datetime, datetime]:
    return (timezone.make_aware(datetime.combine(start, time.min)),
            timezone.make_aware(datetime.combine(end + timedelta(days=1), time.min)))


LOCAL_LEVELS = ("community", "street")
REGION_CODE_LENGTHS = (6, 9, 12, 14)  # district, street, community, grid


def _case_entries(start: date, end: date):
    from cityops.cases.models import Case
    from cityops.core.models import TimelineEntry

    low, high = _bounds(start, end)
    return TimelineEntry.objects.filter(subject_type=Case._meta.label_lower, at__gte=low, at__lt=high)


def resolution_by_level(*, start: date, end: date, region: str = "") -> list[dict]:
    """One row per level, community first: resolved, share and 属地解决率 (local_rate) of the cases closed from
    `start` to `end` (dates, inclusive), inside `region` (a region code prefix; "" = the whole city). Rates are
    None when nothing was closed."""
    entries = _case_entries(start, end).filter(action="close")
    if region:
        entries = entries.filter(params__region__startswith=region)
    counts = {row["resolved"]: row["n"]
              for row in entries.values(resolved=KT("params__resolved_level")).annotate(n=Count("id"))}
    return level_rows(counts)


def level_rows(counts: dict[str, int]) -> list[dict]:
    """resolution_by_level's rows from the number of closings resolved at each level ({level: n})."""
    total = sum(counts.get(level, 0) for level in LEVELS)
    rows, below = [], 0
    for level in LEVELS:
        n = counts.get(level, 0)
        below += n
        rows.append({
            "level": level, "name": LEVEL_NAMES[level][0], "name_en": LEVEL_NAMES[level][1], "resolved": n,
            "share": round(n / total, 4) if total else None,
            "local_rate": round(below / total, 4) if total else None,
        })
    return rows


def local_rate_by_region(*, start: date, end: date) -> dict[str, float | None]:
    """属地解决率 of every region with cases in the period, at every region level (district, street, community, grid
    code → rate): closed cases resolved at their street or community / closed cases; None where none closed. Counted
    per region code in the database, rolled up to the codes' prefixes here (a loop over regions, not cases)."""
    entries = _case_entries(start, end).filter(action__in=("register", "handle", "self_handle", "close"))
    closed, local, seen = Counter(), Counter(), set()
    rows = entries.values("action", region=KT("params__region"), resolved=KT("params__resolved_level"))
    for row in rows.annotate(n=Count("id")):
        code = row["region"] or ""
        prefixes = [code[:n] for n in REGION_CODE_LENGTHS if len(code) >= n]
        seen.update(prefixes)
        if row["action"] != "close" or row["resolved"] not in LEVELS:
            continue
        for prefix in prefixes:
            closed[prefix] += row["n"]
            if row["resolved"] in LOCAL_LEVELS:
                local[prefix] += row["n"]
    return {code: (round(local[code] / closed[code], 4) if closed[code] else None) for code in seen}
