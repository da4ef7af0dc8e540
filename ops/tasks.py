"""The platform's own periodic job: purging what is past its retention (see :mod:`ops.retention`)."""

from __future__ import annotations

from celery import shared_task

from ops import retention, runs

__all__ = ["purge_retention"]


@shared_task(name="ops.purge_retention")
def purge_retention() -> dict[str, int]:
    """Expired sessions and old simulator request-log rows (idempotent deletes by age)."""
    with runs.track("purge_retention"):
        return retention.purge()
