"""The simulator's clock: real time plus an offset stored in the database.

The offset lives in one :class:`~vpcsim.models.SimClock` row, so a test that
moves the clock is seen by every thread and process serving the simulator
(the live-server thread included). Request signatures are always checked
against real wall-clock time, never this clock.
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone

from vpcsim import sql
from vpcsim.models import SimClock
from vpcsim.store import DB

__all__ = ["advance", "now", "offset", "reset", "set_offset"]


def offset() -> dt.timedelta:
    """How far the simulator's clock runs ahead of real time (one hand-written statement)."""
    row = sql.fetchone('SELECT "offset" FROM vpcsim_simclock WHERE id = 1')
    return sql.to_duration(row[0] if row else None)


def now() -> dt.datetime:
    """The simulator's current time (timezone-aware, UTC)."""
    return timezone.now() + offset()


def set_offset(delta: dt.timedelta) -> None:
    SimClock.objects.update_or_create(pk=1, defaults={"offset": delta})


def advance(delta: dt.timedelta) -> dt.datetime:
    """Move the clock forward by ``delta``; returns the new simulator time."""
    with transaction.atomic(using=DB):
        clock, _ = SimClock.objects.select_for_update().get_or_create(pk=1)
        clock.offset += delta
        clock.save(update_fields=["offset"])
    return now()


def reset() -> None:
    """Put the clock back on real time."""
    set_offset(dt.timedelta(0))
