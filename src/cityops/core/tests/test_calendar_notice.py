"""The working-day calendar after chinese_calendar's last year (issue 12 §1): adjustments, the import of a
year's notice, and the warnings when the days ahead fall in a year whose schedule is not announced."""

from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from cityops.core import calendar, roles
from cityops.core.calendar_notice import CalendarImportError, calendar_import
from cityops.core.checks import check_holiday_schedule
from cityops.core.models import CalendarAdjustment, CalendarNotice, TimelineEntry

pytestmark = pytest.mark.django_db

TZ = ZoneInfo("Asia/Shanghai")
EXAMPLE = Path(__file__).parent / "data" / "holiday_schedule_example.csv"  # a fictional 2027 schedule
LAST_KNOWN_DAY = date(2026, 12, 1)  # chinese_calendar 1.11 knows 2004-2026


def at(*args):
    return datetime(*args, tzinfo=TZ)


@pytest.fixture(autouse=True)
def _fresh_adjustments():
    # The rows are kept per process; a rolled-back test leaves no row but could leave the copy.
    calendar.forget_adjustments()
    yield
    calendar.forget_adjustments()


@pytest.fixture
def today(monkeypatch):
    """Freeze timezone.now at noon of a day (Asia/Shanghai)."""

    def set_to(day: date):
        monkeypatch.setattr(timezone, "now", lambda: datetime(day.year, day.month, day.day, 12, tzinfo=TZ))

    return set_to


def test_chinese_calendar_does_not_know_2027():
    # The premise of this module: should a release learn 2027, move these tests to the first unknown year.
    assert 2027 not in calendar.package_years()


# --- Precedence --------------------------------------------------------------------------------------------
def test_without_a_notice_2027_has_its_statutory_holidays_but_no_makeup_workdays():
    assert not calendar.is_workday(date(2027, 2, 8))  # Spring Festival, from the holidays package
    assert not calendar.is_workday(date(2027, 10, 1))  # National Day
    assert calendar.is_workday(date(2027, 2, 11))  # a Thursday the holidays package does not list
    assert not calendar.is_workday(date(2027, 2, 13))  # a Saturday: without a notice no make-up workday


def test_an_adjustment_takes_precedence_over_both_packages():
    CalendarAdjustment.objects.create(date=date(2026, 12, 2), kind="holiday", name="台风停工", source="市政府通知")
    CalendarAdjustment.objects.create(date=date(2027, 2, 8), kind="workday", name="测试", source="test")
    assert not calendar.is_workday(date(2026, 12, 2))  # a Wednesday chinese_calendar calls a workday
    assert calendar.is_workday(date(2027, 2, 8))  # a day the holidays package calls Spring Festival
    assert calendar.is_workday(date(2026, 12, 3))  # the day after: chinese_calendar again


def test_a_deleted_adjustment_no_longer_counts():
    row = CalendarAdjustment.objects.create(date=date(2026, 12, 2), kind="holiday", name="台风停工", source="市政府通知")
    assert not calendar.is_workday(date(2026, 12, 2))
    row.delete()
    assert calendar.is_workday(date(2026, 12, 2))


def test_another_process_change_is_seen_after_the_check_interval(settings, django_assert_num_queries):
    settings.CITYOPS_CALENDAR_CHECK_SECONDS = 3600
    assert calendar.is_workday(date(2026, 12, 2))
    row = CalendarAdjustment.objects.create(date=date(2026, 12, 9), kind="holiday", name="x", source="x")
    assert calendar.is_workday(date(2026, 12, 2))
    # Another process moves the row: no signal reaches this one (update() sends none anyway).
    CalendarAdjustment.objects.filter(pk=row.pk).update(date=date(2026, 12, 2), updated_at=timezone.now())
    with django_assert_num_queries(0):  # within the interval: no query, the old copy
        assert calendar.is_workday(date(2026, 12, 2))
    calendar.recheck()  # the interval has passed: the stamp changed, the rows are reread
    assert not calendar.is_workday(date(2026, 12, 2))


# --- Import ------------------------------------------------------------------------------------------------
def test_import_marks_the_year_announced_and_counts_its_days():
    result = calendar_import(data=EXAMPLE.read_bytes())
    assert (result.years, result.created, result.updated, result.unchanged, result.removed) == ([2027], 9, 0, 0, 0)
    assert CalendarNotice.objects.get(year=2027).source == "虚构示例安排（非国务院通知） / fictional example"
    assert not calendar.is_workday(date(2027, 2, 11))  # a holiday of the notice, not of the holidays package
    assert calendar.is_workday(date(2027, 2, 13))  # the make-up Saturday
    assert 2027 in calendar.announced_years()
    entry = TimelineEntry.objects.get(subject_type="core.calendarnotice", action="calendar_import")
    assert entry.params["created"] == 9 and entry.actor_name == "system"


def test_importing_the_same_file_again_changes_nothing():
    calendar_import(data=EXAMPLE.read_bytes())
    before = list(CalendarAdjustment.objects.values_list("date", "kind", "name", "source", "notice_id", "updated_at"))
    result = calendar_import(data=EXAMPLE.read_bytes())
    assert (result.created, result.updated, result.unchanged, result.removed) == (0, 0, 9, 0)
    after = list(CalendarAdjustment.objects.values_list("date", "kind", "name", "source", "notice_id", "updated_at"))
    assert after == before
    assert TimelineEntry.objects.filter(subject_type="core.calendarnotice").count() == 1


def test_a_corrected_notice_replaces_the_year():
    calendar_import(data=EXAMPLE.read_bytes())
    local = CalendarAdjustment.objects.create(date=date(2027, 3, 3), kind="holiday", name="本市", source="市政府通知")
    corrected = "\n".join(
        line for line in EXAMPLE.read_text().splitlines() if not line.startswith(("2027-02-11", "2027-02-13"))
    ) + "\n2027-02-20,workday,春节调休上班（示例）,虚构示例安排（非国务院通知） / fictional example\n"
    result = calendar_import(data=corrected.encode())
    assert (result.created, result.updated, result.unchanged, result.removed) == (1, 0, 7, 2)
    assert calendar.is_workday(date(2027, 2, 11))  # dropped from the notice: the holidays package again
    assert not calendar.is_workday(date(2027, 2, 13))
    assert calendar.is_workday(date(2027, 2, 20))
    assert CalendarAdjustment.objects.filter(pk=local.pk).exists()  # a local adjustment is not the notice's


def test_a_bad_file_names_every_bad_line_and_writes_nothing():
    data = (
        "date,kind,name,source\n"
        "2027-02-05,holiday,春节,通知\n"
        "2027-02-30,holiday,春节,通知\n"
        "2027-02-06,rest,春节,通知\n"
        "2027-02-07,holiday,,\n"
        "2027-02-05,holiday,春节,通知\n"
        "2027-02-08,holiday\n"
    ).encode()
    with pytest.raises(CalendarImportError) as caught:
        calendar_import(data=data)
    problems = caught.value.problems
    assert [p.split("：")[0] for p in problems] == ["第 3 行", "第 4 行", "第 5 行", "第 5 行", "第 6 行", "第 7 行"]
    assert "line 3: date “2027-02-30” is not a valid YYYY-MM-DD date" in problems[0]
    assert "kind “rest” must be holiday or workday" in problems[1]
    assert "already on line 2" in problems[4]
    assert not CalendarAdjustment.objects.exists() and not CalendarNotice.objects.exists()


def test_the_command_imports_and_refuses_with_line_numbers(tmp_path, capsys):
    call_command("calendar", "import", str(EXAMPLE))
    assert "imported the schedule of 2027: 9 day(s) added" in capsys.readouterr().out
    bad = tmp_path / "bad.csv"
    bad.write_text("2027-09-15,holiday,中秋节,通知\n2027-09-16,holiday,中秋节,通知,多余\n", encoding="utf-8")
    with pytest.raises(CommandError) as caught:
        call_command("calendar", "import", str(bad))
    assert "未导入任何内容" in str(caught.value) and "nothing imported" in str(caught.value)
    assert "第 2 行" in str(caught.value) and "line 2: expected 4 columns" in str(caught.value)
    assert not CalendarAdjustment.objects.filter(date=date(2027, 9, 15)).exists()
    with pytest.raises(CommandError, match="cannot read"):
        call_command("calendar", "import", str(tmp_path / "missing.csv"))
    gbk = tmp_path / "gbk.csv"
    gbk.write_bytes("2027-09-15,holiday,中秋节,通知\n".encode("gbk"))
    with pytest.raises(CommandError, match="not UTF-8"):
        call_command("calendar", "import", str(gbk))


# --- Is the schedule ahead announced? ----------------------------------------------------------------------
def test_the_next_90_days_reaching_an_unannounced_year_are_a_gap():
    gaps = calendar.schedule_gaps(today=LAST_KNOWN_DAY)
    assert [(g.year, g.starts) for g in gaps] == [(2027, date(2027, 1, 1))]
    assert calendar.schedule_gaps(today=date(2026, 6, 1)) == []  # 90 days stay within 2026
    calendar_import(data=EXAMPLE.read_bytes())
    assert calendar.schedule_gaps(today=LAST_KNOWN_DAY) == []
    assert [g.year for g in calendar.schedule_gaps(today=date(2027, 11, 1))] == [2028]


def test_calendar_check_fails_without_a_notice_and_passes_with_one(capsys):
    with pytest.raises(CommandError) as caught:
        call_command("calendar", "check", "--today", str(LAST_KNOWN_DAY))
    message = str(caught.value)
    assert "2027 年的节假日安排尚未导入（自 2027-01-01 起）" in message
    assert "the holiday schedule of 2027 is not imported (from 2027-01-01 on)" in message
    call_command("calendar", "import", str(EXAMPLE))
    call_command("calendar", "check", "--today", str(LAST_KNOWN_DAY))
    assert "every day ahead falls in a year with an announced schedule" in capsys.readouterr().out


def test_calendar_check_exits_non_zero(tmp_path):
    from django.core.management import ManagementUtility

    with pytest.raises(SystemExit) as exited:
        ManagementUtility(["cityops", "calendar", "check", "--today", str(LAST_KNOWN_DAY)]).execute()
    assert exited.value.code == 1


def test_system_check_warns_until_the_notice_is_imported(today):
    today(LAST_KNOWN_DAY)
    assert check_holiday_schedule(None) == []  # without --database the check reads nothing
    warnings = check_holiday_schedule(None, databases=["default"])
    assert [w.id for w in warnings] == ["cityops.W010"]
    assert "2027" in warnings[0].msg and "cityops calendar import" in warnings[0].msg
    calendar_import(data=EXAMPLE.read_bytes())
    assert check_holiday_schedule(None, databases=["default"]) == []


# --- The home page -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("role, warned", [(roles.LEADER, True), (roles.ADMIN, True), (roles.OPERATOR, False)])
def test_home_page_warns_leader_and_admin(client, make_user, today, role, warned):
    today(LAST_KNOWN_DAY)
    client.force_login(make_user("t_home", role))
    page = client.get("/").content.decode()
    assert ('id="calendar-warning"' in page) is warned
    if warned:
        assert "2027 年的节假日安排尚未导入（自 2027-01-01 起）" in page
    calendar_import(data=EXAMPLE.read_bytes())
    assert 'id="calendar-warning"' not in client.get("/").content.decode()


def test_home_page_warning_in_english(client, make_user, today):
    today(LAST_KNOWN_DAY)
    client.force_login(make_user("t_home", roles.LEADER))
    page = client.get("/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "The holiday schedule of 2027 is not imported (from 2027-01-01 on)" in page
