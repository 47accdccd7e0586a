"""`cityops worker`: runs background tasks (django-tasks database worker) and enqueues periodic tasks."""

import threading
import time

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import close_old_connections

from cityops.core.checkpoint import ensure_checkpoints_configured
from cityops.core.security import ensure_safe_to_start
from cityops.core.tasks import periodic_tasks


class Command(BaseCommand):
    help = "后台任务进程 / background worker: runs queued tasks and the periodic deadline sweep"

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="run each periodic task once, then exit")
        parser.add_argument("--no-scheduler", action="store_true", help="only run queued tasks")

    def handle(self, *args, **options):
        ensure_safe_to_start(CommandError)
        if options["once"] or not options["no_scheduler"]:
            try:
                ensure_checkpoints_configured()  # the scheduler signs the audit checkpoints
            except ImproperlyConfigured as exc:
                raise CommandError(str(exc)) from exc
        if options["once"]:
            for name, (task, _interval) in periodic_tasks().items():
                result = task.call()
                self.stdout.write(f"{name}: {result}")
            return
        if not options["no_scheduler"]:
            threading.Thread(target=self._schedule, daemon=True, name="cityops-scheduler").start()
        self.stdout.write("cityops worker started / 后台任务进程已启动")
        call_command("db_worker", queue_name="*", interval=1.0, reload=False)

    def _schedule(self) -> None:
        last_run: dict[str, float] = {}
        jobs = periodic_tasks()
        while True:
            now = time.monotonic()
            for name, (task, interval_setting) in jobs.items():
                interval = getattr(settings, interval_setting, 60)
                if now - last_run.get(name, -interval) >= interval:
                    close_old_connections()
                    task.enqueue()
                    last_run[name] = now
            time.sleep(1)
