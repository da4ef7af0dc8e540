"""One operation in flight per peering: a lease kept on the peering's row.

The workflow takes a lease (in the transaction that locks the row) before it sends a
create, a decision or a delete, and gives it back in the transaction that records the
answer. While a lease is held, every other write to the peering is refused before
anything is sent, and no read concludes anything about it. A process that dies
mid-call never blocks a peering for good: its lease expires.

How long a lease lasts comes from the client's own limits (:func:`call_bound`): a call
cannot be waited on for longer than its attempts, timeouts and backoffs allow. When an
answer is lost (a timeout, a dropped connection, a gateway timeout), the request may
still be on its way, so the lease is *held* for :func:`landing_bound` more before anyone
may conclude that the request will never land.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from peerings.call_bounds import MARGIN_SECONDS, call_bound
from peerings.models import Peering

__all__ = ["acquire", "call_bound", "extend", "held", "hold", "landing_bound", "release"]


LEASE_FIELDS = ["inflight_operation", "inflight_token", "inflight_until", "revision"]


def landing_bound() -> float:
    """How long a request whose answer was lost may still land in the cloud, in seconds."""
    return settings.VPC_API_READ_TIMEOUT + MARGIN_SECONDS


def held(peering: Peering, now: datetime | None = None) -> bool:
    """Whether an operation is in flight on ``peering`` (as last read)."""
    until = peering.inflight_until
    return bool(peering.inflight_token) and until is not None and until > (now or timezone.now())


def acquire(peering: Peering, operation: str, *, seconds: float) -> str:
    """Take the lease on a locked, free ``peering`` (the caller saves); returns its token."""
    token = uuid.uuid4().hex
    peering.inflight_operation = operation
    peering.inflight_token = token
    peering.inflight_until = timezone.now() + timedelta(seconds=seconds)
    peering.revision += 1
    return token


def extend(peering: Peering, token: str, *, seconds: float) -> None:
    """Push the lease's end ``seconds`` from now, if ``token`` still holds it (before another call)."""
    until = timezone.now() + timedelta(seconds=seconds)
    Peering.objects.filter(pk=peering.pk, inflight_token=token).update(inflight_until=until)
    if peering.inflight_token == token:
        peering.inflight_until = until


def hold(peering: Peering, token: str, *, seconds: float) -> None:
    """Keep the lease ``seconds`` more: a request whose answer was lost may still land (caller saves)."""
    if token and peering.inflight_token == token:
        peering.inflight_until = timezone.now() + timedelta(seconds=seconds)


def release(peering: Peering, token: str) -> None:
    """Give the lease back, if ``token`` still holds it (the caller saves)."""
    if token and peering.inflight_token == token:
        peering.inflight_operation = peering.inflight_token = ""
        peering.inflight_until = None
