"""A record of every background job run: how many succeeded and failed, and when last (``JobStatus``).

:func:`track` wraps a run; the jobs under a lease get it from :func:`ops.locks.job_lock`, the
others (purges, the notification sweep) use it directly. ``/metrics`` reads the rows.
Recording never fails a job: a row that cannot be written is logged.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

from django.db import DatabaseError, IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from ops.models import JobStatus

__all__ = ["record", "track"]

logger = logging.getLogger("ops.runs")


def _update(name: str, **fields: object) -> None:
    if JobStatus.objects.filter(name=name).update(**fields):
        return
    try:
        with transaction.atomic():
            JobStatus.objects.create(name=name)
    except IntegrityError:
        pass  # created meanwhile by another run
    JobStatus.objects.filter(name=name).update(**fields)


def record(name: str, *, ok: bool | None, error: str = "") -> None:
    """Record that a run of ``name`` started (``ok=None``), succeeded or failed."""
    now = timezone.now()
    if ok is None:
        fields: dict[str, object] = {"last_started_at": now}
    elif ok:
        fields = {"successes": F("successes") + 1, "last_success_at": now}
    else:
        fields = {"failures": F("failures") + 1, "last_failure_at": now, "last_error": error[:2000]}
    try:
        with transaction.atomic():  # a failed write never breaks a transaction around it
            _update(name, **fields)
    except DatabaseError:
        logger.warning("could not record a run of job %s", name, exc_info=True, extra={"job": name})


@contextmanager
def track(name: str) -> Iterator[None]:
    """Record the run of ``name`` in the block: a success, or a failure if it raises."""
    record(name, ok=None)
    try:
        yield
    except BaseException as exc:
        record(name, ok=False, error=f"{type(exc).__name__}: {exc}")
        raise
    record(name, ok=True)
