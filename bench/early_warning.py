"""Early warning on simulated traffic with injected spikes (issue 15, 预测预防).

    .venv/bin/python bench/early_warning.py [--tune-seeds 1 2 3 4] [--seeds 5 6 7] [--weeks 4] [--no-db] [--pg URL]

1. Simulates case counts in 5-minute bins for 10 weeks (2026-03-09 … 2026-05-17: Qingming and the May Day holiday
   with its make-up Saturday inside) per category × region: 10 categories, Wuhan's 13 districts, 6–14 streets each.
   Counts are Poisson around a seasonal rate: each category's daily curve (daytime work, evening noise), Monday
   mornings busier, weekends and holidays like weekends, make-up workdays like weekdays; each district its own
   weekend factor and each street its own share. Then spikes are injected in the last `--weeks` weeks (the first
   six are history only), each with a start, a duration and a rate:
     rainstorm   道路积水 across a district (3–6 of its streets), 10–40 extra reports an hour, 1–4 h;
     noise       噪声扰民 / 夜间施工扰民 around one site in a street, 4–10 an hour, 1–3 h, mostly evenings;
     outage      停水 / 停电 in one street, 8–25 an hour front-loaded, 1–2 h;
     small       a busy category in one street, 3–5 an hour, 1–2 h (hard on purpose), around one site.
   Every case has a place (make_geography: streets of 2–3 km with 20–60 places where 60 % of a category's reports
   are made, each category with its own liking for each place); a noise or small spike lies 100–150 m around a
   site that is one of the street's places half the time. The counts and spikes are the same as before places were
   added (the places come from a random stream of their own).
2. Runs the detector's pure functions (cityops.dashboard.early_warning) every 5 minutes as the worker does
   (CITYOPS_EARLY_WARNING_INTERVAL = 300 s), the baseline refitted each midnight on the six weeks before (the worker
   refits each hour), streets watched for a category once they have STREET_MIN_HISTORY cases of it, with the
   worker's rules for raising (one open warning per category and region; a district's warning absorbs its streets'
   and sites') and closing (after an hour of calm); the sites' blocks as early_warning._local_findings does
   (LocalScan). A warning matches a spike of its category in the same district (the district, one of its streets or
   a site in it) between the spike's start and one hour after its end; any other is false. "reachable" counts the
   spikes with two reports of their own in their first 30 minutes: no detector that needs two can do better.
3. Tunes: THRESHOLD × MIN_COUNT of the areas and LOCAL_THRESHOLD × the min counts of the sites (in half an hour,
   in the hour) on the `--tune-seeds` together (1–4: 192 spikes; seed 1 alone, 48, was too few to choose between
   neighbouring thresholds) — the most spikes warned within 30 minutes, then the fewest false warnings, with at most
   BUDGET = 0.5 false warnings per district per week on average: a margin under the target of 1 — then reports
   that choice on the held-out `--seeds`. Both tables are printed, with the delays (median, p90) of the warned
   spikes per type; then the cost of one run at a city's size (cost_at_city_size).
4. End to end through the database (SQLite by default, `--pg` for PostgreSQL): a smaller city (2 districts,
   4 categories) written as Case rows with places and communities, `services.early_warning_run` every 5 minutes over two days with spikes,
   the warnings read back from the EarlyWarning table.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

TZ = ZoneInfo("Asia/Shanghai")
START = datetime(2026, 3, 9, tzinfo=TZ)  # a Monday
WEEKS = 10
HISTORY_WEEKS = 6
BIN_MIN = 5
BINS_PER_HOUR = 60 // BIN_MIN
DISTRICTS = ["420102", "420103", "420104", "420105", "420106", "420107", "420111", "420112", "420113",
             "420114", "420115", "420116", "420117"]

# code, name, cases a day city-wide, daily curve
CATEGORIES = [
    ("E0101", "暴露垃圾", 320, "day"), ("E0106", "噪声扰民", 140, "evening"), ("E0301", "夜间施工扰民", 50, "night"),
    ("E0401", "占道经营", 260, "day"), ("E0403", "车辆乱停放", 220, "day"), ("E0501", "道路积水", 15, "day"),
    ("E0601", "停水或水质问题", 30, "day"), ("E0602", "停电问题", 25, "day"), ("E0603", "物业服务纠纷", 120, "day"),
    ("C0101", "井盖破损缺失", 40, "day"),
]
SPIKE_TYPES = ("rainstorm", "noise", "outage", "small")
# Tuning keeps false warnings at most this many per district per week on the tuning seed: a margin under the
# target of 1, so that the held-out seeds' spread stays under it. (A first budget of 0.75 chose threshold 5.0,
# whose false warnings reached 1.02 on held-out seed 2; seeds 2–4 have been looked at since, so the default
# held-out seeds are now 5–7.)
BUDGET = 0.5


def fresh_postgres(url: str) -> str:
    """A scratch PostgreSQL database, emptied for this run: `url` names the server and the database."""
    import psycopg

    server, name = url.rsplit("/", 1)
    with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    return url


def setup_django(url: str | None = None) -> None:
    if url is None:
        url = f"sqlite:///{tempfile.mkdtemp(prefix='cityops_ew_')}/bench.sqlite3"
    elif url.startswith("postgres"):
        url = fresh_postgres(url)
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cityops.settings")
    os.environ.setdefault("CITYOPS_LOG_LEVEL", "WARNING")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


# --- the simulated city ---------------------------------------------------------------------------------------
def daily_curve(kind: str) -> np.ndarray:
    h = np.arange(24)
    if kind == "day":  # office hours with a morning and an afternoon peak
        curve = 0.12 + np.exp(-((h - 10) / 2.2) ** 2) + 0.8 * np.exp(-((h - 15.5) / 2.5) ** 2) + 0.25 * (h >= 19) * (h <= 22)
    elif kind == "evening":  # noise: evenings and late night
        curve = 0.25 + 0.4 * np.exp(-((h - 10) / 3) ** 2) + 1.2 * np.exp(-((h - 21.5) / 2) ** 2) + 0.5 * (h <= 1)
    else:  # night construction: late evening into the small hours
        curve = 0.1 + 1.3 * np.exp(-((np.where(h < 12, h + 24, h) - 24) / 2.5) ** 2)
    return curve / curve.mean()


@dataclass
class City:
    streets: list[tuple[str, str]]  # (street code, district code)
    street_share: np.ndarray  # [streets] share of its district
    district_share: np.ndarray  # [districts]
    district_weekend: np.ndarray  # [districts] factor on rest days
    geography: Geography | None = None

    def series(self) -> tuple[list[tuple[int, str, str]], np.ndarray, np.ndarray]:
        """(category index, region code, level) for every series; groups; pooled."""
        out = []
        for c in range(len(CATEGORIES)):
            out += [(c, d, "district") for d in DISTRICTS]
            out += [(c, s, "street") for s, _d in self.streets]
        groups = np.array([c for c, _r, _lvl in out])
        pooled = np.array([lvl == "district" for _c, _r, lvl in out])
        return out, groups, pooled


def make_city(rng: np.random.Generator, geo_rng: np.random.Generator | None = None) -> City:
    streets, shares = [], []
    for d in DISTRICTS:
        n = int(rng.integers(6, 15))
        w = rng.lognormal(0, 0.6, n)
        shares += list(w / w.sum())
        streets += [(f"{d}{i + 1:03d}", d) for i in range(n)]
    share = rng.lognormal(0, 0.4, len(DISTRICTS))
    city = City(streets, np.array(shares), share / share.sum(), rng.uniform(0.55, 1.15, len(DISTRICTS)))
    if geo_rng is not None:
        city.geography = make_geography(geo_rng, len(streets))
    return city


# --- where reports are ----------------------------------------------------------------------------------------
# Each street is a square of 2–3 km (Wuhan's streets are 2–15 km²), cut into 3 × 3 communities, laid on a lattice 4 km
# apart (the detector groups blocks by district, so the lattice's gaps change nothing). Reports are not spread
# evenly: a street has 20–60 places (markets, housing estates, bar streets, building sites) with lognormal weights,
# and each category its own liking for each place (lognormal again: rubbish at the market, noise at the bar street);
# 60 % of a category's reports come from its places (60 m apart around them), 40 % from anywhere in the street. So a
# block around a busy place sees the category every day, and history teaches the detector that.
# A spike around a site (noise, a small cluster) is centred on one of the street's places half the time (chosen by
# the category's liking: a spike where that category is always reported is the hard case) and anywhere in the
# street otherwise; its reports lie 100 m (noise: one site) or 150 m (a small cluster) around it. A rainstorm's
# reports are spread like the category's usual ones over its streets; an outage's evenly over the street.
LON0, LAT0, CITY_LAT = 114.0, 30.3, 30.6
PLACE_SHARE, PLACE_SPREAD_M = 0.6, 60.0
SITE_SPREAD_M = {"noise": 100.0, "small": 150.0}
COMMUNITIES = 3  # per side of a street


@dataclass
class Geography:
    corner: np.ndarray  # [streets, 2] metres
    side: np.ndarray  # [streets] metres
    places: list[np.ndarray]  # per street [places, 2] metres
    liking: list[np.ndarray]  # per street [categories, places], each row sums to 1


def make_geography(rng: np.random.Generator, n_streets: int) -> Geography:
    corner = np.array([[(i % 12) * 4000.0, (i // 12) * 4000.0] for i in range(n_streets)])
    side = np.minimum(3500.0, np.sqrt(rng.lognormal(np.log(6e6), 0.3, n_streets)))
    places, liking = [], []
    for s in range(n_streets):
        n = int(rng.integers(20, 61))
        places.append(corner[s] + rng.uniform(0, 1, (n, 2)) * side[s])
        w = rng.lognormal(0, 1, n)[None, :] * rng.lognormal(0, 1, (len(CATEGORIES), n))
        liking.append(w / w.sum(axis=1, keepdims=True))
    return Geography(corner, side, places, liking)


def usual_places(rng, geo: Geography, street: int, category: int, n: int) -> np.ndarray:
    """Where n usual reports of a category in a street are made (metres)."""
    at_place = rng.random(n) < PLACE_SHARE
    chosen = rng.choice(len(geo.places[street]), size=n, p=geo.liking[street][category])
    near = geo.places[street][chosen] + rng.normal(0, PLACE_SPREAD_M, (n, 2))
    anywhere = geo.corner[street] + rng.uniform(0, 1, (n, 2)) * geo.side[street]
    return np.where(at_place[:, None], near, anywhere)


def spike_places(rng, geo: Geography, sp, street: int, n: int, site) -> np.ndarray:
    if sp.kind in SITE_SPREAD_M:
        return site + rng.normal(0, SITE_SPREAD_M[sp.kind], (n, 2))
    if sp.kind == "outage":
        return geo.corner[street] + rng.uniform(0, 1, (n, 2)) * geo.side[street]
    return usual_places(rng, geo, street, sp.category, n)


def to_lonlat(xy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    from cityops.dashboard.early_warning import M_PER_DEGREE_LAT, M_PER_DEGREE_LON_EQUATOR

    return (LON0 + xy[:, 0] / (M_PER_DEGREE_LON_EQUATOR * np.cos(np.radians(CITY_LAT))),
            LAT0 + xy[:, 1] / M_PER_DEGREE_LAT)


def community_of(geo: Geography, street: np.ndarray, xy: np.ndarray) -> np.ndarray:
    """The community (0–8 within its street) of each point, points just outside the square to its edge."""
    rel = (xy - geo.corner[street]) / geo.side[street][:, None]
    cell = np.clip(np.floor(rel * COMMUNITIES), 0, COMMUNITIES - 1).astype(int)
    return cell[:, 1] * COMMUNITIES + cell[:, 0]


@dataclass
class Events:
    """Every simulated case, sorted by bin: its bin, category, district index, street, community code and place."""
    bin: np.ndarray
    category: np.ndarray
    district: np.ndarray
    street: np.ndarray
    community: np.ndarray  # int: street index × 9 + community
    lon: np.ndarray
    lat: np.ndarray


def day_kinds(days: int) -> list[tuple[int, bool]]:
    from cityops.core.calendar import is_workday

    return [((START + timedelta(days=i)).weekday(), is_workday((START + timedelta(days=i)).date())) for i in range(days)]


def base_rates(city: City) -> np.ndarray:
    """[category, district, bin] expected cases per bin for the whole simulated period."""
    days = WEEKS * 7
    kinds = day_kinds(days)
    rates = np.zeros((len(CATEGORIES), len(DISTRICTS), days * 24 * BINS_PER_HOUR), dtype=np.float32)
    for c, (_code, _name, per_day, curve_kind) in enumerate(CATEGORIES):
        curve = daily_curve(curve_kind)
        for i, (weekday, workday) in enumerate(kinds):
            hours = curve.copy()
            if workday and weekday == 0:
                hours[8:12] *= 1.5  # Monday morning: the weekend's reports arrive
            day_factor = 1.0 if workday else (1.2 if curve_kind != "day" else 0.75)
            for d in range(len(DISTRICTS)):
                weekend = 1.0 if workday else city.district_weekend[d]
                per_hour = per_day / 24 * city.district_share[d] * day_factor * weekend * hours
                start = i * 24 * BINS_PER_HOUR
                rates[c, d, start:start + 24 * BINS_PER_HOUR] = np.repeat(per_hour / BINS_PER_HOUR, BINS_PER_HOUR)
    return rates


@dataclass
class Spike:
    kind: str
    category: int
    district: str
    streets: list[int]  # indexes into city.streets
    start: int  # bin
    end: int  # bin (exclusive)
    per_hour: float
    early: int = 0  # its own reports in its first 30 minutes (fewer than 2: no detector can warn of it by then)


def make_spikes(rng: np.random.Generator, city: City, eval_weeks: int) -> list[Spike]:
    cat = {code: i for i, (code, *_rest) in enumerate(CATEGORIES)}
    first = HISTORY_WEEKS * 7 * 24 * BINS_PER_HOUR
    last = (HISTORY_WEEKS + eval_weeks) * 7 * 24 * BINS_PER_HOUR - 8 * BINS_PER_HOUR
    by_district = defaultdict(list)
    for i, (_s, d) in enumerate(city.streets):
        by_district[d].append(i)
    spikes = []
    for _ in range(12 * eval_weeks):
        kind = SPIKE_TYPES[int(rng.choice(4, p=[0.3, 0.3, 0.2, 0.2]))]
        district = DISTRICTS[int(rng.integers(len(DISTRICTS)))]
        own = by_district[district]
        start = int(rng.integers(first, last))
        hours_of_day = (start // BINS_PER_HOUR) % 24
        if kind == "rainstorm":
            c, streets = cat["E0501"], list(rng.choice(own, size=min(len(own), int(rng.integers(3, 7))), replace=False))
            hours, rate = rng.uniform(1, 4), rng.uniform(10, 40)
        elif kind == "noise":
            c, streets = cat[str(rng.choice(["E0106", "E0301"]))], [int(rng.choice(own))]
            hours, rate = rng.uniform(1, 3), rng.uniform(4, 10)
            if rng.random() < 0.7:  # mostly in the evening
                start = start - hours_of_day * BINS_PER_HOUR + int(rng.integers(19, 23)) * BINS_PER_HOUR
        elif kind == "outage":
            c, streets = cat[str(rng.choice(["E0601", "E0602"]))], [int(rng.choice(own))]
            hours, rate = rng.uniform(1, 2), rng.uniform(8, 25)
        else:
            c, streets = cat[str(rng.choice(["E0101", "E0401", "E0403", "E0603"]))], [int(rng.choice(own))]
            hours, rate = rng.uniform(1, 2), rng.uniform(3, 5)
        end = start + max(1, int(round(hours * BINS_PER_HOUR)))
        spikes.append(Spike(kind, c, district, streets, start, end, rate))
    return spikes


def simulate(seed: int, eval_weeks: int):
    """Counts [series, bin] (int16), the series list, groups, pooled, the spikes, the city and every case with its
    place (Events). The counts and spikes are drawn from `seed` as before places were added; the places from a
    stream of their own."""
    rng = np.random.default_rng(seed)
    geo_rng = np.random.default_rng([seed, 17])
    city = make_city(rng, geo_rng)
    geo = city.geography
    rates = base_rates(city)
    n_bins = rates.shape[2]
    series, groups, pooled = city.series()
    district_index = {d: i for i, d in enumerate(DISTRICTS)}
    # Street counts first (Poisson), districts as their sums, so that the two levels agree as in the database.
    street_counts = np.zeros((len(CATEGORIES), len(city.streets), n_bins), dtype=np.int16)
    for s, (_code, d) in enumerate(city.streets):
        street_counts[:, s, :] = rng.poisson(rates[:, district_index[d], :] * city.street_share[s])
    parts = []  # (bins, category, street, xy) of the usual reports, then of the spikes'
    cat_i, street_i, bin_i = np.nonzero(street_counts)
    n_i = street_counts[cat_i, street_i, bin_i].astype(int)
    cat_r, street_r, bin_r = np.repeat(cat_i, n_i), np.repeat(street_i, n_i), np.repeat(bin_i, n_i)
    xy = np.zeros((len(bin_r), 2))
    order = np.lexsort((cat_r, street_r))
    keys = street_r[order] * len(CATEGORIES) + cat_r[order]
    bounds = np.flatnonzero(np.diff(keys)) + 1
    for group in np.split(order, bounds):
        if group.size:
            xy[group] = usual_places(geo_rng, geo, int(street_r[group[0]]), int(cat_r[group[0]]), group.size)
    parts.append((bin_r, cat_r, street_r, xy))
    spikes = make_spikes(rng, city, eval_weeks)
    for sp in spikes:
        n = sp.end - sp.start
        profile = np.ones(n)
        if sp.kind == "outage":  # most reports in the first half hour
            profile = np.exp(-np.arange(n) / (0.6 * BINS_PER_HOUR)) + 0.2
        elif sp.kind == "rainstorm":  # builds up over the first quarter hour
            profile = np.minimum(1.0, (np.arange(n) + 1) / 3)
        profile = profile / profile.mean() * sp.per_hour / BINS_PER_HOUR
        weights = city.street_share[sp.streets] / city.street_share[sp.streets].sum()
        street = int(sp.streets[0])
        site = (geo.places[street][geo_rng.choice(len(geo.places[street]), p=geo.liking[street][sp.category])]
                if geo_rng.random() < 0.5 else geo.corner[street] + geo_rng.uniform(0, 1, 2) * geo.side[street])
        for s, w in zip(sp.streets, weights, strict=True):
            added = rng.poisson(profile * w).astype(np.int16)
            street_counts[sp.category, s, sp.start:sp.end] += added
            sp.early += int(added[:30 // BIN_MIN].sum())
            bins = sp.start + np.repeat(np.arange(n), added.astype(int))
            parts.append((bins, np.full(len(bins), sp.category), np.full(len(bins), s),
                          spike_places(geo_rng, geo, sp, int(s), len(bins), site)))
    counts = np.zeros((len(series), n_bins), dtype=np.int16)
    street_row = {code: i for i, (code, _d) in enumerate(city.streets)}
    for i, (c, region, level) in enumerate(series):
        if level == "street":
            counts[i] = street_counts[c, street_row[region]]
        else:
            members = [street_row[s] for s, d in city.streets if d == region]
            counts[i] = street_counts[c, members].sum(axis=0)
    bins, cats, streets_, xy = (np.concatenate(x) for x in zip(*parts, strict=True))
    order = np.argsort(bins, kind="stable")
    bins, cats, streets_, xy = bins[order], cats[order], streets_[order], xy[order]
    lon, lat = to_lonlat(xy)
    district_of_street = np.array([district_index[d] for _s, d in city.streets])
    events = Events(bins, cats, district_of_street[streets_], streets_,
                    streets_ * COMMUNITIES ** 2 + community_of(geo, streets_, xy), lon, lat)
    return counts, series, groups, pooled, spikes, city, events


# --- the detector as the worker runs it -------------------------------------------------------------------------
@dataclass
class Candidate:
    check: int  # bin index at which the check runs (counts of bins < check)
    series: int
    counts: tuple[int, ...]  # per window
    scores: tuple[float, ...]


class LocalScan:
    """The detector's spikes around one site (early_warning.local_expected) on the simulated cases, as
    early_warning._local_findings does on the database's: at each check the cases of the last hour are counted per
    category, district and block (2 × 2 cells, every offset); blocks with two cases or more are scored against
    their district's expected count × the block's share of the district's history; a block's finding is named by
    the community most of its cases are in, the best block of a community standing for it. Those communities
    become series of level "community" (appended to `series`)."""

    ALL = 15  # the category field's value for "every category"
    MASK = (1 << 20) - 1

    def __init__(self, events: Events, series: list, params):
        from cityops.dashboard import early_warning as ew

        self.ew, self.ev, self.series, self.params = ew, events, series, params
        ix, iy = ew.cells(events.lon, events.lat, cell_m=params.local_cell_m, lat0=CITY_LAT)
        ix, iy = ix - ix.min() + 2, iy - iy.min() + 2
        assert ix.max() < 1024 and iy.max() < 1024 and len(CATEGORIES) < self.ALL and len(DISTRICTS) < 16
        head = (events.category.astype(np.int64) * 16 + events.district) << 20
        self.key = np.stack([head | ((ix - a) << 10) | (iy - b) for a, b in ew.BLOCK_OFFSETS], axis=1)
        all_key = ((self.ALL * 16 + events.district.astype(np.int64)) << 20)[:, None] | (self.key & self.MASK)
        self.own_history = np.sort((self.key << 15 | events.bin[:, None]).ravel())
        self.all_history = np.sort((all_key << 15 | events.bin[:, None]).ravel())
        self.district_row = np.full((16, 16), -1)
        for i, (c, region, level) in enumerate(series):
            if level == "district":
                self.district_row[c, DISTRICTS.index(region)] = i
        self.index: dict[tuple[int, int], int] = {}

    def new_day(self, h0: int, h1: int, hourly: np.ndarray) -> None:
        """The history of the day's baseline: hours [h0, h1)."""
        self.lo, self.hi = h0 * BINS_PER_HOUR, h1 * BINS_PER_HOUR
        rows = self.district_row[:len(CATEGORIES), :len(DISTRICTS)]
        self.own_total = np.zeros((16, 16))
        self.own_total[:len(CATEGORIES), :len(DISTRICTS)] = hourly[rows, h0:h1].sum(axis=2)
        self.all_total = self.own_total.sum(axis=0)

    def _history(self, sorted_codes: np.ndarray, keys: np.ndarray) -> np.ndarray:
        return (np.searchsorted(sorted_codes, keys << 15 | self.hi)
                - np.searchsorted(sorted_codes, keys << 15 | self.lo))

    def check(self, check: int, ecum: np.ndarray, k: int) -> list:
        ev, params = self.ev, self.params
        windows = params.windows
        lo, hi = np.searchsorted(ev.bin, [check - max(windows) // BIN_MIN, check])
        if hi - lo < 2:
            return []
        keys = self.key[lo:hi].ravel()
        unique, inverse, n = np.unique(keys, return_inverse=True, return_counts=True)
        if n.max() < 2:
            return []
        member = np.repeat(np.arange(lo, hi), len(self.ew.BLOCK_OFFSETS))
        pick = np.flatnonzero(n >= 2)
        blocks = unique[pick]
        head = blocks >> 20
        cat, dist = head // 16, head % 16
        rows = self.district_row[cat, dist]
        own = self._history(self.own_history, blocks)
        everything = self._history(self.all_history, ((self.ALL * 16 + dist) << 20) | (blocks & self.MASK))
        obs, scores = [], []
        for w in windows:
            inside = (ev.bin[member] >= check - w // BIN_MIN).astype(float)
            o = np.bincount(inverse, weights=inside, minlength=len(unique))[pick]
            area = ecum[rows, k] - ecum[rows, k - w // BIN_MIN]
            e = self.ew.local_expected(area, own, self.own_total[cat, dist], everything, self.all_total[dist], params)
            obs.append(o)
            scores.append(np.where(o >= 2, self.ew.score(o, e), 0.0))
        best = np.max(scores, axis=0)
        out: dict[int, Candidate] = {}
        for j in np.flatnonzero(best >= params.calm):
            inside = member[inverse == pick[j]]
            community = int(Counter(ev.community[inside].tolist()).most_common(1)[0][0])
            c = int(cat[j])
            key = (c, community)
            if key not in self.index:
                street, number = divmod(community, COMMUNITIES ** 2)
                self.index[key] = len(self.series)
                self.series.append((c, f"{DISTRICTS[int(dist[j])]}{street:03d}{number:03d}", "community"))
            s = self.index[key]
            if s not in out or best[j] > max(out[s].scores):
                out[s] = Candidate(check, s, tuple(int(o[j]) for o in obs), tuple(float(sc[j]) for sc in scores))
        return list(out.values())


def candidates(counts, series, groups, pooled, eval_weeks: int, params, events: Events | None = None):
    """Every (check, series) whose score reached 2 in some window, checked every 5 minutes through the evaluation
    weeks, the baseline refitted at each midnight. Threshold and min_count are applied later (tuning is cheap).
    With `events`, the blocks around sites too (LocalScan; their series are appended to `series`)."""
    from cityops.dashboard import early_warning as ew

    windows = params.windows
    n_series = counts.shape[0]
    hourly = counts.reshape(n_series, -1, BINS_PER_HOUR).sum(axis=2)
    cum = np.concatenate([np.zeros((n_series, 1), dtype=np.int64), np.cumsum(counts, axis=1, dtype=np.int64)], axis=1)
    found = []
    day_bins = 24 * BINS_PER_HOUR
    local = LocalScan(events, series, params) if events is not None else None
    for day in range(HISTORY_WEEKS * 7, (HISTORY_WEEKS + eval_weeks) * 7):
        h0 = day * 24 - params.history_weeks * 168
        history_start = START + timedelta(hours=h0)
        slots = ew.hour_slots(history_start, params.history_weeks * 168)
        baseline = ew.fit_baseline(hourly[:, h0:day * 24], slots, groups, pooled, params)
        # As early_warning.detect: a street is watched for a category once it has enough history.
        watched = pooled | (hourly[:, h0:day * 24].sum(axis=1) >= params.street_min_history)
        # Expected per bin from an hour before midnight to the day's end, with today's baseline.
        first_bin = day * day_bins - BINS_PER_HOUR * 2
        bin_slots = np.repeat(ew.hour_slots(START + timedelta(hours=day * 24 - 2), 26), BINS_PER_HOUR)
        expected_bins = baseline.rates[:, bin_slots] / BINS_PER_HOUR
        ecum = np.concatenate([np.zeros((n_series, 1)), np.cumsum(expected_bins, axis=1)], axis=1)
        if local:
            local.new_day(h0, day * 24, hourly)
        for check in range(day * day_bins + 1, (day + 1) * day_bins + 1):
            if local:
                found += local.check(check, ecum, check - first_bin)
            obs = [cum[:, check] - cum[:, check - w // BIN_MIN] for w in windows]
            busy = np.flatnonzero((np.max(obs, axis=0) >= 2) & watched)
            if not busy.size:
                continue
            k = check - first_bin
            exp = [ecum[busy, k] - ecum[busy, k - w // BIN_MIN] for w in windows]
            scores = [ew.score(o[busy], e) for o, e in zip(obs, exp, strict=True)]
            best = np.max(scores, axis=0)
            for j in np.flatnonzero(best >= params.calm):
                s = int(busy[j])
                found.append(Candidate(check, s, tuple(int(o[s]) for o in obs), tuple(float(sc[j]) for sc in scores)))
    return found


@dataclass
class Warning:
    series: int
    detected: int  # bin
    closed: int | None = None
    merged: bool = False


def run_rules(found: list[Candidate], series, params) -> list[Warning]:
    """The worker's rules on the candidates: raise when a window reaches the threshold with enough cases (a site's
    block: the local threshold and min count) and the series (or, for a street or a site, its district) has no open
    warning; a district's warning closes its streets' and sites' warnings of the category (merged); a warning closes
    after `quiet_minutes` without a score of `calm`."""
    from cityops.dashboard import early_warning as ew

    by_check = defaultdict(list)
    for c in found:
        by_check[c.check].append(c)
    district_of = {i: (s[0], s[1][:6]) for i, s in enumerate(series)}
    district_series = {(s[0], s[1]): i for i, s in enumerate(series) if s[2] == "district"}
    open_: dict[int, Warning] = {}
    last_warm: dict[int, int] = {}
    warnings = []
    quiet = params.quiet_minutes // BIN_MIN
    for check in sorted(by_check) + [10**9]:
        for s, w in list(open_.items()):
            if check - last_warm[s] > quiet:
                w.closed = last_warm[s] + quiet
                del open_[s]
        if check == 10**9:
            break
        hot = []
        for c in by_check[check]:
            if c.series in open_:
                last_warm[c.series] = check
            local = series[c.series][2] == "community"
            threshold = params.local_threshold if local else params.threshold
            if any(n >= ew.min_count(w, params, local=local) and sc >= threshold
                   for w, n, sc in zip(params.windows, c.counts, c.scores, strict=True)):
                hot.append(c.series)
        for s in sorted(hot, key=lambda s: series[s][2] != "district"):  # districts first
            if s in open_:
                continue
            category, district = district_of[s]
            if series[s][2] != "district" and district_series[(category, district)] in open_:
                continue
            w = Warning(s, check)
            warnings.append(w)
            open_[s] = w
            last_warm[s] = check
            if series[s][2] == "district":
                for t, other in list(open_.items()):
                    if series[t][2] != "district" and district_of[t] == (category, district):
                        other.closed, other.merged = check, True
                        del open_[t]
    return warnings


def evaluate(warnings: list[Warning], spikes: list[Spike], series, eval_weeks: int) -> dict:
    late = 60 // BIN_MIN
    matched = defaultdict(list)
    false = 0
    false_by_district = defaultdict(int)
    for w in warnings:
        c, region, _level = series[w.series]
        hits = [k for k, sp in enumerate(spikes)
                if sp.category == c and region[:6] == sp.district and sp.start < w.detected <= sp.end + late]
        for k in hits:
            matched[k].append(w.detected)
        if not hits:
            false += 1
            false_by_district[region[:6]] += 1
    per_kind = {}
    delays_all = []
    for kind in SPIKE_TYPES + ("all",):
        ks = [k for k, sp in enumerate(spikes) if kind == "all" or sp.kind == kind]
        delays = [(min(matched[k]) - spikes[k].start) * BIN_MIN for k in ks if matched[k]]
        if kind == "all":
            delays_all = delays
        per_kind[kind] = {
            "spikes": len(ks), "found": len(delays),
            "recall": len(delays) / len(ks) if ks else float("nan"),
            "in_30": sum(d <= 30 for d in delays) / len(ks) if ks else float("nan"),
            # The most any detector could warn of within 30 minutes: the spikes with two reports of their own by then.
            "reachable": sum(spikes[k].early >= 2 for k in ks) / len(ks) if ks else float("nan"),
            "median": statistics.median(delays) if delays else float("nan"),
            "p90": p90(delays),
            "max": max(delays) if delays else float("nan"),
            "delays": delays,
        }
    weeks = eval_weeks
    return {"kinds": per_kind, "false": false, "false_per_region_week": false / (len(DISTRICTS) * weeks),
            "false_max_region_week": max(false_by_district.values(), default=0) / weeks,
            "warnings": len(warnings), "delays": delays_all}


def p90(delays: list) -> float:
    """The 90th percentile of the delays (minutes; the checks come every 5, so a delay is a multiple of 5)."""
    return float(np.percentile(delays, 90, method="higher")) if delays else float("nan")


def print_table(title: str, result: dict) -> None:
    print(f"\n{title}")
    print(f"{'spike type':<11}{'spikes':>7}{'found':>7}{'recall':>8}{'≤30 min':>9}{'reachable':>10}{'median':>8}"
          f"{'p90':>6}{'max':>6}  (reachable: with 2 reports of its own in 30 min; delay from start to warning, minutes)")
    for kind, r in result["kinds"].items():
        print(f"{kind:<11}{r['spikes']:>7}{r['found']:>7}{r['recall']:>8.0%}{r['in_30']:>9.0%}{r['reachable']:>10.0%}"
              f"{r['median']:>8.0f}{r['p90']:>6.0f}{r['max']:>6.0f}")
    print(f"warnings {result['warnings']}, false {result['false']}: {result['false_per_region_week']:.2f} per district "
          f"per week (the worst district {result['false_max_region_week']:.2f})")


def run_seed(seed: int, eval_weeks: int, params, sites: bool = True):
    """Simulate a seed and collect the detector's candidates (every score of at least `calm`; thresholds are applied
    by run_rules). `sites`: the blocks around sites too."""
    t0 = time.monotonic()
    counts, series, groups, pooled, spikes, _city, events = simulate(seed, eval_weeks)
    found = candidates(counts, series, groups, pooled, eval_weeks, params, events if sites else None)
    elapsed = time.monotonic() - t0
    return series, spikes, found, elapsed


AREA_GRID = [(t, m) for t in (6.0, 7.0, 8.0, 9.0) for m in (2, 3)]
# The sites: threshold, min count in half an hour, min count in a longer window (early_warning.min_count).
LOCAL_GRID = ([(t, m, n) for t in (5.5, 6.0, 6.5, 7.0, 7.5, 8.0, 9.0) for m, n in ((2, 2), (2, 3), (3, 3))]
              + [(99.0, 99, 99)])  # 99: no sites


def pooled(results: list[dict]) -> dict:
    """Several seeds' evaluations as one: spikes, found and warned within 30 minutes added; false warnings per
    district per week their mean, the worst district the worst of any seed."""
    kinds = {}
    for kind in SPIKE_TYPES + ("all",):
        n = sum(r["kinds"][kind]["spikes"] for r in results)
        kinds[kind] = {"spikes": n, "found": sum(r["kinds"][kind]["found"] for r in results),
                       "in_30": sum(round(r["kinds"][kind]["in_30"] * r["kinds"][kind]["spikes"]) for r in results) / n,
                       "reachable": sum(round(r["kinds"][kind]["reachable"] * r["kinds"][kind]["spikes"])
                                        for r in results) / n}
        kinds[kind]["recall"] = kinds[kind]["found"] / n
    return {"kinds": kinds, "false_per_region_week": statistics.mean(r["false_per_region_week"] for r in results),
            "false_max_region_week": max(r["false_max_region_week"] for r in results)}


def tune(seeds: list[int], eval_weeks: int, params):
    """THRESHOLD × MIN_COUNT of the areas and threshold × min counts of the sites' blocks, on the tuning seeds
    together: the most spikes warned of within 30 minutes, then the fewest false warnings (recall is far above the
    target of 90 % everywhere near the budget; a spike found late was bought with 0.13 false warnings per district
    per week), then the most found, with at most BUDGET false warnings per district per week (their mean)."""
    runs = []
    for seed in seeds:
        series, spikes, found, elapsed = run_seed(seed, eval_weeks, params)
        runs.append((series, spikes, found))
        print(f"tuning on seed {seed}: {len(series)} series (with the sites' communities met), {len(spikes)} spikes, "
              f"{len(found):,} candidates, {elapsed:.0f} s")
    print(f"{'area':>5}{'min':>4}{'site':>6}{'min':>4}{'hour':>5}{'recall':>8}{'≤30 min':>9}{'noise≤30':>9}"
          f"{'small≤30':>9}{'false/district/week':>21}{'worst':>7}")
    best = None
    for t, m in AREA_GRID:
        for lt, lm, ln in LOCAL_GRID:
            p = replace(params, threshold=t, min_count=m, local_threshold=lt, local_min_count=lm,
                        local_long_min_count=ln)
            r = pooled([evaluate(run_rules(found, series, p), spikes, series, eval_weeks)
                        for series, spikes, found in runs])
            k = r["kinds"]
            print(f"{t:>5.1f}{m:>4}{lt:>6.1f}{lm:>4}{ln:>5}{k['all']['recall']:>8.0%}{k['all']['in_30']:>9.0%}"
                  f"{k['noise']['in_30']:>9.0%}{k['small']['in_30']:>9.0%}{r['false_per_region_week']:>21.2f}"
                  f"{r['false_max_region_week']:>7.2f}")
            if r["false_per_region_week"] <= BUDGET:
                key = (k["all"]["in_30"], -r["false_per_region_week"], k["all"]["recall"])
                if best is None or key > best[0]:
                    best = (key, p)
    return (best[1] if best else params), runs


# --- the cost of one run at a city's size ------------------------------------------------------------------------
def cost_at_city_size(params, seed: int = 3, per_day: int = 10_000, n_categories: int = 100) -> None:
    """One worker run's array work at a city's size: 13 districts, ~130 streets (≈ 1,200 communities), 100 categories
    reporting `per_day` cases a day between them (a few large, most small): fitting the baseline on six weeks
    (detect does it once an hour, when the history changes), scoring the districts and watched streets, and counting the last hour's cases
    per block with the blocks' history looked up (in the database: one range query per block with two cases or more,
    kept for the hour)."""
    from cityops.dashboard import early_warning as ew

    rng = np.random.default_rng(seed)
    city = make_city(rng, np.random.default_rng([seed, 17]))
    geo = city.geography
    n_streets = len(city.streets)
    share = rng.lognormal(0, 1.5, n_categories)
    cat_per_day = per_day * share / share.sum()
    hours = params.history_weeks * 168
    district_index = np.array([DISTRICTS.index(d) for _s, d in city.streets])
    street_rate = city.district_share[district_index] * city.street_share  # [streets], sums to 1
    curve = np.tile(daily_curve("day"), hours // 24)
    lam = (cat_per_day / 24)[:, None, None] * street_rate[None, :, None] * curve[None, None, :]
    street_counts = rng.poisson(lam).astype(np.int16)  # [categories, streets, hours]
    district_counts = np.zeros((n_categories, len(DISTRICTS), hours), dtype=np.int32)
    np.add.at(district_counts, (slice(None), district_index), street_counts)
    watched = street_counts.sum(axis=2) >= params.street_min_history
    counts = np.concatenate([district_counts.reshape(-1, hours), street_counts[watched]]).astype(float)
    groups = np.concatenate([np.repeat(np.arange(n_categories), len(DISTRICTS)), np.nonzero(watched)[0]])
    pooled = np.arange(len(counts)) < n_categories * len(DISTRICTS)
    history_start = START + timedelta(weeks=1)
    now = history_start + timedelta(hours=hours, minutes=20)
    slots = ew.hour_slots(history_start, hours)

    t0 = time.monotonic()
    baseline = ew.fit_baseline(counts, slots, groups, pooled, params)
    t1 = time.monotonic()
    expected = {w: ew.expected_between(baseline, now - timedelta(minutes=w), now) for w in params.windows}
    observed = {w: rng.poisson(expected[w]) for w in params.windows}
    ew.hot_series(observed, expected, params)
    t2 = time.monotonic()
    # The last hour's cases, placed as usual, and six weeks of history placed the same way.
    def placed(n_cases: int):
        cat = rng.choice(n_categories, size=n_cases, p=cat_per_day / cat_per_day.sum())
        street = rng.choice(n_streets, size=n_cases, p=street_rate / street_rate.sum())
        xy = np.array([usual_places(rng, geo, int(st), int(c) % len(CATEGORIES), 1)[0]
                       for c, st in zip(cat, street, strict=True)])
        return cat, district_index[street], *to_lonlat(xy)

    recent = placed(int(per_day / 24 * 1.5))  # a busy hour
    history = placed(20_000)  # a sample of the six weeks' 420,000 cases: in the database a range query per block
    t3 = time.monotonic()
    def block_keys(cat, district, lon, lat):
        ix, iy = ew.cells(lon, lat, cell_m=params.local_cell_m, lat0=CITY_LAT)
        head = (cat.astype(np.int64) * 16 + district) << 40
        return np.stack([head | ((ix - a) << 20) | (iy - b) for a, b in ew.BLOCK_OFFSETS], axis=1)

    history_keys = np.sort(block_keys(*history).ravel())
    t4 = time.monotonic()
    keys = block_keys(*recent).ravel()
    unique, n = np.unique(keys, return_counts=True)
    blocks = unique[n >= 2]
    own = np.searchsorted(history_keys, blocks, side="right") - np.searchsorted(history_keys, blocks)
    for _window in params.windows:  # the arithmetic of local_expected and score, on made-up district figures
        e = ew.local_expected(np.full(len(blocks), 0.5), own, len(history[0]), own, len(history[0]), params)
        ew.score(np.full(len(blocks), 2), e)
    t5 = time.monotonic()
    print(f"\none run at a city's size ({len(DISTRICTS)} districts, {n_streets} streets, "
          f"{n_streets * COMMUNITIES ** 2} communities, {n_categories} categories, {per_day:,} cases a day): "
          f"{len(counts):,} series ({int(watched.sum()):,} watched streets) — baseline fit {(t1 - t0) * 1000:.0f} ms "
          f"(once an hour), scoring {(t2 - t1) * 1000:.0f} ms (every run); sites: {len(recent[0])} cases in the last hour, {len(blocks)} blocks "
          f"with two or more to look up, {(t5 - t4) * 1000:.0f} ms (+ the blocks' history once an hour: "
          f"{(t4 - t3) * 1000:.0f} ms here, {len(blocks)} range queries in the database)")


# --- end to end through the database ----------------------------------------------------------------------------
def end_to_end(seed: int, params) -> None:
    """A smaller city in the database: 2 districts (3 streets each), 4 categories, 6 weeks of history and two days
    of checks every 5 minutes through services.early_warning_run, with four spikes."""
    from django.contrib.auth.models import Group
    from django.db import connection

    from cityops.accounts.demo import load_roles
    from cityops.cases.demo import load_categories
    from cityops.cases.models import Case, Category
    from cityops.dashboard.models import EarlyWarning
    from cityops.dashboard.services import early_warning_run

    load_roles()
    load_categories()
    from cityops.accounts.models import User

    shift_lead = User.objects.create_user(username="bench_shift_lead")
    shift_lead.groups.add(Group.objects.get(name="shift_lead"))
    rng = np.random.default_rng(seed)
    cats = {c.code: c for c in Category.objects.filter(code__in=["E0101", "E0106", "E0501", "E0602"])}
    districts = ["420106", "420102"]
    streets = [(f"{d}{i:03d}", d) for d in districts for i in (1, 2, 3)]
    per_day = {"E0101": 60, "E0106": 25, "E0501": 4, "E0602": 3}
    curve = {"E0101": daily_curve("day"), "E0106": daily_curve("evening"), "E0501": daily_curve("day"),
             "E0602": daily_curve("day")}
    from cityops.core.calendar import is_workday

    end = START + timedelta(weeks=HISTORY_WEEKS, days=2)
    hours = int((end - START).total_seconds() // 3600)
    spikes = [  # (category, street, start hour offset from the checks' start, hours, per hour)
        ("E0501", "420106001", 9.25, 2.0, 15.0), ("E0106", "420102002", 21.5, 1.5, 6.0),
        ("E0101", "420106003", 34.1, 1.5, 8.0), ("E0602", "420102001", 40.7, 1.0, 20.0),
    ]
    checks_start = START + timedelta(weeks=HISTORY_WEEKS)
    # Where: each street a square of the simulated city's kind with its places (see make_geography), 3 × 3
    # communities; the usual reports placed as in the arrays' simulation, a noise or rubbish spike around one site.
    geo = make_geography(np.random.default_rng([seed, 17]), len(streets))
    cat_index = {code: i for i, (code, *_rest) in enumerate(CATEGORIES)}
    spike_kind = {"E0501": "rainstorm", "E0106": "noise", "E0101": "small", "E0602": "outage"}
    rows, seq = [], 0

    def case(code, s, xy, at, description):
        nonlocal seq
        seq += 1
        street, district = streets[s]
        community = f"{street}{int(community_of(geo, np.array([s]), xy[None, :])[0]) + 1:03d}"
        lon, lat = to_lonlat(xy[None, :])
        return Case(code=f"EW{seq:08d}", source="field", category=cats[code], lon=float(lon[0]), lat=float(lat[0]),
                    region_code=community + "01", district_code=district, street_code=street,
                    community_code=community, description=description, state="reported", created_at=at)

    for h in range(hours):
        at = START + timedelta(hours=h)
        workday = is_workday(at.date())
        for code in cats:
            for s in range(len(streets)):
                rate = per_day[code] / 24 / len(streets) * curve[code][at.hour] * (1.0 if workday else 0.8)
                n = rng.poisson(rate)
                for xy in usual_places(rng, geo, s, cat_index[code], n):
                    rows.append(case(code, s, xy, at + timedelta(seconds=float(rng.uniform(0, 3600))), "bench"))
    for code, street, start_h, hours_, per_hour in spikes:  # the spikes' own reports, to the minute
        start = checks_start + timedelta(hours=start_h)
        s = [st for st, _d in streets].index(street)
        kind = spike_kind[code]
        site = geo.places[s][int(rng.choice(len(geo.places[s]), p=geo.liking[s][cat_index[code]]))]
        sp = Spike(kind, cat_index[code], street[:6], [s], 0, 0, per_hour)
        n = rng.poisson(per_hour * hours_)
        for xy in spike_places(rng, geo, sp, s, n, site):
            rows.append(case(code, s, xy, start + timedelta(hours=float(rng.uniform(0, hours_))), "bench spike"))
    Case.objects.bulk_create(rows, batch_size=5000)
    print(f"\nend to end ({connection.vendor}): {len(rows):,} cases written; checks every 5 min for 2 days")
    t0 = time.monotonic()
    runs = 0
    at = checks_start
    timings = []
    while at < end:
        started = time.monotonic()
        early_warning_run(now=at, params=params)
        timings.append(time.monotonic() - started)
        runs += 1
        at += timedelta(minutes=5)
    print(f"{runs} runs in {time.monotonic() - t0:.0f} s (one run: median {statistics.median(timings) * 1000:.0f} ms, "
          f"max {max(timings) * 1000:.0f} ms)")
    print(f"{'spike':<28}{'warning (the first)':<34}{'delay':>6}")
    warnings = list(EarlyWarning.objects.select_related("category").order_by("detected_at"))
    used = set()
    for code, street, start_h, hours_, rate in spikes:
        start = checks_start + timedelta(hours=start_h)
        hit = next((w for w in warnings if w.category.code == code and w.region_code[:6] == street[:6]
                    and start < w.detected_at <= start + timedelta(hours=hours_ + 1)), None)
        label = f"{code} {street} {rate:g}/h {hours_:g} h"
        if hit:
            used.add(hit.pk)
            delay = (hit.detected_at - start).total_seconds() / 60
            name = f"{hit.category.code} {hit.region_level} {hit.region_code} #{hit.pk}"
            print(f"{label:<28}{name:<34}{delay:>5.0f}m  {hit.cases.count()} cases")
        else:
            print(f"{label:<28}{'MISSED':<34}")
    others = [w for w in warnings if w.pk not in used and not any(
        w.category.code == c and w.region_code[:6] == s[:6]
        and checks_start + timedelta(hours=h) < w.detected_at <= checks_start + timedelta(hours=h + d + 1)
        for c, s, h, d, _r in spikes)]
    from cityops.core.models import Notification

    sent = Notification.objects.filter(recipient=shift_lead, kind="early_warning").count()
    print(f"warnings {len(warnings)}, false {len(others)} (over 2 districts × 2 days); the shift lead was notified "
          f"{sent} times; states now: {dict(Counter(w.state for w in warnings))}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tune-seeds", type=int, nargs="+", default=[1, 2, 3, 4])
    parser.add_argument("--seeds", type=int, nargs="*", default=[5, 6, 7])
    parser.add_argument("--weeks", type=int, default=4, help="evaluation weeks after the six of history")
    parser.add_argument("--no-tune", action="store_true", help="use the defaults of early_warning.Params")
    parser.add_argument("--no-db", action="store_true", help="skip the end-to-end run through the database")
    parser.add_argument("--pg", default="", help="postgres URL of a scratch database for the end-to-end run, "
                        "dropped and created anew (e.g. postgres://postgres@127.0.0.1:5432/cityops_bench_ew)")
    args = parser.parse_args()
    setup_django(args.pg or None)
    from cityops.dashboard.early_warning import PARAMS

    params, tuned = (PARAMS, None) if args.no_tune else tune(args.tune_seeds, args.weeks, PARAMS)
    print(f"\nchosen: areas threshold {params.threshold}, min_count {params.min_count}; sites threshold "
          f"{params.local_threshold}, min_count {params.local_min_count} in half an hour, {params.local_long_min_count} "
          f"in the hour; windows {params.windows} min, history {params.history_weeks} weeks (library defaults: "
          f"{PARAMS.threshold}, {PARAMS.min_count}; {PARAMS.local_threshold}, {PARAMS.local_min_count}, "
          f"{PARAMS.local_long_min_count})")
    if tuned:
        results = []
        for seed, (series, spikes, found) in zip(args.tune_seeds, tuned, strict=True):
            results.append(evaluate(run_rules(found, series, params), spikes, series, args.weeks))
            print_table(f"seed {seed} (tuning seed; arrays)", results[-1])
        r = pooled(results)
        print(f"tuning seeds together: within 30 min {r['kinds']['all']['in_30']:.0%} (reachable "
              f"{r['kinds']['all']['reachable']:.0%}), recall {r['kinds']['all']['recall']:.0%}, false warnings "
              f"{r['false_per_region_week']:.2f} per district per week (the worst district {r['false_max_region_week']:.2f})")
    pooled_delays, total = [], defaultdict(lambda: [0, 0, 0, 0])
    kind_delays = defaultdict(list)
    false_rates, worst_rates = [], []
    for seed in args.seeds:
        series, spikes, found, elapsed = run_seed(seed, args.weeks, params)
        r = evaluate(run_rules(found, series, params), spikes, series, args.weeks)
        print_table(f"seed {seed} (held out; arrays, {len(series)} series, {elapsed:.0f} s)", r)
        pooled_delays += r["delays"]
        false_rates.append(r["false_per_region_week"])
        worst_rates.append(r["false_max_region_week"])
        for kind, k in r["kinds"].items():
            kind_delays[kind] += k["delays"]
            total[kind][0] += k["spikes"]
            total[kind][1] += k["found"]
            total[kind][2] += round(k["in_30"] * k["spikes"])
            total[kind][3] += round(k["reachable"] * k["spikes"])
    if args.seeds:
        print(f"\nheld-out seeds {args.seeds} together (arrays):")
        for kind, (n, found_n, in30, reachable) in total.items():
            delays = kind_delays[kind]
            print(f"  {kind:<10} recall {found_n / n:.0%} ({found_n}/{n}), within 30 min {in30 / n:.0%} ({in30}/{n}; "
                  f"reachable {reachable / n:.0%}: {reachable} with 2 reports of their own by then); delay of the "
                  f"warned: median {statistics.median(delays):.0f}, p90 {p90(delays):.0f}, max {max(delays):.0f} min")
        print(f"  delay median {statistics.median(pooled_delays):.0f} min, max {max(pooled_delays):.0f} min; false "
              f"warnings per district per week {statistics.mean(false_rates):.2f} (seeds: "
              f"{', '.join(f'{x:.2f}' for x in false_rates)}; the worst district of a seed: "
              f"{', '.join(f'{x:.2f}' for x in worst_rates)})")
    cost_at_city_size(params)
    if not args.no_db:
        end_to_end(args.tune_seeds[0], params)


if __name__ == "__main__":
    main()
