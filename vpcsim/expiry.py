"""Lazy expiry: pending peerings older than ``VPCSIM_PENDING_EXPIRY_SECONDS`` become EXPIRED.

Applied (and persisted) before every read or write of the peering tables, so
moving the simulator's clock is enough to expire requests. ``updated_at`` of an
expired peering is the moment it expired.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db.models import F

from vpcsim import clock
from vpcsim.models import Peering, PeeringStatus

__all__ = ["expire_pending", "expiry_period"]


def expiry_period() -> dt.timedelta:
    return dt.timedelta(seconds=settings.VPCSIM_PENDING_EXPIRY_SECONDS)


def expire_pending(*, now: dt.datetime | None = None) -> int:
    """Mark overdue pending peerings EXPIRED; returns how many changed."""
    period = expiry_period()
    cutoff = (now or clock.now()) - period
    return Peering.objects.filter(status=PeeringStatus.PENDING_ACCEPTANCE, created_at__lt=cutoff).update(
        status=PeeringStatus.EXPIRED, updated_at=F("created_at") + period
    )
