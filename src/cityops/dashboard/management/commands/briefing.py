"""`cityops briefing make --kind daily --date 2026-11-29 [--region CODE] [--force] [--no-send]`: make the briefing of
the period containing the date (dashboard.briefings), once — a second run says it exists unless --force, which
replaces its files and figures without sending it again. `cityops briefing due`: what the worker would make now."""

from django.core.management.base import BaseCommand, CommandError

from cityops.core.errors import CityopsError
from cityops.dashboard import briefings


class Command(BaseCommand):
    help = "城市运行简报 / briefings: make one (make), or list the due ones (due)"

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        make = sub.add_parser("make", help="make one briefing")
        make.add_argument("--kind", required=True, help="daily | weekly | monthly")
        make.add_argument("--date", required=True, help="a day of the period, YYYY-MM-DD")
        make.add_argument("--region", default="", help="a district's or street's code (the city without)")
        make.add_argument("--force", action="store_true", help="make it again, replacing its files")
        make.add_argument("--no-send", action="store_true", help="do not notify its subscribers")
        sub.add_parser("due", help="list the briefings due now that are not made yet")

    def handle(self, *args, **options):
        try:
            if options["action"] == "due":
                for kind, start, end, place in briefings.due(briefings.timezone.now()):
                    self.stdout.write(f"{kind} {start}..{end} {place.code or 'city'} {place.name}")
                return
            row, made = briefings.make(kind=options["kind"], day=options["date"], region=options["region"],
                                       force=options["force"], send=not options["no_send"], by="cityops briefing make")
        except CityopsError as exc:
            raise CommandError(f"{exc.code}: {exc.message} / {exc.message_en}") from None
        verb = "made" if made else "exists (use --force to make it again)"
        self.stdout.write(f"{verb}: #{row.pk} {row.kind} {row.period_start}..{row.period_end} "
                          f"{row.region_code or 'city'} {row.region_name} pdf={row.pdf_name} xlsx={row.xlsx_name}")
