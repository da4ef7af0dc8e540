"""Settings for the VPC peering portal, read once from the environment.

Every value comes from an environment variable (or a ``.env`` file when
``DJANGO_READ_DOT_ENV_FILE`` is set). A required value that is missing stops
the process at start with an ``ImproperlyConfigured`` error naming it.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
if env.bool("DJANGO_READ_DOT_ENV_FILE", default=False):
    env.read_env(BASE_DIR / ".env")

DEBUG = env.bool("DJANGO_DEBUG", default=False)

# Development-only fallbacks; production must set the real values.
_DEV_SECRET_KEY = "django-insecure-development-only-key-do-not-use-in-production-0123456789"

SECRET_KEY = env.str("DJANGO_SECRET_KEY", default=_DEV_SECRET_KEY if DEBUG else environ.Env.NOTSET)
if not DEBUG and len(SECRET_KEY) < 50:
    raise ImproperlyConfigured("DJANGO_SECRET_KEY must be at least 50 characters long")

ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

# Keys that encrypt tenants' access keys at rest (Fernet, url-safe base64, 32 bytes).
# The first key encrypts; all of them decrypt, so keys can be rotated.
FIELD_ENCRYPTION_KEYS = env.list(
    "PORTAL_ENCRYPTION_KEYS",
    default=["b2ZmbGluZS1kZXZlbG9wbWVudC1rZXktMDEyMzQ1Njc="] if DEBUG else environ.Env.NOTSET,
)

# --- The cloud's VPC API -------------------------------------------------------
# The embedded simulator (development, demos, tests) is served only when
# VPC_SIMULATOR_ENABLED is on, whatever DJANGO_DEBUG says: from this process's URLs (with
# the demo app), or apart through portal.simulator_wsgi / manage.py runsimulator. The demo
# and test commands turn it on. Pointing the portal at the real cloud is a matter of
# VPC_API_ENDPOINT (or a tenant's region).
VPC_SIMULATOR_ENABLED = env.bool("VPC_SIMULATOR_ENABLED", default=False)
VPC_API_ENDPOINT = env.str("VPC_API_ENDPOINT", default="http://127.0.0.1:8000")
VPC_API_CONNECT_TIMEOUT = env.float("VPC_API_CONNECT_TIMEOUT", default=3.05)
VPC_API_READ_TIMEOUT = env.float("VPC_API_READ_TIMEOUT", default=20.0)
VPC_API_RETRIES = env.int("VPC_API_RETRIES", default=3)
# A tenant's VPC list, as read for checking a new request, is kept this long in the shared cache.
VPC_LIST_CACHE_SECONDS = env.int("VPC_LIST_CACHE_SECONDS", default=30)
VPC_API_BACKOFF = env.float("VPC_API_BACKOFF", default=0.5)
# The bulkhead (peerings.bulkhead): at most this many threads of a process wait on the cloud at
# once; by default half of GUNICORN_THREADS, so reads always find a thread. A request finding
# it full is answered 503 cloud_busy at once, with Retry-After: CLOUD_BUSY_RETRY_AFTER seconds.
CLOUD_MAX_CONCURRENT_CALLS = env.int(
    "CLOUD_MAX_CONCURRENT_CALLS", default=max(1, env.int("GUNICORN_THREADS", default=4) // 2)
)
CLOUD_BUSY_RETRY_AFTER = env.int("CLOUD_BUSY_RETRY_AFTER", default=5)

# Simulator behaviour (ignored when the simulator is off).
VPCSIM_PENDING_EXPIRY_SECONDS = env.int("VPCSIM_PENDING_EXPIRY_SECONDS", default=7 * 24 * 3600)
VPCSIM_CLOCK_SKEW_SECONDS = env.int("VPCSIM_CLOCK_SKEW_SECONDS", default=15 * 60)
# A signature seen once is refused again within the skew window (a replay): "writes" (POST, PUT,
# DELETE; the SDK signs identical reads in the same second identically), "all" or "off".
VPCSIM_REPLAY_CHECK = env.str("VPCSIM_REPLAY_CHECK", default="writes")
# The simulator served apart (portal.simulator_wsgi) commits asynchronously on PostgreSQL unless true.
VPCSIM_SYNCHRONOUS_COMMIT = env.bool("VPCSIM_SYNCHRONOUS_COMMIT", default=False)
# Injected faults, off unless set: see vpcsim/faults.py for the format.
VPCSIM_FAULTS = env.str("VPCSIM_FAULTS", default="")
VPCSIM_FAULTS_SEED = env.str("VPCSIM_FAULTS_SEED", default="")
# Keep a row per request the simulator receives (vpcsim.models.RequestLog): for tests that
# account for every attempt a client made.
VPCSIM_REQUEST_LOG = env.bool("VPCSIM_REQUEST_LOG", default=False)

# --- Django ----------------------------------------------------------------------
INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "ops",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "peerings",
    "notifications",
]
if VPC_SIMULATOR_ENABLED:
    # The demo only with the simulator; first, so that its runserver (Nagle off, see
    # portal/devserver.py) wins over staticfiles'.
    INSTALLED_APPS.insert(0, "demo")
    INSTALLED_APPS.append("vpcsim")

MIDDLEWARE = [
    # Outermost: the correlation id and one log line for every request, static files included.
    "ops.middleware.RequestLogMiddleware",
    # Without a broker, tasks a request queues run after its response is sent (ops.after_response).
    "ops.after_response.AfterResponseMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Times in the user's zone (accounts.Preferences; UTC by default).
    "accounts.middleware.TimeZoneMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # A request's cloud calls are refused (503 cloud_busy), not queued, when the bulkhead is full.
    "peerings.bulkhead.RefuseWhenBusyMiddleware",
]

ROOT_URLCONF = "portal.urls"
# portal.simulator_wsgi serves only the simulator's URLs (and /healthz/), with this URLconf.
SIMULATOR_URLCONF = "portal.simulator_urls"

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
                "peerings.context_processors.decision_queue",
            ],
        },
    },
]

WSGI_APPLICATION = "portal.wsgi.application"

# SQLite by default; DATABASE_URL (postgres://...) for anything shared.
# The portal never holds a transaction open while it waits on the cloud, so
# requests are not wrapped in one (ATOMIC_REQUESTS stays off).
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
# The simulator's own tables in a database of their own (vpcsim.store; e.g. a local SQLite file
# for the simulator served apart). Unset: they stay in the portal's database.
if env.str("VPCSIM_DATABASE_URL", default="") and VPC_SIMULATOR_ENABLED:
    DATABASES["vpcsim"] = env.db("VPCSIM_DATABASE_URL")
    DATABASE_ROUTERS = ["vpcsim.store.VpcSimRouter"]
for _database in DATABASES.values():
    _database["CONN_MAX_AGE"] = env.int("DJANGO_CONN_MAX_AGE", default=60)
    _database["CONN_HEALTH_CHECKS"] = True
    if _database["ENGINE"] == "django.db.backends.sqlite3":
        # WAL lets the embedded simulator write while a portal request reads.
        _database.setdefault("OPTIONS", {}).update(
            {"init_command": "PRAGMA journal_mode=WAL;", "transaction_mode": "IMMEDIATE", "timeout": 20}
        )

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
# One way to write a time everywhere, with its zone: portal/formats/en/formats.py.
FORMAT_MODULE_PATH = ["portal.formats"]

STATIC_URL = "static/"
STATIC_ROOT = env.path("DJANGO_STATIC_ROOT", default=BASE_DIR / "staticfiles")
STATICFILES_DIRS = [BASE_DIR / "static"]
# Served by WhiteNoise from STATIC_ROOT (collectstatic runs in bin/start-web): compressed
# (gzip, and brotli when installed) with content-hashed names, cached for a year.
# In DEBUG the unhashed names are used, so `make run` needs no collectstatic.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = DEBUG
WHITENOISE_AUTOREFRESH = DEBUG

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "peerings:dashboard"
LOGOUT_REDIRECT_URL = "login"

# Sessions live in the database, so any app server can serve any request.
SESSION_ENGINE = "django.contrib.sessions.backends.db"
# HTTPS, cookies and security headers: see "Security hardening" at the end of this file.

# --- REST API ----------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": env.int("API_PAGE_SIZE", default=50),
    "DEFAULT_THROTTLE_CLASSES": [
        "peerings.api.throttling.UserThrottle",
        "peerings.api.throttling.WriteThrottle",
    ],
    "EXCEPTION_HANDLER": "peerings.api.exceptions.api_exception_handler",
    "DEFAULT_THROTTLE_RATES": {
        "user": env.str("API_THROTTLE_RATE", default="600/minute"),
        "writes": env.str("API_THROTTLE_WRITE_RATE", default="120/minute"),
    },
}

SPECTACULAR_SETTINGS = {
    "TITLE": "VPC peering portal API",
    "DESCRIPTION": "Request, accept, reject and delete VPC peering connections between tenants.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # The schema and its docs page need a token or a session, like every other endpoint.
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SCHEMA_PATH_PREFIX": "/api/v1",
    # Separate request components (FooRequest) carry minLength and required as sent.
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "PeeringStatusEnum": "peerings.choices.PeeringStatus",
        "RoleEnum": "peerings.choices.Role",
        "CallOperationEnum": "peerings.choices.CallOperation",
        "ChangeSourceEnum": "peerings.choices.ChangeSource",
    },
}

# The cache holds the REST API's throttle counters: it must be shared by every app server.
# Redis with REDIS_URL (or any CACHE_URL), else the database's cache table
# (`manage.py createcachetable`, run by bin/start-web). Process memory only in DEBUG.
REDIS_URL = env.str("REDIS_URL", default="")
_CACHE_URL = env.str("CACHE_URL", default="") or REDIS_URL
if _CACHE_URL.startswith(("redis://", "rediss://", "unix://")):
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": _CACHE_URL}}
elif _CACHE_URL:
    CACHES = {"default": env.cache_url_config(_CACHE_URL)}
elif DEBUG:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "portal"}}
else:
    CACHES = {"default": {"BACKEND": "portal.cache.DatabaseCache", "LOCATION": "portal_cache"}}
CACHES["default"].setdefault("KEY_PREFIX", env.str("CACHE_KEY_PREFIX", default="portal"))

# --- Background jobs (Celery) ----------------------------------------------------------
# With CELERY_BROKER_URL (e.g. redis://127.0.0.1:6379/0) tasks go to `celery -A portal worker`
# and `celery -A portal beat` queues the periodic ones; without it they run in-process (eager),
# after the transaction that queued them commits.
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="")
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = env.bool("CELERY_TASK_EAGER_PROPAGATES", default=DEBUG)
if not CELERY_BROKER_URL:
    CELERY_BROKER_URL = "memory://"
CELERY_TASK_DEFAULT_QUEUE = env.str("CELERY_TASK_DEFAULT_QUEUE", default="portal")
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_WORKER_HIJACK_ROOT_LOGGER = False  # keep the portal's (JSON) logging
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULE = {
    "sync-peerings": {
        "task": "peerings.sync_peerings",
        "schedule": env.float("SYNC_PEERINGS_INTERVAL", default=300.0),
    },
    "expire-pending": {
        "task": "peerings.expire_pending",
        "schedule": env.float("EXPIRE_PENDING_INTERVAL", default=3600.0),
    },
    "purge-idempotency-keys": {
        "task": "peerings.purge_idempotency_keys",
        "schedule": env.float("IDEMPOTENCY_PURGE_INTERVAL", default=3600.0),
    },
    "redeliver-notifications": {
        "task": "notifications.redeliver",
        "schedule": env.float("NOTIFICATIONS_REDELIVER_INTERVAL", default=300.0),
    },
}
#: How long a job's lease lasts without being extended (a crashed run frees it after this).
JOB_LOCK_TTL_SECONDS = env.int("JOB_LOCK_TTL_SECONDS", default=600)
#: How long the cloud keeps a peering pending before it expires (the cloud's rule: 7 days).
PENDING_EXPIRY_SECONDS = env.int("PENDING_EXPIRY_SECONDS", default=7 * 24 * 3600)
#: Pending peerings expiring within this window are re-read and reported by expire_pending.
PENDING_EXPIRY_WARNING_SECONDS = env.int("PENDING_EXPIRY_WARNING_SECONDS", default=24 * 3600)

# --- Health ------------------------------------------------------------------------------
#: Connect and read timeout of /readyz/'s request to VPC_API_ENDPOINT, in seconds.
READINESS_CLOUD_TIMEOUT = env.float("READINESS_CLOUD_TIMEOUT", default=2.0)

# --- Logging: one JSON object per line (LOG_FORMAT=json, the default unless DEBUG) or text.
# A line per request (portal.request) and per cloud call (peerings.cloud), each with the
# request's correlation id. Secrets never reach a log line: nothing logs headers, bodies or keys.
LOG_FORMAT = env.str("LOG_FORMAT", default="text" if DEBUG else "json")
if LOG_FORMAT not in {"json", "text"}:
    raise ImproperlyConfigured("LOG_FORMAT must be json or text")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"correlation_id": {"()": "ops.logging.CorrelationIdFilter"}},
    "formatters": {
        "json": {"()": "ops.logging.JsonFormatter"},
        "text": {"()": "ops.logging.TextFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": LOG_FORMAT,
            "filters": ["correlation_id"],
        }
    },
    "root": {"handlers": ["console"], "level": env.str("DJANGO_LOG_LEVEL", default="INFO")},
    "loggers": {
        # Django's own console handler (debug only) would print its lines a second time, unformatted.
        "django": {"handlers": [], "level": "INFO", "propagate": True},
        "django.db.backends": {"level": "WARNING"},
        # The request line of portal.request replaces runserver's and Django's own.
        "django.server": {"level": "WARNING"},
    },
}

# =====================================================================================
# --- Security hardening ---------------------------------------------------------------
# Everything security-related lives in this block (README, "Security"). Defaults are
# the production ones; DJANGO_DEBUG (make run) relaxes the HTTPS-only ones, and the test
# settings turn the HTTPS redirect off through the environment.
# =====================================================================================

# HTTPS. Behind a TLS-terminating proxy set DJANGO_BEHIND_TLS_PROXY=true, and only then:
# the proxy must set X-Forwarded-Proto itself (a client could otherwise claim https).
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=not DEBUG)
# Health checks come from the load balancer over plain HTTP.
SECURE_REDIRECT_EXEMPT = [r"^healthz/$", r"^readyz/$"]
if env.bool("DJANGO_BEHIND_TLS_PROXY", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=0 if DEBUG else 31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", default=not DEBUG)
SECURE_HSTS_PRELOAD = env.bool("DJANGO_SECURE_HSTS_PRELOAD", default=False)
if not SECURE_HSTS_PRELOAD:
    # Preloading commits the whole domain for good: an explicit choice (the variable), not a default.
    SILENCED_SYSTEM_CHECKS = ["security.W021"]
SESSION_COOKIE_SECURE = env.bool("DJANGO_SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env.bool("DJANGO_CSRF_COOKIE_SECURE", default=not DEBUG)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = env.int("DJANGO_SESSION_COOKIE_AGE", default=8 * 3600)

# Headers. SecurityMiddleware: X-Content-Type-Options: nosniff, Referrer-Policy,
# Cross-Origin-Opener-Policy; X-Frame-Options: DENY; Cache-Control: no-store on API answers
# and signed-in pages (portal.middleware.NoStoreMiddleware).
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = env.str("DJANGO_REFERRER_POLICY", default="same-origin")
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
MIDDLEWARE.insert(
    MIDDLEWARE.index("django.contrib.auth.middleware.AuthenticationMiddleware") + 1,
    "portal.middleware.NoStoreMiddleware",
)

# Content-Security-Policy (django-csp) on every answer: the pages, the admin and the API
# docs load scripts and styles only from the portal's own static files (the docs use
# drf-spectacular-sidecar's copies and a template without inline code).
INSTALLED_APPS += ["csp"]
MIDDLEWARE.insert(
    MIDDLEWARE.index("django.middleware.security.SecurityMiddleware") + 1, "csp.middleware.CSPMiddleware"
)
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    },
}

# API tokens: hashed at rest (accounts.ApiToken); a new token lives this long unless told otherwise.
INSTALLED_APPS.remove("rest_framework.authtoken")  # replaced by accounts.ApiToken (hashed keys)
INSTALLED_APPS += ["accounts"]
API_TOKEN_DEFAULT_DAYS = env.int("API_TOKEN_DEFAULT_DAYS", default=90)
REST_FRAMEWORK["DEFAULT_AUTHENTICATION_CLASSES"] = [
    "accounts.authentication.ApiTokenAuthentication",
    "rest_framework.authentication.SessionAuthentication",
]

# Bodies over this answer 413 and query strings or form bodies that are not UTF-8 answer 400,
# before any front reads them (portal.middleware.RequestLimitsMiddleware).
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("DJANGO_DATA_UPLOAD_MAX_MEMORY_SIZE", default=2_621_440)
MIDDLEWARE.insert(
    MIDDLEWARE.index("django.middleware.security.SecurityMiddleware") + 1,
    "portal.middleware.RequestLimitsMiddleware",
)

# Idempotency-Key records are kept this long, then purged (manage.py purge_idempotency_keys).
IDEMPOTENCY_RETENTION = timedelta(hours=env.int("IDEMPOTENCY_RETENTION_HOURS", default=24))

# Sign-in rate limits (django-axes), on the pages' and the admin's logins, counted in the
# database so that every process shares them. Each entry of AXES_LOCKOUT_PARAMETERS is
# counted on its own (per user, per address); "username+ip_address" counts the pair.
INSTALLED_APPS += ["axes"]
MIDDLEWARE.append("axes.middleware.AxesMiddleware")  # last, as django-axes asks
AUTHENTICATION_BACKENDS = [
    "accounts.backends.SignInLimitBackend",  # django-axes, web sign-ins
    "django.contrib.auth.backends.ModelBackend",
]
AXES_HANDLER = "axes.handlers.database.AxesDatabaseHandler"
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [
    item.split("+") if "+" in item else item
    for item in env.list("AXES_LOCKOUT_PARAMETERS", default=["username", "ip_address"])
]
AXES_RESET_ON_SUCCESS = env.bool("AXES_RESET_ON_SUCCESS", default=True)
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_CLIENT_IP_CALLABLE = "portal.middleware.client_ip"
# Proxies in front of the portal that append to X-Forwarded-For (0: the peer's address counts).
TRUSTED_PROXY_COUNT = env.int("DJANGO_TRUSTED_PROXY_COUNT", default=0)
AXES_VERBOSE = False

# --- Notifications: e-mail and outbound webhooks (notifications/) -------------------
# EMAIL_URL: consolemail:// (default), smtp+tls://user:password@host:587, filemail:///path ...
vars().update(env.email_url("EMAIL_URL", default="consolemail://"))
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="VPC peering portal <portal@localhost>")
#: The portal's public base URL, for the links in e-mails.
PORTAL_BASE_URL = env.str("PORTAL_BASE_URL", default="http://127.0.0.1:8000").rstrip("/")
#: Delivery attempts of one e-mail or webhook call before it is left as failed.
NOTIFICATIONS_MAX_ATTEMPTS = env.int("NOTIFICATIONS_MAX_ATTEMPTS", default=6)
#: First retry delay in seconds; doubled on every further attempt (capped at an hour).
NOTIFICATIONS_RETRY_BACKOFF = env.float("NOTIFICATIONS_RETRY_BACKOFF", default=30.0)
WEBHOOK_TIMEOUT = env.float("WEBHOOK_TIMEOUT", default=5.0)
NOTIFICATIONS_SWEEP_BATCH = env.int("NOTIFICATIONS_SWEEP_BATCH", default=500)
