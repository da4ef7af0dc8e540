"""Serving the embedded VPC API simulator apart from the portal (another process, another port).

It uses the same settings and database as the portal (its tables are its own) and is served
only when ``VPC_SIMULATOR_ENABLED`` is true. ``portal.simulator_wsgi`` is its WSGI module
(``gunicorn portal.simulator_wsgi``); ``manage.py runsimulator`` its development server.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.handlers.wsgi import WSGIHandler
from django.db import connections
from django.http import HttpRequest, HttpResponseBase

__all__ = ["SimulatorWSGIHandler", "check_enabled"]


def check_enabled() -> None:
    if not settings.VPC_SIMULATOR_ENABLED:
        raise ImproperlyConfigured(
            "The VPC API simulator is served only when VPC_SIMULATOR_ENABLED is true "
            "(development, demos and tests; never in production)."
        )


def _asynchronous_commit() -> None:
    """The simulator served apart commits without waiting for the disk
    (``VPCSIM_SYNCHRONOUS_COMMIT=false``, the default): on PostgreSQL no wait for the WAL flush,
    on SQLite (WAL) ``synchronous=NORMAL``: a crash may lose its last fraction of a second of
    changes, never corrupt them, and a write no longer waits on the disk. It is a test
    double (a real cloud keeps its own state); the portal's own process is left as it is."""
    if settings.VPCSIM_SYNCHRONOUS_COMMIT:
        return
    from vpcsim.store import DB  # the simulator's own server: its store is its business

    database = connections[DB]
    options = database.settings_dict.setdefault("OPTIONS", {})
    if database.vendor == "postgresql":
        options["options"] = f"{options.get('options', '')} -c synchronous_commit=off".strip()
    elif database.vendor == "sqlite":  # WAL: a commit no longer waits for fsync (checkpoints do)
        options["init_command"] = f"{options.get('init_command', '')};PRAGMA synchronous=NORMAL;"


#: The simulator's middleware: the request log (its correlation id) and the security headers.
MIDDLEWARE = [
    "ops.middleware.RequestLogMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.common.CommonMiddleware",
]


class SimulatorWSGIHandler(WSGIHandler):
    """Django's WSGI handler answering from the simulator's URLconf only."""

    def __init__(self) -> None:
        check_enabled()
        _asynchronous_commit()
        super().__init__()

    def load_middleware(self, is_async: bool = False) -> None:
        """Only :data:`MIDDLEWARE`: the cloud's paths have no sessions, users, CSRF or pages."""
        portal_middleware = settings.MIDDLEWARE
        settings.MIDDLEWARE = MIDDLEWARE
        try:
            super().load_middleware(is_async)
        finally:
            settings.MIDDLEWARE = portal_middleware

    def get_response(self, request: HttpRequest) -> HttpResponseBase:
        request.urlconf = settings.SIMULATOR_URLCONF
        return super().get_response(request)
