"""`cityops serve`: the production web server (gunicorn). Threaded workers (gthread, CITYOPS_THREADS threads each):
every connected dashboard screen holds one thread for as long as it watches the live feed (server-sent events);
`--threads 1` gives the plain sync workers (measured fastest here, DESIGN.md) for a site without live screens."""

import os

from django.apps import apps
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from cityops.core.security import ensure_safe_to_start
from cityops.core.serving import bind_problem


class Command(BaseCommand):
    help = "启动 Web 服务 / serve cityops with gunicorn"

    def add_arguments(self, parser):
        parser.add_argument("--bind", default=os.environ.get("CITYOPS_BIND", "127.0.0.1:8000"))
        parser.add_argument("--workers", type=int, default=int(os.environ.get("CITYOPS_WORKERS", "2")))
        parser.add_argument("--threads", type=int, default=settings.CITYOPS_THREADS)
        parser.add_argument("--check", action="store_true", help="only run the start-up safety checks")

    def handle(self, *args, **opts):
        ensure_safe_to_start(CommandError)
        if opts["check"]:
            self.stdout.write("start-up checks passed")
            return
        problem = bind_problem(opts["bind"])
        if problem:
            raise CommandError(problem)
        from gunicorn.app.base import BaseApplication

        from cityops.wsgi import application

        class App(BaseApplication):
            def load_config(self):
                self.cfg.set("bind", opts["bind"])
                self.cfg.set("workers", opts["workers"])
                threads = max(1, opts.get("threads") or settings.CITYOPS_THREADS)
                self.cfg.set("worker_class", "gthread" if threads > 1 else "sync")
                self.cfg.set("threads", threads)
                self.cfg.set("timeout", 60)
                self.cfg.set("accesslog", "-" if os.environ.get("CITYOPS_ACCESS_LOG") else None)
                self.cfg.set("limit_request_line", 8190)

            def load(self):
                # In each worker before it serves: apps load what their first request would (AppConfig.warm_up,
                # e.g. the hotline's classifier), so the first user does not wait for it.
                for config in apps.get_app_configs():
                    warm_up = getattr(config, "warm_up", None)
                    if warm_up is not None:
                        warm_up()
                return application

        self.stdout.write(f"cityops serving on http://{opts['bind']} ({opts['workers']} workers × {opts.get('threads') or settings.CITYOPS_THREADS} threads, {settings.CITYOPS_ENV})")
        App().run()
