"""``directory/``: every tenant a peering may be requested with, and its VPCs, as the request form shows them.

The same reads as the form (``selectors.known_tenants`` and ``vpcs.peer_vpcs``), so the two cannot
drift: any signed-in user sees each tenant's name and ids and its VPCs' names and ids; a VPC's
range only when the caller is a member of its tenant. ``tenants/`` stays the caller's own tenants.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from peerings import selectors, vpcs
from peerings.api import serializers as s
from peerings.api.base import ApiView
from peerings.api.schema import CLOUD_ERRORS, errors
from peerings.models import Tenant

__all__ = ["DirectoryViewSet"]


@extend_schema_view(
    list=extend_schema(
        operation_id="directory_list",
        summary="Every tenant of the portal, to request a peering with (names and ids)",
        responses={200: s.DirectoryTenantSerializer(many=True), **errors(400, 404)},
    ),
    retrieve=extend_schema(
        operation_id="directory_retrieve",
        summary="One tenant of the portal (name and ids)",
        responses={200: s.DirectoryTenantSerializer, **errors(404)},
    ),
)
@extend_schema(tags=["directory"])
class DirectoryViewSet(ApiView, viewsets.ReadOnlyModelViewSet):
    """The peers the request form offers: every tenant, never its keys."""

    serializer_class = s.DirectoryTenantSerializer
    filter_backends: list[Any] = []
    lookup_value_regex = r"[0-9]+"
    list_actions = frozenset({"list", "vpcs"})

    def get_queryset(self) -> QuerySet[Tenant]:
        if self.fake:
            return Tenant.objects.none()
        tenants = selectors.known_tenants()
        # Its VPCs are read with its keys; a listing leaves them (and every other column) out.
        return tenants if self.action == "vpcs" else tenants.only("id", "name", "project_id")

    @extend_schema(
        operation_id="directory_vpcs",
        summary="A tenant's VPCs as the request form lists them: names and ids (ranges to its members)",
        description="Read from the cloud with the tenant's keys (a recorded call).",
        responses={200: s.PeerVpcSerializer(many=True), **errors(400, 404, *CLOUD_ERRORS)},
    )
    @action(detail=True, methods=["get"])
    def vpcs(self, request: Request, pk: str | None = None) -> Response:
        found = vpcs.peer_vpcs(tenant=self.get_object(), acting_user=request.user)
        return self.listed(request, found, s.PeerVpcSerializer)
