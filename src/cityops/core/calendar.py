"""Working time (RULES.md §1): deadlines count office hours on Chinese working days.

Working days come from the maintained `chinese_calendar` package (statutory holidays and 调休 make-up
workdays); for a year it does not know yet, Monday–Friday is assumed, and the fallback is logged once.
Office hours are local practice: settings.CITYOPS_OFFICE_HOURS, e.g. "08:30-12:00,13:30-18:00".
"""

import logging
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import chinese_calendar
from django.conf import settings
from django.utils import timezone

logger = logging.getLogger(__name__)
_warned_years: set[int] = set()


@lru_cache(maxsize=8192)
def is_workday(day: date) -> bool:
    try:
        return chinese_calendar.is_workday(day)
    except NotImplementedError:
        if day.year not in _warned_years:
            _warned_years.add(day.year)
            logger.warning("chinese_calendar does not know %s; assuming Monday-Friday", day.year)
        return day.weekday() < 5


@lru_cache(maxsize=16)
def _parse_office_hours(spec: str) -> tuple[tuple[time, time], ...]:
    spans = []
    for part in spec.split(","):
        start_s, _sep, end_s = part.strip().partition("-")
        start, end = time.fromisoformat(start_s.strip()), time.fromisoformat(end_s.strip())
        if end <= start:
            raise ValueError(f"office hours span {part!r} ends before it starts")
        spans.append((start, end))
    spans.sort()
    return tuple(spans)


def office_spans() -> tuple[tuple[time, time], ...]:
    return _parse_office_hours(settings.CITYOPS_OFFICE_HOURS)


def workday_seconds() -> float:
    """Length of one working day in seconds (1 wd = this many working seconds)."""
    return sum(
        (datetime.combine(date.min, e) - datetime.combine(date.min, s)).total_seconds() for s, e in office_spans()
    )


def _tz() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def _day_spans(day: date, tz: ZoneInfo) -> list[tuple[datetime, datetime]]:
    if not is_workday(day):
        return []
    return [(datetime.combine(day, s, tz), datetime.combine(day, e, tz)) for s, e in office_spans()]


def work_seconds_between(start: datetime, end: datetime) -> float:
    """Office-hour seconds on working days between two instants (0 if end <= start)."""
    if end <= start:
        return 0.0
    tz = _tz()
    start_l, end_l = start.astimezone(tz), end.astimezone(tz)
    total = 0.0
    day = start_l.date()
    last = end_l.date()
    full_day = workday_seconds()
    while day <= last:
        if start_l.date() < day < last:
            total += full_day if is_workday(day) else 0.0
        else:
            for s, e in _day_spans(day, tz):
                lo, hi = max(s, start_l), min(e, end_l)
                if hi > lo:
                    total += (hi - lo).total_seconds()
        day += timedelta(days=1)
    return total


def add_work_seconds(start: datetime, seconds: float) -> datetime:
    """The instant when `seconds` of office time have passed after `start`."""
    tz = _tz()
    current = start.astimezone(tz)
    remaining = float(seconds)
    if remaining <= 0:
        return start
    day = current.date()
    full_day = workday_seconds()
    for _ in range(3660):  # ten years of days: a limit beyond that is a configuration error
        spans = _day_spans(day, tz)
        if spans and current <= spans[0][0] and remaining > full_day:
            remaining -= full_day
        else:
            for s, e in spans:
                lo = max(s, current)
                if e <= lo:
                    continue
                available = (e - lo).total_seconds()
                if remaining <= available:
                    return lo + timedelta(seconds=remaining)
                remaining -= available
        day += timedelta(days=1)
        current = datetime.combine(day, time.min, tz)
    raise ValueError(f"working-time limit of {seconds} s is beyond ten years")


def next_workday_start(after: datetime) -> datetime:
    """Start of office hours on the first working day strictly after the day of `after`."""
    tz = _tz()
    day = after.astimezone(tz).date() + timedelta(days=1)
    while not is_workday(day):
        day += timedelta(days=1)
    return datetime.combine(day, office_spans()[0][0], tz)


def add_workdays(start: datetime, days: float) -> datetime:
    return add_work_seconds(start, days * workday_seconds())


def elapsed_seconds(start: datetime, end: datetime, mode: str) -> float:
    if mode == "calendar":
        return max(0.0, (end - start).total_seconds())
    return work_seconds_between(start, end)


def add_seconds(start: datetime, seconds: float, mode: str) -> datetime:
    if mode == "calendar":
        return start + timedelta(seconds=seconds)
    return add_work_seconds(start, seconds)


def now() -> datetime:
    return timezone.now()
