"""``GET /api/v1/search/?q=``: the page's search (:mod:`peerings.search`) for tools, within the same walls."""

from __future__ import annotations

from dataclasses import asdict

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response

from peerings import search, selectors
from peerings.api.base import ApiView
from peerings.api.schema import errors
from peerings.choices import PeeringStatus, RouteSide

__all__ = ["SearchApi"]

#: How a range meets the searched address.
RELATIONS = ["equal", "contains", "inside", "overlaps"]


class _Query(serializers.Serializer):
    q = serializers.CharField(
        max_length=search.MAX_QUERY_LENGTH,
        help_text="An IP address or CIDR block, a name, a VPC id, a cloud peering id or a portal peering id.",
    )


class _Tenant(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    project_id = serializers.CharField()
    member = serializers.BooleanField(help_text="Whether the caller is a member of it.")


class _Vpc(serializers.Serializer):
    vpc_id = serializers.UUIDField()
    name = serializers.CharField(allow_blank=True)
    cidr = serializers.CharField(allow_blank=True, help_text="Empty where the caller may not see the range.")
    tenant = serializers.CharField(allow_blank=True)
    relation = serializers.ChoiceField(
        choices=RELATIONS,
        allow_blank=True,
        help_text="How the VPC's range meets the searched address (address searches only).",
    )
    url = serializers.CharField(help_text="The page listing its peerings.")


class _Peering(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    status = serializers.ChoiceField(choices=PeeringStatus.choices)
    status_label = serializers.CharField()
    peering_id = serializers.CharField(allow_null=True, help_text="The cloud's id of the peering.")
    url = serializers.CharField(help_text="Its page in the portal.")


class _Route(serializers.Serializer):
    destination = serializers.CharField()
    relation = serializers.ChoiceField(
        choices=RELATIONS, allow_blank=True, help_text="How the destination meets the searched address."
    )
    side = serializers.ChoiceField(choices=RouteSide.choices)
    tenant = serializers.CharField()
    peering = _Peering()
    state = serializers.CharField()


class SearchResultSerializer(serializers.Serializer):
    query = serializers.CharField()
    kind = serializers.ChoiceField(choices=["address", "id", "name"])
    direct = serializers.CharField(allow_blank=True, help_text="The page an exact id names, if any.")
    more = serializers.BooleanField(help_text="Some kind of result was cut at 50 rows.")
    tenants = _Tenant(many=True)
    vpcs = _Vpc(many=True)
    peerings = _Peering(many=True)
    routes = _Route(many=True)


class SearchApi(ApiView, GenericAPIView):
    """Everything the caller may see that ``q`` names: VPCs, peerings and routes by address, by name or id."""

    pagination_class = None
    action = "search"  # one operation, named as a viewset's would be (the query-string check reads it)
    action_query_params = {"search": ("q",)}
    filter_backends: list = []
    serializer_class = SearchResultSerializer

    @extend_schema(
        operation_id="search",
        summary="Search by address, name or id",
        tags=["search"],
        parameters=[OpenApiParameter("q", str, required=True, description=_Query().fields["q"].help_text)],
        responses={200: SearchResultSerializer, **errors(400)},
    )
    def get(self, request: Request) -> Response:
        query = _Query(data=request.query_params)
        query.is_valid(raise_exception=True)
        results = search.search(
            request.user, query.validated_data["q"], roles=selectors.user_roles(request.user)
        )
        return Response(SearchResultSerializer(asdict(results)).data)
