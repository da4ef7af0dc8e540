"""The API's OpenAPI decoration: the error responses each operation documents, the
``Idempotency-Key`` headers of the writes, and each view's and operation's schema (summary,
description, request, responses), applied to the views of :mod:`peerings.api.views` by name
(``@schema.PEERINGS`` on a viewset, ``@schema.PEERING_CREATE`` on an operation)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view

from peerings.api import serializers as s
from peerings.api.idempotency import HEADER, KEY_PATTERN, REPLAY_HEADER
from peerings.permissions import Action
from peerings.routes.serializers import (
    PeeringDeletedSerializer,
    PeeringRouteSerializer,
    RouteApplySerializer,
    RouteOutcomeSerializer,
    RoutePlanSerializer,
)

__all__ = [
    "CALLS",
    "CLOUD_ERRORS",
    "ERROR_DESCRIPTIONS",
    "IDEMPOTENCY_PARAMETERS",
    "PEERINGS",
    "PEERING_CALLS",
    "PEERING_CREATE",
    "PEERING_DELETE",
    "PEERING_REFRESH",
    "PEERING_STATUS_CHANGES",
    "PEERING_UPDATE",
    "ROUTES_APPLY",
    "ROUTES_LIST",
    "ROUTES_PLAN",
    "ROUTE_REMOVE",
    "STATUS_CHANGES",
    "TENANTS",
    "TENANT_VPCS",
    "WRITE_ERRORS",
    "decision",
    "errors",
    "peering_response",
    "viewset",
]

ERROR_DESCRIPTIONS = {
    400: "Invalid input or an unknown query parameter (per field or parameter in error.fields; the "
    "message lists the parameters the operation takes), or a warning to confirm "
    "(overlap_confirmation_required).",
    401: "No valid credentials: send Authorization: Token <key> or a session cookie.",
    403: "Your role does not allow this (not_permitted), or a session write without a CSRF token.",
    404: "Not found, or not visible to your tenants.",
    409: "The peering's status does not allow this, or the cloud shows another decision won (invalid_state; "
    "error.peering has its status); another operation on it is in flight (operation_in_flight: retry "
    "after Retry-After seconds, with the same Idempotency-Key); or the Idempotency-Key is in use.",
    422: "The cloud refused the request (error.cloud), or the Idempotency-Key was used for another request.",
    429: "Too many requests (throttled), or another export of yours is still running (export_in_progress); "
    "see Retry-After.",
    503: "The cloud could not be reached or failed. A new request is kept as SUBMITTING (error.peering) "
    "and will be confirmed or withdrawn; anything else was not changed. Retry later.",
    504: "The cloud did not answer in time; the outcome is unknown. A new request is kept as SUBMITTING "
    "(error.peering); retry with the same Idempotency-Key, or refresh the peering.",
}


def errors(*codes: int) -> dict[int, OpenApiResponse]:
    """Schema entries for the error responses an operation may give (always with 400: an unknown
    query parameter, 401 and 429)."""
    return {
        code: OpenApiResponse(s.ErrorSerializer, description=ERROR_DESCRIPTIONS[code])
        for code in sorted({*codes, 400, 401, 429})
    }


CLOUD_ERRORS = (422, 503, 504)
WRITE_ERRORS = (400, 403, 404, 409, *CLOUD_ERRORS)

IDEMPOTENCY_PARAMETERS = [
    OpenApiParameter(
        HEADER,
        {"type": "string", "minLength": 1, "maxLength": 255, "pattern": KEY_PATTERN},
        OpenApiParameter.HEADER,
        description="Send the same key (e.g. a UUID) to retry a write safely: the first final answer is "
        "replayed. Keys are per user; reusing one for another request answers 422.",
    ),
    OpenApiParameter(
        REPLAY_HEADER,
        {"type": "string", "enum": ["true"]},
        OpenApiParameter.HEADER,
        response=True,
        description="Present when this is the stored answer to an earlier request with the same key.",
    ),
]


# --- Each view's and operation's schema -------------------------------------------------------


def viewset(tag: str, **operations: Any) -> Callable[[type], type]:
    """A viewset's schema: its ``tag``, and each of its ``operations`` (``list=extend_schema(…)``)."""

    def decorate(cls: type) -> type:
        return extend_schema_view(**operations)(extend_schema(tags=[tag])(cls))

    return decorate


def peering_response(status_code: int, *extra: int) -> dict[int, Any]:
    """A write's responses: the peering, or any error a write may give (and ``extra``)."""
    return {status_code: s.PeeringSerializer, **errors(*WRITE_ERRORS, *extra)}


def decision(kind: Action, summary: str, request_serializer: type) -> Callable[[Any], Any]:
    """``POST peerings/{id}/accept/`` (``reject``, ``approve``, ``decline``)."""
    return extend_schema(
        operation_id=f"peerings_{kind}",
        summary=summary,
        request=request_serializer,
        responses=peering_response(200),
        parameters=IDEMPOTENCY_PARAMETERS,
    )


#: The tenants' list and one tenant.
TENANTS = viewset(
    "tenants",
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


#: ``GET tenants/{id}/vpcs/``.
TENANT_VPCS = extend_schema(
    operation_id="tenants_vpcs",
    summary="The tenant's VPCs, as the cloud lists them",
    description="In the list envelope since 0.2.0 (numbered pages). ?envelope=false answers the bare "
    "array of before: deprecated, removed in 0.3.0.",
    responses={200: s.VpcSerializer(many=True), **errors(400, 404, *CLOUD_ERRORS)},
)


#: The peerings' list, one peering and the inventory export.
PEERINGS = viewset(
    "peerings",
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


#: ``POST peerings/``.
PEERING_CREATE = extend_schema(
    operation_id="peerings_create",
    summary="Request a peering",
    description="Same account: ACTIVE at once. Another account: PENDING_ACCEPTANCE until the peer "
    "accepts. A partial CIDR overlap answers 400 overlap_confirmation_required until "
    "confirm_overlap is true.",
    request=s.PeeringCreateSerializer,
    responses={201: s.PeeringSerializer, **errors(400, 403, 409, *CLOUD_ERRORS)},
    parameters=IDEMPOTENCY_PARAMETERS,
)


#: ``PATCH peerings/{id}/``.
PEERING_UPDATE = extend_schema(
    operation_id="peerings_update",
    summary="Rename a peering or change its description",
    request=s.PeeringUpdateSerializer,
    responses=peering_response(200),
    parameters=IDEMPOTENCY_PARAMETERS,
)


#: ``DELETE peerings/{id}/``.
PEERING_DELETE = extend_schema(
    operation_id="peerings_delete",
    summary="Delete a peering (either side may)",
    description="The peering is deleted in the cloud and kept in the portal as DELETED. The cloud "
    "removes its routes with it: routes_removed lists those the portal knew (now removed).",
    request=None,
    responses={200: PeeringDeletedSerializer, **errors(*WRITE_ERRORS)},
    parameters=IDEMPOTENCY_PARAMETERS,
)


#: ``POST peerings/{id}/refresh/``.
PEERING_REFRESH = extend_schema(
    operation_id="peerings_refresh",
    summary="Read the peering from the cloud again",
    request=None,
    responses=peering_response(200),
    parameters=IDEMPOTENCY_PARAMETERS,
)


#: ``GET peerings/{id}/calls/``.
PEERING_CALLS = extend_schema(
    operation_id="peerings_calls",
    summary="The cloud calls made for this peering",
    tags=["history"],
    responses={200: s.UpstreamCallSerializer(many=True), **errors(404)},
)


#: ``GET peerings/{id}/status-changes/``.
PEERING_STATUS_CHANGES = extend_schema(
    operation_id="peerings_status_changes",
    summary="This peering's status changes",
    tags=["history"],
    responses={200: s.StatusChangeSerializer(many=True), **errors(404)},
)


#: ``GET peerings/{id}/routes/``.
ROUTES_LIST = extend_schema(
    methods=["GET"],
    operation_id="peerings_routes_list",
    summary="The peering's routes, in both VPCs, as the portal knows them",
    description="In the list envelope since 0.2.0. ?envelope=false answers the bare array of before: "
    "deprecated, removed in 0.3.0.",
    tags=["routes"],
    request=None,
    responses={200: PeeringRouteSerializer(many=True), **errors(400, 404)},
)


#: ``POST peerings/{id}/routes/``.
ROUTES_APPLY = extend_schema(
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


#: ``GET peerings/{id}/routes/plan/``.
ROUTES_PLAN = extend_schema(
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


#: ``DELETE peerings/{id}/routes/{route_id}/``.
ROUTE_REMOVE = extend_schema(
    operation_id="peerings_routes_remove",
    summary="Remove one route from the cloud (members of its side's tenant, while ACTIVE)",
    description="{route_id} is the portal's id of the route (id in the routes list). A route the cloud "
    "no longer has counts as removed.",
    tags=["routes"],
    request=None,
    responses={200: PeeringRouteSerializer, **errors(*WRITE_ERRORS)},
    parameters=IDEMPOTENCY_PARAMETERS,
)


#: The cloud calls' list, one call and their export.
CALLS = viewset(
    "history",
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


#: The status changes' list, one change and their export.
STATUS_CHANGES = viewset(
    "history",
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
