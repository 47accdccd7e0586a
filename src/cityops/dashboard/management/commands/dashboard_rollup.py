"""`cityops dashboard_rollup [--full]`: take the newly finished cases into the dashboard's rollup (dashboard.rollup)
now — the worker does it every CITYOPS_DASHBOARD_ROLLUP_INTERVAL seconds; `--full` rebuilds it from every case."""

from django.core.management.base import BaseCommand

from cityops.dashboard import rollup


class Command(BaseCommand):
    help = "看板汇总 / the dashboard's rollup of finished cases: take in the new ones (or rebuild with --full)"

    def add_arguments(self, parser):
        parser.add_argument("--full", action="store_true", help="rebuild every row from the cases")

    def handle(self, *args, **options):
        got = rollup.refresh(full=options["full"])
        self.stdout.write(f"{got['cases']} cases into {got['squares']} squares; through {rollup.mark():%Y-%m-%d %H:%M:%S}")
