from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from cityops.core import demo
from cityops.core.progress import item_logs


class Command(BaseCommand):
    help = "载入演示城市 / load the demo city: every app's reference data, the demo users and some history"

    def add_arguments(self, parser):
        parser.add_argument(
            "--skip", action="append", default=[], metavar="APP",
            help="keep this app's demo data as it is, e.g. --skip geo keeps the regions already loaded (repeatable)",
        )
        parser.add_argument(
            "--history-hours", type=float, default=48,
            help="simulate this many hours of city traffic where there is none yet (0: none)",
        )

    def handle(self, *args, **opts):
        if settings.PRODUCTION:
            raise CommandError("生产模式不能载入演示数据 / demo data cannot be loaded in production mode")
        item_logs(opts["verbosity"])
        demo.load_demo(stdout=self.stdout, skip=tuple(opts["skip"]), history_hours=opts["history_hours"])
