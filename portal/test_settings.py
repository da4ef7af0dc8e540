"""Settings for the test suite: the production settings with safe test values."""

import os
import tempfile
from pathlib import Path

os.environ.setdefault("DJANGO_SECRET_KEY", "test-only-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz")
os.environ.setdefault("PORTAL_ENCRYPTION_KEYS", "dGVzdC1vbmx5LWZpZWxkLWVuY3J5cHRpb24ta2V5LTE=")
os.environ.setdefault("VPC_SIMULATOR_ENABLED", "true")
os.environ.setdefault("DJANGO_ALLOWED_HOSTS", "localhost,127.0.0.1,testserver")
os.environ.setdefault("LOG_FORMAT", "text")
os.environ.setdefault("PORTAL_BASE_URL", "http://127.0.0.1:8000")
# The suite talks plain HTTP to the test client and the live server.
os.environ.setdefault("DJANGO_SECURE_SSL_REDIRECT", "false")
# The live simulator (http://localhost:port) and the suite's stub servers (127.0.0.1) are the only
# internal addresses the suite calls: allowed by name and address, not all of loopback nor any
# private range. The egress tests empty both lists to run the policy bare.
os.environ.setdefault("EGRESS_ALLOWED_NETWORKS", "127.0.0.1/32")
os.environ.setdefault("EGRESS_ALLOWED_HOSTS", "localhost")

from portal.settings import *  # noqa: F403
from portal.settings import REST_FRAMEWORK, STORAGES

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# Tests against the live simulator should fail fast rather than back off for long.
VPC_API_BACKOFF = 0.0
VPC_API_READ_TIMEOUT = 10.0
# Tests race many threads in one process; the bulkhead's own tests set a small limit.
CLOUD_MAX_CONCURRENT_CALLS = 64
REST_FRAMEWORK = {
    **REST_FRAMEWORK,
    "DEFAULT_THROTTLE_RATES": {"user": "100000/minute", "writes": "100000/minute"},
}
# The cache outlives a test: limits a test exercises are set by that test.
API_BAD_TOKEN_RATE = "100000/minute"
# One process: the cache may live in its memory. Static files need no collectstatic:
# the manifest is consulted but not required (unhashed names when it is missing), and
# STATIC_ROOT is a folder nobody collects into, so a local collectstatic never changes a test.
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "tests"}}
# Tests see every VPC list the cloud gives (a test that wants the cache turns it on).
VPC_LIST_CACHE_SECONDS = 0
STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "portal.storage.LenientManifestStaticFilesStorage"}}
STATIC_ROOT = Path(tempfile.gettempdir()) / f"portal-tests-uncollected-static-{os.getpid()}"
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
# Tasks run in-process after commit and their errors fail the test that queued them.
CELERY_BROKER_URL = "memory://localhost/"
CELERY_TASK_ALWAYS_EAGER = True
CELERY_TASK_EAGER_PROPAGATES = True
