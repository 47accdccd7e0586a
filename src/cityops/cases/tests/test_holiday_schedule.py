"""Case deadlines across Spring Festival 2027, a year chinese_calendar 1.11 does not know (issue 12 §1): with the
year's notice imported, its holidays are skipped and its make-up Saturday counts; without it, only the statutory
holidays of the holidays package are skipped and the leader is warned."""

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command

from cityops.core import calendar

pytestmark = pytest.mark.django_db

TZ = ZoneInfo("Asia/Shanghai")
# A FICTIONAL 2027 schedule (holidays Fri 5 – Thu 11 February, make-up workday Saturday 13 February).
EXAMPLE = Path(calendar.__file__).parent / "tests" / "data" / "holiday_schedule_example.csv"


@pytest.fixture(autouse=True)
def _fresh_adjustments():
    calendar.forget_adjustments()
    yield
    calendar.forget_adjustments()


def test_handling_deadline_skips_the_imported_holidays_and_counts_the_makeup_saturday(new_case, walk, clock):
    call_command("calendar", "import", str(EXAMPLE))
    # E0102 is handled within 8 working hours. Accepted Thursday 4 Feb 17:00: one hour that day, then nothing
    # until Friday 12 Feb (5-11 Feb are holidays), whose seven working hours end at 17:00.
    clock(datetime(2027, 2, 4, 17, 0))
    case = walk(new_case(category="E0102"), "accepted")
    assert case.deadline_at == datetime(2027, 2, 12, 17, 0, tzinfo=TZ)
    # E0101 within 4 working hours, accepted Friday 12 Feb 17:00: one hour that day, three on the make-up Saturday.
    clock(datetime(2027, 2, 12, 17, 0))
    case = walk(new_case(category="E0101"), "accepted")
    assert case.deadline_at == datetime(2027, 2, 13, 11, 30, tzinfo=TZ)


def test_without_the_notice_only_statutory_holidays_are_skipped_and_the_leader_is_warned(
    new_case, walk, clock, client, leader
):
    clock(datetime(2027, 2, 4, 17, 0))
    case = walk(new_case(category="E0102"), "accepted")
    # Fri 5 and Mon 8 - Wed 10 are statutory (holidays package); Thursday 11 February counts.
    assert case.deadline_at == datetime(2027, 2, 11, 17, 0, tzinfo=TZ)
    clock(datetime(2026, 12, 1, 9, 0))
    client.force_login(leader)
    assert "2027 年的节假日安排尚未导入" in client.get("/").content.decode()
