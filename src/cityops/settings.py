"""cityops settings — everything comes from the environment (12-factor).

CITYOPS_ENV=development (default) runs on SQLite with the demo secret; CITYOPS_ENV=production refuses to start
without a real SECRET_KEY and turns on every protection `check --deploy` asks for.
"""

import importlib.util
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent
env = environ.Env()
environ.Env.read_env(env.str("CITYOPS_ENV_FILE", default=str(Path.cwd() / ".env")), overwrite=False)

CITYOPS_ENV = env.str("CITYOPS_ENV", default="development")
if CITYOPS_ENV not in ("development", "production"):
    # A near miss ("Production", "prod") must not quietly run in development mode with DEBUG on.
    raise ImproperlyConfigured(
        f"CITYOPS_ENV 只能是 development 或 production（现为 {CITYOPS_ENV!r}），拒绝启动 / "
        f"CITYOPS_ENV must be development or production (it is {CITYOPS_ENV!r}); refusing to start"
    )
PRODUCTION = CITYOPS_ENV == "production"
DATA_DIR = Path(env.str("CITYOPS_DATA_DIR", default=str(Path.cwd() / "var")))
(DATA_DIR / "static").mkdir(parents=True, exist_ok=True)

# Only ever used in development and tests; production refuses it (below, and core/secret_key.py).
DEV_SECRET_KEY = "cityops-development-secret-not-for-production"  # noqa: S105
SECRET_KEY = env.str("SECRET_KEY", default=env.str("CITYOPS_SECRET_KEY", default=DEV_SECRET_KEY))
# Off unless asked for: `make run` / `cityops run` serve like production (the branded error pages, never Django's
# debug page); `cityops runserver` (the development server) turns it on (cityops.manage), CITYOPS_DEBUG=1 anywhere.
DEBUG = env.bool("CITYOPS_DEBUG", default=False)
ALLOWED_HOSTS = env.list("CITYOPS_ALLOWED_HOSTS", default=[] if PRODUCTION else ["*"])
CSRF_TRUSTED_ORIGINS = env.list("CITYOPS_CSRF_TRUSTED_ORIGINS", default=[])

DEMO_PASSWORD = env.str("CITYOPS_DEMO_PASSWORD", default="cityops-demo")

# Configuration refusals live here, so every entry point (cityops commands, gunicorn cityops.wsgi, a worker)
# refuses alike; what needs the database (demo accounts, the database role) is core.security.startup_problems().
if PRODUCTION:
    from cityops.core.secret_key import HOW_TO_GENERATE, secret_key_weakness

    weakness = secret_key_weakness(SECRET_KEY, development_key=DEV_SECRET_KEY)
    if weakness:
        raise ImproperlyConfigured(
            f"生产模式拒绝这个 SECRET_KEY：{weakness[0]}。请用 {HOW_TO_GENERATE} 生成 / "
            f"production mode refuses this SECRET_KEY: {weakness[1]}. Generate one with {HOW_TO_GENERATE}"
        )
    if DEBUG:
        raise ImproperlyConfigured("生产模式不能开启 DEBUG / production mode cannot run with DEBUG on")
    if env.str("CITYOPS_DEMO_PASSWORD", default=""):
        raise ImproperlyConfigured(
            "生产模式不能设置演示密码 CITYOPS_DEMO_PASSWORD / production mode refuses a demo password"
        )

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_htmx",
    # django-ninja's templates and static files: the API docs (/api/v1/docs) use its own copy of Swagger UI, served
    # from here like every other file (no CDN: the CSP allows none, and there may be no internet).
    "ninja",
    "axes",
    "django_tasks",
    "django_tasks_db",
    "cityops.core",
    "cityops.accounts",
    "cityops.geo",
    "cityops.cases",
    "cityops.hotline",
    "cityops.open311",
    "cityops.portal",
    "cityops.iot",
    "cityops.disputes",
    "cityops.stability",
    "cityops.dashboard",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    # Refuses NUL characters, oversize and unparseable bodies before any view; shapes every API error.
    "cityops.core.edge.EdgeMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "cityops.core.middleware.SecurityHeadersMiddleware",
    # django-axes must be last: it turns repeated failed logins into a lockout response.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "cityops.urls"
WSGI_APPLICATION = "cityops.wsgi.application"
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/accounts/login/"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "cityops.core.context_processors.cityops",
            ],
        },
    },
]

# --- Database: SQLite (WAL) unless DATABASE_URL is given ------------------------------------------------
_sqlite_path = DATA_DIR / "cityops.sqlite3"
DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{_sqlite_path}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            # WAL lets readers run beside the one writer; IMMEDIATE takes the write lock at BEGIN so two
            # transitions never deadlock on lock upgrade (SQLite has no SELECT ... FOR UPDATE).
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=20000;",
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
        }
    )
    DATABASES["default"]["TEST"] = {"NAME": str(DATA_DIR / "test-cityops.sqlite3")}
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("CITYOPS_CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

CACHES = {
    "default": env.cache_url("CACHE_URL", default="locmemcache://cityops")
}

# --- Background tasks (django-tasks; database backend by default) --------------------------------------
TASKS = {
    "default": {
        "BACKEND": env.str("CITYOPS_TASK_BACKEND", default="django_tasks_db.DatabaseBackend"),
    }
}
CITYOPS_SWEEP_INTERVAL = env.int("CITYOPS_SWEEP_INTERVAL", default=60)
# Live feed of the dashboard (dashboard.live): committed events travel through Redis pub/sub to every web worker's
# screens. Empty (the embedded default): each screen's stream polls the timeline once a second instead.
CITYOPS_REDIS_URL = env.str("CITYOPS_REDIS_URL", default="")
# `cityops serve` runs CITYOPS_THREADS threads per worker; a connected screen holds one. Each process accepts at most
# CITYOPS_LIVE_MAX_STREAMS screens (the other threads stay for pages and the API), CITYOPS_LIVE_MAX_PER_USER per account.
CITYOPS_THREADS = env.int("CITYOPS_THREADS", default=64)
CITYOPS_LIVE_MAX_STREAMS = env.int("CITYOPS_LIVE_MAX_STREAMS", default=max(CITYOPS_THREADS - 8, 1))
CITYOPS_LIVE_MAX_PER_USER = env.int("CITYOPS_LIVE_MAX_PER_USER", default=5)
# A refused screen polls every 5 s and asks this often whether a place is free, to go live again.
CITYOPS_LIVE_RETRY_SECONDS = env.int("CITYOPS_LIVE_RETRY_SECONDS", default=30)
CITYOPS_HOTLINE_RETRAIN_INTERVAL = env.int("CITYOPS_HOTLINE_RETRAIN_INTERVAL", default=3600)
# Early warning (dashboard.early_warning): how often the worker looks for spikes in case counts.
CITYOPS_EARLY_WARNING_INTERVAL = env.int("CITYOPS_EARLY_WARNING_INTERVAL", default=300)
# The dashboard's rollup of finished cases (dashboard.rollup): the worker takes in newly finished cases this often;
# False answers every map view from the cases alone.
CITYOPS_DASHBOARD_ROLLUP = env.bool("CITYOPS_DASHBOARD_ROLLUP", default=True)
CITYOPS_DASHBOARD_ROLLUP_INTERVAL = env.int("CITYOPS_DASHBOARD_ROLLUP_INTERVAL", default=60)
# Briefings (dashboard.briefings): the worker looks for due ones this often; made at this local hour (daily for the
# day before, weekly on Monday, monthly on the 1st) for these levels (city, district; "street" adds every street).
CITYOPS_BRIEFING_INTERVAL = env.int("CITYOPS_BRIEFING_INTERVAL", default=600)
CITYOPS_BRIEFING_HOUR = env.int("CITYOPS_BRIEFING_HOUR", default=7)
CITYOPS_BRIEFING_LEVELS = env.list("CITYOPS_BRIEFING_LEVELS", default=["city", "district"])
# Notification channels (core.notify): the inbox always; "cityops.core.notify.EmailBackend" adds e-mail through
# Django's mail (EMAIL_HOST, EMAIL_PORT, DEFAULT_FROM_EMAIL ... as Django reads them). Links in mails start with
# CITYOPS_SITE_URL.
CITYOPS_NOTIFY_BACKENDS = env.list("CITYOPS_NOTIFY_BACKENDS", default=["cityops.core.notify.ConsoleBackend"])
# The notification kinds the e-mail backend sends (core.notify.emails_kind): names (briefing, early_warning,
# case_overdue …), a prefix with * (case_*), or * for every kind. Default: the briefings only; the inbox has all.
CITYOPS_EMAIL_KINDS = env.list("CITYOPS_EMAIL_KINDS", default=["briefing"])
CITYOPS_SITE_URL = env.str("CITYOPS_SITE_URL", default="http://localhost:8000")
EMAIL_HOST = env.str("CITYOPS_EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("CITYOPS_EMAIL_PORT", default=25)
DEFAULT_FROM_EMAIL = env.str("CITYOPS_EMAIL_FROM", default="cityops@localhost")

# --- Audit: keyed checkpoints of the timeline (core.checkpoint; docs/security.md) ----------------------------
# The key never lives in the database: the variable, or a file only the worker's user can read (≥ 32 bytes).
# Production refuses to sign without one; development derives one from SECRET_KEY.
CITYOPS_AUDIT_KEY = env.str("CITYOPS_AUDIT_KEY", default="")
CITYOPS_AUDIT_KEY_FILE = env.str("CITYOPS_AUDIT_KEY_FILE", default="")
CITYOPS_AUDIT_CHECKPOINT_FILE = env.str("CITYOPS_AUDIT_CHECKPOINT_FILE", default=str(DATA_DIR / "audit" / "checkpoints.jsonl"))
CITYOPS_AUDIT_CHECKPOINT_INTERVAL = env.int("CITYOPS_AUDIT_CHECKPOINT_INTERVAL", default=300)
# Production refuses to run as a database superuser or the tables' owner (either can switch the timeline's
# triggers off) unless the city says so here; `cityops db roles` creates a role that owns nothing.
CITYOPS_ALLOW_OWNER_ROLE = env.bool("CITYOPS_ALLOW_OWNER_ROLE", default=False)

# --- Personal data of dispute parties (disputes.privacy): ID numbers and phones are stored encrypted (Fernet).
# A Fernet key (base64, 32 bytes: `python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"`);
# without one the key is derived from SECRET_KEY with HKDF, so changing SECRET_KEY then makes stored numbers unreadable.
CITYOPS_FIELD_KEY = env.str("CITYOPS_FIELD_KEY", default="")

# --- Auth and security ----------------------------------------------------------------------------------
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Throttling: 5 failures for one username from one address lock it for 15 minutes.
AXES_FAILURE_LIMIT = env.int("CITYOPS_LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = env.float("CITYOPS_LOGIN_COOLOFF_HOURS", default=0.25)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "accounts/locked.html"
AXES_VERBOSE = False
AXES_IPWARE_META_PRECEDENCE_ORDER = ["REMOTE_ADDR"]

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = env.int("CITYOPS_SESSION_AGE", default=8 * 3600)
CSRF_COOKIE_SAMESITE = "Lax"
CSRF_FAILURE_VIEW = "cityops.core.views.csrf_failure"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
if PRODUCTION:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = env.bool("CITYOPS_SSL_REDIRECT", default=True)
    SECURE_HSTS_SECONDS = env.int("CITYOPS_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# Uploads: hard caps so an oversize request is refused before it is read into memory.
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("CITYOPS_MAX_REQUEST_BYTES", default=12 * 1024 * 1024)
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
CITYOPS_MAX_PHOTO_BYTES = env.int("CITYOPS_MAX_PHOTO_BYTES", default=5 * 1024 * 1024)
CITYOPS_MAX_SIGNATURE_BYTES = env.int("CITYOPS_MAX_SIGNATURE_BYTES", default=5 * 1024 * 1024)  # a signature scan

# --- i18n: Chinese first, English too --------------------------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env.str("CITYOPS_TIME_ZONE", default="Asia/Shanghai")
USE_I18N = True
USE_TZ = True

# --- Static and media --------------------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
# Leaflet's own files come from the django-leaflet wheel; its Django app is not installed because its admin
# widgets need GDAL, which cityops does not require (DESIGN.md: shapely, no GDAL/PostGIS).
STATICFILES_DIRS = [Path(importlib.util.find_spec("leaflet").origin).parent / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env.str("CITYOPS_MEDIA_ROOT", default=str(DATA_DIR / "media")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if PRODUCTION
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = not PRODUCTION

# --- Maps: no online tiles by default; a city may configure its own tile server -------------------------
CITYOPS_TILE_URL = env.str("CITYOPS_TILE_URL", default="")
CITYOPS_TILE_ATTRIBUTION = env.str("CITYOPS_TILE_ATTRIBUTION", default="")
# Or the city's own base map as one PMTiles file that cityops serves itself at /geo/tiles/base/z/x/y (raster tiles
# are drawn under every map; docs/deployment.md "Base map").
CITYOPS_PMTILES = env.str("CITYOPS_PMTILES", default="")
# Rivers and lakes of the local base map (GeoJSON, WGS-84). The demo city's come with cityops: GSHHG 2.3.7
# (LGPL-3.0-or-later), see geo/data/water/README.md. Empty: no water drawn.
CITYOPS_WATER_GEOJSON = env.str("CITYOPS_WATER_GEOJSON", default=str(BASE_DIR / "geo" / "data" / "water" / "wuhan.geojson"))
CITYOPS_WATER_ATTRIBUTION = env.str("CITYOPS_WATER_ATTRIBUTION", default="水系 GSHHG 2.3.7 (LGPL-3.0)")
CITYOPS_MAP_CENTER = (30.593, 114.305)

# --- Working-time calendar (RULES.md §1): office hours are local practice, so configurable ----------------
CITYOPS_OFFICE_HOURS = env.str("CITYOPS_OFFICE_HOURS", default="08:30-12:00,13:30-18:00")
# How often a process compares its copy of the working-day adjustments with the database (core.calendar), and
# how many days ahead must fall in announced years before the check, `cityops calendar check` and the home page
# stop warning.
CITYOPS_CALENDAR_CHECK_SECONDS = env.float("CITYOPS_CALENDAR_CHECK_SECONDS", default=30.0)
CITYOPS_CALENDAR_AHEAD_DAYS = env.int("CITYOPS_CALENDAR_AHEAD_DAYS", default=90)
CITYOPS_CITY_CODE = env.str("CITYOPS_CITY_CODE", default="420100")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("CITYOPS_LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "axes": {"level": "WARNING"},
    },
}
