"""Settings for the VPC peering portal, read once from the environment.

Every value comes from an environment variable (or a ``.env`` file when
``DJANGO_READ_DOT_ENV_FILE`` is set). A required value that is missing stops
the process at start with an ``ImproperlyConfigured`` error naming it.
"""

from __future__ import annotations

import ipaddress
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

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
#: Builds the client of each cloud call (peerings/operations.py): a dotted path or a callable
#: ``factory(tenant, acting_user=..., peering=...)``. Not an environment setting: tests inject a fake cloud.
VPC_CLIENT_FACTORY = "peerings.upstream.tenant_client"
# The bulkhead (peerings.bulkhead): at most this many threads of a process wait on the cloud at
# once; by default half of GUNICORN_THREADS, so reads always find a thread. A request finding
# it full is answered 503 cloud_busy at once, with Retry-After: CLOUD_BUSY_RETRY_AFTER seconds.
CLOUD_MAX_CONCURRENT_CALLS = env.int(
    "CLOUD_MAX_CONCURRENT_CALLS", default=max(1, env.int("GUNICORN_THREADS", default=4) // 2)
)
CLOUD_BUSY_RETRY_AFTER = env.int("CLOUD_BUSY_RETRY_AFTER", default=5)

# --- Egress: outgoing calls to addresses someone typed ------------------------------
# Webhook URLs and a tenant's own endpoint or region are called only at global addresses:
# loopback, private, link-local, multicast, reserved and unspecified ones are refused (see
# ops/egress.py) unless listed here. VPC_API_ENDPOINT is the operator's and is not checked.
# CIDRs, e.g. "127.0.0.1/32" for the demo simulator; names, ".example.com" for subdomains.
EGRESS_ALLOWED_NETWORKS = env.list("EGRESS_ALLOWED_NETWORKS", default=[])
EGRESS_ALLOWED_HOSTS = env.list("EGRESS_ALLOWED_HOSTS", default=[])
for _network in EGRESS_ALLOWED_NETWORKS:
    try:
        ipaddress.ip_network(_network.strip(), strict=False)
    except ValueError as _exc:
        raise ImproperlyConfigured(f"EGRESS_ALLOWED_NETWORKS: {_exc}") from None

# Simulator behaviour (ignored when the simulator is off).
VPCSIM_PENDING_EXPIRY_SECONDS = env.int("VPCSIM_PENDING_EXPIRY_SECONDS", default=7 * 24 * 3600)
VPCSIM_CLOCK_SKEW_SECONDS = env.int("VPCSIM_CLOCK_SKEW_SECONDS", default=15 * 60)
# Refuse a signature seen once within the skew window (a replay): "off" (the default, as the cloud:
# the SDK signs identical requests in the same second identically), or, stricter than the cloud,
# "writes" (POST, PUT, DELETE) or "all".
VPCSIM_REPLAY_CHECK = env.str("VPCSIM_REPLAY_CHECK", default="off")
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
                "sso.context_processors.company_sign_in",
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
#: PostgreSQL's JIT compilation for the portal's sessions (ops.database turns it off unless true).
DATABASE_JIT = env.bool("DATABASE_JIT", default=False)
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
        "RouteSideEnum": "peerings.choices.RouteSide",
    },
}

# The cache holds the REST API's throttle counters: it must be shared by every app server.
# Redis with REDIS_URL (or any CACHE_URL), else the database's cache table
# (`manage.py createcachetable`, run by bin/start-web). Process memory only in DEBUG.
REDIS_URL = env.str("REDIS_URL", default="")
_CACHE_URL = env.str("CACHE_URL", default="") or REDIS_URL
if _CACHE_URL.startswith(("redis://", "rediss://", "unix://")):
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": _CACHE_URL,
            # A Redis that is down or cut off answers in seconds, never holds a request.
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
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
    CELERY_BROKER_URL = "memory://localhost/"  # a host named: kombu warns of a missing one
CELERY_TASK_DEFAULT_QUEUE = env.str("CELERY_TASK_DEFAULT_QUEUE", default="portal")
CELERY_TASK_IGNORE_RESULT = True
# Jobs are idempotent and delivered at least once: a task is acknowledged when it ends, so a worker
# that dies mid-task leaves it to another. A worker child that is killed gives it back at once
# (reject_on_worker_lost); a whole worker that is lost leaves it unacknowledged, and Redis hands it
# out again after the visibility timeout, which must outlast the longest countdown a task is given
# (the notifications' retries wait up to an hour), else the task is run twice meanwhile.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=3900),
    "socket_connect_timeout": 2,
    "socket_timeout": 10,
}
# A task is queued after its request's transaction commits: with the broker down, give up soon
# (logged; the beat and the redelivery sweep redo the work) rather than hold the answer.
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 2,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.5,
}
# A task past its soft limit gets SoftTimeLimitExceeded (its lease is released and the run
# recorded as failed); past the hard limit its process is killed (prefork pool). Both stay under
# the visibility timeout, so a task still running is never handed to a second worker.
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=1800)
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=1860)
# Stopping a worker (SIGTERM) lets running tasks finish for this many seconds, then gives the
# unfinished ones (and those waiting on a countdown) back to the broker before it exits.
CELERY_WORKER_SOFT_SHUTDOWN_TIMEOUT = env.float("CELERY_WORKER_SOFT_SHUTDOWN_TIMEOUT", default=20.0)
CELERY_WORKER_ENABLE_SOFT_SHUTDOWN_ON_IDLE = True
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
    "purge-retention": {
        "task": "ops.purge_retention",
        "schedule": env.float("RETENTION_PURGE_INTERVAL", default=3600.0),
    },
}
#: How long a job's lease lasts without being renewed; a running job renews it every third of
#: this, so a run whose worker died frees it within this time.
JOB_LOCK_TTL_SECONDS = env.int("JOB_LOCK_TTL_SECONDS", default=60)
#: The simulator's request log (VPCSIM_REQUEST_LOG) keeps rows this long (ops.purge_retention).
VPCSIM_REQUEST_LOG_RETENTION = timedelta(hours=env.int("VPCSIM_REQUEST_LOG_RETENTION_HOURS", default=24))
#: How long the cloud keeps a peering pending before it expires (the cloud's rule: 7 days).
PENDING_EXPIRY_SECONDS = env.int("PENDING_EXPIRY_SECONDS", default=7 * 24 * 3600)
#: Pending peerings expiring within this window are re-read and reported by expire_pending.
PENDING_EXPIRY_WARNING_SECONDS = env.int("PENDING_EXPIRY_WARNING_SECONDS", default=24 * 3600)

# --- Health ------------------------------------------------------------------------------
#: Connect and read timeout of /readyz/'s request to VPC_API_ENDPOINT, in seconds.
READINESS_CLOUD_TIMEOUT = env.float("READINESS_CLOUD_TIMEOUT", default=2.0)
#: Connect timeout of /readyz/'s checks of the cache and the broker, in seconds.
READINESS_SERVICE_TIMEOUT = env.float("READINESS_SERVICE_TIMEOUT", default=2.0)
#: A caller sending ``Authorization: Bearer <READYZ_TOKEN>`` (or a superuser) gets /readyz/'s
#: details: which check failed and why. Anyone else gets the status only.
READYZ_TOKEN = env.str("READYZ_TOKEN", default="")
#: The checks whose failure makes /readyz/ answer 503 (take the server out of the balancer); the
#: others (the cache, the broker: the portal serves without them) only make it "degraded".
READYZ_REQUIRED = env.list("READYZ_REQUIRED", default=["database", "migrations", "cloud"])
#: The database down: answers are 503 with this Retry-After (seconds).
DATABASE_UNAVAILABLE_RETRY_AFTER = env.int("DATABASE_UNAVAILABLE_RETRY_AFTER", default=5)

# --- Metrics (ops.metrics): /metrics in Prometheus' text format, for a caller sending
# ``Authorization: Bearer <METRICS_TOKEN>`` or coming from METRICS_ALLOWED_IPS (addresses or
# networks); with neither set nobody may read it.
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")
METRICS_ALLOWED_IPS = env.list("METRICS_ALLOWED_IPS", default=[])
#: The cloud calls counted by /metrics: those of the last this many seconds (from the history).
METRICS_CLOUD_WINDOW_SECONDS = env.int("METRICS_CLOUD_WINDOW_SECONDS", default=300)

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
SECURE_REDIRECT_EXEMPT = [r"^healthz/$", r"^readyz/$", r"^metrics$"]
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
# Password-reset requests (accounts.password_views): per client address (past it, 429) and per
# e-mail address (past it, nothing more is sent); counted in the shared cache.
PASSWORD_RESET_RATE_PER_ADDRESS = env.str("PASSWORD_RESET_RATE_PER_ADDRESS", default="5/hour")
PASSWORD_RESET_RATE_PER_ACCOUNT = env.str("PASSWORD_RESET_RATE_PER_ACCOUNT", default="3/hour")
# Invalid API tokens per client address (shared cache): past it, 429 until the window ends.
API_BAD_TOKEN_RATE = env.str("API_BAD_TOKEN_RATE", default="20/minute")
REST_FRAMEWORK["DEFAULT_AUTHENTICATION_CLASSES"] = [
    "peerings.api.authentication.TokenAndRolesAuthentication",
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

# History exports (peerings/export_limits.py): the most rows one export answers (the response says
# so in X-Export-Row-Limit / X-Export-Truncated), how many a user runs at once across every app
# server (a slot is a lease in the database), and how long a slot outlives a server that stopped
# extending it (a crash, or a client that stopped reading).
HISTORY_EXPORT_MAX_ROWS = env.int("HISTORY_EXPORT_MAX_ROWS", default=100_000)
HISTORY_EXPORT_PER_USER = env.int("HISTORY_EXPORT_PER_USER", default=1)
HISTORY_EXPORT_LEASE_SECONDS = env.int("HISTORY_EXPORT_LEASE_SECONDS", default=60)

# Sign-in rate limits (django-axes), on the pages' and the admin's logins, counted in the
# database so that every process shares them. Each entry of AXES_LOCKOUT_PARAMETERS is
# counted on its own; "username+ip_address" (the default) counts the pair, so a lock holds one
# username from one address: not the whole office behind it, nor the user elsewhere.
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
    for item in env.list("AXES_LOCKOUT_PARAMETERS", default=["username+ip_address"])
]
AXES_RESET_ON_SUCCESS = env.bool("AXES_RESET_ON_SUCCESS", default=True)
# registration/locked_out.html, saying what is locked (accounts.lockout) and for how long.
AXES_LOCKOUT_CALLABLE = "accounts.lockout.lockout_response"
AXES_CLIENT_IP_CALLABLE = "portal.middleware.client_ip"
# Proxies in front of the portal that append to X-Forwarded-For (0: the peer's address counts).
TRUSTED_PROXY_COUNT = env.int("DJANGO_TRUSTED_PROXY_COUNT", default=0)
AXES_VERBOSE = False

# --- Notifications: e-mail and outbound webhooks (notifications/) -------------------
# EMAIL_URL: consolemail:// (default), smtp+tls://user:password@host:587,
# filemail:////absolute/path (four slashes: the scheme's two, then the absolute path) ...
_email = env.email_url("EMAIL_URL", default="consolemail://")
if (
    _email["EMAIL_BACKEND"].endswith("filebased.EmailBackend")
    and not Path(_email.get("EMAIL_FILE_PATH") or "").is_absolute()
):
    # filemail:///var/mail reads as the relative "var/mail": mails would land inside the checkout.
    raise ImproperlyConfigured(
        f"EMAIL_URL names the relative directory {_email.get('EMAIL_FILE_PATH')!r}; "
        "write an absolute one with four slashes, e.g. filemail:////var/mail/portal"
    )
vars().update(_email)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="VPC peering portal <portal@localhost>")
#: The portal's public base URL (scheme and host, e.g. https://portal.example.com), for the links in
#: e-mails and password-reset mails: never taken from a request's Host header. Required unless DEBUG.
PORTAL_BASE_URL = env.str("PORTAL_BASE_URL", default="http://127.0.0.1:8000" if DEBUG else "").rstrip("/")
if not PORTAL_BASE_URL:
    raise ImproperlyConfigured(
        "PORTAL_BASE_URL must be set (the portal's public URL, e.g. https://portal.example.com): "
        "links in e-mails are built from it, never from a request's Host header"
    )
if urlsplit(PORTAL_BASE_URL).scheme not in ("http", "https") or not urlsplit(PORTAL_BASE_URL).hostname:
    raise ImproperlyConfigured(f"PORTAL_BASE_URL must be an http:// or https:// URL, not {PORTAL_BASE_URL!r}")
#: Delivery attempts of one e-mail or webhook call before it is left as failed.
NOTIFICATIONS_MAX_ATTEMPTS = env.int("NOTIFICATIONS_MAX_ATTEMPTS", default=6)
#: First retry delay in seconds; doubled on every further attempt (capped at an hour).
NOTIFICATIONS_RETRY_BACKOFF = env.float("NOTIFICATIONS_RETRY_BACKOFF", default=30.0)
WEBHOOK_TIMEOUT = env.float("WEBHOOK_TIMEOUT", default=5.0)
#: Seconds an SMTP connection may wait; well under the delivery's claim (2 minutes), so a send
#: that hangs is given up before another worker may take the delivery over.
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=30)
NOTIFICATIONS_SWEEP_BATCH = env.int("NOTIFICATIONS_SWEEP_BATCH", default=500)

# --- Company sign-in: OpenID Connect (sso/, mozilla-django-oidc) ------------------------
# On when an issuer (or its discovery URL) is set; the sign-in page then offers it beside
# the local form. The provider's endpoints come from its discovery document, read when first
# needed and kept OIDC_DISCOVERY_CACHE_SECONDS; everything here is read at request time.
OIDC_ISSUER = env.str("OIDC_ISSUER", default="").rstrip("/")
OIDC_DISCOVERY_URL = env.str(
    "OIDC_DISCOVERY_URL",
    default=f"{OIDC_ISSUER}/.well-known/openid-configuration" if OIDC_ISSUER else "",
)
OIDC_ENABLED = bool(OIDC_DISCOVERY_URL)
OIDC_PROVIDER_NAME = env.str("OIDC_PROVIDER_NAME", default="your organisation's account")
OIDC_RP_CLIENT_ID = env.str("OIDC_RP_CLIENT_ID", default="")
OIDC_RP_CLIENT_SECRET = env.str("OIDC_RP_CLIENT_SECRET", default="")
if OIDC_ENABLED and not OIDC_RP_CLIENT_ID:
    raise ImproperlyConfigured("OIDC_RP_CLIENT_ID is required when OIDC_ISSUER or OIDC_DISCOVERY_URL is set")
OIDC_RP_SCOPES = env.str("OIDC_RP_SCOPES", default="openid email profile")
OIDC_RP_SIGN_ALGO = env.str("OIDC_RP_SIGN_ALGO", default="RS256")
#: The claim listing the user's groups, and the one naming a new user.
OIDC_GROUPS_CLAIM = env.str("OIDC_GROUPS_CLAIM", default="groups")
OIDC_USERNAME_CLAIM = env.str("OIDC_USERNAME_CLAIM", default="preferred_username")
OIDC_USE_PKCE = True
OIDC_USE_NONCE = True
OIDC_TIMEOUT = env.float("OIDC_TIMEOUT", default=5.0)
#: Seconds of clock difference allowed when checking an ID token's exp and iat.
OIDC_CLOCK_SKEW_SECONDS = env.int("OIDC_CLOCK_SKEW_SECONDS", default=60)
OIDC_DISCOVERY_CACHE_SECONDS = env.int("OIDC_DISCOVERY_CACHE_SECONDS", default=3600)
# The ID token is kept in the session only to end the provider's session at sign-out.
OIDC_STORE_ID_TOKEN = True
OIDC_CALLBACK_CLASS = "sso.views.CallbackView"
OIDC_AUTHENTICATE_CLASS = "sso.views.SignInView"
LOGIN_REDIRECT_URL_FAILURE = "login"
#: Who may still sign in with a local password: "all", or "superusers" (break-glass only).
LOCAL_SIGN_IN = env.str("LOCAL_SIGN_IN", default="all")
if LOCAL_SIGN_IN not in {"all", "superusers"}:
    raise ImproperlyConfigured("LOCAL_SIGN_IN must be all or superusers")
INSTALLED_APPS += ["sso"]
# Inside django-csp's middleware: a provider-signed-in user's pages may send the sign-out form on.
MIDDLEWARE.insert(
    MIDDLEWARE.index("axes.middleware.AxesMiddleware"), "sso.middleware.ProviderFormActionMiddleware"
)
AUTHENTICATION_BACKENDS = [
    "sso.backends.LocalPasswordBackend" if path == "django.contrib.auth.backends.ModelBackend" else path
    for path in AUTHENTICATION_BACKENDS
] + ["sso.backends.OIDCBackend"]
