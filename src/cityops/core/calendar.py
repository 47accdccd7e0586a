"""Working time (RULES.md §1): deadlines count office hours on Chinese working days.

Whether a day is a working day, first answer wins:
1. an adjustment row (core.models.CalendarAdjustment: a holiday or make-up workday of an imported State Council
   notice, `cityops calendar import`, or a local one entered in the admin);
2. the maintained `chinese_calendar` package, for the years it knows (statutory holidays and 调休 workdays);
3. for a year with an imported notice (core.models.CalendarNotice), whose holidays and make-up workdays are all
   adjustment rows: Monday–Friday;
4. the `holidays` package's Chinese statutory holidays (it computes them for any year, but knows no make-up
   workdays), for a year neither chinese_calendar nor a notice knows; then Monday–Friday.
A year whose schedule is neither in `chinese_calendar` nor imported is not announced: schedule_gaps() finds the
days ahead that fall in one; the system check, `cityops calendar check` and the leader's home page say so.

The adjustment rows and the notices' years are read once per process and kept with a version stamp (the count
and last change of each table). A save or delete in this process forgets them at once (signals); another process
(the worker, another web server) compares the stamp at most every settings.CITYOPS_CALENDAR_CHECK_SECONDS
seconds (two small queries) and rereads them when it changed, so an edit reaches every process within that time.
Office hours are local practice: settings.CITYOPS_OFFICE_HOURS, e.g. "08:30-12:00,13:30-18:00".
"""

import logging
import threading
import time as monotonic_time
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import chinese_calendar
from django.conf import settings
from django.db import transaction
from django.utils import timezone

logger = logging.getLogger(__name__)
_warned_years: set[int] = set()


# --- Adjustment rows and notices, kept per process ---------------------------------------------------------
@dataclass(frozen=True)
class _Adjustments:
    stamp: tuple
    workday_by_date: dict[date, bool]
    notice_years: frozenset[int]


def _stamp() -> tuple:
    from django.db.models import Count, Max

    from cityops.core.models import CalendarAdjustment, CalendarNotice

    return tuple(
        value
        for model in (CalendarAdjustment, CalendarNotice)
        for value in model.objects.aggregate(n=Count("id"), last=Max("updated_at")).values()
    )


def _read(stamp: tuple) -> _Adjustments:
    from cityops.core.models import CalendarAdjustment, CalendarNotice

    rows = CalendarAdjustment.objects.values_list("date", "kind")
    return _Adjustments(
        stamp,
        {day: kind == CalendarAdjustment.Kind.WORKDAY for day, kind in rows},
        frozenset(CalendarNotice.objects.values_list("year", flat=True)),
    )


class _AdjustmentHolder:
    def __init__(self) -> None:
        self.adjustments: _Adjustments | None = None
        self.fresh_until = 0.0  # time.monotonic() until which the stamp is not compared again
        self.lock = threading.Lock()

    def get(self) -> _Adjustments:
        adjustments = self.adjustments
        now = monotonic_time.monotonic()
        if adjustments is not None and now < self.fresh_until:
            return adjustments
        stamp = _stamp()  # before the rows: a write in between makes the stamp stale, never the rows
        if adjustments is None or adjustments.stamp != stamp:
            with self.lock:
                adjustments = self.adjustments = _read(stamp)
                _is_workday.cache_clear()
        self.fresh_until = now + settings.CITYOPS_CALENDAR_CHECK_SECONDS
        return adjustments

    def forget(self) -> None:
        with self.lock:
            self.adjustments = None
            _is_workday.cache_clear()


_holder = _AdjustmentHolder()


def forget_adjustments() -> None:
    """Reread the adjustments and notices on next use (tests call it after a rollback)."""
    _holder.forget()


def recheck() -> None:
    """Compare the stamp on next use, as when the check interval has passed (for tests)."""
    _holder.fresh_until = 0.0


def adjustment_changed(sender, **kwargs) -> None:
    """post_save / post_delete of an adjustment or a notice (connected in core.apps): forget them now, for this
    process's next deadline, and again at commit, in case another thread reread them before the commit."""
    forget_adjustments()
    transaction.on_commit(forget_adjustments)


# --- Which days are working days ---------------------------------------------------------------------------
@lru_cache(maxsize=1)
def package_years() -> range:
    """The years chinese_calendar has the announced schedule of."""
    known = chinese_calendar.holidays.keys() | chinese_calendar.workdays.keys()
    return range(min(known).year, max(known).year + 1)


@lru_cache(maxsize=64)
def _statutory_holidays(year: int) -> frozenset[date]:
    # Imported when first needed: the package loads every country's calendar (about a second).
    import holidays

    return frozenset(holidays.China(years=year))


def is_workday(day: date) -> bool:
    # The stamp first (at most every CITYOPS_CALENDAR_CHECK_SECONDS): a change clears the cache below.
    if _holder.adjustments is None or monotonic_time.monotonic() >= _holder.fresh_until:
        _holder.get()
    return _is_workday(day)


@lru_cache(maxsize=8192)
def _is_workday(day: date) -> bool:
    adjustments = _holder.get()
    adjusted = adjustments.workday_by_date.get(day)
    if adjusted is not None:
        return adjusted
    if day.year in package_years():
        return chinese_calendar.is_workday(day)
    if day.year in adjustments.notice_years:
        return day.weekday() < 5  # the notice's holidays and make-up workdays are adjustment rows
    if day.year not in _warned_years:
        _warned_years.add(day.year)
        logger.warning(
            "chinese_calendar does not know %s and no notice is imported: statutory holidays from the holidays "
            "package, no make-up workdays (run `cityops calendar import`)", day.year
        )
    return day.weekday() < 5 and day not in _statutory_holidays(day.year)


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


# --- Is the schedule ahead announced? ----------------------------------------------------------------------
@dataclass(frozen=True)
class ScheduleGap:
    """A year within the days ahead whose schedule is not announced, from the first of its days ahead."""

    year: int
    starts: date


def announced_years() -> set[int]:
    """Years whose holidays and make-up workdays are known: chinese_calendar's and those with an imported
    notice (core.models.CalendarNotice)."""
    from cityops.core.models import CalendarNotice

    return set(package_years()) | set(CalendarNotice.objects.values_list("year", flat=True))


def schedule_gaps(*, today: date | None = None, days: int | None = None) -> list[ScheduleGap]:
    """The years among the next `days` days (settings.CITYOPS_CALENDAR_AHEAD_DAYS, from today in
    settings.TIME_ZONE) that are not announced: deadlines across them would miss the make-up workdays."""
    today = today or timezone.localdate()
    last = today + timedelta(days=settings.CITYOPS_CALENDAR_AHEAD_DAYS if days is None else days)
    announced = announced_years()
    return [
        ScheduleGap(year, max(today, date(year, 1, 1)))
        for year in range(today.year, last.year + 1)
        if year not in announced
    ]


def schedule_gap_message(gaps: list[ScheduleGap]) -> str:
    """One line, Chinese then English, for the system check and `cityops calendar check`."""
    years = "、".join(str(g.year) for g in gaps)
    years_en = ", ".join(str(g.year) for g in gaps)
    return (
        f"{years} 年的节假日安排尚未导入（自 {gaps[0].starts} 起），时限将按法定节假日计算、不含调休上班日："
        f"请用 `cityops calendar import` 导入国务院办公厅的节假日安排通知 / the holiday schedule of {years_en} is "
        f"not imported (from {gaps[0].starts} on): deadlines count statutory holidays only, without make-up "
        f"workdays; import the State Council's notice with `cityops calendar import`"
    )
