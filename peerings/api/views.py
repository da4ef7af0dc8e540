"""The API's views: thin wrappers around the workflow (writes) and the selectors (reads).

Querysets are scoped to the caller once, in ``get_queryset``: another tenant's
object is simply not found (404). Views never call the cloud client and never
save a peering themselves.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
    extend_schema_view,
)
from rest_framework import mixins, routers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.settings import api_settings

from peerings import export, inventory, route_workflow, selectors, vpcs, workflow
from peerings.api import serializers as s
from peerings.api.exceptions import error_body, peering_ref
from peerings.api.exporting import ExportMixin
from peerings.api.filtering import FilterBackend
from peerings.api.idempotency import REPLAY_HEADER, IdempotentViewMixin
from peerings.api.pagination import CURSOR_PARAM, PortalPagination
from peerings.api.parsers import DepthLimitedJSONParser
from peerings.api.route_serializers import (
    PeeringDeletedSerializer,
    PeeringRouteSerializer,
    RouteApplySerializer,
    RouteOutcomeSerializer,
    RoutePlanSerializer,
)
from peerings.api.schema import CLOUD_ERRORS, IDEMPOTENCY_PARAMETERS, WRITE_ERRORS, errors
from peerings.api.throttling import UserThrottle, WriteThrottle
from peerings.choices import ChangeSource, PeeringStatus
from peerings.filtersets import (
    PeeringFilterSet,
    StatusChangeFilterSet,
    UpstreamCallFilterSet,
    with_created,
)
from peerings.models import IdempotencyKey, Peering, StatusChange, Tenant, UpstreamCall
from peerings.permissions import Action
from peerings.routes.selectors import live_routes, peering_routes
from peerings.validation import UNKNOWN_QUERY_PARAMETER

__all__ = ["PeeringViewSet", "StatusChangeViewSet", "TenantViewSet", "UpstreamCallViewSet", "not_found"]

#: Opt-in to the bare JSON array ``tenants/{id}/vpcs/`` and ``peerings/{id}/routes/`` answered
#: before they had the list envelope: ``?envelope=false``. Deprecated; removed in 0.3.0. Left out
#: of the schema, whose 200 for these operations is the envelope (see the operations' descriptions).
ENVELOPE_PARAM = "envelope"


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


class ApiView(IdempotentViewMixin):
    """What every API view shares: auth, throttles, JSON in, pagination, idempotent writes, and a
    400 for a query parameter the action does not take (listing those it does)."""

    permission_classes = [IsAuthenticated]
    throttle_classes = [UserThrottle, WriteThrottle]
    parser_classes = [DepthLimitedJSONParser]
    pagination_class = PortalPagination
    #: Actions that answer a page of a list (they take ``page``, ``page_size`` and ``cursor``).
    list_actions: frozenset[str] = frozenset({"list"})
    #: Further query parameters an action takes: ``{action: names}``.
    action_query_params: dict[str, tuple[str, ...]] = {}

    @property
    def fake(self) -> bool:
        """True while drf-spectacular builds the schema (no real request)."""
        return getattr(self, "swagger_fake_view", False)

    def accepted_query_params(self) -> set[str]:
        """The query parameters this request's action takes: its filters, its pages, ``format``."""
        accepted = {api_settings.URL_FORMAT_OVERRIDE or "format"}
        paginator = self.paginator
        if self.action in self.list_actions and isinstance(paginator, PortalPagination):
            accepted |= {paginator.page_query_param, paginator.page_size_query_param, CURSOR_PARAM}
        filterset_class = getattr(self, "filterset_class", None)
        if filterset_class is not None and FilterBackend in self.filter_backends:
            accepted |= set(filterset_class.base_filters)
        return accepted | set(self.action_query_params.get(self.action or "", ()))

    def check_request(self, request: Request) -> None:
        unknown = sorted(set(request.query_params) - self.accepted_query_params())
        if unknown:
            accepted = ", ".join(sorted(self.accepted_query_params()))
            raise ValidationError(
                {name: [UNKNOWN_QUERY_PARAMETER.format(accepted=accepted)] for name in unknown}
            )
        super().check_request(request)

    def bare_list(self, request: Request) -> bool:
        """Whether the caller opted in to the deprecated bare array (``?envelope=false``)."""
        value = request.query_params.get(ENVELOPE_PARAM)
        if value is None:
            return False
        if value != "false":
            raise ValidationError({ENVELOPE_PARAM: ['Only "false" (the deprecated bare array) is accepted.']})
        return True

    def listed(self, request: Request, rows: Any, serializer_class: type) -> Response:
        """A list in the API's envelope (``count``, ``count_capped``, ``next``, ``previous``,
        ``results``), or the deprecated bare array with ``?envelope=false``."""
        context = self.get_serializer_context()
        if self.bare_list(request):
            response = Response(serializer_class(rows, many=True, context=context).data)
            response["Deprecation"] = "true"  # RFC 9745: the bare array goes in 0.3.0
            return response
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(serializer_class(page, many=True, context=context).data)


# --- Tenants -------------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(
        operation_id="tenants_list",
        summary="Your tenants, with your role",
        responses={200: s.TenantSerializer(many=True), **errors(404)},
    ),
    retrieve=extend_schema(
        operation_id="tenants_retrieve",
        summary="One of your tenants",
        responses={200: s.TenantSerializer, **errors(404)},
    ),
)
@extend_schema(tags=["tenants"])
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

    @extend_schema(
        operation_id="tenants_vpcs",
        summary="The tenant's VPCs, as the cloud lists them",
        description="In the list envelope since 0.2.0 (numbered pages). ?envelope=false answers the bare "
        "array of before: deprecated, removed in 0.3.0.",
        responses={200: s.VpcSerializer(many=True), **errors(400, 404, *CLOUD_ERRORS)},
    )
    @action(detail=True, methods=["get"], filter_backends=[])
    def vpcs(self, request: Request, pk: str | None = None) -> Response:
        tenant = self.get_object()
        self.bare_list(request)  # a bad opt-in value is a 400 before the cloud is called
        found = vpcs.tenant_vpcs(tenant=tenant, acting_user=request.user)
        return self.listed(request, found, s.VpcSerializer)


# --- Peerings ------------------------------------------------------------------------------


def _peering_response(status_code: int, *extra: int) -> dict[int, Any]:
    return {status_code: s.PeeringSerializer, **errors(*WRITE_ERRORS, *extra)}


def _decision_action(kind: Action, summary: str, request_serializer: type) -> Any:
    """``POST …/accept/``, ``…/reject/``, ``…/approve/`` or ``…/decline/``: one implementation,
    ``PeeringViewSet._decide``."""

    def decide(self: PeeringViewSet, request: Request, pk: str | None = None) -> Response:
        return self._decide(request, kind)

    decide.__name__ = str(kind)  # the action's name, before @action reads it
    decide = action(detail=True, methods=["post"])(decide)
    return extend_schema(
        operation_id=f"peerings_{kind}",
        summary=summary,
        request=request_serializer,
        responses=_peering_response(200),
        parameters=IDEMPOTENCY_PARAMETERS,
    )(decide)


@extend_schema_view(
    list=extend_schema(
        operation_id="peerings_list",
        summary="Peerings of your tenants",
        responses={200: s.PeeringSerializer(many=True), **errors(400, 404)},
    ),
    retrieve=extend_schema(
        operation_id="peerings_retrieve", responses={200: s.PeeringSerializer, **errors(404)}
    ),
    export=extend_schema(
        operation_id="peerings_export",
        summary="The inventory: your tenants' peerings as CSV or JSON lines (streamed; the list's filters "
        "apply): both sides' tenant, project and VPC (name, id, range where you may see it), status, who "
        "requested, approved and decided and when, and each side's routes",
    ),
)
@extend_schema(tags=["peerings"])
class PeeringViewSet(
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

    def get_queryset(self) -> QuerySet[Peering]:
        listing = self.action in ("list", "export")
        peerings = selectors.visible_peerings(self.request.user, listing=listing)
        if self.action == "list":
            peerings = peerings.defer(*UNSHOWN_COLUMNS)
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

    @extend_schema(
        operation_id="peerings_create",
        summary="Request a peering",
        description="Same account: ACTIVE at once. Another account: PENDING_ACCEPTANCE until the peer "
        "accepts. A partial CIDR overlap answers 400 overlap_confirmation_required until "
        "confirm_overlap is true.",
        request=s.PeeringCreateSerializer,
        responses={201: s.PeeringSerializer, **errors(400, 403, 409, *CLOUD_ERRORS)},
        parameters=IDEMPOTENCY_PARAMETERS,
    )
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
        )
        response = self._answer(peering, status.HTTP_201_CREATED)
        response["Location"] = str(response.data["url"])  # a plain str: WSGI servers insist
        return response

    @extend_schema(
        operation_id="peerings_update",
        summary="Rename a peering or change its description",
        request=s.PeeringUpdateSerializer,
        responses=_peering_response(200),
        parameters=IDEMPOTENCY_PARAMETERS,
    )
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

    @extend_schema(
        operation_id="peerings_delete",
        summary="Delete a peering (either side may)",
        description="The peering is deleted in the cloud and kept in the portal as DELETED. The cloud "
        "removes its routes with it: routes_removed lists those the portal knew (now removed).",
        request=None,
        responses={200: PeeringDeletedSerializer, **errors(*WRITE_ERRORS)},
        parameters=IDEMPOTENCY_PARAMETERS,
    )
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

    @extend_schema(
        operation_id="peerings_refresh",
        summary="Read the peering from the cloud again",
        request=None,
        responses=_peering_response(200),
        parameters=IDEMPOTENCY_PARAMETERS,
    )
    @action(detail=True, methods=["post"])
    def refresh(self, request: Request, pk: str | None = None) -> Response:
        peering = workflow.peering_refresh(
            peering=self.get_object(), acting_user=request.user, source=ChangeSource.API
        )
        return self._answer(peering)

    @extend_schema(
        operation_id="peerings_calls",
        summary="The cloud calls made for this peering",
        tags=["history"],
        responses={200: s.UpstreamCallSerializer(many=True), **errors(404)},
    )
    @action(detail=True, methods=["get"], filter_backends=[])
    def calls(self, request: Request, pk: str | None = None) -> Response:
        calls = selectors.peering_calls(self.get_object(), request.user)
        return self._page(calls, s.UpstreamCallSerializer)

    @extend_schema(
        operation_id="peerings_status_changes",
        summary="This peering's status changes",
        tags=["history"],
        responses={200: s.StatusChangeSerializer(many=True), **errors(404)},
    )
    @action(detail=True, methods=["get"], url_path="status-changes", filter_backends=[])
    def status_changes(self, request: Request, pk: str | None = None) -> Response:
        return self._page(selectors.peering_status_changes(self.get_object()), s.StatusChangeSerializer)

    # --- Routes (peerings/route_workflow.py) ---------------------------------------------------------

    @extend_schema(
        methods=["GET"],
        operation_id="peerings_routes_list",
        summary="The peering's routes, in both VPCs, as the portal knows them",
        description="In the list envelope since 0.2.0. ?envelope=false answers the bare array of before: "
        "deprecated, removed in 0.3.0.",
        tags=["routes"],
        request=None,
        responses={200: PeeringRouteSerializer(many=True), **errors(400, 404)},
    )
    @extend_schema(
        methods=["POST"],
        operation_id="peerings_routes_apply",
        summary="Apply one side's routes (members of that side's tenant, while ACTIVE)",
        description="Lists the side VPC's routes, then creates one route per destination not yet routed over "
        "the peering (default destination: the peer VPC's whole range), with that side's keys. Any conflict "
        "(error.fields.destinations) and nothing is sent. The first failed create stops the run: the routes "
        "list says which exist (applied), which failed and which have an unknown outcome. 201 if a route was "
        "created, 200 if every one was already there.",
        tags=["routes"],
        request=RouteApplySerializer,
        responses={200: RouteOutcomeSerializer, 201: RouteOutcomeSerializer, **errors(*WRITE_ERRORS)},
        parameters=IDEMPOTENCY_PARAMETERS,
    )
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

    @extend_schema(
        operation_id="peerings_routes_plan",
        summary="The route plan of each side you belong to, read from the cloud with its keys",
        description="For each side of the peering whose tenant you are a member of: the VPC's routes in the "
        "cloud (every next hop), and the routes proposed (?requester= / ?accepter=: comma-separated CIDRs; "
        "default: the peer VPC's range) with their conflicts. Nothing is changed.",
        tags=["routes"],
        parameters=[
            OpenApiParameter(
                "requester", str, description="Destinations for the requester's VPC (CIDRs, comma-separated)"
            ),
            OpenApiParameter(
                "accepter", str, description="Destinations for the accepter's VPC (CIDRs, comma-separated)"
            ),
        ],
        responses={200: RoutePlanSerializer(many=True), **errors(403, 404, 409)},
    )
    @action(detail=True, methods=["get"], url_path="routes/plan", filter_backends=[], pagination_class=None)
    def routes_plan(self, request: Request, pk: str | None = None) -> Response:
        peering = self.get_object()
        chosen = {
            side: [d for d in request.query_params[side].replace(",", " ").split() if d]
            for side in ("requester", "accepter")
            if request.query_params.get(side)
        }
        plans = route_workflow.routes_plan(peering=peering, acting_user=request.user, destinations=chosen)
        return Response(RoutePlanSerializer(plans, many=True).data)

    @extend_schema(
        operation_id="peerings_routes_remove",
        summary="Remove one route from the cloud (members of its side's tenant, while ACTIVE)",
        description="{route_id} is the portal's id of the route (id in the routes list). A route the cloud "
        "no longer has counts as removed.",
        tags=["routes"],
        request=None,
        responses={200: PeeringRouteSerializer, **errors(*WRITE_ERRORS)},
        parameters=IDEMPOTENCY_PARAMETERS,
    )
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


# --- History -------------------------------------------------------------------------------


class HistoryViewSet(ExportMixin, ApiView, viewsets.ReadOnlyModelViewSet):
    """An append-only history, read-only: the rows the caller's tenants may see, filtered, exported."""

    model: type[UpstreamCall] | type[StatusChange]
    visible: Callable[[Any], QuerySet]
    filter_backends = [FilterBackend]
    lookup_value_regex = r"[0-9]+"

    def get_queryset(self) -> QuerySet:
        if self.fake:
            return self.model.objects.none()
        return self.visible(self.request.user)


@extend_schema_view(
    list=extend_schema(
        operation_id="calls_list",
        summary="The cloud calls your tenants made or that concern their peerings",
        responses={200: s.UpstreamCallSerializer(many=True), **errors(400, 404)},
    ),
    retrieve=extend_schema(
        operation_id="calls_retrieve", responses={200: s.UpstreamCallSerializer, **errors(404)}
    ),
    export=extend_schema(operation_id="calls_export"),
)
@extend_schema(tags=["history"])
class UpstreamCallViewSet(HistoryViewSet):
    """The append-only log of calls to the cloud, read-only."""

    model = UpstreamCall
    visible = staticmethod(selectors.visible_calls)
    export_columns = export.CALL_COLUMNS
    export_name = "calls"
    serializer_class = s.UpstreamCallSerializer
    filterset_class = UpstreamCallFilterSet


@extend_schema_view(
    list=extend_schema(
        operation_id="status_changes_list",
        summary="The status changes of the peerings your tenants see",
        responses={200: s.StatusChangeSerializer(many=True), **errors(400, 404)},
    ),
    retrieve=extend_schema(
        operation_id="status_changes_retrieve", responses={200: s.StatusChangeSerializer, **errors(404)}
    ),
    export=extend_schema(operation_id="status_changes_export"),
)
@extend_schema(tags=["history"])
class StatusChangeViewSet(HistoryViewSet):
    """The append-only log of status changes, read-only."""

    model = StatusChange
    visible = staticmethod(selectors.visible_status_changes)
    export_columns = export.STATUS_CHANGE_COLUMNS
    export_name = "status-changes"
    serializer_class = s.StatusChangeSerializer
    filterset_class = StatusChangeFilterSet


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
