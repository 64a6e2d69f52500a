"""Settings for claimdesk, read from the environment (see README, "Configuration")."""

import os
from pathlib import Path

import dj_database_url
from django.core.checks.security.base import (
    SECRET_KEY_INSECURE_PREFIX,
    SECRET_KEY_MIN_LENGTH,
    SECRET_KEY_MIN_UNIQUE_CHARACTERS,
)
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG")

# A development key is only acceptable while DEBUG is on; production must bring its own, and a
# strong one: Django's deploy check (security.W009) only warns, claimdesk refuses to start.
DEV_SECRET_KEY = "django-insecure-claimdesk-development-only-never-use-in-production"
SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "Set SECRET_KEY in the environment (or DEBUG=1 for development)."
        )
    SECRET_KEY = DEV_SECRET_KEY
elif SECRET_KEY == DEV_SECRET_KEY and not DEBUG:
    raise ImproperlyConfigured(
        "SECRET_KEY is the development key; set a secret one for production."
    )
elif not DEBUG and (
    len(SECRET_KEY) < SECRET_KEY_MIN_LENGTH
    or len(set(SECRET_KEY)) < SECRET_KEY_MIN_UNIQUE_CHARACTERS
    or SECRET_KEY.startswith(SECRET_KEY_INSECURE_PREFIX)
):
    raise ImproperlyConfigured(
        f"SECRET_KEY is weak: it needs at least {SECRET_KEY_MIN_LENGTH} characters, at least "
        f"{SECRET_KEY_MIN_UNIQUE_CHARACTERS} different ones, and no "
        f"'{SECRET_KEY_INSECURE_PREFIX}' prefix. Generate one with: python3 -c "
        "'import secrets; print(secrets.token_urlsafe(50))'"
    )

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    # Before django.contrib.staticfiles: its `runserver` (no keep-alive delay, static files
    # left to WhiteNoise) replaces the stock one.
    "project.devserver",
    "django.contrib.staticfiles",
    "django_htmx",
    "import_export",
    "simple_history",
    "axes",
    "django_tasks_db",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "claims",
]

MIDDLEWARE = [
    # First: refuses an oversized body (413) before anything reads or spools it.
    "claims.middleware.RequestBodyLimitMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Before the middleware that query the database: a read-only, full, busy or unreachable
    # database answers 503 with Retry-After instead of a bare 500.
    "claims.middleware.DatabaseUnavailableMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    # 400 for NUL characters and overlong query values, before any view (or the admin) reads them.
    "claims.middleware.RefuseMalformedParametersMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "claims.middleware.NoStoreForUsersMiddleware",
    # htmx requests of logged-out users: a 401 fragment, not the login page swapped in.
    "claims.middleware.HtmxLoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    # Last, as django-axes asks: it turns a locked-out login into its lockout response.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "project.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "claims.context_processors.roles",
            ],
        },
    },
]

WSGI_APPLICATION = "project.wsgi.application"

# SQLite inside the project is the embedded default; DATABASE_URL=postgres://… selects PostgreSQL.
DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}", conn_health_checks=True
    )
}
# PostgreSQL keeps each thread's connection open between requests (and a job worker's between
# polls): a new connection per request (authentication, a backend process forked for it) cost
# about 16 ms, more than most pages' queries (bench/connections.py, docs/benchmarks.md). The
# health check (a trivial query when a request first uses a kept connection) replaces one the
# database dropped or restarted. SQLite opens a file in about a millisecond: it keeps 0.
POSTGRESQL_ENGINES = {"django.db.backends.postgresql", "django.contrib.gis.db.backends.postgis"}
DATABASES["default"]["CONN_MAX_AGE"] = int(
    os.environ.get(
        "CONN_MAX_AGE", "60" if DATABASES["default"]["ENGINE"] in POSTGRESQL_ENGINES else "0"
    )
)
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Several annotators save at once. A deferred transaction reads, then asks to write, and
    # SQLite refuses to upgrade its lock ("database is locked" at once, no waiting): so take
    # the write lock when the transaction begins and queue for it (a busy timeout, seconds).
    # WAL lets pages be read while one save writes; it is stored in the database file, so it
    # stays on for every later connection (an in-memory test database just ignores it).
    # synchronous=FULL: an acknowledged save survives a power cut too (NORMAL could lose the
    # last commits), at one fsync of the WAL per commit.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": int(os.environ.get("SQLITE_BUSY_TIMEOUT", "20")),
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL",
        **DATABASES["default"].get("OPTIONS", {}),
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

AUTHENTICATION_BACKENDS = [
    # django-axes counts failed logins and locks out a username/IP pair after too many.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = int(os.environ.get("AXES_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = 0.25  # hours: a locked-out pair may try again after 15 minutes
# Failures count per username + address (AXES_FAILURE_LIMIT) and per address alone, against a
# higher limit that stops one address trying a password on many accounts (claims/throttling.py).
AXES_LOCKOUT_PARAMETERS = "claims.throttling.lockout_parameters"
AXES_HANDLER = "claims.throttling.ThrottlingHandler"
CLAIMDESK_IP_FAILURE_LIMIT = int(os.environ.get("CLAIMDESK_IP_FAILURE_LIMIT", "50"))
# The client's address, from the X-Forwarded-For entry of the trusted proxy (see below).
AXES_CLIENT_IP_CALLABLE = "claims.throttling.client_ip"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "claims:home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    # Job files (uploads waiting for their import, finished exports): private, never under
    # MEDIA_URL; served by the job's download view to who may see them. With workers on several
    # machines, point this at storage they share (a network volume, or django-storages' S3).
    "jobs": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {
            "location": os.environ.get("CLAIMDESK_JOB_FILES_DIR", str(BASE_DIR / "var")),
            # uploaded articles and exported datasets: readable by this service's user only
            "file_permissions_mode": 0o600,
            "directory_permissions_mode": 0o700,
        },
    },
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# Uploads and imports: refuse anything larger (bytes). Default 5 MB.
CLAIMDESK_MAX_IMPORT_BYTES = int(os.environ.get("CLAIMDESK_MAX_IMPORT_BYTES", 5 * 1024 * 1024))
DATA_UPLOAD_MAX_MEMORY_SIZE = CLAIMDESK_MAX_IMPORT_BYTES + 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = CLAIMDESK_MAX_IMPORT_BYTES

# Exports: annotators appear as keyed pseudonyms (HMAC); set a key of its own to rotate them
# independently of SECRET_KEY. The publisher is the ClaimReview author.
CLAIMDESK_PSEUDONYM_KEY = os.environ.get("CLAIMDESK_PSEUDONYM_KEY", "")
CLAIMDESK_PUBLISHER = os.environ.get("CLAIMDESK_PUBLISHER", "claimdesk")

# django-import-export: every admin import runs in one transaction, all or nothing.
IMPORT_EXPORT_USE_TRANSACTIONS = True
# Importing needs the model's "change" permission, exporting its "view" permission.
IMPORT_EXPORT_IMPORT_PERMISSION_CODE = "change"
IMPORT_EXPORT_EXPORT_PERMISSION_CODE = "view"
IMPORT_EXPORT_SKIP_ADMIN_LOG = False
# An upload waits for its confirm step here: a folder of its own, 0700, outside static/ and
# the web root; files are removed after the import or a failed preview, and after a day.
CLAIMDESK_IMPORT_TMP_DIR = os.environ.get(
    "CLAIMDESK_IMPORT_TMP_DIR", str(BASE_DIR / "var" / "imports")
)
IMPORT_EXPORT_TMP_STORAGE_CLASS = "claims.resources.PrivateImportStorage"
# A spreadsheet upload may unpack to at most this many bytes, and have at most so many rows.
CLAIMDESK_MAX_IMPORT_XLSX_UNPACKED_BYTES = int(
    os.environ.get("CLAIMDESK_MAX_IMPORT_XLSX_UNPACKED_BYTES", 8 * CLAIMDESK_MAX_IMPORT_BYTES)
)
CLAIMDESK_MAX_IMPORT_ROWS = int(os.environ.get("CLAIMDESK_MAX_IMPORT_ROWS", 10_000))
# The import page (/import/) takes at most this many files at once, each within
# CLAIMDESK_MAX_IMPORT_BYTES; its request body may be as large as all of them together.
CLAIMDESK_MAX_IMPORT_FILES = int(os.environ.get("CLAIMDESK_MAX_IMPORT_FILES", 10))

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    # pymorphy3 says at INFO which dictionary it loaded, once per process: not worth a line.
    "loggers": {"pymorphy3": {"level": "WARNING"}},
}

# --- security (see docs/security.md) ---------------------------------------------------------

# Scripts only from this site: no inline scripts, no eval (htmx is configured without it).
# Inline style attributes stay allowed for the status colours, which editors manage.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF],
    "style-src": [CSP.SELF, CSP.UNSAFE_INLINE],
    "img-src": [CSP.SELF, "data:"],
    "font-src": [CSP.SELF],
    "connect-src": [CSP.SELF],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "object-src": [CSP.NONE],
}
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
# Behind a TLS-terminating proxy (the usual deployment), trust its X-Forwarded-Proto.
if env_bool("BEHIND_TLS_PROXY"):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# How many proxies in front append to X-Forwarded-For (nginx: $proxy_add_x_forwarded_for); the
# client's address is the entry the outermost one wrote. 0: REMOTE_ADDR is the client.
CLAIMDESK_TRUSTED_PROXY_COUNT = int(
    os.environ.get("TRUSTED_PROXY_COUNT", "1" if env_bool("BEHIND_TLS_PROXY") else "0")
)
# Networks the proxies send from (comma-separated, e.g. 10.0.0.0/8): X-Forwarded-For is read
# only on their requests. Empty: every request is taken to come through the proxy.
CLAIMDESK_TRUSTED_PROXIES = env_list("TRUSTED_PROXIES")
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", default=not DEBUG)
# The load balancer probes the app servers over plain HTTP (docs/deploy.md).
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "0" if DEBUG else "31536000"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = not DEBUG
CSRF_FAILURE_VIEW = "claims.views_errors.csrf_failure"  # says why; renews htmx's token
CSRF_COOKIE_HTTPONLY = True  # htmx sends the token from the page (hx-headers), not the cookie
SESSION_COOKIE_AGE = int(os.environ.get("SESSION_COOKIE_AGE", str(8 * 60 * 60)))  # a working day
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
# Request bodies: the import steps take CLAIMDESK_MAX_IMPORT_BYTES, everything else this much
# (bytes, default 1 MB); larger ones are refused with 413 before they are read.
CLAIMDESK_MAX_REQUEST_BYTES = int(os.environ.get("CLAIMDESK_MAX_REQUEST_BYTES", 1024 * 1024))

# Background jobs (django.tasks). The database is the queue: `manage.py db_worker` runs them,
# as many workers as wanted, on any machine that reaches the database. For a larger
# installation, django-tasks-rq with Redis is a drop-in switch of BACKEND (docs/deploy.md).
TASKS = {
    "default": {
        "BACKEND": os.environ.get("CLAIMDESK_TASKS_BACKEND", "django_tasks_db.DatabaseBackend"),
        "QUEUES": ["default"],
    }
}
# A running job that has reported no progress for this long is taken as lost with its worker
# (killed, machine gone): `manage.py requeue_jobs` and the job page may start it again.
CLAIMDESK_JOB_STALE_SECONDS = int(os.environ.get("CLAIMDESK_JOB_STALE_SECONDS", "300"))
# Finished exports stay downloadable this long, then `manage.py prune_jobs` removes them.
CLAIMDESK_EXPORT_FILE_HOURS = int(os.environ.get("CLAIMDESK_EXPORT_FILE_HOURS", "72"))
# Export jobs (docs/export.md, measured by bench/export_job.py): past this many rows the export
# page's buttons start a job instead of streaming; the ZIP bundle past the second number, 0:
# always (it is built, agreement figures over every annotation included, before its first byte).
CLAIMDESK_EXPORT_JOB_ROWS = int(os.environ.get("CLAIMDESK_EXPORT_JOB_ROWS", "100000"))
CLAIMDESK_EXPORT_JOB_ROWS_ZIP = int(os.environ.get("CLAIMDESK_EXPORT_JOB_ROWS_ZIP", "0"))

# --- REST API (/api/v1/, docs/api.md) ---------------------------------------------------------

REST_FRAMEWORK = {
    # Scripts send an API token; the browser's session works too (the docs page's "Try it
    # out"), with its CSRF check on writes. The pages and the admin take the session only.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "claims.api.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_THROTTLE_CLASSES": ["claims.api.throttling.TokenRateThrottle"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    # "format" is an export filter here, not DRF's choice of renderer.
    "URL_FORMAT_OVERRIDE": None,
}
# Requests per token (or per logged-in user) and period: "600/min", "20000/day"; empty: none.
# Counted in the default cache, which is per process unless CACHES points at a shared one.
CLAIMDESK_API_THROTTLE_RATE = os.environ.get("CLAIMDESK_API_THROTTLE_RATE", "600/min")
SPECTACULAR_SETTINGS = {
    "TITLE": "claimdesk API",
    "DESCRIPTION": "Articles, sources, labels and exports of claimdesk. See docs/api.md.",
    "VERSION": "1",
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
    # Swagger UI from the vendored sidecar package's static files: no CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        "SourceKindEnum": "claims.models.SourceKind.choices",
        "SentenceKindEnum": "claims.models.SentenceKind.choices",
    },
}
