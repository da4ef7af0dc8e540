"""HTTP views of the simulated VPC API (plain Django views returning JSON).

Every request is authenticated first (:mod:`vpcsim.auth`); every response
carries an ``X-Request-Id``. Errors use the ``NeutronError`` envelope on
``/v2.0/...`` paths and ``{"code", "message"}`` on ``/v1/...``. A method the
resource does not serve is 405 in the path's envelope.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.decorators import method_decorator
from django.views import View
from django.views.decorators.csrf import csrf_exempt

from vpcsim import selectors, services
from vpcsim.auth import Caller, authenticate
from vpcsim.errors import ApiError, method_not_allowed, not_found
from vpcsim.pagination import paginate
from vpcsim.serializers import peering_to_wire, route_to_wire, vpc_to_wire
from vpcsim.validation import parse_json, peering_create_input, peering_update_input, route_create_input

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
    caller: Caller

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        request_id = uuid.uuid4().hex
        allowed = [m.upper() for m in self.http_method_names if hasattr(self, m)]
        try:
            self.caller = authenticate(request)
            if (request.method or "") not in allowed:
                raise method_not_allowed(request.method or "")
            response = getattr(self, request.method.lower())(request, *args, **kwargs)
        except ApiError as exc:
            render = exc.neutron_response if self.envelope == "neutron" else exc.v1_response
            response = render(request_id)
            if exc.status == 405:
                response["Allow"] = ", ".join(allowed)
        response["X-Request-Id"] = request_id
        return response


def _no_content() -> HttpResponse:
    return HttpResponse(status=204)


class PeeringCollectionView(SimulatorView):
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

    def put(self, request: HttpRequest, peering_id: str) -> HttpResponse:
        peering = services.peering_accept(caller=self.caller, peering_id=peering_id)
        return JsonResponse(peering_to_wire(peering))


class PeeringRejectView(SimulatorView):
    """``PUT .../reject``: no body; answers the bare peering object."""

    def put(self, request: HttpRequest, peering_id: str) -> HttpResponse:
        peering = services.peering_reject(caller=self.caller, peering_id=peering_id)
        return JsonResponse(peering_to_wire(peering))


class RouteCollectionView(SimulatorView):
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
    def get(self, request: HttpRequest, route_id: str) -> HttpResponse:
        route = selectors.route_get(project=self.caller.project, route_id=route_id)
        return JsonResponse({"route": route_to_wire(route)})

    def delete(self, request: HttpRequest, route_id: str) -> HttpResponse:
        services.route_delete(caller=self.caller, route_id=route_id)
        return _no_content()


class VpcCollectionView(SimulatorView):
    """``GET /v1/{project_id}/vpcs``: the project in the URL must be the signed one."""

    envelope = "v1"

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
