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
