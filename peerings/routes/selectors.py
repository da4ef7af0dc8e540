"""Reads of the route mirror and its history for a peering the user already sees; never a cloud call.

Both sides' routes are shown to members of either side: a side's routes point at (part of) the
other side's range, which that side's members know, so nothing of a range is learnt from them.
"""

from __future__ import annotations

from django.db.models import QuerySet

from peerings.models import Peering, PeeringRoute, RouteChange

__all__ = ["live_routes", "peering_route_changes", "peering_routes"]


def peering_routes(peering: Peering) -> QuerySet[PeeringRoute]:
    """The peering's routes, live ones first, requester's side first, by destination."""
    return (
        PeeringRoute.objects.filter(peering=peering)
        .select_related("tenant", "created_by", "removed_by")
        .defer("tenant__access_key", "tenant__secret_key")
        .order_by("-side", "destination", "-id")
    )


def live_routes(peering: Peering) -> list[PeeringRoute]:
    """The routes that are, or may be, in the cloud (what a delete takes with it)."""
    return [r for r in peering_routes(peering) if r.is_live]


def peering_route_changes(peering: Peering) -> QuerySet[RouteChange]:
    """The route history of a peering, newest first."""
    return (
        RouteChange.objects.filter(peering=peering)
        .select_related("route", "actor")
        .order_by("-created_at", "-id")
    )
