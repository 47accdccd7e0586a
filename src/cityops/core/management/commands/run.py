"""`cityops run`: web server and background worker together (what `make run` starts)."""

import os
import signal
import subprocess
import sys

from django.apps import apps
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from cityops.core.serving import bind_problem


class Command(BaseCommand):
    help = "启动 Web 服务和后台任务 / run the web server and the background worker together"

    def add_arguments(self, parser):
        parser.add_argument("--bind", default=os.environ.get("CITYOPS_BIND", "127.0.0.1:8000"))

    def handle(self, *args, **opts):
        problem = bind_problem(opts["bind"])
        if problem:  # say it before starting the worker and the consumer, in one line
            raise CommandError(problem)
        children = [subprocess.Popen([sys.executable, "-m", "cityops", "worker"])]
        # Apps with a long-running consumer (IoT MQTT ingestion) say so by a consumer_command on their AppConfig:
        # the command to start, or None when it cannot run here (it says why).
        for config in apps.get_app_configs():
            command = getattr(config, "consumer_command", None)
            argv = command(self.stdout) if command is not None else None
            if argv:
                children.append(subprocess.Popen(argv))
        try:
            call_command("serve", bind=opts["bind"])
        finally:
            for child in children:
                child.send_signal(signal.SIGTERM)
            for child in children:
                try:
                    child.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    child.kill()
