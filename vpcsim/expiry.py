"""Lazy expiry: pending peerings older than ``VPCSIM_PENDING_EXPIRY_SECONDS`` become EXPIRED.

Applied (and persisted) before every read or write of the peering tables, so
moving the simulator's clock is enough to expire requests. ``updated_at`` of an
expired peering is the moment it expired.

:func:`expire_due` is what requests call: one statement reads the clock's offset and the
oldest pending peering's creation time, and the sweep (:func:`expire_pending`) runs only
when that peering is overdue. Nothing is remembered between requests, so every process
serving the simulator sees a moved clock or a new peering at once.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db.models import F
from django.utils import timezone

from vpcsim import clock, sql
from vpcsim.models import Peering, PeeringStatus

__all__ = ["expire_due", "expire_pending", "expiry_period"]

_DUE_SQL = """
SELECT (SELECT "offset" FROM vpcsim_simclock WHERE id = 1),
       (SELECT MIN(created_at) FROM vpcsim_peering WHERE status = %s)
"""


def expiry_period() -> dt.timedelta:
    return dt.timedelta(seconds=settings.VPCSIM_PENDING_EXPIRY_SECONDS)


def expire_pending(*, now: dt.datetime | None = None) -> int:
    """Mark overdue pending peerings EXPIRED; returns how many changed."""
    period = expiry_period()
    cutoff = (now or clock.now()) - period
    return Peering.objects.filter(status=PeeringStatus.PENDING_ACCEPTANCE, created_at__lt=cutoff).update(
        status=PeeringStatus.EXPIRED, updated_at=F("created_at") + period
    )


def expire_due() -> dt.datetime:
    """Expire overdue pending peerings if there are any; returns the simulator's current time.

    One statement when nothing is overdue (the usual case), the sweep as well otherwise.
    """
    offset, oldest = sql.fetchone(_DUE_SQL, [PeeringStatus.PENDING_ACCEPTANCE])
    now = timezone.now() + sql.to_duration(offset)
    if oldest is not None and sql.to_datetime(oldest) < now - expiry_period():
        expire_pending(now=now)
    return now
