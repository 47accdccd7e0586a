"""`cityops calendar import FILE` and `cityops calendar check`: the working-day calendar (core.calendar)."""

from datetime import date
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from cityops.core.calendar import schedule_gap_message, schedule_gaps
from cityops.core.calendar_notice import CalendarImportError, calendar_import


class Command(BaseCommand):
    help = ("节假日安排 / the working-day calendar: `cityops calendar import FILE` (a year's holiday schedule), "
            "`cityops calendar check` (exit 1 when the days ahead are not covered by an announced schedule)")

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="sub", required=True)
        imp = sub.add_parser("import", help="import the State Council's holiday notice from a CSV file "
                                            "(date,kind,name,source; kind is holiday or workday)")
        imp.add_argument("file", type=Path, help="the CSV file (UTF-8)")
        check = sub.add_parser("check", help="exit 1 unless every day ahead falls in a year whose schedule is known")
        check.add_argument("--days", type=int, default=None, help="how many days ahead (default "
                                                                   "CITYOPS_CALENDAR_AHEAD_DAYS, 90)")
        check.add_argument("--today", type=date.fromisoformat, default=None, help="count from this day (YYYY-MM-DD)")

    def handle(self, *args, **options):
        if options["sub"] == "import":
            self._import(options["file"])
        else:
            self._check(today=options["today"], days=options["days"])

    def _import(self, path: Path) -> None:
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise CommandError(f"无法读取文件 {path}：{exc.strerror} / cannot read {path}: {exc.strerror}") from exc
        try:
            result = calendar_import(data=data, actor_name="system:calendar_import")
        except CalendarImportError as exc:
            raise CommandError(
                f"未导入任何内容，{len(exc.problems)} 处问题 / nothing imported, {len(exc.problems)} problem(s):\n"
                + "\n".join(exc.problems)
            ) from exc
        years = ", ".join(str(y) for y in result.years)
        self.stdout.write(
            f"已导入 {years} 年节假日安排：新增 {result.created}、更新 {result.updated}、未变 {result.unchanged}、"
            f"删除 {result.removed} 天 / imported the schedule of {years}: {result.created} day(s) added, "
            f"{result.updated} changed, {result.unchanged} unchanged, {result.removed} removed"
        )

    def _check(self, *, today: date | None, days: int | None) -> None:
        gaps = schedule_gaps(today=today, days=days)
        if gaps:
            raise CommandError(schedule_gap_message(gaps))
        self.stdout.write("未来各日均有已公布的节假日安排 / every day ahead falls in a year with an announced schedule")
