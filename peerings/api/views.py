"""The API's views: thin wrappers around the workflow (writes) and the selectors (reads); their
OpenAPI schema is :mod:`peerings.api.schema`'s.

Querysets are scoped to the caller once, in ``get_queryset``: another tenant's
object is simply not found (404). Views never call the cloud client and never
save a peering themselves.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from rest_framework import mixins, routers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.reverse import reverse

from peerings import export, inventory, selectors, vpcs, workflow
from peerings.api import schema
from peerings.api import serializers as s
from peerings.api.base import ENVELOPE_PARAM, ApiView
from peerings.api.exceptions import error_body, peering_ref
from peerings.api.exporting import ExportMixin
from peerings.api.filtering import FilterBackend
from peerings.api.idempotency import REPLAY_HEADER
from peerings.api.listing import PreparedListMixin
from peerings.api.pagination import PreparedList
from peerings.choices import ChangeSource, PeeringStatus
from peerings.filtersets import (
    PeeringFilterSet,
    with_created,
)
from peerings.models import IdempotencyKey, Peering, Tenant
from peerings.permissions import Action
from peerings.routes import workflow as route_workflow
from peerings.routes.input import destinations_by_side
from peerings.routes.selectors import live_routes, peering_routes
from peerings.routes.serializers import (
    PeeringRouteSerializer,
    RouteApplySerializer,
    RouteOutcomeSerializer,
    RoutePlanSerializer,
)

__all__ = ["ApiRootView", "PeeringViewSet", "TenantViewSet", "not_found"]


#: The columns of a peering's users and tenants that a list row never reads: it shows the users'
#: names, the tenants' ids and names, and its allowed actions read the tenants' separation of
#: duties and approval rules. Reading and building the rest was a third of a page's columns.
UNSHOWN_COLUMNS = tuple(
    f"{user}__{column}"
    for user in ("requested_by", "decided_by", "approved_by")
    for column in (
        "password",
        "last_login",
        "is_superuser",
        "first_name",
        "last_name",
        "email",
        "is_staff",
        "is_active",
        "date_joined",
    )
) + tuple(
    f"{tenant}__{column}"
    for tenant in ("requester_tenant", "accepter_tenant")
    for column in ("project_id", "region", "endpoint", "created_at", "updated_at")
)

# --- Tenants -------------------------------------------------------------------------------


@schema.TENANTS
class TenantViewSet(ApiView, viewsets.ReadOnlyModelViewSet):
    """The tenants the caller belongs to, with the caller's role (never the tenants' keys)."""

    serializer_class = s.TenantSerializer
    filter_backends: list[Any] = []
    list_actions = frozenset({"list", "vpcs"})
    action_query_params = {"vpcs": (ENVELOPE_PARAM,)}

    def get_queryset(self) -> QuerySet[Tenant]:
        if self.fake:
            return Tenant.objects.none()
        return selectors.user_tenants_with_role(self.request.user)

    @schema.TENANT_VPCS
    @action(detail=True, methods=["get"], filter_backends=[])
    def vpcs(self, request: Request, pk: str | None = None) -> Response:
        tenant = self.get_object()
        self.bare_list(request)  # a bad opt-in value is a 400 before the cloud is called
        found = vpcs.tenant_vpcs(tenant=tenant, acting_user=request.user)
        return self.listed(request, found, s.VpcSerializer)


# --- Peerings ------------------------------------------------------------------------------


def _decision_action(kind: Action, summary: str, request_serializer: type) -> Any:
    """``POST …/accept/``, ``…/reject/``, ``…/approve/`` or ``…/decline/``: one implementation,
    ``PeeringViewSet._decide``."""

    def decide(self: PeeringViewSet, request: Request, pk: str | None = None) -> Response:
        return self._decide(request, kind)

    decide.__name__ = str(kind)  # the action's name, before @action reads it
    decide = action(detail=True, methods=["post"])(decide)
    return schema.decision(kind, summary, request_serializer)(decide)


def listed_peerings(*, tenant_ids: list[int]) -> QuerySet[Peering]:
    """The peerings list of a member of ``tenant_ids`` (sorted), newest first, with what its rows
    show (:data:`UNSHOWN_COLUMNS` left unread)."""
    peerings = selectors.peerings_seen_by(tenant_ids, listing=True).defer(*UNSHOWN_COLUMNS)
    return with_created(peerings).order_by("-created_at", "-id")


#: The list's keyset pages, compiled once per shape (the page size, the number of the caller's
#: tenants, a cursor or none): see :mod:`portal.prepared`.
LISTED = PreparedList(listed_peerings)


@schema.PEERINGS
class PeeringViewSet(
    PreparedListMixin,
    ExportMixin,
    ApiView,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """Peerings requested by, or addressed to, the caller's tenants."""

    http_method_names = ["get", "post", "patch", "delete", "head", "options"]
    serializer_class = s.PeeringSerializer
    filter_backends = [FilterBackend]
    filterset_class = PeeringFilterSet
    lookup_value_regex = r"[0-9]+"
    input_serializers = {
        "create": s.PeeringCreateSerializer,
        "partial_update": s.PeeringUpdateSerializer,
        "accept": s.PeeringAcceptSerializer,
        "reject": s.PeeringRejectSerializer,
        "approve": s.PeeringAcceptSerializer,
        "decline": s.PeeringDeclineSerializer,
        "routes": RouteApplySerializer,
    }

    keeps_peering_on = frozenset({"create"})
    list_actions = frozenset({"list", "calls", "status_changes", "routes"})
    action_query_params = {"routes": (ENVELOPE_PARAM,), "routes_plan": ("requester", "accepter")}

    export_name = "peerings"
    prepared_list = LISTED

    def get_queryset(self) -> QuerySet[Peering]:
        if self.action == "list":
            return self.listed_queryset()
        peerings = selectors.visible_peerings(self.request.user, listing=self.action == "export")
        return with_created(peerings).order_by("-created_at", "-id")

    def export_table(self) -> export.Table:
        """The inventory (:mod:`peerings.inventory`): ranges as the caller may see them."""
        return inventory.inventory_table(set(selectors.user_roles(self.request.user)))

    def replay(self, record: IdempotencyKey) -> Response:
        """A retried create the cloud had not confirmed answers with its peering as it is now.

        202 while it is still ``SUBMITTING``, 422 if the cloud refused it, else 201.
        """
        if record.peering_id is None:
            return super().replay(record)
        peering = self.get_queryset().get(pk=record.peering_id)
        if peering.status == PeeringStatus.FAILED:
            message = f"The cloud refused this request ({peering.error_code}): {peering.error_message}"
            body = error_body("cloud_refused", message, peering=peering_ref(peering, self.request))
            return Response(
                body, status=status.HTTP_422_UNPROCESSABLE_ENTITY, headers={REPLAY_HEADER: "true"}
            )
        code = (
            status.HTTP_202_ACCEPTED
            if peering.status == PeeringStatus.SUBMITTING
            else status.HTTP_201_CREATED
        )
        response = self._answer(peering, code, headers={REPLAY_HEADER: "true"})
        response["Location"] = str(response.data["url"])
        return response

    def get_serializer_class(self) -> type:
        """Input serializers for writes (the browsable API's forms); output is ``PeeringSerializer``."""
        return self.input_serializers.get(self.action, s.PeeringSerializer)

    def _input(self, request: Request) -> dict[str, Any]:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data

    def _answer(self, peering: Peering, status_code: int = status.HTTP_200_OK, **kwargs: Any) -> Response:
        """The peering as the workflow committed it (the instance it saved: no second read)."""
        data = s.PeeringSerializer(peering, context=self.get_serializer_context()).data
        return Response(data, status=status_code, **kwargs)

    @schema.PEERING_CREATE
    def create(self, request: Request) -> Response:
        data = self._input(request)
        mine, peer = data["request_vpc_info"], data["accept_vpc_info"]
        peering = workflow.peering_request(
            tenant=mine["tenant"],
            acting_user=request.user,
            name=data["name"],
            description=data["description"],
            request_vpc_id=mine["vpc_id"],
            accept_vpc_id=peer["vpc_id"],
            accept_project_id=peer.get("tenant_id") or None,
            confirm_overlap=data["confirm_overlap"],
            routes_on_accept=data["routes_on_accept"],
            source=ChangeSource.API,
            roles=selectors.request_roles(request),  # read once: the rules and the answer's actions
        )
        response = self._answer(peering, status.HTTP_201_CREATED)
        response["Location"] = str(response.data["url"])  # a plain str: WSGI servers insist
        return response

    @schema.PEERING_UPDATE
    def partial_update(self, request: Request, pk: str | None = None) -> Response:
        peering = self.get_object()
        data = self._input(request)
        peering = workflow.peering_update(
            peering=peering,
            acting_user=request.user,
            name=data.get("name"),
            description=data.get("description"),
            source=ChangeSource.API,
        )
        return self._answer(peering)

    @schema.PEERING_DELETE
    def destroy(self, request: Request, pk: str | None = None) -> Response:
        peering = self.get_object()
        going = [route.pk for route in live_routes(peering)]
        peering = workflow.peering_delete(peering=peering, acting_user=request.user, source=ChangeSource.API)
        response = self._answer(peering)
        gone = peering_routes(peering).filter(pk__in=going)
        response.data["routes_removed"] = PeeringRouteSerializer(gone, many=True).data
        return response

    def _decide(self, request: Request, action: Action) -> Response:
        peering = self.get_object()
        data = self._input(request)
        peering = workflow.peering_decide(
            peering=peering,
            acting_user=request.user,
            action=action,
            reason=data["reason"],
            source=ChangeSource.API,
        )
        return self._answer(peering)

    accept = _decision_action(
        Action.ACCEPT, "Accept a peering addressed to your tenant (approvers)", s.PeeringAcceptSerializer
    )
    reject = _decision_action(
        Action.REJECT,
        "Reject a peering addressed to your tenant, with a reason (approvers)",
        s.PeeringRejectSerializer,
    )
    approve = _decision_action(
        Action.APPROVE,
        "Approve a request held for approval and send it to the cloud (the requester tenant's approvers)",
        s.PeeringAcceptSerializer,
    )
    decline = _decision_action(
        Action.DECLINE,
        "Decline a request held for approval, with a reason (the requester tenant's approvers)",
        s.PeeringDeclineSerializer,
    )

    @schema.PEERING_REFRESH
    @action(detail=True, methods=["post"])
    def refresh(self, request: Request, pk: str | None = None) -> Response:
        peering = workflow.peering_refresh(
            peering=self.get_object(), acting_user=request.user, source=ChangeSource.API
        )
        return self._answer(peering)

    @schema.PEERING_CALLS
    @action(detail=True, methods=["get"], filter_backends=[])
    def calls(self, request: Request, pk: str | None = None) -> Response:
        calls = selectors.peering_calls(self.get_object(), request.user)
        return self._page(calls, s.UpstreamCallSerializer)

    @schema.PEERING_STATUS_CHANGES
    @action(detail=True, methods=["get"], url_path="status-changes", filter_backends=[])
    def status_changes(self, request: Request, pk: str | None = None) -> Response:
        return self._page(selectors.peering_status_changes(self.get_object()), s.StatusChangeSerializer)

    # --- Routes (peerings/routes/workflow.py) ---------------------------------------------------------

    @schema.ROUTES_LIST
    @schema.ROUTES_APPLY
    @action(detail=True, methods=["get", "post"], filter_backends=[])
    def routes(self, request: Request, pk: str | None = None) -> Response:
        peering = self.get_object()
        if request.method == "GET":
            return self.listed(request, peering_routes(peering), PeeringRouteSerializer)
        data = self._input(request)
        outcome = route_workflow.routes_apply(
            peering=peering,
            acting_user=request.user,
            side=data["side"],
            destinations=data.get("destinations"),
            source=ChangeSource.API,
        )
        code = status.HTTP_201_CREATED if outcome.applied else status.HTTP_200_OK
        return Response(RouteOutcomeSerializer(outcome).data, status=code)

    @schema.ROUTES_PLAN
    @action(detail=True, methods=["get"], url_path="routes/plan", filter_backends=[], pagination_class=None)
    def routes_plan(self, request: Request, pk: str | None = None) -> Response:
        peering = self.get_object()
        chosen = destinations_by_side(request.query_params)
        plans = route_workflow.routes_plan(peering=peering, acting_user=request.user, destinations=chosen)
        return Response(RoutePlanSerializer(plans, many=True).data)

    @schema.ROUTE_REMOVE
    @action(detail=True, methods=["delete"], url_path=r"routes/(?P<route_id>[0-9]{1,18})", filter_backends=[])
    def route_remove(self, request: Request, pk: str | None = None, route_id: str | None = None) -> Response:
        peering = self.get_object()
        route = peering_routes(peering).filter(pk=route_id).first()
        if route is None:
            raise NotFound()
        route_workflow.routes_remove(
            peering=peering,
            acting_user=request.user,
            side=route.side,
            route_ids=[route.pk],
            source=ChangeSource.API,
        )
        return Response(PeeringRouteSerializer(peering_routes(peering).get(pk=route.pk)).data)

    def _page(self, queryset: QuerySet, serializer_class: type) -> Response:
        page = self.paginate_queryset(queryset)
        data = serializer_class(page, many=True, context=self.get_serializer_context()).data
        return self.get_paginated_response(data)


@csrf_exempt
def not_found(request: HttpRequest, *args: Any, **kwargs: Any) -> JsonResponse:
    """Any other path under the API: a 404 in the error shape rather than an HTML page."""
    return JsonResponse(error_body("not_found", "Not found."), status=404)


class ApiRootView(routers.APIRootView):
    """``GET /api/v1/``: what the API is, where its schema and docs are, and its endpoints."""

    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        response = super().get(request, *args, **kwargs)
        links = dict(response.data)
        return Response(
            {
                "name": "VPC peering portal API",
                "version": "v1",
                "description": (
                    "Request VPC peering connections between your tenants' VPCs and other VPCs, accept or "
                    "reject those addressed to tenants you approve for, rename, refresh and delete them, and "
                    "read the history of every status change and every call made to the cloud. "
                    "Authenticate with 'Authorization: Token <key>' or a session; writes accept an "
                    'Idempotency-Key header; every failure answers {"error": {"code", "message", ...}}.'
                ),
                "schema": reverse("api:schema", request=request),
                "docs": reverse("api:docs", request=request),
                **links,
            }
        )
