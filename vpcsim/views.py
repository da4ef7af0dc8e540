"""HTTP views of the simulated VPC API (plain Django views returning JSON).

Every request is authenticated first (:mod:`vpcsim.auth`); every response
carries an ``X-Request-Id``. Errors use the ``NeutronError`` envelope on
``/v2.0/...`` paths and ``{"code", "message"}`` on ``/v1/...``. A method the
resource does not serve is 405 in the path's envelope.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.decorators import method_decorator
from django.views import View
from django.views.decorators.csrf import csrf_exempt

from vpcsim import faults, selectors, services
from vpcsim.auth import Caller, authenticate
from vpcsim.errors import ApiError, method_not_allowed, not_found
from vpcsim.models import FaultRule, RequestLog
from vpcsim.pagination import paginate
from vpcsim.serializers import peering_to_wire, route_to_wire, vpc_to_wire
from vpcsim.validation import (
    check_text,
    parse_json,
    peering_create_input,
    peering_update_input,
    route_create_input,
)

__all__ = [
    "PeeringAcceptView",
    "PeeringCollectionView",
    "PeeringDetailView",
    "PeeringRejectView",
    "RouteCollectionView",
    "RouteDetailView",
    "UnknownPathView",
    "VpcCollectionView",
]


@method_decorator(csrf_exempt, name="dispatch")
class SimulatorView(View):
    """Authenticates, dispatches and renders :class:`ApiError` in the path's envelope."""

    http_method_names = ["get", "post", "put", "delete"]
    envelope = "neutron"
    #: The fault-injection name (:mod:`vpcsim.faults`) of each method this view serves.
    operations: dict[str, str] = {}
    caller: Caller

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        request_id = uuid.uuid4().hex
        allowed = [m.upper() for m in self.http_method_names if hasattr(self, m)]
        fault = None
        try:
            faults.load_from_settings()  # once per process: VPCSIM_FAULTS rules exist before the key check
            self.caller = authenticate(request)
            if (request.method or "") not in allowed:
                raise method_not_allowed(request.method or "")
            _check_query_and_path(request, kwargs)
            operation = self.operations.get(request.method.lower())
            # The key check also said whether any rule could fire: none, no second read.
            fault = faults.pick(operation) if operation and self.caller.fault_rules else None
            if fault is not None and fault.kind in faults.BEFORE_KINDS:
                refusal = faults.before(fault)
                if refusal is not None:
                    raise refusal
            response = self._answer(request, request_id, *args, **kwargs)
            if fault is not None and fault.kind in faults.AFTER_KINDS:
                response = faults.after(fault, request, response, lambda exc: self._render(exc, request_id))
        except ApiError as exc:
            response = self._render(exc, request_id)
            if exc.status == 405:
                response["Allow"] = ", ".join(allowed)
        response["X-Request-Id"] = request_id
        if settings.VPCSIM_REQUEST_LOG:
            _log(request, response, self.operations.get((request.method or "").lower(), ""), fault)
        return response

    def _answer(self, request: HttpRequest, request_id: str, *args: Any, **kwargs: Any) -> HttpResponse:
        """The operation's own answer (an :class:`ApiError` rendered), so a fault can follow it."""
        try:
            return getattr(self, request.method.lower())(request, *args, **kwargs)
        except ApiError as exc:
            return self._render(exc, request_id)

    def _render(self, exc: ApiError, request_id: str) -> HttpResponse:
        render = exc.neutron_response if self.envelope == "neutron" else exc.v1_response
        response = render(request_id)
        retry_after = getattr(exc, "retry_after", None)
        if retry_after is not None:
            response["Retry-After"] = str(retry_after)
        return response


def _log(request: HttpRequest, response: HttpResponse, operation: str, fault: FaultRule | None) -> None:
    """Keep one :class:`RequestLog` row for this request (``VPCSIM_REQUEST_LOG``)."""
    RequestLog.objects.create(
        method=(request.method or "")[:8],
        path=request.path[:512],
        operation=operation,
        status=response.status_code,
        correlation_id=request.headers.get("X-Correlation-Id", "")[:128],
        fault=fault.kind if fault is not None else "",
    )


def _check_query_and_path(request: HttpRequest, kwargs: dict[str, Any]) -> None:
    """A NUL or lone surrogate in a query parameter or path segment is 400, before any lookup."""
    for key in request.GET:
        check_text(key, "a query parameter name")
        for value in request.GET.getlist(key):
            check_text(value, f"the query parameter '{key}'")
    for name, value in kwargs.items():
        if isinstance(value, str):
            check_text(value, f"the path parameter '{name}'")


def _no_content() -> HttpResponse:
    return HttpResponse(status=204)


class PeeringCollectionView(SimulatorView):
    operations = {"get": "list_peerings", "post": "create"}

    def get(self, request: HttpRequest) -> HttpResponse:
        visible = selectors.peerings_visible(project=self.caller.project)
        page = paginate(
            request,
            visible=visible,
            filtered=selectors.peerings_filter(visible, request.GET),
            key="peering_id",
            collection="peerings",
        )
        body = {"peerings": [peering_to_wire(p) for p in page.items], "peerings_links": page.links}
        return JsonResponse(body)

    def post(self, request: HttpRequest) -> HttpResponse:
        data = peering_create_input(parse_json(request.body))
        peering = services.peering_create(caller=self.caller, data=data)
        return JsonResponse({"peering": peering_to_wire(peering)}, status=201)


class PeeringDetailView(SimulatorView):
    operations = {"get": "show", "put": "update", "delete": "delete"}

    def get(self, request: HttpRequest, peering_id: str) -> HttpResponse:
        peering = selectors.peering_get(project=self.caller.project, peering_id=peering_id)
        return JsonResponse({"peering": peering_to_wire(peering)})

    def put(self, request: HttpRequest, peering_id: str) -> HttpResponse:
        changes = peering_update_input(parse_json(request.body))
        peering = services.peering_update(caller=self.caller, peering_id=peering_id, changes=changes)
        return JsonResponse({"peering": peering_to_wire(peering)})

    def delete(self, request: HttpRequest, peering_id: str) -> HttpResponse:
        services.peering_delete(caller=self.caller, peering_id=peering_id)
        return _no_content()


class PeeringAcceptView(SimulatorView):
    """``PUT .../accept``: no body; answers the bare peering object."""

    operations = {"put": "accept"}

    def put(self, request: HttpRequest, peering_id: str) -> HttpResponse:
        peering = services.peering_accept(caller=self.caller, peering_id=peering_id)
        return JsonResponse(peering_to_wire(peering))


class PeeringRejectView(SimulatorView):
    """``PUT .../reject``: no body; answers the bare peering object."""

    operations = {"put": "reject"}

    def put(self, request: HttpRequest, peering_id: str) -> HttpResponse:
        peering = services.peering_reject(caller=self.caller, peering_id=peering_id)
        return JsonResponse(peering_to_wire(peering))


class RouteCollectionView(SimulatorView):
    operations = {"get": "list_routes", "post": "create_route"}

    def get(self, request: HttpRequest) -> HttpResponse:
        visible = selectors.routes_visible(project=self.caller.project)
        page = paginate(
            request,
            visible=visible,
            filtered=selectors.routes_filter(visible, request.GET),
            key="route_id",
            collection="routes",
        )
        return JsonResponse({"routes": [route_to_wire(r) for r in page.items], "routes_links": page.links})

    def post(self, request: HttpRequest) -> HttpResponse:
        route = services.route_create(caller=self.caller, data=route_create_input(parse_json(request.body)))
        return JsonResponse({"route": route_to_wire(route)}, status=201)


class RouteDetailView(SimulatorView):
    operations = {"get": "show_route", "delete": "delete_route"}

    def get(self, request: HttpRequest, route_id: str) -> HttpResponse:
        route = selectors.route_get(project=self.caller.project, route_id=route_id)
        return JsonResponse({"route": route_to_wire(route)})

    def delete(self, request: HttpRequest, route_id: str) -> HttpResponse:
        services.route_delete(caller=self.caller, route_id=route_id)
        return _no_content()


class VpcCollectionView(SimulatorView):
    """``GET /v1/{project_id}/vpcs``: the project in the URL must be the signed one."""

    envelope = "v1"
    operations = {"get": "list_vpcs"}

    def get(self, request: HttpRequest, project_id: str) -> HttpResponse:
        if project_id != self.caller.project.project_id:
            raise ApiError(
                400,
                f"The project {project_id} in the URL does not match the X-Project-Id of the request.",
                type="BadRequest",
                code="VPC.0007",
            )
        visible = selectors.vpcs_visible(project=self.caller.project)
        page = paginate(
            request,
            visible=visible,
            filtered=selectors.vpcs_filter(visible, request.GET),
            key="vpc_id",
            collection="vpcs",
        )
        return JsonResponse({"vpcs": [vpc_to_wire(v) for v in page.items]})


class UnknownPathView(SimulatorView):
    """Any other path under ``/v2.0/`` or ``/v1/``: 404 in the path's envelope, as the cloud answers."""

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        raise not_found("HTTPNotFound", "The resource could not be found.")

    post = put = delete = get


#: ``GET /``: the API versions the endpoint serves, unauthenticated, as the cloud's VPC endpoint
#: answers its "Querying API Versions" call (Neutron's lineage). Probes of the endpoint (the
#: portal's readiness check) land here instead of on a 404.
API_VERSIONS = {
    "versions": [
        {
            "id": "v1",
            "links": [],
            "min_version": "",
            "status": "CURRENT",
            "updated": "2014-06-28T12:20:21Z",
            "version": "",
        },
        {
            "id": "v2.0",
            "links": [],
            "min_version": "",
            "status": "SUPPORTED",
            "updated": "2014-06-28T12:20:21Z",
            "version": "",
        },
    ]
}


def api_versions(request: HttpRequest) -> JsonResponse:
    """The endpoint's API versions (no signature needed)."""
    if request.method not in ("GET", "HEAD"):
        return JsonResponse({"error_msg": "Method not allowed", "error_code": "APIGW.0101"}, status=405)
    return JsonResponse(API_VERSIONS)
