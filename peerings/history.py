"""Writers of the append-only history: one row per cloud call, one per status change."""

from __future__ import annotations

from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

from django.dispatch import Signal

from peerings.choices import CallOperation
from peerings.models import Peering, StatusChange, Tenant, UpstreamCall
from peerings.storable import storable

if TYPE_CHECKING:
    from peerings.cloud import CallRecord

__all__ = ["changes_sent", "record_call", "record_status_change", "status_changed"]

#: The calls that ask the cloud to change something (the others only read).
CHANGING_OPERATIONS = frozenset(
    {
        CallOperation.CREATE,
        CallOperation.UPDATE,
        CallOperation.ACCEPT,
        CallOperation.REJECT,
        CallOperation.DELETE,
        CallOperation.CREATE_ROUTE,
        CallOperation.DELETE_ROUTE,
    }
)
_changes_sent: ContextVar[int] = ContextVar("changes_sent", default=0)


def changes_sent() -> int:
    """How many changing cloud calls this thread (or task) has recorded: compare two readings
    to learn whether the work between them reached the cloud."""
    return _changes_sent.get()


#: Sent by :func:`record_status_change` with ``change`` (the new :class:`StatusChange`), inside
#: the workflow's transaction: a receiver's writes commit or roll back with the change
#: (the notifications outbox connects here).
status_changed = Signal()


def _text(value: str, limit: int | None = None) -> str:
    """``value`` made storable, cut to ``limit`` characters."""
    value = storable(value or "")
    return value if limit is None or len(value) <= limit else value[: limit - 1] + "…"


def record_call(
    record: CallRecord,
    *,
    tenant: Tenant,
    acting_user: Any = None,
    peering: Peering | None = None,
) -> UpstreamCall:
    """Save the audit row of one cloud call; ``tenant`` is the tenant whose keys signed it.

    Whatever the cloud answered is kept: NUL characters, lone surrogates and non-finite
    numbers, which PostgreSQL cannot store, are written as visible escapes (``\\u0000``).
    """
    user = acting_user if getattr(acting_user, "is_authenticated", False) else None
    if record.operation in CHANGING_OPERATIONS:
        _changes_sent.set(_changes_sent.get() + 1)
    return UpstreamCall.objects.create(
        acting_user=user,
        tenant=tenant,
        peering=peering,
        operation=record.operation,
        method=record.method,
        url=_text(record.url, 2048),
        request_body=storable(record.request_body),
        status_code=record.status_code,
        response_body=storable(record.response_body),
        error_code=_text(record.error_code, 64),
        error_message=_text(record.error_message),
        duration_ms=max(0, int(record.duration_ms or 0)),
        attempts=max(1, int(record.attempts or 1)),
        correlation_id=_text(record.correlation_id, 64),
        cloud_request_id=_text(record.cloud_request_id, 128),
    )


def record_status_change(
    *, peering: Peering, old_status: str, new_status: str, actor: Any, reason: str, source: str
) -> StatusChange:
    """Save one status change of ``peering``."""
    user = actor if getattr(actor, "is_authenticated", False) else None
    change = StatusChange.objects.create(
        peering=peering,
        old_status=old_status,
        new_status=new_status,
        actor=user,
        reason=reason,
        source=source,
    )
    status_changed.send(sender=StatusChange, change=change)
    return change
