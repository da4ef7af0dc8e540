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
    """On PostgreSQL, the simulator served apart commits without waiting for the WAL flush
    (``VPCSIM_SYNCHRONOUS_COMMIT=false``, the default): a crash may lose its last fraction of a
    second of changes, never corrupt them, and a write no longer waits on the disk. It is a test
    double (a real cloud keeps its own state); the portal's own process is left as it is."""
    if settings.VPCSIM_SYNCHRONOUS_COMMIT:
        return
    database = connections["default"]
    if database.vendor == "postgresql":
        options = database.settings_dict.setdefault("OPTIONS", {})
        options["options"] = f"{options.get('options', '')} -c synchronous_commit=off".strip()


class SimulatorWSGIHandler(WSGIHandler):
    """Django's WSGI handler answering from the simulator's URLconf only."""

    def __init__(self) -> None:
        check_enabled()
        _asynchronous_commit()
        super().__init__()

    def get_response(self, request: HttpRequest) -> HttpResponseBase:
        request.urlconf = settings.SIMULATOR_URLCONF
        return super().get_response(request)
