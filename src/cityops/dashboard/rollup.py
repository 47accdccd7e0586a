"""Counts of finished cases kept ahead of time, so that the whole city's map of closed or of all cases over
12 months does not count a million rows on every view (issue 15, Performance).

A finished case (a terminal state: archived, voided, merged) never changes again. The worker adds each case that
finished to a CaseBin row — its square of 1/CELLS_PER_DEGREE degree (≈ 800 m) in its district — once, and moves a
mark (RollupMark.through) up to the instant it has taken them in. A view of the map is then answered exactly as
the live query would answer it, from two parts:

- the rollup: CaseBin rows inside the view (tens of thousands of rows for a city, not a million);
- live: the cases not in the rollup — those not finished (open, or closed and not archived yet) and those
  finished after the mark — two small queries, each on its own partial index.

The rollup serves the views it can answer exactly: a city-wide user (no scope filter), all or closed cases, no
category, no period and no overdue filter, the whole city or one district, a zoom at which a bin is at least one square
(zoom ≤ 13). Anything else — a district's own staff, a category, a period, a street — is counted live, where
the filters' own indexes keep it small. `cityops dashboard_rollup --full` rebuilds the rows from the cases.
"""

from __future__ import annotations

import math
from collections import defaultdict
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, F, Q, QuerySet, Sum, Value
from django.db.models.functions import Coalesce, Floor, Substr
from django.utils import timezone

from cityops.cases.models import Case
from cityops.cases.workflow import FINISHED_STATES, OPEN_STATES
from cityops.dashboard.models import CaseBin, CaseDay, RollupMark

CELLS_PER_DEGREE = 128  # a square of 1/128° ≈ 0.0078° — the map's bin at zoom 13 (aggregation.bin_size)
MARK = "case_bins"
# A transition's state_changed_at is stamped before its transaction commits: the mark stays this far behind the
# clock, so that a case committed a little late is still found by the next refresh (and counted live until then).
MARGIN = timedelta(seconds=60)
EPOCH = datetime(2000, 1, 1, tzinfo=UTC)


def enabled() -> bool:
    return bool(getattr(settings, "CITYOPS_DASHBOARD_ROLLUP", True))


def mark() -> datetime | None:
    """Up to when the rollup holds the finished cases; None: never built (then nothing is answered from it)."""
    return RollupMark.objects.filter(name=MARK).values_list("through", flat=True).first()


def _late(at: datetime) -> Q:
    return Q(overdue=True) | Q(deadline_at__lt=at)


@transaction.atomic
def refresh(*, full: bool = False, now: datetime | None = None) -> dict[str, int]:
    """Take in the cases finished since the mark (every case finished so far with `full`, the rows rebuilt).
    One refresh at a time: the mark's row is locked. Returns how many cases and squares it touched."""
    through = (now or timezone.now()) - MARGIN
    current, created = RollupMark.objects.select_for_update().get_or_create(name=MARK, defaults={"through": EPOCH})
    full = full or created  # no mark: whatever rows are there were not counted against one — start again
    since = EPOCH if full else current.through
    if full:
        CaseBin.objects.all().delete()
    if through <= since:
        return {"cases": 0, "squares": 0}
    finished = Case.objects.filter(state__in=FINISHED_STATES, state_changed_at__gt=since,
                                   state_changed_at__lte=through).order_by()
    rows = list(
        finished.annotate(cx=Floor(F("lon") * CELLS_PER_DEGREE), cy=Floor(F("lat") * CELLS_PER_DEGREE))
        .values("cx", "cy", district=Substr("region_code", 1, 6))
        .annotate(n=Count("*"), late=Count("pk", filter=_late(through)), sum_lon=Sum("lon"), sum_lat=Sum("lat"))
    )
    new, changed = [], []
    existing = {} if full else _existing({(int(r["cx"]), int(r["cy"]), r["district"]) for r in rows})
    for r in rows:
        key = (int(r["cx"]), int(r["cy"]), r["district"])
        row = existing.get(key)
        if row is None:
            new.append(CaseBin(cx=key[0], cy=key[1], district_code=key[2], n=r["n"], late=r["late"],
                               sum_lon=r["sum_lon"], sum_lat=r["sum_lat"]))
            continue
        row.n += r["n"]
        row.late += r["late"]
        row.sum_lon += r["sum_lon"]
        row.sum_lat += r["sum_lat"]
        changed.append(row)
    CaseBin.objects.bulk_create(new, batch_size=2000)
    CaseBin.objects.bulk_update(changed, ["n", "late", "sum_lon", "sum_lat"], batch_size=2000)
    current.through = through
    current.save(update_fields=["through"])
    return {"cases": sum(r["n"] for r in rows), "squares": len(rows)}


def _existing(keys: set[tuple[int, int, str]]) -> dict[tuple[int, int, str], CaseBin]:
    """The rows already there for these squares (looked up by district and the squares' extent, then matched)."""
    out = {}
    by_district = defaultdict(list)
    for cx, cy, district in keys:
        by_district[district].append((cx, cy))
    for district, cells in by_district.items():
        xs, ys = [c[0] for c in cells], [c[1] for c in cells]
        for row in CaseBin.objects.filter(district_code=district, cx__gte=min(xs), cx__lte=max(xs),
                                          cy__gte=min(ys), cy__lte=max(ys)):
            key = (row.cx, row.cy, row.district_code)
            if key in keys:
                out[key] = row
    return out


# --- answering a view ----------------------------------------------------------------------------------------
def serves(*, user, filters: dict, region: str, size: float | None = None) -> bool:
    """Whether this view can be answered from the rollup (see the module's docstring)."""
    from cityops.core.scope import is_city_wide

    if not enabled() or filters.get("status") not in ("all", "closed"):
        return False
    if filters.get("category") or filters.get("from") or filters.get("to") or filters.get("late"):
        return False  # each of these filters has its own index (and overdue cases are few): counted live
    if len(region) not in (0, 6) or not is_city_wide(user):
        return False
    if size is not None and size * CELLS_PER_DEGREE < 1:
        return False
    return mark() is not None


@contextmanager
def one_snapshot():
    """The stored rows and the live parts of one answer read as of one instant. On PostgreSQL each statement
    otherwise sees the database as of its own start, and a refresh or a transition committed between two of them
    would count a case twice or not at all: a REPEATABLE READ transaction (inside a transaction already — a test —
    that one). SQLite's transaction is a snapshot already."""
    outer = connection.in_atomic_block
    with transaction.atomic():
        if connection.vendor == "postgresql" and not outer:
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        yield


def _live(cases: QuerySet[Case], status: str, through: datetime) -> list[QuerySet[Case]]:
    """The cases of a view that the rollup does not hold, as querysets that each use one partial index: the open
    ones, the closed ones not archived yet, and those finished after the mark."""
    parts = [] if status == "closed" else [cases.filter(state__in=OPEN_STATES)]  # the map's partial index
    return [*parts, cases.filter(state="closed"),
            cases.filter(state__in=FINISHED_STATES, state_changed_at__gt=through)]


def bins(*, cases: QuerySet[Case], box, size: float, filters: dict, region: str) -> list[dict]:
    """Counts per square bin of `size` degrees inside `box` (already snapped to bins): the rollup's squares plus
    the live cases, as aggregation._case_view's bins: [{lon, lat, n, late}] (lon, lat: the mean position)."""
    with one_snapshot():
        return _bins(cases=cases, box=box, size=size, filters=filters, region=region, through=mark() or EPOCH)


def _bins(*, cases: QuerySet[Case], box, size: float, filters: dict, region: str, through: datetime) -> list[dict]:
    from cityops.dashboard.aggregation import in_box, late_q

    acc: dict[tuple[int, int], list[float]] = defaultdict(lambda: [0, 0, 0.0, 0.0])
    for qs in _live(cases, filters["status"], through):
        rows = (in_box(qs, box).annotate(bx=Floor(F("lon") / size), by=Floor(F("lat") / size))
                .values("bx", "by")
                .annotate(n=Count("*"), late=Count("lon", filter=late_q()), sx=Sum("lon"), sy=Sum("lat")))
        for r in rows:
            _add(acc[(int(r["bx"]), int(r["by"]))], r["n"], r["late"], r["sx"], r["sy"])
    per = round(size * CELLS_PER_DEGREE)  # squares per bin side (a power of two)
    # The box is snapped to whole bins, so whole squares: [west, east) × [south, north), as aggregation.in_box.
    stored = CaseBin.objects.filter(cx__gte=math.floor(box.west * CELLS_PER_DEGREE),
                                    cx__lt=math.floor(box.east * CELLS_PER_DEGREE),
                                    cy__gte=math.floor(box.south * CELLS_PER_DEGREE),
                                    cy__lt=math.floor(box.north * CELLS_PER_DEGREE))
    if region:
        stored = stored.filter(district_code=region)
    rows = (stored.annotate(bx=Floor(F("cx") / float(per)), by=Floor(F("cy") / float(per))).values("bx", "by")
            .annotate(n=Sum("n"), late=Sum("late"), sx=Sum("sum_lon"), sy=Sum("sum_lat")))
    for r in rows:
        _add(acc[(int(r["bx"]), int(r["by"]))], r["n"], r["late"], r["sx"], r["sy"])
    out = []
    for n, late, sx, sy in acc.values():
        if n:
            out.append({"lon": round(sx / max(n, 1), 5), "lat": round(sy / max(n, 1), 5), "n": n, "late": late})
    return out


def _add(cell: list, n: int, late: int, sx: float, sy: float) -> None:
    cell[0] += n
    cell[1] += late
    cell[2] += sx
    cell[3] += sy


def counts_by_district(*, cases: QuerySet[Case], filters: dict) -> dict[str, dict]:
    """Per district: how many cases (closed or all) and how many late — the rollup's rows plus the live cases."""
    with one_snapshot():
        return _counts_by_district(cases=cases, filters=filters, through=mark() or EPOCH)


def _counts_by_district(*, cases: QuerySet[Case], filters: dict, through: datetime) -> dict[str, dict]:
    from cityops.dashboard.aggregation import late_q

    out: dict[str, dict] = defaultdict(lambda: {"n": 0, "late": 0})
    for qs in _live(cases, filters["status"], through):
        for r in (qs.values(district=Substr("region_code", 1, 6))
                  .annotate(n=Count("*"), late=Count("lon", filter=late_q()))):
            out[r["district"]]["n"] += r["n"]
            out[r["district"]]["late"] += r["late"]
    for r in CaseBin.objects.values("district_code").annotate(n=Sum("n"), late=Sum("late")):
        out[r["district_code"]]["n"] += r["n"]
        out[r["district_code"]]["late"] += r["late"]
    return {code: v for code, v in out.items() if code and v["n"]}


# --- the figures of ended days (the KPIs' period) ------------------------------------------------------------
# The timeline is append-only: the entries of a day that has ended never change. The worker counts each ended day
# once per community (CaseDay) — the KPIs of a period then add a few thousand rows per day instead of reading every
# entry of the period, and count only today's entries live (kpis.timeline_figures).
DAYS_MARK, DAYS_FROM = "case_days", "case_days_from"
DAY_MARGIN = timedelta(minutes=5)  # a day is counted this long after it has ended (its last transactions committed)
DAYS_BACK = 366  # the first refresh counts this many days back (kpis.MAX_DAYS: the longest period)
COMMUNITY_DIGITS = 12
HANDLE = ("handle", "self_handle")
LEVEL_FIELDS = {"community": "closed_community", "street": "closed_street", "district": "closed_district",
                "city": "closed_city"}


def day_bounds(day) -> tuple[datetime, datetime]:
    start = timezone.make_aware(datetime.combine(day, datetime.min.time()))
    return start, timezone.make_aware(datetime.combine(day + timedelta(days=1), datetime.min.time()))


def timeline_counts() -> dict:
    """The counts of one set of timeline entries, as aggregates (the same for a day's rows and for live entries)."""
    return {
        "handled": Count("pk", filter=Q(action__in=HANDLE)),
        "handled_late": Count("pk", filter=Q(action__in=HANDLE, params__on_time=False)),
        "satisfied": Count("pk", filter=Q(action="follow_up")),
        "unsatisfied": Count("pk", filter=Q(action="reopen")),
        **{field: Count("pk", filter=Q(action="close", params__resolved_level=level))
           for level, field in LEVEL_FIELDS.items()},
    }


TIMELINE_ACTIONS = (*HANDLE, "follow_up", "reopen", "close")


def case_entries(lo: datetime, hi: datetime):
    from cityops.core.models import TimelineEntry

    return TimelineEntry.objects.filter(subject_type=Case._meta.label_lower, action__in=TIMELINE_ACTIONS,
                                        at__gte=lo, at__lt=hi)


def _count_day(day) -> int:
    from django.db.models.fields.json import KT

    lo, hi = day_bounds(day)
    region = Coalesce(Substr(KT("params__region"), 1, COMMUNITY_DIGITS), Value(""))  # no region: one row, ""
    rows = case_entries(lo, hi).order_by().values(region=region).annotate(**timeline_counts())
    CaseDay.objects.filter(day=day).delete()
    CaseDay.objects.bulk_create([CaseDay(day=day, region_code=r.pop("region") or "", **r) for r in rows],
                                batch_size=2000)
    return len(rows)


def refresh_days(*, now: datetime | None = None, max_days: int = DAYS_BACK + 1) -> int:
    """Count every ended day not counted yet (from DAYS_BACK days ago at the first run), each in its own
    transaction under the mark's lock. Returns how many days it counted."""
    now = now or timezone.now()
    counted = 0
    while counted < max_days:
        with transaction.atomic():
            first = timezone.localdate(now) - timedelta(days=DAYS_BACK)
            current, created = RollupMark.objects.select_for_update().get_or_create(
                name=DAYS_MARK, defaults={"through": day_bounds(first)[0]})
            if created:  # where the day rows begin
                RollupMark.objects.update_or_create(name=DAYS_FROM, defaults={"through": current.through})
            day = timezone.localtime(current.through).date()
            lo, hi = day_bounds(day)
            if hi + DAY_MARGIN > now:
                break
            _count_day(day)
            current.through = hi
            current.save(update_fields=["through"])
        counted += 1
    return counted


def days_counted(*, region: str) -> tuple[datetime, datetime] | None:
    """The instants [from, to) whose entries the day rows hold, when they can answer for `region` (the city or a
    region down to a community); None otherwise or before the first refresh."""
    if not enabled() or len(region) > COMMUNITY_DIGITS:
        return None
    marks = dict(RollupMark.objects.filter(name__in=(DAYS_FROM, DAYS_MARK)).values_list("name", "through"))
    if len(marks) < 2 or marks[DAYS_MARK] <= marks[DAYS_FROM]:
        return None
    return marks[DAYS_FROM], marks[DAYS_MARK]


def recount() -> None:
    """Start both rollups again from the cases and the timeline — after data written with past times (a simulation,
    an import, a restored backup): the squares at once, the days by the next refreshes."""
    with transaction.atomic():
        refresh(full=True)
        RollupMark.objects.filter(name__in=(DAYS_MARK, DAYS_FROM)).delete()
        CaseDay.objects.all().delete()
