"""Bounds on the history exports: rows per export, and exports running at once per user.

An export answers at most ``HISTORY_EXPORT_MAX_ROWS`` rows (the response says so, and whether
rows were left out: :data:`ROW_LIMIT_HEADER`, :data:`TRUNCATED_HEADER`). A user runs at most
``HISTORY_EXPORT_PER_USER`` exports at once, whichever app server serves them: each running
export holds one of the user's slots, a lease in the database (:mod:`ops.locks`), extended while
it streams and given back when the response is closed, or ``HISTORY_EXPORT_LEASE_SECONDS``
after its server stopped extending it (a crash, or a client that stopped reading). Another
export while every slot is held is refused at once (:class:`ExportsBusy`: 429 with
``Retry-After`` in the API) instead of taking one more of the server's threads.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db.models import Min
from django.utils import timezone

from ops import locks
from ops.models import JobLock

__all__ = [
    "RETRY_AFTER_MAX",
    "ROW_LIMIT_HEADER",
    "TRUNCATED_HEADER",
    "ExportsBusy",
    "HeldStream",
    "row_limit",
    "take_slot",
]

logger = logging.getLogger(__name__)

#: Response headers: the most rows an export answers, and whether this one left rows out.
ROW_LIMIT_HEADER = "X-Export-Row-Limit"
TRUNCATED_HEADER = "X-Export-Truncated"
#: The longest ``Retry-After`` given: a running export frees its slot as soon as it ends, which
#: the lease's expiry (pushed on while it streams) does not tell.
RETRY_AFTER_MAX = 10


class ExportsBusy(Exception):
    """Every export slot of the user is held; ``retry_after`` seconds until one may free up."""

    def __init__(self, retry_after: int, slots: int) -> None:
        self.retry_after = retry_after
        self.slots = slots
        running = "an export" if slots == 1 else f"{slots} exports"
        super().__init__(f"You already have {running} running; wait for it to finish.")


def row_limit() -> int:
    """The most rows one export answers."""
    return max(1, int(settings.HISTORY_EXPORT_MAX_ROWS))


def _slots() -> int:
    return max(1, int(settings.HISTORY_EXPORT_PER_USER))


def _ttl() -> timedelta:
    return timedelta(seconds=max(1, int(settings.HISTORY_EXPORT_LEASE_SECONDS)))


def _slot_names(user: Any) -> list[str]:
    return [f"history-export:user-{user.pk}:{slot}" for slot in range(_slots())]


def take_slot(user: Any) -> locks.Lease:
    """One of ``user``'s export slots, held until released; :class:`ExportsBusy` if all are held."""
    names = _slot_names(user)
    ttl = _ttl()
    for name in names:
        lease = locks.acquire(name, ttl=ttl)
        if lease is not None:
            return lease
    soonest = JobLock.objects.filter(name__in=names).aggregate(at=Min("expires_at"))["at"]
    left = (soonest - timezone.now()).total_seconds() if soonest else 1
    raise ExportsBusy(min(max(1, math.ceil(left)), RETRY_AFTER_MAX), len(names))


class HeldStream(Iterator[str]):
    """``pieces`` of an export, holding ``lease`` while they are read: extended as they go, given
    back at the end or when the response is closed (the server closes it, whatever happened)."""

    def __init__(self, pieces: Iterator[str], lease: locks.Lease) -> None:
        self._pieces = pieces
        self._lease: locks.Lease | None = lease

    def __iter__(self) -> HeldStream:
        return self

    def __next__(self) -> str:
        try:
            piece = next(self._pieces)
        except StopIteration:
            self.close()
            raise
        if self._lease is not None:
            try:
                self._lease.heartbeat()
            except locks.LeaseLost:
                logger.warning("an export outlived its slot %s; it goes on without it", self._lease.name)
                self._lease = None
        return piece

    def close(self) -> None:
        lease, self._lease = self._lease, None
        if lease is not None:
            lease.release()
        close = getattr(self._pieces, "close", None)
        if close is not None:
            close()
