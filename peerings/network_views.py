"""The network pages: a map of who is peered with whom (:mod:`peerings.network`) and a search by
address, name or id (:mod:`peerings.search`), within the viewer's walls like every list."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.mixins import LoginRequiredMixin
from django.http import HttpRequest, HttpResponse, JsonResponse, QueryDict
from django.shortcuts import redirect, render
from django.views import View

from peerings import search, selectors
from peerings.network import MAP_STATUSES, build_graph, graph_rows
from peerings.views import people_filterset

#: The most peerings one map draws; past it the map says so and asks for a narrower filter.
MAP_LIMIT = 2000


def _map_filters(request: HttpRequest) -> Any:
    """The list's filters over the viewer's peerings; without a status, the live ones."""
    data = request.GET.copy() if request.GET else QueryDict(mutable=True)
    if not data.getlist("status"):
        data.setlist("status", list(MAP_STATUSES))
    queryset = selectors.visible_peerings(request.user, listing=True)
    return people_filterset(request, data, queryset)


class NetworkMapView(LoginRequiredMixin, View):
    """The page: filters, the drawing area and a legend; ``map.js`` draws the data view's graph."""

    def get(self, request: HttpRequest) -> HttpResponse:
        filterset = _map_filters(request)
        filterset.is_valid()
        query = request.GET.urlencode()
        return render(
            request,
            "peerings/network_map.html",
            {"filter_form": filterset.form, "data_query": query, "statuses": MAP_STATUSES},
        )


class NetworkMapDataView(LoginRequiredMixin, View):
    """The graph as JSON (cytoscape's elements): tenants, VPCs, peerings the viewer may see."""

    def get(self, request: HttpRequest) -> JsonResponse:
        filterset = _map_filters(request)
        if not filterset.is_valid():
            return JsonResponse({"errors": filterset.form.errors}, status=400)
        rows, truncated = graph_rows(filterset.qs, MAP_LIMIT)
        graph = build_graph(rows, set(selectors.request_roles(request)))
        return JsonResponse(
            {
                "elements": graph.elements(),
                "counts": graph.counts(),
                "truncated": truncated,
                "limit": MAP_LIMIT,
            }
        )


class SearchView(LoginRequiredMixin, View):
    """Search by address, name or id; an exact id goes straight to what it names."""

    def get(self, request: HttpRequest) -> HttpResponse:
        query = (request.GET.get("q") or "").strip()
        results = None
        if query:
            results = search.search(request.user, query, roles=selectors.request_roles(request))
        if results is not None and results.direct:
            return redirect(results.direct)
        return render(request, "peerings/search.html", {"q": query, "results": results})
