from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from cityops.core import calendar

TZ = ZoneInfo("Asia/Shanghai")
pytestmark = pytest.mark.django_db


def at(*args):
    return datetime(*args, tzinfo=TZ)


def test_statutory_holidays_and_makeup_workdays_come_from_chinese_calendar():
    assert not calendar.is_workday(at(2026, 10, 1).date())  # National Day
    assert calendar.is_workday(at(2026, 10, 10).date())  # Saturday make-up workday (调休)
    assert not calendar.is_workday(at(2026, 10, 11).date())  # an ordinary Sunday


def test_one_working_day_is_eight_office_hours_by_default():
    assert calendar.workday_seconds() == 8 * 3600


def test_half_hour_limit_at_lunch_resumes_after_the_break():
    # 11:50 + 30 working minutes = 10 minutes before lunch + 20 after 13:30.
    assert calendar.add_work_seconds(at(2026, 11, 25, 11, 50), 1800) == at(2026, 11, 25, 13, 50)


def test_limit_crossing_a_weekend_lands_on_monday():
    # Friday 17:00 + 2 working hours: one hour on Friday, one on Monday morning.
    assert calendar.add_work_seconds(at(2026, 11, 27, 17, 0), 7200) == at(2026, 11, 30, 9, 30)


def test_limit_skips_national_day_week_and_counts_the_makeup_saturday():
    # Wed 30 Sep 17:00 + 2 wh: 1 h on 30 Sep, then Oct 1-7 are holidays, Thu 8 Oct 08:30 + 1 h.
    assert calendar.add_work_seconds(at(2026, 9, 30, 17, 0), 7200) == at(2026, 10, 8, 9, 30)
    # Fri 9 Oct 17:00 + 2 wh: 1 h on Friday, then Saturday 10 Oct is a make-up workday.
    assert calendar.add_work_seconds(at(2026, 10, 9, 17, 0), 7200) == at(2026, 10, 10, 9, 30)


def test_start_outside_office_hours_starts_counting_at_opening():
    assert calendar.add_work_seconds(at(2026, 11, 25, 6, 0), 3600) == at(2026, 11, 25, 9, 30)
    assert calendar.add_work_seconds(at(2026, 11, 25, 22, 0), 3600) == at(2026, 11, 26, 9, 30)


@pytest.mark.parametrize("hours", [0.5, 1, 4, 8, 16, 40, 120, 400])
def test_add_and_measure_are_inverse(hours):
    start = at(2026, 12, 28, 10, 17)
    end = calendar.add_work_seconds(start, hours * 3600)
    assert calendar.work_seconds_between(start, end) == pytest.approx(hours * 3600)


def test_many_days_are_counted_with_holidays():
    # Oct 2026: 22 weekdays, minus 5 weekday holidays (1, 2, 5, 6, 7), plus make-up Saturday 10 Oct = 18.
    start, end = at(2026, 10, 1, 0, 0), at(2026, 11, 1, 0, 0)
    workdays = sum(calendar.is_workday((start + timedelta(days=i)).date()) for i in range(31))
    assert calendar.work_seconds_between(start, end) == workdays * 8 * 3600
    assert workdays == 18


def test_next_workday_start_skips_holidays():
    assert calendar.next_workday_start(at(2026, 9, 30, 20, 0)) == at(2026, 10, 8, 8, 30)


def test_calendar_mode_ignores_office_hours():
    start = at(2026, 10, 1, 0, 0)
    assert calendar.add_seconds(start, 48 * 3600, "calendar") == at(2026, 10, 3, 0, 0)
    assert calendar.elapsed_seconds(start, at(2026, 10, 3), "calendar") == 48 * 3600


def test_office_hours_are_configurable(settings):
    settings.CITYOPS_OFFICE_HOURS = "09:00-17:00"
    assert calendar.workday_seconds() == 8 * 3600
    assert calendar.add_work_seconds(at(2026, 11, 25, 16, 30), 3600) == at(2026, 11, 26, 9, 30)
