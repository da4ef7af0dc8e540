"""How long one call to the cloud can take: the retry arithmetic, written once.

The client (:class:`peerings.cloud.VpcApiClient`) waits between attempts with these caps, and
:meth:`~peerings.cloud.VpcApiClient.max_call_seconds` bounds a whole call with them; the
leases (:mod:`peerings.leases`) and the bulkhead's wait (:mod:`peerings.bulkhead`) are sized
from that bound with the client's settings (:func:`call_bound`).
"""

from __future__ import annotations

from django.conf import settings

__all__ = [
    "BACKOFF_CAP",
    "MARGIN_SECONDS",
    "RETRY_AFTER_CAP",
    "backoff_delay",
    "call_bound",
    "max_call_seconds",
]

#: The longest wait a ``Retry-After`` header can impose between two attempts, in seconds.
RETRY_AFTER_CAP = 10.0
#: The longest exponential backoff between two attempts, in seconds.
BACKOFF_CAP = 10.0
#: Added to every bound: scheduling, the database, clocks a little apart between servers.
MARGIN_SECONDS = 5.0


def backoff_delay(backoff: float, attempt: int) -> float:
    """The wait after failed attempt number ``attempt`` (1-based), before any ``Retry-After``."""
    return min(backoff * 2 ** (attempt - 1), BACKOFF_CAP)


def max_call_seconds(*, retries: int, connect_timeout: float, read_timeout: float, backoff: float) -> float:
    """The longest one logical call can take: every attempt's timeouts and the longest wait
    between attempts (a ``Retry-After`` may stretch a backoff up to its cap)."""
    attempts = 1 + max(0, retries)
    waits = sum(max(backoff_delay(backoff, i), RETRY_AFTER_CAP) for i in range(1, attempts))
    return attempts * (connect_timeout + read_timeout) + waits


def call_bound(*, retryable: bool = True) -> float:
    """The longest one call of a client built from the settings can take, with the margin: what
    :meth:`peerings.cloud.VpcApiClient.max_call_seconds` says for such a client."""
    return (
        max_call_seconds(
            retries=settings.VPC_API_RETRIES if retryable else 0,
            connect_timeout=settings.VPC_API_CONNECT_TIMEOUT,
            read_timeout=settings.VPC_API_READ_TIMEOUT,
            backoff=settings.VPC_API_BACKOFF,
        )
        + MARGIN_SECONDS
    )
