"""The pending-acceptance deadline: the cloud expires a request nobody decides
``PENDING_EXPIRY_SECONDS`` after it was created there (``Peering.created_time``).

The model's ``expires_at``, the expiry job, the decision queue and the e-mails use these.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings

__all__ = ["expiring_soon", "pending_deadline", "warned_if_created_before"]


def _seconds(value: int | None, setting: str) -> timedelta:
    return timedelta(seconds=getattr(settings, setting) if value is None else value)


def pending_deadline(created: datetime, *, lifetime: int | None = None) -> datetime:
    """When a request created at ``created`` expires (``lifetime`` seconds, by default the setting)."""
    return created + _seconds(lifetime, "PENDING_EXPIRY_SECONDS")


def warned_if_created_before(
    now: datetime, *, lifetime: int | None = None, warning: int | None = None
) -> datetime:
    """The creation time at or before which a request's deadline is past or within ``warning``
    seconds of ``now`` (by default ``PENDING_EXPIRY_WARNING_SECONDS``): the expiry job's filter."""
    return (
        now
        - _seconds(lifetime, "PENDING_EXPIRY_SECONDS")
        + _seconds(warning, "PENDING_EXPIRY_WARNING_SECONDS")
    )


def expiring_soon(deadline: datetime, now: datetime, *, warning: int | None = None) -> bool:
    """Whether ``deadline`` is past or within ``warning`` seconds of ``now``."""
    return deadline - now <= _seconds(warning, "PENDING_EXPIRY_WARNING_SECONDS")
