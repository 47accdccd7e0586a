"""Importing a year's holiday schedule (国务院办公厅关于部分节假日安排的通知) as working-day adjustments.

The State Council announces each year's holidays and make-up workdays (调休上班) late in the year before;
chinese_calendar learns them only with a new release. `cityops calendar import FILE` loads them from a CSV
file the city writes from the notice, one day per line:

    date,kind,name,source
    2027-02-06,holiday,春节,国办发明电〔2026〕N号
    2027-02-20,workday,春节调休上班,国办发明电〔2026〕N号

`kind` is `holiday` (放假) or `workday` (调休上班). A header line, blank lines and lines starting with `#` are
skipped. Every line is checked before anything is written; one bad line writes nothing. Each year in the file
gets its notice (core.models.CalendarNotice), which marks the year as announced, and the file is the whole
schedule of its years: a day of an earlier import of the same year that the file no longer lists is removed.
Importing the same file again changes nothing.
"""

import csv
import io
from dataclasses import dataclass, field
from datetime import date

from django.db import transaction

from cityops.core.models import CalendarAdjustment, CalendarNotice
from cityops.core.timeline import timeline_append

HEADER = ["date", "kind", "name", "source"]
KINDS = {kind.value for kind in CalendarAdjustment.Kind}
NAME_MAX = CalendarAdjustment._meta.get_field("name").max_length
SOURCE_MAX = CalendarAdjustment._meta.get_field("source").max_length


class CalendarImportError(Exception):
    """The file cannot be imported; `problems` lists every bad line (Chinese / English)."""

    def __init__(self, problems: list[str]):
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class NoticeDay:
    line: int
    day: date
    kind: str
    name: str
    source: str


@dataclass
class ImportResult:
    years: list[int] = field(default_factory=list)
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    removed: int = 0


def _problem(line: int, zh: str, en: str) -> str:
    return f"第 {line} 行：{zh} / line {line}: {en}"


def parse_notice_csv(data: bytes) -> list[NoticeDay]:
    """The days of the file, or CalendarImportError with every problem found."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise CalendarImportError(
            [f"文件不是 UTF-8 编码（第 {exc.start + 1} 字节） / the file is not UTF-8 (byte {exc.start + 1})"]
        ) from exc
    days: list[NoticeDay] = []
    problems: list[str] = []
    first_line_of: dict[date, int] = {}
    for line, row in enumerate(csv.reader(io.StringIO(text)), start=1):
        cells = [cell.strip() for cell in row]
        if not any(cells) or cells[0].startswith("#"):
            continue
        if [c.lower() for c in cells] == HEADER:
            continue
        if len(cells) != 4:
            problems.append(_problem(line, f"应有 4 列（日期,类型,名称,依据），实有 {len(cells)} 列",
                                     f"expected 4 columns (date,kind,name,source), found {len(cells)}"))
            continue
        day_s, kind, name, source = cells
        try:
            day = date.fromisoformat(day_s)
        except ValueError:
            day = None
        if day is None or len(day_s) != 10:
            problems.append(_problem(line, f"日期“{day_s}”无效，应为 YYYY-MM-DD",
                                     f"date “{day_s}” is not a valid YYYY-MM-DD date"))
        if kind not in KINDS:
            problems.append(_problem(line, f"类型“{kind}”无效，应为 holiday（放假）或 workday（调休上班）",
                                     f"kind “{kind}” must be holiday or workday"))
        if not name or len(name) > NAME_MAX:
            problems.append(_problem(line, f"名称不能为空，最长 {NAME_MAX} 字",
                                     f"name is required, at most {NAME_MAX} characters"))
        if not source or len(source) > SOURCE_MAX:
            problems.append(_problem(line, f"依据（通知文号或标题）不能为空，最长 {SOURCE_MAX} 字",
                                     f"source (the notice) is required, at most {SOURCE_MAX} characters"))
        if day is not None and day in first_line_of:
            problems.append(_problem(line, f"日期 {day} 与第 {first_line_of[day]} 行重复",
                                     f"date {day} is already on line {first_line_of[day]}"))
        elif day is not None:
            first_line_of[day] = line
        if day is not None and len(day_s) == 10 and kind in KINDS and name and source:
            days.append(NoticeDay(line, day, kind, name, source))
    if problems:
        raise CalendarImportError(problems)
    if not days:
        raise CalendarImportError(["文件中没有日期 / the file lists no dates"])
    return days


@transaction.atomic
def calendar_import(*, data: bytes, actor=None, actor_name: str | None = None) -> ImportResult:
    """Import a holiday-schedule file (module docstring) all or nothing; raises CalendarImportError. Every
    process rereads the adjustments (core.calendar: this one at once, others within their check interval)."""
    days = parse_notice_csv(data)
    result = ImportResult(years=sorted({d.day.year for d in days}))
    for year in result.years:
        of_year = [d for d in days if d.day.year == year]
        source = "; ".join(dict.fromkeys(d.source for d in of_year))[: SOURCE_MAX]
        notice, created = CalendarNotice.objects.get_or_create(year=year, defaults={"source": source})
        source_changed = not created and notice.source != source
        if source_changed:
            notice.source = source
            notice.save(update_fields=["source", "updated_at"])
        stored = CalendarAdjustment.objects.select_for_update().in_bulk([d.day for d in of_year], field_name="date")
        counts = {"created": 0, "updated": 0, "unchanged": 0}
        for d in of_year:
            wanted = {"kind": d.kind, "name": d.name, "source": d.source, "notice_id": notice.pk}
            row = stored.get(d.day)
            if row is None:
                CalendarAdjustment.objects.create(date=d.day, **wanted)
                counts["created"] += 1
            elif any(getattr(row, k) != v for k, v in wanted.items()):
                for k, v in wanted.items():
                    setattr(row, k, v)
                row.save()
                counts["updated"] += 1
            else:
                counts["unchanged"] += 1
        dropped = notice.adjustments.exclude(date__in=[d.day for d in of_year])
        removed = [str(day) for day in dropped.values_list("date", flat=True)]
        dropped.delete()
        if created or source_changed or counts["created"] or counts["updated"] or removed:
            timeline_append(subject=notice, action="calendar_import", actor=actor, actor_name=actor_name,
                            params={**counts, "removed": removed, "source": source}, new_subject=created)
        result.created += counts["created"]
        result.updated += counts["updated"]
        result.unchanged += counts["unchanged"]
        result.removed += len(removed)
    return result
