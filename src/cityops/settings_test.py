"""Settings for the test suite: the normal settings plus a sample workflow app used to prove the engine."""

from cityops.settings import *  # noqa: F403
from cityops.settings import INSTALLED_APPS, PASSWORD_HASHERS

INSTALLED_APPS = [*INSTALLED_APPS, "cityops.core.tests.sample"]
# Argon2 costs ~50 ms a login; tests log in hundreds of times. Production keeps Argon2.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher", *PASSWORD_HASHERS]
TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}

# One test database per test process, so parallel runs (several developers, CI) never share a file or database.
import os  # noqa: E402

from cityops.settings import DATA_DIR, DATABASES  # noqa: E402

if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    DATABASES["default"]["TEST"] = {"NAME": str(DATA_DIR / f"test-cityops-{os.getpid()}.sqlite3")}
else:
    DATABASES["default"]["TEST"] = {"NAME": f"test_{DATABASES['default']['NAME']}_{os.getpid()}"}

# Checkpoints are per test (the `settings` fixture sets a file): a shared file would sign chains that the next
# test's rolled-back database never had.
CITYOPS_AUDIT_CHECKPOINT_FILE = ""
if DATABASES["default"]["ENGINE"].endswith("postgresql"):
    # pytest-django empties tables with TRUNCATE between transactional tests; the timeline's triggers allow it
    # only to a superuser or owner whose connection asks (core migration 0004) — never to the app's own role.
    _options = DATABASES["default"].setdefault("OPTIONS", {})
    _options["options"] = (_options.get("options", "") + " -c cityops.allow_timeline_truncate=on").strip()
