"""The baseline and the detector on hand-made series (early_warning.py): a spike is found; a Monday morning that
is always busy is not a spike; a holiday that is as busy as a weekend is not a spike, a make-up workday is held to
a workday's counts; a past spike does not teach the baseline that spikes are normal."""

import functools
from datetime import datetime, timedelta

import numpy as np
import pytest

from cityops.dashboard import early_warning as ew

from .conftest import TZ

pytestmark = pytest.mark.django_db  # the working-day calendar reads its adjustments from the database

HISTORY_END = datetime(2026, 5, 11, tzinfo=TZ)  # a Monday; the history holds Qingming and the May Day holiday
HOURS = 6 * 168


@functools.cache
def _workday(day) -> bool:
    return ew.is_workday(day)


def rate(moment: datetime) -> float:
    """Cases per hour: 0.5 as a rule; 8 on workday Monday mornings (the weekend's reports arrive) and on rest-day
    evenings (noise)."""
    workday = _workday(moment.date())
    if workday and moment.weekday() == 0 and 8 <= moment.hour < 11:
        return 8.0
    if not workday and 19 <= moment.hour < 23:
        return 8.0
    return 0.5


def fitted(spike_at: datetime | None = None) -> ew.Baseline:
    start = HISTORY_END - timedelta(hours=HOURS)
    rng = np.random.default_rng(7)
    counts = np.array([[rng.poisson(rate(start + timedelta(hours=h))) for h in range(HOURS)]], dtype=float)
    if spike_at is not None:
        counts[0, int((spike_at - start).total_seconds() // 3600)] += 40
    return ew.fit_baseline(counts, ew.hour_slots(start, HOURS), np.array([0]), np.array([True]))


def hot(baseline: ew.Baseline, end: datetime, observed_60: int) -> bool:
    expected = {60: ew.expected_between(baseline, end - timedelta(minutes=60), end)}
    flags, _score, _window = ew.hot_series({60: np.array([observed_60])}, expected)
    return bool(flags[0])


def test_a_spike_is_found_and_a_normal_hour_is_not():
    baseline = fitted()
    tuesday = datetime(2026, 5, 12, 15, 30, tzinfo=TZ)
    assert hot(baseline, tuesday, 12)  # 12 where about 0.5 come
    assert not hot(baseline, tuesday, 1)


def test_a_busy_monday_morning_is_no_spike():
    baseline = fitted()
    monday = datetime(2026, 5, 11, 10, 0, tzinfo=TZ)
    wednesday = datetime(2026, 5, 13, 10, 0, tzinfo=TZ)
    expected_monday = ew.expected_between(baseline, monday - timedelta(hours=1), monday)[0]
    assert 6 < expected_monday < 10
    assert not hot(baseline, monday, 13)
    assert hot(baseline, wednesday, 13)  # the same count on a Wednesday morning is one


def test_a_holiday_is_held_to_the_weekend_and_a_make_up_workday_to_a_workday():
    baseline = fitted()
    holiday_evening = datetime(2026, 5, 4, 21, 0, tzinfo=TZ)  # Monday, 劳动节 holiday
    ordinary_monday = datetime(2026, 5, 18, 21, 0, tzinfo=TZ)
    make_up_saturday = datetime(2026, 5, 9, 21, 0, tzinfo=TZ)  # 调休: a workday
    assert ew.day_class(holiday_evening.date()) == ew.HOLIDAY
    assert ew.day_class(make_up_saturday.date()) == ew.MAKEUP
    assert not hot(baseline, holiday_evening, 13)
    assert hot(baseline, ordinary_monday, 13)
    assert hot(baseline, make_up_saturday, 13)


def test_a_past_spike_does_not_teach_the_baseline_that_spikes_are_normal():
    tuesday_3pm = datetime(2026, 4, 28, 15, tzinfo=TZ)
    plain, spiked = fitted(), fitted(spike_at=tuesday_3pm)  # 40 more cases in one hour two weeks ago
    slot = ew.day_class(tuesday_3pm.date()) * 24 + 15
    assert spiked.rates[0, slot] < 3 * plain.rates[0, slot]  # uncapped it would be about 15 times
    assert hot(spiked, datetime(2026, 5, 12, 16, 0, tzinfo=TZ), 15)  # the same slot next time: still a spike


def test_a_window_needs_min_count_cases():
    # One case where almost none are expected is surprising, but one report makes no spike.
    flags, _score, _window = ew.hot_series({30: np.array([1])}, {30: np.array([1e-6])})
    assert not flags[0]


# --- around one site ------------------------------------------------------------------------------------------
def test_reports_a_hundred_metres_apart_share_a_block_wherever_the_cell_lines_run():
    params = ew.PARAMS
    lat0 = 30.6
    for lon in np.linspace(114.30, 114.31, 37):  # the pair slides across many cell lines
        pair = [(lon, 30.55), (lon + 100 / 96_000, 30.55 + 60 / 110_574)]
        ix, iy = ew.cells([p[0] for p in pair], [p[1] for p in pair], cell_m=params.local_cell_m, lat0=lat0)
        common = set(ew.blocks_of(int(ix[0]), int(iy[0]))) & set(ew.blocks_of(int(ix[1]), int(iy[1])))
        assert common
        min_lon, max_lon, min_lat, max_lat = ew.block_box(next(iter(common)), cell_m=params.local_cell_m, lat0=lat0)
        assert all(min_lon <= x < max_lon and min_lat <= y < max_lat for x, y in pair)
    # Reports 2 km apart never do.
    ix, iy = ew.cells([114.30, 114.32], [30.55, 30.55], cell_m=params.local_cell_m, lat0=lat0)
    assert not set(ew.blocks_of(int(ix[0]), int(iy[0]))) & set(ew.blocks_of(int(ix[1]), int(iy[1])))


def test_a_block_expects_its_share_of_the_district():
    # The district expects 1 noise complaint in the window; 600 in its history, 6,000 reports of any kind.
    def expected(own, everything):
        return float(ew.local_expected(1.0, own, 600, everything, 6000))

    bar_street = expected(own=300, everything=900)  # half the district's complaints are made here
    housing = expected(own=0, everything=600)  # people live and report here, never of noise yet
    empty = expected(own=0, everything=0)  # nothing ever reported here
    assert 0.45 < bar_street < 0.55
    assert 0 < empty < housing / 5 < bar_street / 5
    assert empty < 1e-3  # so three complaints there are very unlikely by chance
    # Three complaints are nothing at the bar street and a spike where nobody ever reported anything.
    three = {30: np.array([3, 3])}
    hot, _best, _window = ew.hot_series(three, {30: np.array([bar_street, empty])}, local=True)
    assert list(hot) == [False, True]


def test_a_zero_in_the_history_tells_little_where_the_category_would_have_come_once_or_twice():
    # Rubbish, 1,000 reports in the district over six weeks; the block has 7 of the district's 4,600 reports of any
    # kind: by that share it would have had 1.5 of rubbish, and had none (a one-in-four chance). Its share is not
    # taken for nothing (it was 1/200 of the all-reports share: two chance reports there scored like a spike).
    everywhere = 7 / 4600
    quiet = float(ew.local_expected(1.0, 0, 1000, 7, 4600))
    assert quiet > everywhere / 3
    # A market with 300 of the 4,600 reports and never a noise complaint among 1,000: that zero is telling.
    market = float(ew.local_expected(1.0, 0, 1000, 300, 4600))
    assert market < 300 / 4600 / 20
    # Where the category is reported, its own history decides.
    assert 0.09 < float(ew.local_expected(1.0, 100, 1000, 300, 4600)) < 0.11


def test_a_block_needs_two_cases_in_half_an_hour_or_three_in_the_hour():
    # A quiet block (expects 1e-5 cases in half an hour, 2e-5 in the hour).
    expected = {30: np.array([1e-5, 1e-5, 1e-5]), 60: np.array([2e-5, 2e-5, 2e-5])}
    observed = {30: np.array([2, 1, 1]), 60: np.array([2, 2, 3])}  # 2 within minutes; 2 an hour apart; 3 in the hour
    hot, _best, window = ew.hot_series(observed, expected, local=True)
    assert list(hot) == [True, False, True]
    assert window[0] == 30 and window[2] == 60
    # An area's series needs min_count in any window.
    assert ew.hot_series(observed, expected)[0].tolist() == [True, True, True]


def test_a_site_is_held_to_its_own_threshold_and_min_count():
    from dataclasses import replace

    params = replace(ew.PARAMS, threshold=5.0, min_count=2, local_threshold=9.0, local_min_count=3)
    two = {30: np.array([2])}
    scored_7 = {30: np.array([_expected_for_score(2, 7.0)])}
    assert ew.hot_series(two, scored_7, params)[0][0]  # an area's series: 7 ≥ 5 with 2 cases
    assert not ew.hot_series(two, scored_7, params, local=True)[0][0]  # a block: below 9, and fewer than 3 cases
    assert not ew.hot_series(two, {30: np.array([1e-12])}, params, local=True)[0][0]  # 2 < 3, however unlikely
    assert ew.hot_series({30: np.array([3])}, {30: np.array([1e-6])}, params, local=True)[0][0]


def _expected_for_score(n: int, target: float) -> float:
    """The expected count at which n cases score `target` (bisection on the Poisson tail)."""
    low, high = 1e-12, 50.0
    for _ in range(200):
        mid = (low * high) ** 0.5
        if ew.score(n, mid) > target:
            low = mid
        else:
            high = mid
    return low


def test_no_case_in_a_window_scores_zero_not_nan():
    # P(X ≥ 0) = 1: score 0. (It was NaN, and a series' best over its windows with it.)
    assert ew.score(0, 0.5) == 0 and ew.score(0, 1e-12) == 0
    scores = np.stack([ew.score(np.array([0]), np.array([0.2])), ew.score(np.array([10]), np.array([0.4]))])
    assert scores.max(axis=0)[0] > 8
