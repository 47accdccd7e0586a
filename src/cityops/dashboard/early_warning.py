"""Early warning (预测预防, issue 15): is a category suddenly reported far more often than usual in a district or a
street? A spike — waterlogging reports during a rainstorm, noise complaints around one site — raises a warning.

The model, per series (one category in one region), in cases per hour:

    expected(hour) = shrunk mix of  [the series' own mean at this profile slot]  and  [level × shape(slot)]

- a profile slot is (day class, hour of day). Day classes: Monday … Sunday as usual, plus a holiday that falls on a
  weekday (class HOLIDAY, whose prior is the weekend's profile) and a make-up workday on a weekend (调休, class
  MAKEUP, whose prior is the weekdays' profile) — the working-day calendar is core.calendar.is_workday;
- shape(slot) is the category's city-wide profile (all districts pooled: enough cases to be smooth), mean 1;
- level is the series' typical rate: the median over the history's weeks of (cases ÷ shape), so one past week with
  a storm in it does not raise it;
- the series' own slot means use history counts capped far above the prior (again: past spikes do not
  teach the baseline that spikes are normal), and are shrunk towards level × shape by SHRINK_WEEKS weeks' weight.

A check (every few minutes, by the worker) compares what came in over the last 30 and 60 minutes with what the
baseline expects there: the score is -log10 of the Poisson tail P(X ≥ observed | expected); a warning is raised when
a window's score reaches THRESHOLD with at least MIN_COUNT cases. The same check runs on small blocks around the
recent cases (a spike around one site, `local_expected`), against LOCAL_THRESHOLD and LOCAL_MIN_COUNT.
bench/early_warning.py chose the constants on a simulated seed and measures them on others.

The functions on arrays (`fit_baseline`, `expected_between`, `score`, `hot_series`) are pure: the bench runs
them on simulated counts, the worker (`services.early_warning_run`) on counts aggregated by the database
(`hourly_counts`, `recent_counts`).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
from django.conf import settings
from django.db.models import Count, Max, Q
from django.db.models.functions import TruncHour
from scipy.special import pdtrc

from cityops.core.calendar import is_workday

HOLIDAY, MAKEUP = 7, 8  # day classes beyond Monday (0) … Sunday (6)
DAY_CLASSES = 9
SLOTS = DAY_CLASSES * 24


@dataclass(frozen=True)
class Params:
    """The detector's constants. threshold, min_count, local_threshold and the local min counts chosen together on
    bench seeds 1–4 (bench/early_warning.py tunes them and prints what held-out seeds give)."""

    threshold: float = 7.0  # -log10 Poisson tail a window must reach
    min_count: int = 2  # and at least this many cases in that window
    windows: tuple[int, ...] = (30, 60)  # minutes
    history_weeks: int = 6
    shrink_weeks: float = 6.0  # weight of the prior against the series' own slot means
    cap_sd: float = 3.0  # history counts above typical + cap_sd·√typical + 1 are capped (a past spike; _cap)
    quiet_minutes: int = 60  # a warning subsides after this long with every window's score below `calm`
    calm: float = 2.0
    street_min_history: int = 6  # a street is watched for a category with at least this many cases in the history
    # Around one site (`local_expected`): blocks of 2 × 2 cells of local_cell_m metres, at every cell's offset.
    local_cell_m: int = 250
    local_prior: float = 1.0  # weight, in cases of the category, of the block's share of all reports (`local_expected`)
    local_threshold: float = 6.5  # a city has many thousands of blocks: chosen on the bench, like the areas'
    local_min_count: int = 2  # in a block's windows of up to half an hour
    local_long_min_count: int = 3  # in its longer windows: two reports an hour apart in a block are chance somewhere


PARAMS = Params()


def local_tz() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def day_class(day: date) -> int:
    """Monday 0 … Sunday 6 on ordinary days; HOLIDAY for a rest day on a weekday, MAKEUP for a workday on a
    weekend."""
    weekday = day.weekday()
    workday = is_workday(day)
    if weekday < 5 and not workday:
        return HOLIDAY
    if weekday >= 5 and workday:
        return MAKEUP
    return weekday


def hour_slots(start: datetime, hours: int) -> np.ndarray:
    """The profile slot (day class × 24 + hour of day) of each of `hours` local hours from `start`."""
    start = start.astimezone(local_tz()).replace(minute=0, second=0, microsecond=0)
    classes: dict[date, int] = {}
    slots = np.empty(hours, dtype=np.int16)
    for i in range(hours):  # one step per hour of history (≈ 1,000), not per case
        moment = start + timedelta(hours=i)
        day = moment.date()
        if day not in classes:
            classes[day] = day_class(day)
        slots[i] = classes[day] * 24 + moment.hour
    return slots


def _with_derived_classes(per_slot: np.ndarray, seen: np.ndarray, weight: float) -> np.ndarray:
    """Slots of the HOLIDAY and MAKEUP classes (few in any history) shrunk towards their priors: the weekend's mean
    profile for a holiday, the weekdays' for a make-up workday. `per_slot` […, 9, 24] holds sums, `seen` [9, 24]
    how many hours each slot was observed; returns means."""
    means = per_slot / np.maximum(seen, 1)
    weekend = means[..., 5:7, :].mean(axis=-2)
    weekdays = means[..., 0:5, :].mean(axis=-2)
    for cls, prior in ((HOLIDAY, weekend), (MAKEUP, weekdays)):
        means[..., cls, :] = (per_slot[..., cls, :] + weight * prior) / (seen[cls] + weight)
    return means


def _cap(typical: np.ndarray, params: Params) -> np.ndarray:
    """The most a history hour may count where `typical` is usual: far above it for Poisson counts (Poisson(0.5)
    passes its cap of 5 about once in 70,000 hours), so only past spikes are cut down."""
    return np.ceil(typical + params.cap_sd * np.sqrt(np.maximum(typical, 1.0))) + 1


@dataclass
class Baseline:
    rates: np.ndarray  # [series, SLOTS]: expected cases per hour


def fit_baseline(counts: np.ndarray, slots: np.ndarray, groups: np.ndarray, pooled: np.ndarray,
                 params: Params = PARAMS) -> Baseline:
    """The baseline of each series from its hourly history.

    counts [series, hours]: cases per hour; slots [hours]: each hour's profile slot (`hour_slots`);
    groups [series]: the category (an index) of each series, whose shape it shares; pooled [series] bool: the
    series that add up to the whole city for their category (the districts), from which the shapes are made.
    """
    counts = np.asarray(counts, dtype=float)
    n_series, n_hours = counts.shape
    seen = np.bincount(slots, minlength=SLOTS).reshape(DAY_CLASSES, 24).astype(float)
    weeks = max(1, n_hours // 168)

    # The category's shape: city-wide mean per slot over its mean per hour.
    n_groups = int(groups.max()) + 1 if n_series else 0
    city = np.zeros((n_groups, n_hours))
    np.add.at(city, groups[pooled], counts[pooled])
    # A past spike must not shape the profile: city counts far above their slot's median are capped.
    slot_median = np.zeros((n_groups, SLOTS))
    for slot in np.unique(slots):
        slot_median[:, slot] = np.median(city[:, slots == slot], axis=1)
    city = np.minimum(city, _cap(slot_median[:, slots], params))
    city_slot = np.zeros((n_groups, SLOTS))
    np.add.at(city_slot.T, slots, city.T)
    shape = _with_derived_classes(city_slot.reshape(n_groups, DAY_CLASSES, 24), seen, weight=2.0)
    shape = shape.reshape(n_groups, SLOTS)
    shape_mean = np.maximum(city.mean(axis=1, keepdims=True), 1e-9)
    # A category never reported anywhere: a flat shape (every hour alike).
    shape = np.where(city.sum(axis=1, keepdims=True) > 0, shape / shape_mean, 1.0)
    shape = np.maximum(shape, 0.02)  # never certain that nothing happens at 3 a.m.
    series_shape = shape[groups][:, slots]  # [series, hours]

    # The series' level: median over whole weeks of cases ÷ shape (robust to one stormy week), with a floor so
    # that a series with no history still expects a little.
    whole = weeks * 168
    week_cases = counts[:, n_hours - whole:].reshape(n_series, weeks, 168).sum(axis=2)
    week_shape = series_shape[:, n_hours - whole:].reshape(n_series, weeks, 168).sum(axis=2)
    level = np.median(week_cases / week_shape, axis=1)
    level = np.maximum(level, 0.5 / series_shape.sum(axis=1))
    prior = level[:, None] * shape[groups]  # [series, SLOTS]

    # The series' own slot means, history capped far above the prior, shrunk towards the prior.
    capped = np.minimum(counts, _cap(prior[:, slots], params))
    own = np.zeros((n_series, SLOTS))
    np.add.at(own.T, slots, capped.T)
    weight = params.shrink_weeks
    rates = (own + weight * prior) / (seen.reshape(SLOTS) + weight)
    return Baseline(rates=rates)


def expected_between(baseline: Baseline, start: datetime, end: datetime) -> np.ndarray:
    """Expected cases of each series in [start, end): each local hour the span touches, by its share."""
    tz = local_tz()
    start, end = start.astimezone(tz), end.astimezone(tz)
    total = np.zeros(baseline.rates.shape[0])
    hour = start.replace(minute=0, second=0, microsecond=0)
    while hour < end:
        share = (min(end, hour + timedelta(hours=1)) - max(start, hour)).total_seconds() / 3600
        total += share * baseline.rates[:, day_class(hour.date()) * 24 + hour.hour]
        hour += timedelta(hours=1)
    return total


def score(observed, expected) -> np.ndarray:
    """-log10 P(X ≥ observed) for X ~ Poisson(expected): 6 means a one-in-a-million surprise."""
    observed = np.asarray(observed, dtype=float)
    # The Poisson survival function P(X > observed - 1); P(X ≥ 0) = 1 (pdtrc gives NaN for -1, and a NaN score made
    # a series with no case in its shortest window look calm however many it had in the longer one).
    tail = np.where(observed <= 0, 1.0, pdtrc(np.maximum(observed - 1, 0), np.maximum(expected, 1e-9)))
    return -np.log10(np.maximum(tail, 1e-300))


def min_count(window: int, params: Params = PARAMS, *, local: bool = False) -> int:
    """The cases a window needs to raise a warning. A block around a site needs `local_min_count` in half an hour
    but `local_long_min_count` in a longer window: among a city's thousands of blocks, two reports of a category an
    hour apart in one of them happen by chance every day; a site's slow spike shows itself early by two within half
    an hour, later by three in the hour."""
    if not local:
        return params.min_count
    return params.local_min_count if window <= 30 else max(params.local_min_count, params.local_long_min_count)


def hot_series(observed: dict[int, np.ndarray], expected: dict[int, np.ndarray], params: Params = PARAMS, *,
               local: bool = False) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Which series spike now. observed/expected: window minutes → [series] counts / expected counts.
    Returns (hot [series] bool; the best score [series] over the windows with at least `min_count` cases, 0 where
    none has; the window of that score [series]). `local`: the series are blocks around a site (`local_expected`),
    held to `local_threshold` and their own min counts (`min_count`)."""
    threshold = params.local_threshold if local else params.threshold
    windows = sorted(observed)
    scores = np.stack([score(observed[w], expected[w]) for w in windows])
    enough = np.stack([observed[w] >= min_count(w, params, local=local) for w in windows])
    eligible = np.where(enough, scores, 0.0)
    best = eligible.max(axis=0)
    return best >= threshold, best, np.asarray(windows)[eligible.argmax(axis=0)]


# --- around one site: many reports of one category close together ---------------------------------------------
# A district's or a street's count hides a slow spike around one site (a construction site at night, 4 noise
# complaints an hour): the street expects little, but not nothing, and the first reports do not stand out. Where the
# reports are is the missing evidence: a site's reports fall within a few hundred metres, where that category is
# seldom reported. So the city is cut into cells of `local_cell_m` metres; a block is 2 × 2 cells, and every cell
# begins one (blocks overlap: a site's reports fall inside one block wherever the cell lines run). A block's
# expected count is its district's (the baseline above) times the block's share of the district's reports of the
# category. That share is estimated from six weeks of history, where the category's count in the block is a Poisson
# count around (its count in the district × share): before looking at it, the share is believed to be about the
# block's share of all categories' reports (`everywhere`), with the weight of `local_prior` cases of the category
# (a gamma prior of shape local_prior around `everywhere`); after it, the share is the posterior mean
#
#     share = (category's history in the block + local_prior)
#             ÷ (category's history in the district + local_prior ÷ everywhere)
#
# — a block where the category is often reported (a market, a bar street) expects its part of it; one where people
# report much else but never this category expects little (the history's zero is telling); one where the category
# would have come once or twice in six weeks and happened not to expects about what its share of all reports says
# (a zero of the history tells little there: the share is not taken for nothing, which made chance pairs of a busy
# category's reports score like one-in-a-billion events); one where nothing at all was ever reported counts as
# having had one report of any kind.
# Thousands of blocks are tested at once: they have a threshold and min counts of their own (two cases in half an
# hour, three in the hour: `min_count`), chosen on the bench together with the areas'.
M_PER_DEGREE_LAT = 110_574.0
M_PER_DEGREE_LON_EQUATOR = 111_320.0


def cells(lon, lat, *, cell_m: float, lat0: float) -> tuple[np.ndarray, np.ndarray]:
    """The cell (column, row) of each point: a plane around latitude `lat0` (the city's), cut every `cell_m` m."""
    x = np.asarray(lon, dtype=float) * M_PER_DEGREE_LON_EQUATOR * np.cos(np.radians(lat0))
    y = np.asarray(lat, dtype=float) * M_PER_DEGREE_LAT
    return np.floor(x / cell_m).astype(np.int64), np.floor(y / cell_m).astype(np.int64)


BLOCK_OFFSETS = ((0, 0), (1, 0), (0, 1), (1, 1))


def blocks_of(ix: int, iy: int) -> list[tuple[int, int]]:
    """The four blocks (named by their lower-left cell) that hold cell (ix, iy)."""
    return [(ix - a, iy - b) for a, b in BLOCK_OFFSETS]


def block_box(block: tuple[int, int], *, cell_m: float, lat0: float) -> tuple[float, float, float, float]:
    """(min lon, max lon, min lat, max lat) of a block (2 × 2 cells)."""
    per_lon = M_PER_DEGREE_LON_EQUATOR * np.cos(np.radians(lat0))
    bx, by = block
    return (bx * cell_m / per_lon, (bx + 2) * cell_m / per_lon, by * cell_m / M_PER_DEGREE_LAT,
            (by + 2) * cell_m / M_PER_DEGREE_LAT)


def local_expected(area_expected, own, own_total, everything, everything_total, params: Params = PARAMS):
    """Expected cases of a category in blocks: `area_expected` the district's expected count of the category in the
    window; `own` / `own_total` the category's cases in the block / in the district over the history; `everything`
    / `everything_total` the same for all categories. The block's share of the category is the posterior mean of a
    gamma prior of shape `local_prior` around the block's share of all reports (see above)."""
    own, everything = np.asarray(own, dtype=float), np.asarray(everything, dtype=float)
    everywhere = (everything + 1.0) / (np.asarray(everything_total, dtype=float) + 1.0)
    share = (own + params.local_prior) / (np.asarray(own_total, dtype=float) + params.local_prior / everywhere)
    return np.asarray(area_expected, dtype=float) * np.minimum(share, 1.0)


# --- counts from the database ---------------------------------------------------------------------------------
def hourly_counts(*, since: datetime, until: datetime):
    """Cases per local hour, category, district and street in [since, until): one GROUP BY."""
    from cityops.cases.models import Case

    return (Case.objects.filter(created_at__gte=since, created_at__lt=until)
            .annotate(hour=TruncHour("created_at", tzinfo=local_tz()))
            .values("hour", "category_id", "district_code", "street_code")
            .annotate(n=Count("id")).order_by())


def recent_counts(*, now: datetime, windows: tuple[int, ...]):
    """Cases per category, district and street in each of the last `windows` minutes: one GROUP BY."""
    from cityops.cases.models import Case

    longest = max(windows)
    counts = {f"n{w}": Count("id", filter=Q(created_at__gte=now - timedelta(minutes=w))) for w in windows}
    return (Case.objects.filter(created_at__gte=now - timedelta(minutes=longest), created_at__lt=now)
            .values("category_id", "district_code", "street_code").annotate(**counts).order_by())


def recent_cases(*, now: datetime, minutes: int) -> list[tuple]:
    """The cases of the last `minutes` (a few hundred in a city's busiest hour), with where they are:
    (id, category id, district, community or smallest region code, lon, lat, created_at)."""
    from cityops.cases.models import Case

    return list(Case.objects.filter(created_at__gte=now - timedelta(minutes=minutes), created_at__lt=now)
                .exclude(district_code="")
                .values_list("pk", "category_id", "district_code", "community_code", "region_code", "lon", "lat",
                             "created_at"))


def block_history(*, district: str, block: tuple[int, int], since: datetime, until: datetime,
                  params: Params = PARAMS, lat0: float) -> dict[int, int]:
    """Cases per category in a block of a district over the history: one range query on (lon, lat)."""
    from cityops.cases.models import Case

    min_lon, max_lon, min_lat, max_lat = block_box(block, cell_m=params.local_cell_m, lat0=lat0)
    rows = (Case.objects.filter(created_at__gte=since, created_at__lt=until, district_code=district,
                                lon__gte=min_lon, lon__lt=max_lon, lat__gte=min_lat, lat__lt=max_lat)
            .values("category_id").annotate(n=Count("id")).order_by())
    return {r["category_id"]: r["n"] for r in rows}


_history: dict[tuple, dict] = {}


def _history_entry(*, since: datetime, until: datetime) -> dict:
    """`hourly_counts` (and the blocks' histories as they are asked for), kept in the process while the history is
    the same: the worker runs every few minutes, the history (whole hours) changes once an hour. The key holds the
    history's count and highest id, so a case written late into a past hour, or removed, is seen at the next run."""
    from cityops.cases.models import Case

    stamp = Case.objects.filter(created_at__gte=since, created_at__lt=until).aggregate(n=Count("id"), last=Max("id"))
    key = (since, until, stamp["n"], stamp["last"])
    if key not in _history:
        _history.clear()
        _history[key] = {"rows": list(hourly_counts(since=since, until=until)), "blocks": {}}
    return _history[key]


def _history_rows(*, since: datetime, until: datetime) -> list[dict]:
    return _history_entry(since=since, until=until)["rows"]


@dataclass
class Series:
    category_id: int
    region_code: str  # a district's 6 digits, a street's 9 or a community's 12
    level: str  # "district" | "street" | "community" (a spike around one site: the community most of its cases are in)


@dataclass
class Finding:
    series: Series
    observed: int
    expected: float
    score: float
    window: int  # minutes
    cases: list[int] | None = None  # a site's spike: its block's cases in the window (an area's: all its cases)


def detect(*, now: datetime, params: Params = PARAMS) -> tuple[list[Finding], set[tuple[int, str]]]:
    """What the database's counts say now: the series that spike (findings), and the (category id, region code) of
    every series not calm yet (a window's score at least `params.calm`), for the worker to raise and close
    warnings."""
    tz = local_tz()
    end = now.astimezone(tz).replace(minute=0, second=0, microsecond=0)  # history: whole hours before this one
    start = end - timedelta(weeks=params.history_weeks)
    n_hours = params.history_weeks * 168
    rows = _history_rows(since=start, until=end)
    recent = list(recent_counts(now=now, windows=params.windows))

    # The series: every district a category was reported in, and streets with enough history.
    street_history: dict[tuple[int, str], int] = {}
    districts: set[tuple[int, str]] = set()
    for r in rows + recent:
        if r["district_code"]:
            districts.add((r["category_id"], r["district_code"]))
    for r in rows:
        if r["street_code"]:
            key = (r["category_id"], r["street_code"])
            street_history[key] = street_history.get(key, 0) + r["n"]
    streets = {key for key, n in street_history.items() if n >= params.street_min_history}
    series = ([Series(c, code, "district") for c, code in sorted(districts)]
              + [Series(c, code, "street") for c, code in sorted(streets)])
    if not series:
        return [], set()
    index = {(s.category_id, s.region_code): i for i, s in enumerate(series)}
    categories = sorted({s.category_id for s in series})
    groups = np.array([categories.index(s.category_id) for s in series])
    pooled = np.array([s.level == "district" for s in series])

    # The baseline changes with the history (once an hour) and with the series (a district reported in for the
    # first time in six weeks): fitted again then, not at every run (at a city's size the fit is the run's cost).
    entry = _history_entry(since=start, until=end)
    fit_key = (tuple((s.category_id, s.region_code) for s in series), params)
    if entry.get("fit_key") != fit_key:
        counts = np.zeros((len(series), n_hours))
        for r in rows:
            hour = int((r["hour"] - start).total_seconds() // 3600)
            for code in (r["district_code"], r["street_code"]):
                i = index.get((r["category_id"], code)) if code else None
                if i is not None and 0 <= hour < n_hours:
                    counts[i, hour] += r["n"]
        baseline = fit_baseline(counts, hour_slots(start, n_hours), groups, pooled, params)
        entry["fit_key"], entry["baseline"] = fit_key, baseline
    baseline = entry["baseline"]

    observed = {w: np.zeros(len(series)) for w in params.windows}
    for r in recent:
        for code in (r["district_code"], r["street_code"]):
            i = index.get((r["category_id"], code)) if code else None
            if i is not None:
                for w in params.windows:
                    observed[w][i] += r[f"n{w}"]
    expected = {w: expected_between(baseline, now - timedelta(minutes=w), now) for w in params.windows}
    hot, best, window = hot_series(observed, expected, params)
    findings = []
    for i in np.flatnonzero(hot):
        w = int(window[i])
        findings.append(Finding(series[i], int(observed[w][i]), float(expected[w][i]), float(best[i]), w))
    top = np.stack([score(observed[w], expected[w]) for w in params.windows]).max(axis=0)
    warm = {(series[i].category_id, series[i].region_code) for i in np.flatnonzero(top >= params.calm)}
    local, local_warm = _local_findings(now=now, since=start, until=end, index=index, expected=expected,
                                        params=params)
    return findings + local, warm | local_warm


def _local_findings(*, now: datetime, since: datetime, until: datetime, index: dict, expected: dict[int, np.ndarray],
                    params: Params) -> tuple[list[Finding], set[tuple[int, str]]]:
    """Spikes around one site (see `local_expected`): the recent cases counted per category, district and block;
    only blocks with at least two cases in a window are looked at (a handful per run), their history read once an
    hour. A finding is named by the community most of its cases are in, and carries the block's cases."""
    lat0 = float(getattr(settings, "CITYOPS_MAP_CENTER", (30.6, 114.3))[0])
    cases = recent_cases(now=now, minutes=max(params.windows))
    if not cases:
        return [], set()
    entry = _history_entry(since=since, until=until)
    ix, iy = cells([c[5] for c in cases], [c[6] for c in cases], cell_m=params.local_cell_m, lat0=lat0)
    members: dict[tuple, list[int]] = {}
    for k, (_pk, category, district, *_rest) in enumerate(cases):
        for block in blocks_of(int(ix[k]), int(iy[k])):
            members.setdefault((category, district, block), []).append(k)
    keys = [key for key, ks in members.items() if len(ks) >= 2]
    if not keys:
        return [], set()
    own_total: dict[tuple[int, str], int] = {}
    everything_total: dict[str, int] = {}
    for r in entry["rows"]:
        if r["district_code"]:
            own_total[(r["category_id"], r["district_code"])] = own_total.get((r["category_id"], r["district_code"]),
                                                                              0) + r["n"]
            everything_total[r["district_code"]] = everything_total.get(r["district_code"], 0) + r["n"]
    for _category, district, block in keys:
        if (district, block) not in entry["blocks"]:
            entry["blocks"][(district, block)] = block_history(district=district, block=block, since=since,
                                                               until=until, params=params, lat0=lat0)
    history = [entry["blocks"][(d, b)] for _c, d, b in keys]
    own = [h.get(c, 0) for h, (c, _d, _b) in zip(history, keys, strict=True)]
    everything = [sum(h.values()) for h in history]
    observed, local_exp = {}, {}
    for w in params.windows:
        cutoff = now - timedelta(minutes=w)
        observed[w] = np.array([sum(cases[k][7] >= cutoff for k in members[key]) for key in keys])
        area = [expected[w][index[(c, d)]] if (c, d) in index else 0.0 for c, d, _b in keys]
        local_exp[w] = local_expected(area, own, [own_total.get((c, d), 0) for c, d, _b in keys], everything,
                                      [everything_total.get(d, 0) for _c, d, _b in keys], params)
    hot, best, window = hot_series(observed, local_exp, params, local=True)
    top = np.stack([np.where(observed[w] >= 2, score(observed[w], local_exp[w]), 0.0) for w in params.windows])
    findings: dict[tuple[int, str], Finding] = {}
    warm = set()
    for j, (category, _district, _block) in enumerate(keys):
        # The window of the best score; none has enough cases (two in the hour, none in the last half hour): the hour.
        w = int(window[j]) if best[j] > 0 else max(params.windows)
        in_window = [cases[k] for k in members[keys[j]] if cases[k][7] >= now - timedelta(minutes=w)]
        places = Counter(c[3] or (c[4][:12] if len(c[4]) >= 12 else "") for c in in_window)
        community = max(places, key=lambda code: (bool(code), places[code]))
        if not community:
            continue  # no community known for these cases: the street's and district's series still watch them
        if top[:, j].max() >= params.calm:
            warm.add((category, community))
        if hot[j] and best[j] > getattr(findings.get((category, community)), "score", -1):
            findings[(category, community)] = Finding(
                Series(category, community, "community"), len(in_window), float(local_exp[w][j]), float(best[j]), w,
                cases=[c[0] for c in in_window])
    return list(findings.values()), warm
