"""Rows kept for a while, then purged: expired sessions, the simulator's request log.

Run by the ``ops.purge_retention`` Celery task (beat, every ``RETENTION_PURGE_INTERVAL``
seconds) and by ``manage.py purge_retention`` (cron, without a broker). Both are idempotent
deletes by age. (Idempotency records have their own job: ``purge_idempotency_keys``.)
"""

from __future__ import annotations

from datetime import timedelta
from importlib import import_module

from django.apps import apps
from django.conf import settings
from django.contrib.sessions.models import Session
from django.utils import timezone

__all__ = ["purge"]


def _sessions() -> int:
    """Expired sessions, as ``clearsessions`` deletes them (by the engine, when not the database's)."""
    if settings.SESSION_ENGINE == "django.contrib.sessions.backends.db":
        deleted, _ = Session.objects.filter(expire_date__lt=timezone.now()).delete()
        return deleted
    import_module(settings.SESSION_ENGINE).SessionStore.clear_expired()
    return 0


def _request_log(retention: timedelta) -> int:
    """The simulator's request log (``VPCSIM_REQUEST_LOG``), when the simulator runs here."""
    if not apps.is_installed("vpcsim"):
        return 0
    from vpcsim.models import RequestLog

    deleted, _ = RequestLog.objects.filter(created_at__lt=timezone.now() - retention).delete()
    return deleted


def purge(*, request_log_retention: timedelta | None = None) -> dict[str, int]:
    """Delete what is past its retention; returns how many rows of each kind went."""
    retention = request_log_retention or settings.VPCSIM_REQUEST_LOG_RETENTION
    return {"sessions": _sessions(), "simulator_requests": _request_log(retention)}
