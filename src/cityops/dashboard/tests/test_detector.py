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
    assert hot(baseline, tuesday, 9)  # 9 where about 0.5 come
    assert not hot(baseline, tuesday, 1)


def test_a_busy_monday_morning_is_no_spike():
    baseline = fitted()
    monday = datetime(2026, 5, 11, 10, 0, tzinfo=TZ)
    wednesday = datetime(2026, 5, 13, 10, 0, tzinfo=TZ)
    expected_monday = ew.expected_between(baseline, monday - timedelta(hours=1), monday)[0]
    assert 6 < expected_monday < 10
    assert not hot(baseline, monday, 10)
    assert hot(baseline, wednesday, 10)  # the same count on a Wednesday morning is one


def test_a_holiday_is_held_to_the_weekend_and_a_make_up_workday_to_a_workday():
    baseline = fitted()
    holiday_evening = datetime(2026, 5, 4, 21, 0, tzinfo=TZ)  # Monday, 劳动节 holiday
    ordinary_monday = datetime(2026, 5, 18, 21, 0, tzinfo=TZ)
    make_up_saturday = datetime(2026, 5, 9, 21, 0, tzinfo=TZ)  # 调休: a workday
    assert ew.day_class(holiday_evening.date()) == ew.HOLIDAY
    assert ew.day_class(make_up_saturday.date()) == ew.MAKEUP
    assert not hot(baseline, holiday_evening, 10)
    assert hot(baseline, ordinary_monday, 10)
    assert hot(baseline, make_up_saturday, 10)


def test_a_past_spike_does_not_teach_the_baseline_that_spikes_are_normal():
    tuesday_3pm = datetime(2026, 4, 28, 15, tzinfo=TZ)
    plain, spiked = fitted(), fitted(spike_at=tuesday_3pm)  # 40 more cases in one hour two weeks ago
    slot = ew.day_class(tuesday_3pm.date()) * 24 + 15
    assert spiked.rates[0, slot] < 3 * plain.rates[0, slot]  # uncapped it would be about 15 times
    assert hot(spiked, datetime(2026, 5, 12, 16, 0, tzinfo=TZ), 12)  # the same slot next time: still a spike


def test_a_window_needs_min_count_cases():
    # One case where almost none are expected is surprising, but one report makes no spike.
    flags, _score, _window = ew.hot_series({30: np.array([1])}, {30: np.array([1e-6])})
    assert not flags[0]
