"""What a user may do to a peering or a tenant: the one source of these rules.

The workflow asks :func:`check` before it sends anything; the pages and the admin show
the buttons of :func:`allowed_actions`, and the REST API lists them on each peering, so
what is offered is exactly what the workflow would accept. The acting user is passed in
as an :class:`Actor` (their id and ``{tenant id: role}``, :func:`actor_for`), so a list
of peerings costs one query for the user's roles, not one per row.

The rules:

* **accept, reject**: an approver of the accepter tenant, on a peering pending
  acceptance that the cloud has confirmed; where the accepter tenant separates duties
  (the default), not the person who requested it;
* **update**: a member of either side, on a live peering the cloud has confirmed;
* **refresh, delete**: a member of either side, on a live peering; while the cloud has
  not confirmed the request (no cloud id), only the requester's members, whose request
  it is and whose keys complete or withdraw it; a request pending acceptance may be
  deleted by the requester's members (a withdrawal) or the accepter's approvers (deleting
  it is a rejection without a reason, so plain members of the accepter may not);
* **approve, decline** (the portal's own gate, see :mod:`peerings.approval`): an approver of
  the requester tenant or a portal admin (a superuser), on a request awaiting approval;
  where the requester tenant separates duties, not the person who requested it — a
  superuser included (there is no override);
* a request awaiting approval is not in the cloud: it cannot be refreshed or updated, and
  deleting it (the requester's members) withdraws it without a call;
* **apply_routes, remove_routes**: a member (any role) of a side's tenant, for the routes in
  that side's VPC only (with that side's keys), on an active peering the cloud has confirmed;
  the sync and its jobs act for either side (:func:`route_denial`, :func:`route_sides`);
* a request held or declined in the portal was never sent to the accepter's side: its
  members are outsiders to it;
* and none of them while another operation on the peering is in flight (a lease).

Membership is checked before the status, so an outsider learns nothing about a
peering's state. Superusers have no tenant roles of their own: they act as members, except that as portal
admins they may approve or decline held requests (separation of duties binds them as anyone).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from django.utils import timezone

from peerings import access, leases, selectors
from peerings.choices import NOT_SENT_STATUSES, TERMINAL_STATUSES, PeeringStatus, Role, RouteSide
from peerings.exceptions import InvalidState, NotPermitted, OperationInFlight, PortalError
from peerings.models import Peering, Tenant
from peerings.routes.messages import NO_SIDE_TENANT, NOT_ACTIVE, NOT_YOUR_SIDE
from peerings.rules import duties
from peerings.rules.messages import (
    GONE,
    HELD_NOT_IN_CLOUD,
    IN_FLIGHT,
    NOT_A_MEMBER,
    NOT_A_REQUESTER_APPROVER,
    NOT_A_TENANT_MEMBER,
    NOT_AN_APPROVER,
    NOT_AN_APPROVER_TO_DELETE,
    NOT_CREATED_YET,
    NOT_HELD,
    NOT_PENDING,
    NOT_REQUESTER,
    NOT_THE_REQUESTER_TO_APPROVE,
    NOT_THE_REQUESTER_TOO,
)

__all__ = [
    "DECISIONS",
    "GATE",
    "ROUTE_ACTIONS",
    "SYSTEM",
    "Action",
    "Actor",
    "acting_tenant",
    "actor_for",
    "allowed_actions",
    "check",
    "check_tenant",
    "cidr_shown",
    "denial",
    "in_flight_refusal",
    "may_see_cidrs",
    "peering_cidr_shown",
    "route_denial",
    "route_sides",
    "route_tenant",
]


@dataclass(frozen=True)
class Actor:
    """Who acts: a user's id, their roles (``{tenant id: role}``) and whether they are a portal admin."""

    user_id: int | None
    roles: Mapping[int, str] = field(default_factory=dict)
    superuser: bool = False

    @classmethod
    def of(cls, user: Any, tenant_ids: Any = None, *, roles: Mapping[int, str] | None = None) -> Actor:
        """``user`` with their roles (only in ``tenant_ids`` when given; ``roles`` if already read)."""
        superuser = bool(getattr(user, "is_superuser", False) and getattr(user, "is_active", False))
        if roles is None:
            roles = selectors.user_roles(user, tenant_ids)
        return cls(getattr(user, "pk", None), roles, superuser)


#: The portal itself (the sync job): no membership needed, status rules apply.
SYSTEM: Actor | None = None


class Action(StrEnum):
    """What can be done to an existing peering."""

    ACCEPT = "accept"
    REJECT = "reject"
    UPDATE = "update"
    REFRESH = "refresh"
    DELETE = "delete"
    APPROVE = "approve"
    DECLINE = "decline"
    APPLY_ROUTES = "apply_routes"
    REMOVE_ROUTES = "remove_routes"

    @property
    def past(self) -> str:
        special = {
            "reject": "rejected",
            "refresh": "refreshed",
            "apply_routes": "applied the routes of",
            "remove_routes": "removed the routes of",
        }
        if self.value in special:
            return special[self.value]
        return f"{self.value}d" if self.value.endswith("e") else f"{self.value}ed"


#: The cloud's decision on a request (the accepter tenant's).
DECISIONS = frozenset({Action.ACCEPT, Action.REJECT})
#: The portal's decision on a held request (the requester tenant's), before the cloud sees it.
GATE = frozenset({Action.APPROVE, Action.DECLINE})
ROUTE_ACTIONS = frozenset({Action.APPLY_ROUTES, Action.REMOVE_ROUTES})
SIDES = (RouteSide.REQUESTER, RouteSide.ACCEPTER)


def actor_for(user: Any, peering: Peering) -> Actor:
    """``user`` with their roles in the two tenants of ``peering``."""
    return Actor.of(user, [peering.requester_tenant_id, peering.accepter_tenant_id])


def denial(action: Action, peering: Peering, actor: Actor | None, *, now: Any = None) -> PortalError | None:
    """Why ``actor`` may not take ``action`` on ``peering`` now, or ``None``."""
    system = actor is None
    requester = None if system else actor.roles.get(peering.requester_tenant_id)
    accepter = None
    if not system and peering.accepter_tenant_id is not None:
        accepter = actor.roles.get(peering.accepter_tenant_id)
    pending = peering.status == PeeringStatus.PENDING_ACCEPTANCE
    held = peering.status == PeeringStatus.AWAITING_APPROVAL
    if peering.status in NOT_SENT_STATUSES:
        accepter = None  # not sent to the peer: its members are outsiders (access.held_back)
    if action in ROUTE_ACTIONS:
        refusals = [route_denial(action, peering, actor, side, now=now) for side in SIDES]
        return None if None in refusals else _first_refusal(refusals)
    if action in GATE:
        if not system and not actor.superuser and requester != Role.APPROVER:
            return NotPermitted(NOT_A_REQUESTER_APPROVER)
        if (  # separation of duties binds superusers too: there is no override
            not system and action == Action.APPROVE and not duties.may_approve(actor.user_id, peering)
        ):
            return NotPermitted(NOT_THE_REQUESTER_TO_APPROVE)
        if not held:
            return InvalidState(NOT_HELD.format(verb=action.past, status=_status_label(peering)))
    elif action in DECISIONS:
        if peering.status in NOT_SENT_STATUSES and (system or requester is not None):
            # The requester's side sees it: not yet (or never) sent, there is nothing to decide.
            return InvalidState(NOT_PENDING.format(verb=action.past, status=_status_label(peering)))
        if not system and accepter != Role.APPROVER:
            return NotPermitted(NOT_AN_APPROVER)
        if not system and action == Action.ACCEPT and not duties.may_accept(actor.user_id, peering):
            return NotPermitted(NOT_THE_REQUESTER_TOO)
        if not pending or not peering.upstream_id:
            return InvalidState(NOT_PENDING.format(verb=action.past, status=_status_label(peering)))
    else:
        if not system and requester is None and accepter is None:
            return NotPermitted(NOT_A_MEMBER)
        if peering.status in TERMINAL_STATUSES:
            return InvalidState(GONE.format(status=_status_label(peering)))
        if held and action == Action.REFRESH:
            return InvalidState(HELD_NOT_IN_CLOUD)
        if not peering.upstream_id:
            if action == Action.UPDATE:
                return InvalidState(NOT_CREATED_YET)
            if not system and requester is None:
                return NotPermitted(NOT_REQUESTER)
        if (
            action == Action.DELETE
            and pending
            and not system
            and requester is None
            and accepter != Role.APPROVER
        ):
            return NotPermitted(NOT_AN_APPROVER_TO_DELETE)
    return in_flight_refusal(peering, now)


def in_flight_refusal(peering: Peering, now: Any = None) -> OperationInFlight | None:
    """The refusal while another operation on ``peering`` holds its lease at ``now``, or ``None``."""
    now = now or timezone.now()
    if not leases.held(peering, now):
        return None
    wait = math.ceil((peering.inflight_until - now).total_seconds())
    message = IN_FLIGHT.format(operation=peering.inflight_operation)
    return OperationInFlight(message, retry_after=wait, peering=peering)


def _status_label(peering: Peering) -> str:
    """The status's display name, cheaply: ``allowed_actions`` builds a refusal per action and row,
    and ``get_status_display`` rebuilds the field's choices each time."""
    try:
        return str(PeeringStatus(peering.status).label)
    except ValueError:  # not a status this code knows: shown as stored, as get_status_display does
        return str(peering.status)


def _first_refusal(refusals: list[PortalError | None]) -> PortalError | None:
    """The refusal to give when no side allows it: the user's own side's, if they have one."""
    for kind in (OperationInFlight, InvalidState):
        found = next((r for r in refusals if isinstance(r, kind)), None)
        if found is not None:
            return found
    return next((r for r in refusals if r is not None), None)


def _side_tenant_id(peering: Peering, side: str) -> int | None:
    return peering.requester_tenant_id if side == RouteSide.REQUESTER else peering.accepter_tenant_id


def route_denial(
    action: Action, peering: Peering, actor: Actor | None, side: str, *, now: Any = None
) -> PortalError | None:
    """Why ``actor`` may not apply or remove routes in ``side``'s VPC of ``peering`` now, or ``None``.

    Membership first (of either side, then of this side), then the portal's keys for that
    side, then the status, then the lease.
    """
    if actor is not None:
        mine = access.sides_of(actor.roles, peering)
        if not mine:
            return NotPermitted(NOT_A_MEMBER)
        if side not in mine:
            return NotPermitted(NOT_YOUR_SIDE)
    if _side_tenant_id(peering, side) is None:
        return InvalidState(NO_SIDE_TENANT)
    if peering.status != PeeringStatus.ACTIVE or not peering.upstream_id:
        return InvalidState(NOT_ACTIVE.format(status=_status_label(peering).lower()))
    return in_flight_refusal(peering, now)


def route_sides(peering: Peering, actor: Actor | None, action: Action = Action.APPLY_ROUTES) -> list[str]:
    """The sides whose routes ``actor`` may apply (or remove) on ``peering`` now."""
    return [side for side in SIDES if route_denial(action, peering, actor, side) is None]


def route_tenant(peering: Peering, side: str) -> Tenant:
    """The tenant whose keys manage the routes in ``side``'s VPC (call after :func:`route_denial`)."""
    tenant = peering.requester_tenant if side == RouteSide.REQUESTER else peering.accepter_tenant
    if tenant is None:
        raise InvalidState(NO_SIDE_TENANT)
    return tenant


def check(action: Action, peering: Peering, actor: Actor | None) -> None:
    """Raise ``NotPermitted`` / ``InvalidState`` unless ``action`` is allowed now."""
    refusal = denial(action, peering, actor)
    if refusal is not None:
        raise refusal


def allowed_actions(peering: Peering, actor: Actor, *, now: Any = None) -> frozenset[Action]:
    """The actions ``actor`` may take on ``peering`` now (what the fronts offer)."""
    now = now or timezone.now()
    return frozenset(action for action in Action if denial(action, peering, actor, now=now) is None)


def acting_tenant(action: Action, peering: Peering, actor: Actor | None) -> Tenant:
    """The tenant whose keys carry ``action`` out (call after :func:`check`).

    Decisions: the accepter's. A request the cloud has not confirmed (approving a held one
    sends its create), and the portal's own reads: the requester's. Otherwise the
    requester's if the user is a member of it, else the accepter's.
    """
    if action in DECISIONS:
        return peering.accepter_tenant
    if actor is None or not peering.upstream_id:
        return peering.requester_tenant
    if RouteSide.REQUESTER in access.sides_of(actor.roles, peering):
        return peering.requester_tenant
    return peering.accepter_tenant


def may_see_cidrs(user: Any, tenant: Tenant | None) -> bool:
    """Whether ``user`` may learn ``tenant``'s VPC address ranges: members of it only.

    Need to know: anyone signed in may find a peer tenant's VPCs by name (to request a
    peering with one), but only the tenant's own members see their CIDR blocks — on the
    request form, a peering's page, lists, the dashboard and the REST API alike.
    """
    return tenant is not None and selectors.membership_role(user, tenant) is not None


def cidr_shown(side: str, accepter_tenant_id: int | None, tenant_ids: Any) -> bool:
    """Whether the ``side`` ("requester" or "accepter") VPC's range of a peering whose accepter
    tenant is ``accepter_tenant_id`` is shown to a member of ``tenant_ids`` (who may see it at all).

    The requester's range is shown to both sides (the accepter's approvers judge a request
    by it); the accepter's only to members of the accepter tenant, as on the request form.
    Rows read as plain values (the map, the search, the inventory) ask here directly.
    """
    if side == "requester":
        return True
    return accepter_tenant_id is not None and accepter_tenant_id in tenant_ids


def peering_cidr_shown(peering: Peering, side: str, tenant_ids: Any) -> bool:
    """:func:`cidr_shown` for a peering."""
    return cidr_shown(side, peering.accepter_tenant_id, tenant_ids)


def check_tenant(user: Any, tenant: Tenant, *, roles: Mapping[int, Role] | None = None) -> None:
    """Raise ``NotPermitted`` unless ``user`` is a member of ``tenant`` (to request, to list its VPCs).

    ``roles``: ``{tenant id: role}`` (:func:`peerings.selectors.user_roles`) when the caller has them.
    """
    role = selectors.membership_role(user, tenant) if roles is None else roles.get(tenant.pk)
    if role is None:
        raise NotPermitted(NOT_A_TENANT_MEMBER)
