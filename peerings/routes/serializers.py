"""The REST API's shapes for a peering's routes: the mirror's rows, the plan, apply's input and answer."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from peerings.api.serializers import PeeringSerializer
from peerings.choices import RouteSide, RouteState
from peerings.models import PeeringRoute
from peerings.rules.limits import MAX_DESTINATIONS

__all__ = [
    "PeeringDeletedSerializer",
    "PeeringRouteSerializer",
    "RouteApplySerializer",
    "RouteOutcomeSerializer",
    "RoutePlanSerializer",
]


class PeeringRouteSerializer(serializers.ModelSerializer):
    """A route over the peering as the portal knows it (``state``), in one side's VPC."""

    side = serializers.ChoiceField(choices=RouteSide.choices, help_text="Whose VPC the route is in.")
    state = serializers.ChoiceField(
        choices=RouteState.choices,
        help_text="applied (by the portal), external (added outside the portal), applying / unknown "
        "(a create whose outcome is not known yet), failed, removed (by the portal or with the peering), "
        "missing (removed outside the portal).",
    )
    route_id = serializers.CharField(
        source="upstream_id", allow_null=True, help_text="The cloud's route id; null if it was never created."
    )
    tenant = serializers.CharField(source="tenant.name", help_text="The side's tenant, whose keys manage it.")
    vpc_id = serializers.CharField()
    nexthop = serializers.CharField(source="peering.upstream_id", help_text="The peering's cloud id.")
    type = serializers.SerializerMethodField()
    created_by = serializers.CharField(source="created_by.username", allow_null=True, default=None)
    removed_by = serializers.CharField(source="removed_by.username", allow_null=True, default=None)

    class Meta:
        model = PeeringRoute
        fields = [
            "id",
            "side",
            "tenant",
            "vpc_id",
            "destination",
            "nexthop",
            "type",
            "route_id",
            "state",
            "error_code",
            "error_message",
            "created_by",
            "applied_at",
            "removed_by",
            "removed_at",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def get_type(self, route: PeeringRoute) -> str:
        return "peering"


class RouteApplySerializer(serializers.Serializer):
    """Apply one side's routes: to the peer VPC's whole range, or to the ``destinations`` given."""

    side = serializers.ChoiceField(
        choices=RouteSide.choices,
        help_text="The side whose VPC gets the routes: you must be a member of its tenant.",
    )
    destinations = serializers.ListField(
        child=serializers.CharField(max_length=64),
        required=False,
        max_length=MAX_DESTINATIONS,
        help_text="CIDRs within the peer VPC's range; default: the peer VPC's whole range.",
    )


class ConflictSerializer(serializers.Serializer):
    kind = serializers.CharField(
        help_text="invalid, outside_peer, overlaps_own, routed_elsewhere, overlaps_route, duplicate, "
        "or exists (not blocking: the same route over this peering is already there)."
    )
    message = serializers.CharField()
    blocking = serializers.BooleanField()
    route_id = serializers.CharField(help_text="The existing route it collides with, or empty.")


class ProposedRouteSerializer(serializers.Serializer):
    destination = serializers.CharField()
    to_send = serializers.BooleanField(help_text="Applying would create it.")
    exists = serializers.BooleanField()
    blocked = serializers.BooleanField()
    conflicts = ConflictSerializer(many=True)


class CloudRouteSerializer(serializers.Serializer):
    """A route as the cloud lists it."""

    id = serializers.CharField()
    destination = serializers.CharField()
    nexthop = serializers.CharField()
    type = serializers.CharField()
    vpc_id = serializers.CharField()
    tenant_id = serializers.CharField()


class RoutePlanSerializer(serializers.Serializer):
    """One side's plan: its VPC, the routes it has in the cloud, the routes proposed."""

    side = serializers.CharField()
    tenant = serializers.CharField(source="vpc.tenant.name")
    vpc_id = serializers.CharField(source="vpc.vpc_id")
    vpc_name = serializers.CharField(source="vpc.vpc_name")
    vpc_cidr = serializers.CharField(source="vpc.vpc_cidr")
    existing = CloudRouteSerializer(many=True, help_text="Every route of the VPC, any next hop.")
    proposed = ProposedRouteSerializer(many=True)
    blocked = serializers.BooleanField()
    error = serializers.CharField(help_text="Why the VPC's routes could not be read, or empty.")


class RouteOutcomeSerializer(serializers.Serializer):
    """What an apply did, and the side's routes after it."""

    side = serializers.CharField()
    applied = PeeringRouteSerializer(many=True)
    existing = serializers.ListField(child=serializers.CharField(), help_text="Destinations already routed.")
    routes = serializers.SerializerMethodField()

    def get_routes(self, outcome: Any) -> list[dict]:
        rows = outcome.peering.routes.filter(side=outcome.side).select_related("tenant", "peering")
        return PeeringRouteSerializer(rows.order_by("destination", "-id"), many=True).data


class PeeringDeletedSerializer(PeeringSerializer):
    """The deleted peering, and the routes the cloud removed with it."""

    routes_removed = PeeringRouteSerializer(many=True, read_only=True)

    class Meta(PeeringSerializer.Meta):
        fields = [*PeeringSerializer.Meta.fields, "routes_removed"]
        read_only_fields = fields
