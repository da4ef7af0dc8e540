"""Writers of the append-only history: one row per cloud call, one per status change.

**A call's row comes first.** :func:`open_call` commits the row (``outcome=sending``) before
the request is sent; if the database cannot take it, the request is not sent (the error
propagates from the client). :func:`record_call` then writes the outcome into that same row,
once, in the caller's transaction. If that write fails (the database went away while the
cloud answered), the row stays ``sending``: :func:`settle_lost_calls` (the sync job) marks it
``lost`` once the call can no longer be running, and the sync re-reads its peering as after a
lost answer. One request to the cloud is one row, whatever happens.
"""

from __future__ import annotations

from contextvars import ContextVar
from datetime import datetime
from typing import TYPE_CHECKING, Any

from peerings.choices import CallOperation, CallOutcome
from peerings.models import Peering, StatusChange, Tenant, UpstreamCall
from peerings.signals import status_changed
from peerings.storable import storable

if TYPE_CHECKING:
    from peerings.call_record import CallRecord

__all__ = [
    "LOST_CODE",
    "changes_sent",
    "open_call",
    "record_call",
    "record_status_change",
    "settle_lost_calls",
    "status_changed",
]

#: ``error_code`` of a row still ``sending``, and of one whose outcome was never written.
SENDING_CODE = "Sending"
LOST_CODE = "OutcomeNotRecorded"
SENDING_MESSAGE = "Sent to the cloud; its outcome is not recorded yet."
LOST_MESSAGE = (
    "The portal could not record this call's outcome (its database was unreachable): "
    "the cloud may have carried it out; the sync re-reads the peering."
)

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


def _text(value: str, limit: int | None = None) -> str:
    """``value`` made storable, cut to ``limit`` characters."""
    value = storable(value or "")
    return value if limit is None or len(value) <= limit else value[: limit - 1] + "…"


def _user(acting_user: Any) -> Any:
    return acting_user if getattr(acting_user, "is_authenticated", False) else None


def open_call(
    record: CallRecord, *, tenant: Tenant, acting_user: Any = None, peering: Peering | None = None
) -> UpstreamCall:
    """Save the row of a call about to be sent (``sending``), before anything goes on the wire.

    Called by the client (:class:`peerings.cloud.VpcApiClient`'s ``before_send``) outside any
    transaction, so the row is committed when this returns; ``record.row_id`` then names it.
    A database error propagates: the request is not sent.
    """
    row = UpstreamCall.objects.create(
        **_request(record, tenant=tenant, acting_user=acting_user, peering=peering),
        error_code=SENDING_CODE,
        error_message=SENDING_MESSAGE,
        outcome=CallOutcome.SENDING,
    )
    record.row_id = row.pk
    _count_if_changing(record)
    return row


def _request(
    record: CallRecord, *, tenant: Tenant, acting_user: Any, peering: Peering | None
) -> dict[str, Any]:
    """A call row's columns that say what was sent, by whom, with whose keys (made storable)."""
    return {
        "acting_user": _user(acting_user),
        "tenant": tenant,
        "peering": peering,
        "operation": record.operation,
        "method": record.method,
        "url": _text(record.url, 2048),
        "request_body": storable(record.request_body),
        "correlation_id": _text(record.correlation_id, 64),
    }


def _count_if_changing(record: CallRecord) -> None:
    """Count a changing call on its way to the cloud (:func:`changes_sent`)."""
    if record.operation in CHANGING_OPERATIONS:
        _changes_sent.set(_changes_sent.get() + 1)


def _outcome(record: CallRecord) -> dict[str, Any]:
    return {
        "status_code": record.status_code,
        "response_body": storable(record.response_body),
        "error_code": _text(record.error_code, 64),
        "error_message": _text(record.error_message),
        "duration_ms": max(0, int(record.duration_ms or 0)),
        "attempts": max(1, int(record.attempts or 1)),
        "cloud_request_id": _text(record.cloud_request_id, 128),
        "outcome": CallOutcome.RECORDED,
    }


def record_call(
    record: CallRecord,
    *,
    tenant: Tenant,
    acting_user: Any = None,
    peering: Peering | None = None,
) -> int:
    """Write the outcome of one cloud call; returns its row's id. ``tenant``: whose keys signed it.

    A call opened by :func:`open_call` gets its outcome in its own row; a record without a row
    (built by hand) gets a new one. Whatever the cloud answered is kept: NUL characters, lone
    surrogates and non-finite numbers, which PostgreSQL cannot store, are written as visible
    escapes (``\\u0000``).
    """
    outcome = _outcome(record)
    if record.row_id is not None:
        UpstreamCall.objects.filter(pk=record.row_id).settle(peering=peering, **outcome)
        return record.row_id
    _count_if_changing(record)  # a record built without open_call (its row is made now)
    row = UpstreamCall.objects.create(
        **_request(record, tenant=tenant, acting_user=acting_user, peering=peering),
        **outcome,
    )
    return row.pk


def settle_lost_calls(before: datetime) -> int:
    """Mark ``lost`` the rows still ``sending`` that were opened before ``before`` (by then the
    call has surely ended: its outcome could not be written). Returns how many."""
    return UpstreamCall.objects.filter(outcome=CallOutcome.SENDING, created_at__lt=before).settle(
        outcome=CallOutcome.LOST, error_code=LOST_CODE, error_message=LOST_MESSAGE
    )


def record_status_change(
    *, peering: Peering, old_status: str, new_status: str, actor: Any, reason: str, source: str
) -> StatusChange:
    """Save one status change of ``peering``."""
    change = StatusChange.objects.create(
        peering=peering,
        old_status=old_status,
        new_status=new_status,
        actor=_user(actor),
        reason=reason,
        source=source,
    )
    status_changed.send(sender=StatusChange, change=change)
    return change
