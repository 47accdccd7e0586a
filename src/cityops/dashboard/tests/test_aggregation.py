"""The counts come from the database, aggregated there (one GROUP BY each), in local hours: on SQLite and on
PostgreSQL alike (DATABASE_URL=postgres://… runs this module on PostgreSQL)."""

from datetime import datetime, timedelta

from cityops.dashboard import early_warning as ew

from .conftest import JIANGAN_STREET, TZ, WUCHANG_STREET


def test_hourly_counts_are_grouped_by_local_hour_category_and_place(add_cases, categories):
    add_cases("E0106", WUCHANG_STREET, [datetime(2026, 5, 12, 8, m, tzinfo=TZ) for m in (1, 20, 59)])
    add_cases("E0106", WUCHANG_STREET, [datetime(2026, 5, 12, 9, 0, tzinfo=TZ)])
    add_cases("E0501", WUCHANG_STREET, [datetime(2026, 5, 12, 8, 30, tzinfo=TZ)])
    add_cases("E0106", JIANGAN_STREET, [datetime(2026, 5, 12, 8, 30, tzinfo=TZ)])
    add_cases("E0106", WUCHANG_STREET, [datetime(2026, 5, 12, 11, 0, tzinfo=TZ)])  # after `until`
    rows = ew.hourly_counts(since=datetime(2026, 5, 12, 0, tzinfo=TZ), until=datetime(2026, 5, 12, 10, tzinfo=TZ))
    got = {(r["hour"].astimezone(TZ).hour, r["category_id"], r["district_code"], r["street_code"]): r["n"] for r in rows}
    noise, water = categories["E0106"].pk, categories["E0501"].pk
    assert got == {
        (8, noise, "420106", WUCHANG_STREET): 3,  # 08:00–08:59 local time, not UTC
        (9, noise, "420106", WUCHANG_STREET): 1,
        (8, water, "420106", WUCHANG_STREET): 1,
        (8, noise, "420102", JIANGAN_STREET): 1,
    }


def test_recent_counts_count_each_window(add_cases, categories):
    now = datetime(2026, 5, 12, 15, 0, tzinfo=TZ)
    add_cases("E0106", WUCHANG_STREET, [now - timedelta(minutes=m) for m in (5, 25, 45, 59, 61)])
    rows = list(ew.recent_counts(now=now, windows=(30, 60)))
    assert rows == [{"category_id": categories["E0106"].pk, "district_code": "420106", "street_code": WUCHANG_STREET,
                     "n30": 2, "n60": 4}]


def test_detect_reads_the_database(quiet_history, add_cases):
    from .conftest import NOW

    add_cases("E0106", WUCHANG_STREET, [NOW - timedelta(minutes=m) for m in (2, 5, 8, 11, 14, 17, 20, 23, 26, 28)])
    findings, warm = ew.detect(now=NOW)
    found = {(f.series.region_code, f.series.level) for f in findings}
    assert ("420106", "district") in found and (WUCHANG_STREET, "street") in found
    assert not any(code.startswith("420102") for code, _level in found)  # the quiet district stays quiet
    spike = next(f for f in findings if f.series.region_code == WUCHANG_STREET)
    assert spike.observed == 10 and spike.expected < 1 and spike.score >= ew.PARAMS.threshold
    assert all(not code.startswith("420102") for _c, code in warm)


def test_the_kept_history_sees_a_case_written_late_into_a_past_hour(add_cases):
    since, until = datetime(2026, 5, 1, tzinfo=TZ), datetime(2026, 5, 12, tzinfo=TZ)
    add_cases("E0106", WUCHANG_STREET, [datetime(2026, 5, 10, 9, 5, tzinfo=TZ)])
    assert sum(r["n"] for r in ew._history_rows(since=since, until=until)) == 1
    add_cases("E0106", WUCHANG_STREET, [datetime(2026, 5, 3, 9, 5, tzinfo=TZ)])  # reported late, dated back
    assert sum(r["n"] for r in ew._history_rows(since=since, until=until)) == 2
