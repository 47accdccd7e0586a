"""The WSGI application (`gunicorn cityops.wsgi`, and what `cityops serve` runs).

Loading it runs the production start-up checks, so a plain `gunicorn cityops.wsgi` refuses exactly like the
`cityops` commands: settings refuse a bad configuration (CITYOPS_ENV, SECRET_KEY, DEBUG, a demo password),
core.security.ensure_safe_to_start() what only the database can tell (startup_problems(): demo accounts still on
the demo password, the database role).
A refusal raises ImproperlyConfigured with the message, so gunicorn's worker fails to boot and gunicorn stops.
"""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cityops.settings")
application = get_wsgi_application()


def _refuse_unsafe_start() -> None:
    from django.db import connections

    from cityops.core.security import ensure_safe_to_start

    try:
        ensure_safe_to_start()
    finally:
        # The check's connection must not outlive it: with `gunicorn --preload` it would be shared by every
        # forked worker.
        connections.close_all()


_refuse_unsafe_start()
