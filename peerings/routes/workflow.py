"""Routes over an active peering: the plan, applying and removing them, and re-reading them (drift).

A peering carries no traffic until each VPC has a route to the other's range through it. Each
side's routes live in that side's VPC and are managed **with that side's keys only**, by its
members (:func:`peerings.permissions.route_denial`) or by the portal's own jobs. The routes
the portal knows are mirrored as :class:`~peerings.models.PeeringRoute` rows, each event of
theirs as an append-only :class:`~peerings.models.RouteChange`, each call as an ``UpstreamCall``
of the peering.

Applying and removing are workflow operations like the others (:mod:`peerings.workflow`):

1. **Begin**: lock the peering, check the action for that side, take the peering's lease.
2. **Read**: list the side VPC's routes (every page, recorded) and bring the mirror up to date
   with them (routes added or removed outside the portal, a create whose answer was lost).
3. **Plan**: :func:`peerings.routes.plan.plan_routes`; any conflict and nothing is sent.
4. **Send**: one call per route, each recorded with its outcome on the route in one transaction.
   The first failure stops the run: the routes applied so far are ``applied``, the failed one
   ``failed`` (or ``unknown`` when its answer was lost: the lease is then held until it can no
   longer land, and the next read settles it), the rest were not sent.
5. **End**: give the lease back.

A plan is a read: it lists the routes of the sides the user belongs to, with their keys (recorded
calls), and changes nothing. :func:`routes_sync` is the sync job's re-read of both sides.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from peerings import bulkhead, leases, operations, permissions
from peerings.choices import ChangeSource, PeeringStatus, RouteEvent, RouteSide, RouteState
from peerings.exceptions import (
    CloudError,
    CloudRefused,
    InvalidState,
    NotPermitted,
    OperationInFlight,
    RequestInvalid,
)
from peerings.models import Peering, PeeringRoute, Tenant
from peerings.operations import Operation
from peerings.permissions import SIDES, Action
from peerings.routes.messages import (
    BLOCKED,
    NO_DESTINATIONS,
    NOT_ACTIVE,
    PEER_RANGE_UNKNOWN,
    ROUTE_NOT_LIVE,
    TOO_MANY,
)
from peerings.routes.plan import ProposedRoute, network, plan_routes
from peerings.routes.records import describe, record_route_change, set_state
from peerings.rules.limits import MAX_DESTINATIONS

__all__ = [
    "LEASE",
    "RouteOutcome",
    "SidePlan",
    "default_destinations",
    "routes_apply",
    "routes_plan",
    "routes_remove",
    "routes_sync",
    "side_vpc",
]

logger = logging.getLogger("peerings.routes")

#: The lease's operation while routes are applied or removed.
LEASE = "routes"
#: Page size of a route listing (the cloud's maximum) and a guard against a cloud that loops.
LIST_PAGE_SIZE = 2000
LIST_MAX_PAGES = 50


# --- Values ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SideVpc:
    """One side's VPC and the other side's range (the destination its routes need)."""

    side: str
    tenant: Tenant | None
    vpc_id: str
    vpc_name: str
    vpc_cidr: str
    peer_cidr: str


def side_vpc(peering: Peering, side: str) -> SideVpc:
    if side == RouteSide.REQUESTER:
        return SideVpc(
            side,
            peering.requester_tenant,
            str(peering.requester_vpc_id),
            peering.requester_vpc_name,
            peering.requester_vpc_cidr,
            peering.accepter_vpc_cidr,
        )
    return SideVpc(
        side,
        peering.accepter_tenant,
        str(peering.accepter_vpc_id),
        peering.accepter_vpc_name,
        peering.accepter_vpc_cidr,
        peering.requester_vpc_cidr,
    )


def default_destinations(peering: Peering, side: str) -> list[str]:
    """What the side's routes point at unless subnets are chosen: the peer VPC's whole range."""
    peer = side_vpc(peering, side).peer_cidr
    return [peer] if network(peer) is not None else []


@dataclass
class SidePlan:
    """One side's plan: its VPC, the routes its table has in the cloud, the routes proposed."""

    vpc: SideVpc
    existing: list[dict] = field(default_factory=list)  # every route of the VPC, any next hop
    proposed: list[ProposedRoute] = field(default_factory=list)
    error: str = ""  # why the routes could not be read

    @property
    def side(self) -> str:
        return self.vpc.side

    @property
    def blocked(self) -> bool:
        return any(p.blocked for p in self.proposed)

    @property
    def to_send(self) -> list[str]:
        return [p.destination for p in self.proposed if p.to_send]


@dataclass
class RouteOutcome:
    """What one apply or remove did on one side."""

    peering: Peering
    side: str
    applied: list[PeeringRoute] = field(default_factory=list)
    existing: list[str] = field(default_factory=list)  # destinations already routed over the peering
    removed: list[PeeringRoute] = field(default_factory=list)

    def summary(self) -> str:
        parts = []
        if self.applied:
            parts.append("applied " + ", ".join(r.destination for r in self.applied))
        if self.existing:
            parts.append("already there: " + ", ".join(self.existing))
        if self.removed:
            parts.append("removed " + ", ".join(r.destination for r in self.removed))
        side = RouteSide(self.side).label.lower()
        return f"Routes of the {side}'s VPC: " + ("; ".join(parts) or "nothing to do") + "."


# --- Steps ---------------------------------------------------------------------------------------------


def _begin(peering: Peering, action: Action, side: str, *, acting_user: Any, source: str) -> Operation:
    """Lock the peering, check ``action`` on ``side`` for the user, take the lease."""

    def authorize(actor: permissions.Actor) -> Tenant:
        refusal = permissions.route_denial(action, peering, actor, side)
        if refusal is not None:
            raise refusal
        return permissions.route_tenant(peering, side)

    return operations.begin(peering, acting_user=acting_user, source=source, authorize=authorize, lease=LEASE)


def _list_routes(run: Operation, vpc_id: str) -> list[dict]:
    """Every route of ``vpc_id`` in the cloud (every page, each a recorded call)."""
    routes = operations.list_pages(
        run.send_and_record,
        lambda client, marker: client.list_routes(vpc_id=vpc_id, limit=LIST_PAGE_SIZE, marker=marker),
        items="routes",
        links="routes_links",
        page_size=LIST_PAGE_SIZE,
        max_pages=LIST_MAX_PAGES,
    )
    return [r for r in routes if isinstance(r, dict) and str(r.get("vpc_id", vpc_id)) == vpc_id]


def _reconcile(run: Operation, vpc: SideVpc, cloud_routes: list[dict]) -> list[str]:
    """Bring the side's mirror up to date with the cloud's routes over the peering (in a transaction).

    A route the portal knew and the cloud no longer has was removed outside the portal
    (``missing``); one over the peering the portal did not know was added outside it
    (``external``); a create whose answer was lost is ``applied`` if it landed, ``failed`` once
    it can no longer land. Returns a line per change.
    """
    peering = run.peering
    ours = {
        str(r.get("id")): r
        for r in cloud_routes
        if r.get("id") and str(r.get("nexthop") or "") == str(peering.upstream_id)
    }
    rows = list(PeeringRoute.objects.live().filter(peering=peering, side=vpc.side).order_by("id"))
    known = {row.upstream_id for row in rows if row.upstream_id}
    lines: list[str] = []
    settle_before = timezone.now() - timedelta(seconds=leases.landing_bound())

    def change(row: PeeringRoute, state: str, event: str, detail: str, **kwargs: Any) -> None:
        set_state(row, state, event, actor=None, source=run.source, detail=detail, **kwargs)
        lines.append(f"{peering.name}: {describe(row, peering)} {RouteEvent(event).label.lower()}")

    for row in rows:
        if row.upstream_id and row.upstream_id not in ours:
            change(row, RouteState.MISSING, RouteEvent.REMOVED_OUTSIDE, "The cloud no longer has it.")
    for row in rows:
        if row.upstream_id:
            continue
        found = next(
            (
                r
                for i, r in ours.items()
                if i not in known and str(network(r.get("destination"))) == row.destination
            ),
            None,
        )
        if found is not None:
            known.add(str(found["id"]))
            change(
                row, RouteState.APPLIED, RouteEvent.FOUND, "Found in the cloud.", upstream_id=str(found["id"])
            )
        elif row.updated_at < settle_before:
            change(
                row, RouteState.FAILED, RouteEvent.FAILED, "Not in the cloud after its outcome was unknown."
            )
    for route_id, route in ours.items():
        if route_id in known or PeeringRoute.objects.filter(upstream_id=route_id).exists():
            continue
        destination = network(route.get("destination"))
        row = PeeringRoute(
            peering=peering,
            side=vpc.side,
            tenant=run.tenant,
            vpc_id=vpc.vpc_id,
            destination=str(destination) if destination else str(route.get("destination"))[:64],
            upstream_id=route_id[:64],
            state=RouteState.EXTERNAL,
        )
        try:
            with transaction.atomic():
                row.save()
        except IntegrityError:  # another of the portal's rows holds that destination: the next read
            continue
        change(row, RouteState.EXTERNAL, RouteEvent.ADDED_OUTSIDE, "Found in the cloud.")
    return lines


def _read_and_reconcile(run: Operation, vpc: SideVpc) -> list[dict]:
    routes = _list_routes(run, vpc.vpc_id)
    with transaction.atomic():
        operations.lock(run.peering)
        _reconcile(run, vpc, routes)
    return routes


def _check_first(peering: Peering, action: Action, side: str, acting_user: Any) -> None:
    """The permission and state check, before the input is judged (an outsider learns nothing)."""
    actor = permissions.SYSTEM if acting_user is None else permissions.actor_for(acting_user, peering)
    refusal = permissions.route_denial(action, peering, actor, side)
    if refusal is not None and not isinstance(refusal, OperationInFlight):  # the lease: read under lock
        raise refusal


# --- Applying ----------------------------------------------------------------------------------------


def _wanted(peering: Peering, side: str, destinations: Sequence[str] | None) -> list[str]:
    wanted = [str(d).strip() for d in destinations or [] if str(d).strip()]
    if destinations is None or not wanted:
        wanted = default_destinations(peering, side)
        if not wanted:
            message = PEER_RANGE_UNKNOWN if destinations is None else NO_DESTINATIONS
            raise RequestInvalid({"destinations": [message]})
    if len(wanted) > MAX_DESTINATIONS:
        raise RequestInvalid({"destinations": [TOO_MANY.format(limit=MAX_DESTINATIONS)]})
    return wanted


@bulkhead.guarded
def routes_apply(
    *,
    peering: Peering,
    acting_user: Any,
    side: str,
    destinations: Sequence[str] | None = None,
    source: str = ChangeSource.USER,
) -> RouteOutcome:
    """Add ``side``'s routes over ``peering`` (default: to the peer VPC's whole range), one call each.

    Refused (nothing sent) unless the user is a member of that side's tenant and the peering is
    active; any conflict in the plan refuses it too (``RequestInvalid``, after the read). See the
    module docstring for what a failure leaves behind. ``acting_user=None``: the portal's job.
    """
    side = RouteSide(side)
    _check_first(peering, Action.APPLY_ROUTES, side, acting_user)
    wanted = _wanted(peering, side, destinations)
    run = _begin(peering, Action.APPLY_ROUTES, side, acting_user=acting_user, source=source)
    vpc = side_vpc(run.peering, side)
    outcome = RouteOutcome(run.peering, side)
    lost = False
    try:
        existing = _read_and_reconcile(run, vpc)
        plan = plan_routes(
            vpc_cidr=vpc.vpc_cidr,
            peer_cidr=vpc.peer_cidr,
            nexthop=str(run.peering.upstream_id),
            existing=existing,
            destinations=wanted,
        )
        conflicts = [c.message for p in plan for c in p.conflicts if c.blocking]
        if conflicts:
            raise RequestInvalid({"destinations": [BLOCKED, *conflicts]})
        outcome.existing = [p.destination for p in plan if p.exists]
        for proposed in plan:
            if not proposed.to_send:
                continue
            row = _applying(run, vpc, proposed.destination)
            try:
                run.send_and_record(
                    lambda client, d=proposed.destination: client.create_route(
                        vpc_id=vpc.vpc_id, destination=d, nexthop=str(run.peering.upstream_id)
                    ),
                    done=lambda response, row=row: set_state(
                        row,
                        RouteState.APPLIED,
                        RouteEvent.APPLIED,
                        actor=run.acting_user,
                        source=run.source,
                        upstream_id=str(response.data["id"]),
                    ),
                    failed=lambda exc, row=row: _create_failed(run, row, exc),
                )
            except CloudError as exc:
                lost = operations.answer_lost(exc)
                raise
            outcome.applied.append(row)
    finally:
        run.end(hold=lost)
    return outcome


def _applying(run: Operation, vpc: SideVpc, destination: str) -> PeeringRoute:
    """The route's row, saved before its create is sent (so a lost answer is never lost)."""
    try:
        with transaction.atomic():
            return PeeringRoute.objects.create(
                peering=run.peering,
                side=vpc.side,
                tenant=run.tenant,
                vpc_id=vpc.vpc_id,
                destination=destination,
                state=RouteState.APPLYING,
                created_by=run.acting_user if getattr(run.acting_user, "is_authenticated", False) else None,
            )
    except IntegrityError:
        raise InvalidState(f"The portal already holds a route to {destination} in this VPC.") from None


def _create_failed(run: Operation, row: PeeringRoute, exc: CloudError) -> None:
    error = (exc.code or (str(exc.status) if exc.status else type(exc).__name__), exc.message)
    if operations.answer_lost(exc):
        state, event = RouteState.UNKNOWN, RouteEvent.UNKNOWN
        detail = "No answer: it may have been created; the next read of the routes settles it."
    else:
        state, event, detail = RouteState.FAILED, RouteEvent.FAILED, str(exc)
    set_state(row, state, event, actor=run.acting_user, source=run.source, detail=detail, error=error)


# --- Removing -----------------------------------------------------------------------------------------


@bulkhead.guarded
def routes_remove(
    *,
    peering: Peering,
    acting_user: Any,
    side: str,
    route_ids: Sequence[int] | None = None,
    source: str = ChangeSource.USER,
) -> RouteOutcome:
    """Delete ``side``'s routes over ``peering`` from the cloud (all, or the mirror rows ``route_ids``).

    The same rules as :func:`routes_apply`; a route the cloud no longer has counts as removed.
    """
    side = RouteSide(side)
    _check_first(peering, Action.REMOVE_ROUTES, side, acting_user)
    run = _begin(peering, Action.REMOVE_ROUTES, side, acting_user=acting_user, source=source)
    vpc = side_vpc(run.peering, side)
    outcome = RouteOutcome(run.peering, side)
    try:
        _read_and_reconcile(run, vpc)
        rows = PeeringRoute.objects.filter(peering=run.peering, side=side).order_by("destination", "id")
        if route_ids is not None:
            rows = rows.filter(pk__in=list(route_ids))
            dead = next((r for r in rows if not r.is_live or not r.upstream_id), None)
            if dead is not None:
                raise InvalidState(ROUTE_NOT_LIVE.format(state=dead.get_state_display().lower()))
        for row in [r for r in rows if r.is_live and r.upstream_id]:
            try:
                run.send_and_record(
                    lambda client, row=row: client.delete_route(row.upstream_id),
                    done=lambda response, row=row: _removed(run, row),
                    failed=lambda exc, row=row: _remove_failed(run, row, exc),
                )
            except CloudRefused as exc:
                if exc.status != 404:
                    raise
            outcome.removed.append(row)
    finally:
        run.end()
    return outcome


def _removed(run: Operation, row: PeeringRoute, detail: str = "") -> None:
    set_state(
        row, RouteState.REMOVED, RouteEvent.REMOVED, actor=run.acting_user, source=run.source, detail=detail
    )


def _remove_failed(run: Operation, row: PeeringRoute, exc: CloudError) -> None:
    if isinstance(exc, CloudRefused) and exc.status == 404:
        _removed(run, row, "The cloud no longer had it.")
        return
    record_route_change(
        row, RouteEvent.REMOVE_FAILED, actor=run.acting_user, source=run.source, detail=str(exc)
    )


# --- Reading: the plan and the sync ----------------------------------------------------------------------


@bulkhead.guarded
def routes_plan(
    *, peering: Peering, acting_user: Any, destinations: dict[str, Sequence[str]] | None = None
) -> list[SidePlan]:
    """The plan of each side the user belongs to: its routes in the cloud (read with its keys, recorded)
    and the routes proposed (``destinations[side]``, default the peer's range), with their conflicts.

    Refused unless the user is a member of a side with keys in the portal and the peering is active.
    A side whose routes cannot be read has its ``error`` set; nothing is written but the calls.
    """
    actor = permissions.actor_for(acting_user, peering)
    refusals = {side: permissions.route_denial(Action.APPLY_ROUTES, peering, actor, side) for side in SIDES}
    sides = [s for s, r in refusals.items() if r is None or not isinstance(r, NotPermitted)]
    if not sides:
        raise refusals[RouteSide.REQUESTER] or NotPermitted()
    if peering.status != PeeringStatus.ACTIVE or not peering.upstream_id:
        raise InvalidState(NOT_ACTIVE.format(status=peering.get_status_display().lower()))
    bulkhead.claim()  # every side's read under one slot
    plans = []
    for side in sides:
        vpc = side_vpc(peering, side)
        if vpc.tenant is None:
            continue
        plan = SidePlan(vpc)
        run = Operation(tenant=vpc.tenant, acting_user=acting_user, source=ChangeSource.USER, peering=peering)
        try:
            plan.existing = _list_routes(run, vpc.vpc_id)
        except CloudError as exc:
            plan.error = str(exc)
            plans.append(plan)
            continue
        wanted = list((destinations or {}).get(side) or default_destinations(peering, side))
        plan.proposed = plan_routes(
            vpc_cidr=vpc.vpc_cidr,
            peer_cidr=vpc.peer_cidr,
            nexthop=str(peering.upstream_id),
            existing=plan.existing,
            destinations=wanted,
        )
        plans.append(plan)
    return plans


def routes_sync(*, peering: Peering, source: str = ChangeSource.SYNC) -> list[str]:
    """Re-read both sides' routes of an active peering (each with its own keys) and record the drift.

    Skipped while an operation is in flight; a read overtaken by one is dropped (its calls are kept).
    Returns a line per change. Raises ``CloudError`` when a side cannot be read.
    """
    lines: list[str] = []
    for side in SIDES:
        vpc = side_vpc(peering, side)
        if vpc.tenant is None:
            continue
        with transaction.atomic():
            operations.lock(peering)
            if peering.status != PeeringStatus.ACTIVE or not peering.upstream_id or leases.held(peering):
                return lines
            revision = peering.revision
        run = Operation(tenant=vpc.tenant, source=source, peering=peering, revision=revision)
        routes = _list_routes(run, vpc.vpc_id)
        with transaction.atomic():
            operations.lock(peering)
            if peering.revision == revision and not leases.held(peering):
                lines += _reconcile(run, vpc, routes)
    return lines
