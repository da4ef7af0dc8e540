"""The outbox: an event row written in the transaction of the change it reports.

:func:`peerings.history.record_status_change` sends ``status_changed`` inside the workflow's
transaction; :func:`on_status_change` writes the :class:`Event` there, so the event exists if
and only if the change committed, and queues its delivery with ``transaction.on_commit``
(never inside a request's transaction). The expire job's ``pending_expiring`` signal writes
one reminder event per peering.
"""

from __future__ import annotations

import logging
from typing import Any

from django.db import IntegrityError, transaction

from notifications.models import Event, EventKind
from peerings.choices import PeeringStatus as S
from peerings.models import Peering, StatusChange
from peerings.signals import pending_expiring, status_changed

__all__ = ["connect", "event_for_change", "payload_for", "queue_delivery"]

logger = logging.getLogger("notifications")

#: The event a status change is, by its new status (``None``: nothing to tell).
KIND_BY_STATUS = {
    S.PENDING_ACCEPTANCE: EventKind.REQUESTED,
    S.ACTIVE: EventKind.ACCEPTED,
    S.REJECTED: EventKind.REJECTED,
    S.EXPIRED: EventKind.EXPIRED,
    S.DELETED: EventKind.DELETED,
    S.FAILED: EventKind.FAILED,
    S.AWAITING_APPROVAL: EventKind.HELD,
    S.DECLINED: EventKind.DECLINED,
}


def _user(user: Any) -> dict | None:
    return {"id": user.pk, "username": user.get_username()} if user is not None else None


def _tenant(tenant: Any) -> dict | None:
    return {"id": tenant.pk, "name": tenant.name, "project_id": tenant.project_id} if tenant else None


def payload_for(peering: Peering, change: StatusChange | None = None) -> dict:
    """What the event says: the peering as the change leaves it, and the change (who, why)."""
    data: dict[str, Any] = {
        "peering": {
            "id": peering.pk,
            # The cloud's id, named as in the API; "upstream_id" is its deprecated name (until 0.3.0).
            "peering_id": peering.upstream_id,
            "upstream_id": peering.upstream_id,
            "name": peering.name,
            "description": peering.description,
            "status": peering.status,
            "requester": {
                "tenant": _tenant(peering.requester_tenant),
                "project_id": peering.requester_project_id,
                "vpc_id": str(peering.requester_vpc_id),
            },
            "accepter": {
                "tenant": _tenant(peering.accepter_tenant),
                "project_id": peering.accepter_project_id,
                "vpc_id": str(peering.accepter_vpc_id),
            },
            "requested_by": _user(peering.requested_by),
            "error_code": peering.error_code,
            "error_message": peering.error_message,
            "created_at": peering.created_at.isoformat() if peering.created_at else None,
            "upstream_created_at": (
                peering.upstream_created_at.isoformat() if peering.upstream_created_at else None
            ),
        }
    }
    if change is not None:
        data["change"] = {
            "id": change.pk,
            "old_status": change.old_status,
            "new_status": change.new_status,
            "actor": _user(change.actor),
            "reason": change.reason,
            "source": change.source,
            "at": change.created_at.isoformat(),
        }
    return data


def queue_delivery(event: Event) -> None:
    """Deliver ``event`` from a Celery task once the current transaction commits."""
    from notifications.tasks import deliver_event
    from peerings.tasks import enqueue

    enqueue(deliver_event, event.pk)


def event_for_change(change: StatusChange) -> Event | None:
    kind = KIND_BY_STATUS.get(change.new_status)
    if change.old_status == S.AWAITING_APPROVAL and change.new_status == S.SUBMITTING:
        kind = EventKind.APPROVED  # approved in the portal, on its way to the cloud
    if kind is None:
        return None
    peering = change.peering
    event = Event.objects.create(
        kind=kind, peering=peering, status_change=change, payload=payload_for(peering, change)
    )
    queue_delivery(event)
    return event


def on_status_change(sender: Any, change: StatusChange, **kwargs: Any) -> None:
    event_for_change(change)


def on_pending_expiring(sender: Any, peerings: list[Peering], expired: list[Peering], **kwargs: Any) -> None:
    """One reminder per peering still pending near its expiry (a second run finds it sent)."""
    for peering in peerings:
        if Event.objects.filter(peering=peering, kind=EventKind.EXPIRING).exists():
            continue
        try:
            with transaction.atomic():
                event = Event.objects.create(
                    kind=EventKind.EXPIRING, peering=peering, payload=payload_for(peering)
                )
                queue_delivery(event)
        except IntegrityError:  # another run wrote it meanwhile
            continue


def connect() -> None:
    status_changed.connect(on_status_change, dispatch_uid="notifications.on_status_change")
    pending_expiring.connect(on_pending_expiring, dispatch_uid="notifications.on_pending_expiring")
