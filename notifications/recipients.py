"""Who receives an event: the e-mail recipients (by role and by who acted) and the webhooks
(of the tenants that see the peering; the portal's own approval events only the requester's)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model

from notifications.models import Event, EventKind, WebhookEndpoint
from peerings import access
from peerings.choices import ChangeSource, Role, RouteSide
from peerings.models import Membership, Peering
from peerings.rules import duties

__all__ = ["REQUESTER_ONLY", "email_recipients", "webhook_endpoints"]

#: Events of the requester tenant's own approval, told to its webhooks only.
REQUESTER_ONLY = (EventKind.HELD, EventKind.APPROVED, EventKind.DECLINED)


def _approvers(tenant: Any) -> list[Any]:
    if tenant is None:
        return []
    return list(
        get_user_model()
        .objects.filter(memberships__tenant=tenant, memberships__role=Role.APPROVER, is_active=True)
        .order_by("pk")
        .distinct()
    )


def _deleted_by_other_side(event: Event, peering: Peering) -> bool:
    """A deletion the requester's side did not make: the accepter's people, or the cloud."""
    change = event.status_change
    if change is None or change.actor_id is None:
        return change is None or change.source == ChangeSource.SYNC
    actor_tenants = Membership.objects.filter(user_id=change.actor_id).values_list("tenant_id", flat=True)
    return RouteSide.REQUESTER not in access.sides_of(set(actor_tenants), peering)


def email_recipients(event: Event) -> list[Any]:
    peering = event.peering
    if peering is None:
        return []
    if event.kind in (EventKind.REQUESTED, EventKind.EXPIRING):
        return _approvers(peering.accepter_tenant)
    requester = peering.requested_by
    if (
        event.kind == EventKind.HELD
    ):  # those who may approve it (not its requester, where duties are separate)
        return [user for user in _approvers(peering.requester_tenant) if duties.may_approve(user.pk, peering)]
    if requester is None or not requester.is_active:
        return []
    if event.kind == EventKind.DELETED and not _deleted_by_other_side(event, peering):
        return []
    change = event.status_change
    if event.kind in (EventKind.ACCEPTED, EventKind.APPROVED) and change and change.actor_id == requester.pk:
        return []  # nothing to tell the person who did it
    if event.kind in (
        EventKind.ACCEPTED,
        EventKind.REJECTED,
        EventKind.EXPIRED,
        EventKind.FAILED,
        EventKind.DELETED,
        EventKind.APPROVED,
        EventKind.DECLINED,
    ):
        return [requester]
    return []


def webhook_endpoints(event: Event) -> list[WebhookEndpoint]:
    if event.kind == EventKind.TEST:
        return [event.endpoint] if event.endpoint is not None else []
    peering = event.peering
    if peering is None:
        return []
    if event.kind in REQUESTER_ONLY:  # the portal's gate: the peer has not been asked
        tenants = {peering.requester_tenant_id}
    else:
        tenants = access.seeing_tenant_ids(peering)  # a request held back is its requester's alone
    return [
        endpoint
        for endpoint in WebhookEndpoint.objects.filter(tenant__in=tenants, is_active=True).order_by("pk")
        if endpoint.wants(event.kind)
    ]
