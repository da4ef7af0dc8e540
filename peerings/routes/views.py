"""The routes pages: a peering's route plan (read with each of the user's sides' keys), apply, remove.

Thin views over :mod:`peerings.routes.workflow`; its errors become messages
(:mod:`peerings.page_errors`), a plan's conflicts
are shown beside the routes each VPC already has. The peering's own page lists its routes
from the mirror (no cloud call).
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views import View

from peerings import permissions, selectors
from peerings.choices import ChangeSource, RouteSide
from peerings.exceptions import PortalError, RequestInvalid
from peerings.page_errors import flash_request_errors
from peerings.permissions import Action
from peerings.routes import workflow as route_workflow
from peerings.routes.input import destinations_by_side, parse_destinations
from peerings.routes.selectors import peering_routes
from peerings.routes.workflow import default_destinations
from peerings.views import PeeringMixin

__all__ = ["PeeringRoutesView", "RouteRemoveView"]

SIDES = [s.value for s in RouteSide]
#: A route id longer than this is no route's (and would overflow the column).
MAX_ID_DIGITS = 18
#: Said after a cloud error: a run stops at its first failed call, some routes may be there.
ROUTES_HINT = "The routes section shows which routes exist."


class PeeringRoutesView(PeeringMixin, View):
    """GET: the plan of each of the user's sides (its routes in the cloud, the routes proposed and
    their conflicts); ``?requester=`` / ``?accepter=`` check other destinations. POST: apply one side's."""

    template_name = "peerings/peering_routes.html"
    http_method_names = ["get", "post"]
    cloud_hint = ROUTES_HINT

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        peering = self.get_peering(pk)
        chosen = destinations_by_side(request.GET)
        return self.render_plan(peering, chosen)

    def render_plan(self, peering: Any, chosen: dict[str, list[str]], **context: Any) -> HttpResponse:
        try:
            plans = route_workflow.routes_plan(
                peering=peering, acting_user=self.request.user, destinations=chosen
            )
        except PortalError as exc:
            return self.refused(exc, peering, described=False)
        actor = permissions.actor_for(self.request.user, peering)
        hops = {str(r.get("nexthop") or "") for plan in plans for r in plan.existing or ()} - {""}
        # A next hop reads as the peering's name where the user may see that peering, else as its id.
        named = {
            hop: (pk, name)
            for pk, hop, name in selectors.visible_peerings(self.request.user)
            .filter(upstream_id__in=hops)
            .values_list("pk", "upstream_id", "name")
        }
        sides = []
        for plan in plans:
            typed = chosen.get(plan.side) or default_destinations(peering, plan.side)
            sides.append(
                {
                    "plan": plan,
                    "destinations": "\n".join(typed),
                    "inline": ", ".join(typed),
                    "may_apply": permissions.route_denial(Action.APPLY_ROUTES, peering, actor, plan.side)
                    is None,
                    "nexthop": peering.upstream_id,
                    "existing": [
                        {"route": r, "via": named.get(str(r.get("nexthop") or ""))}
                        for r in plan.existing or ()
                    ],
                }
            )
        context = {
            "peering": peering,
            "sides": sides,
            "routes": [r for r in peering_routes(peering) if r.is_live],
            **context,
        }
        return render(self.request, self.template_name, context)

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        peering = self.get_peering(pk)
        side = request.POST.get("side", "")
        if side not in SIDES:
            messages.error(request, "Choose the side whose routes to apply.")
            return redirect("peerings:routes", pk=peering.pk)
        destinations = parse_destinations(request.POST.get("destinations", ""))
        try:
            outcome = route_workflow.routes_apply(
                peering=peering,
                acting_user=request.user,
                side=side,
                destinations=destinations or None,
                source=ChangeSource.USER,
            )
        except RequestInvalid as exc:
            flash_request_errors(request, exc)
            return self.render_plan(self.get_peering(pk), {side: destinations})
        except PortalError as exc:
            return self.refused(exc, peering)
        messages.success(request, outcome.summary())
        return self.back(peering)


class RouteRemoveView(PeeringMixin, View):
    """POST ``side`` (all its routes) or ``route`` (one of the mirror's): remove them from the cloud."""

    http_method_names = ["post"]
    cloud_hint = ROUTES_HINT

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        peering = self.get_peering(pk)
        given = request.POST.get("route", "")
        route = None
        if given.isascii() and given.isdigit() and len(given) <= MAX_ID_DIGITS:
            route = peering_routes(peering).filter(pk=int(given)).first()
        side = route.side if route is not None else request.POST.get("side", "")
        if side not in SIDES:
            messages.error(request, "Choose the route, or the side whose routes to remove.")
            return self.back(peering)
        try:
            outcome = route_workflow.routes_remove(
                peering=peering,
                acting_user=request.user,
                side=side,
                route_ids=[route.pk] if route is not None else None,
                source=ChangeSource.USER,
            )
        except PortalError as exc:
            return self.refused(exc, peering)
        messages.success(request, outcome.summary())
        return self.back(peering)
