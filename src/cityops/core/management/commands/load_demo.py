import importlib
import importlib.util
import logging

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from cityops.accounts.demo import DEMO_USERS, load_demo_users, load_departments, load_roles

DEMO_ORDER = ("cases", "hotline", "open311", "portal", "iot")


class Command(BaseCommand):
    help = "载入武汉演示城市 / load the Wuhan demo city: regions, departments, categories, demo users"

    def add_arguments(self, parser):
        parser.add_argument("--skip-geo", action="store_true", help="keep the regions already loaded")
        parser.add_argument(
            "--history-hours", type=float, default=48,
            help="simulate this many hours of city traffic when there are no cases yet (0: none)",
        )

    def handle(self, *args, **opts):
        if settings.PRODUCTION:
            raise CommandError("生产模式不能载入演示数据 / demo data cannot be loaded in production mode")
        load_roles()
        self.stdout.write(f"departments: {load_departments()}")
        if not opts["skip_geo"] and importlib.util.find_spec("cityops.geo.demo"):
            counts = importlib.import_module("cityops.geo.demo").load_demo_geography(stdout=self.stdout)
            self.stdout.write(f"regions: {counts}")
        # Domain apps add their reference data (categories, devices, the hotline model…) through a
        # `demo.load_demo` function; cases first, since others refer to its categories.
        for app in DEMO_ORDER:
            module_name = f"cityops.{app}.demo"
            if importlib.util.find_spec(module_name):
                self.stdout.write(f"{app}: {importlib.import_module(module_name).load_demo()}")
        users = load_demo_users()
        self.stdout.write("演示账号 / demo logins (password: CITYOPS_DEMO_PASSWORD or 'cityops-demo'):")
        for username, label in users:
            self.stdout.write(f"  {username:<12} {label}")
        self.stdout.write(f"{len(DEMO_USERS)} demo users ready")
        # A demo city with history: queues, traffic lights, overdue cases and evaluation have something to show.
        if opts["history_hours"] > 0 and importlib.util.find_spec("cityops.cases.simulation"):
            from cityops.cases.models import Case

            if not Case.objects.exists():
                notify_log = logging.getLogger("cityops.core.notify")
                level = notify_log.level
                notify_log.setLevel(logging.WARNING)  # the simulated residents' messages would flood the console
                try:
                    call_command("simulate", hours=opts["history_hours"], rate=6, stdout=self.stdout)
                finally:
                    notify_log.setLevel(level)
