"""`cityops dashboard_rollup [--full]`: take the newly finished cases and the ended days into the dashboard's rollups
(dashboard.rollup) now — the worker does it every CITYOPS_DASHBOARD_ROLLUP_INTERVAL seconds. `--full` counts both
again from the cases and the timeline (after an import, a restored backup or data written with past times)."""

from django.core.management.base import BaseCommand

from cityops.dashboard import rollup


class Command(BaseCommand):
    help = "看板汇总 / the dashboard's rollups: take in what is new (or count everything again with --full)"

    def add_arguments(self, parser):
        parser.add_argument("--full", action="store_true", help="count every case and every day again")

    def handle(self, *args, **options):
        if options["full"]:
            rollup.recount()
        got = rollup.refresh()
        days = rollup.refresh_days()
        self.stdout.write(f"{got['cases']} cases into {got['squares']} squares, through {rollup.mark():%Y-%m-%d %H:%M:%S}; "
                          f"{days} days counted")
