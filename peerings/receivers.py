"""The peerings app's own after-commit work, registered on :mod:`peerings.signals`."""

from __future__ import annotations

from typing import Any

from peerings.choices import PeeringStatus
from peerings.models import StatusChange
from peerings.signals import status_changed
from peerings.tasks import apply_routes_on_accept, enqueue

__all__ = ["connect", "queue_routes_on_accept"]


def queue_routes_on_accept(sender: Any, change: StatusChange, **kwargs: Any) -> None:
    """A peering became active and its request asked for routes: each side's routes are added by
    a job with that side's keys, queued after the commit."""
    peering = change.peering
    if change.new_status != PeeringStatus.ACTIVE or not peering.routes_on_accept:
        return
    for side, tenant_id in (
        ("requester", peering.requester_tenant_id),
        ("accepter", peering.accepter_tenant_id),
    ):
        if tenant_id is not None:
            enqueue(apply_routes_on_accept, peering.pk, side)


def connect() -> None:
    status_changed.connect(queue_routes_on_accept, dispatch_uid="peerings.queue_routes_on_accept")
