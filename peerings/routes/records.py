"""Writers of the route mirror and its append-only history (inside a workflow transaction).

:mod:`peerings.routes.workflow` calls these after each route call, :mod:`peerings.mirror` when
a peering is deleted (the cloud deletes its routes with it). Nothing here calls the cloud.
"""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from peerings.choices import RouteEvent, RouteState
from peerings.models import Peering, PeeringRoute, RouteChange
from peerings.rules.limits import CLOUD_ID_MAX_LENGTH
from peerings.storable import storable

__all__ = ["describe", "gone_with_peering", "record_route_change", "set_state"]


def _user(actor: Any) -> Any:
    return actor if getattr(actor, "is_authenticated", False) else None


def record_route_change(
    route: PeeringRoute, event: str, *, actor: Any, source: str, detail: str = ""
) -> RouteChange:
    """Append one line to ``route``'s history."""
    return RouteChange.objects.create(
        peering_id=route.peering_id,
        route=route,
        event=event,
        actor=_user(actor),
        source=source,
        detail=storable(detail),
    )


def set_state(
    route: PeeringRoute,
    state: str,
    event: str,
    *,
    actor: Any,
    source: str,
    detail: str = "",
    upstream_id: str | None = None,
    error: tuple[str, str] = ("", ""),
) -> PeeringRoute:
    """Move ``route`` to ``state``, save it and record ``event``."""
    route.state = state
    if upstream_id:
        route.upstream_id = str(storable(upstream_id))[:CLOUD_ID_MAX_LENGTH]
    route.error_code = str(storable(error[0]))[:64]
    route.error_message = str(storable(error[1]))
    now = timezone.now()
    if state in (RouteState.APPLIED, RouteState.EXTERNAL) and route.applied_at is None:
        route.applied_at = now
    if state in (RouteState.REMOVED, RouteState.MISSING):
        route.removed_at = now
        route.removed_by = _user(actor)
    route.save()
    record_route_change(route, event, actor=actor, source=source, detail=detail)
    return route


def describe(route: PeeringRoute, peering: Peering) -> str:
    """``10.20.0.0/16 in prod-web`` (the VPC's name when known, else its id)."""
    name = peering.requester_vpc_name if route.side == "requester" else peering.accepter_vpc_name
    return f"{route.destination} in {name or route.vpc_id}"


def gone_with_peering(peering: Peering, *, actor: Any, source: str) -> list[PeeringRoute]:
    """Mark the peering's live routes removed: the cloud deletes them with the peering."""
    routes = sorted(peering.routes.live(), key=lambda r: (r.side != "requester", r.destination, r.pk))
    for route in routes:
        set_state(
            route,
            RouteState.REMOVED,
            RouteEvent.WITH_PEERING,
            actor=actor,
            source=source,
            detail="The cloud removed it with the peering.",
        )
    return routes
