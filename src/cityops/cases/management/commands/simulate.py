"""`cityops simulate --hours N --rate R [--seed S]`: simulated traffic over the Wuhan demo (issue 3)."""

import time
from datetime import datetime

from django.apps import apps
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from cityops.cases.simulation import Simulation
from cityops.core.errors import CityopsError


class Command(BaseCommand):
    help = "模拟城市案件流转 / simulate city case traffic: reports and every role acting, on a simulated clock"

    def add_arguments(self, parser):
        parser.add_argument("--hours", type=float, default=24, help="simulated hours (ending now unless --start)")
        parser.add_argument("--rate", type=float, default=20, help="reports per hour")
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--start", default=None, help="ISO start instant (default: now − hours)")

    def handle(self, *args, **opts):
        start = None
        if opts["start"]:
            start = datetime.fromisoformat(opts["start"])
            if timezone.is_naive(start):
                start = timezone.make_aware(start)
        if opts["hours"] <= 0 or opts["rate"] <= 0:
            raise CommandError("--hours 与 --rate 须为正数 / --hours and --rate must be positive")
        began = time.monotonic()
        sim = Simulation(hours=opts["hours"], rate=opts["rate"], seed=opts["seed"], start=start)
        try:
            stats = sim.run()
        except CityopsError as exc:
            raise CommandError(f"{exc.message} / {exc.message_en}") from exc
        took = time.monotonic() - began
        if apps.is_installed("cityops.dashboard"):  # cases finished and entries written with past times
            from cityops.dashboard import rollup

            rollup.recount()
        # Local time (settings.TIME_ZONE), as every page shows it.
        window = (f"{timezone.localtime(sim.start):%Y-%m-%d %H:%M} → {timezone.localtime(sim.end):%Y-%m-%d %H:%M} "
                  f"{settings.TIME_ZONE}")
        self.stdout.write(f"模拟 {window}（{took:.1f}s）/ simulated window")
        if not sim.office_seconds():
            hours = settings.CITYOPS_OFFICE_HOURS
            self.stdout.write(
                f"模拟时段全在办公时间（工作日 {hours}）之外：各步骤按工作时间排在时段之后，所有上报均未处理 / the simulated "
                f"window lies wholly outside office hours (working days, {hours}): every step is scheduled in working "
                f"time after it, so no report was acted on"
            )
        for key in sorted(stats):
            self.stdout.write(f"  {key:<28} {stats[key]}")
