"""The network as a graph: tenants, their VPCs and the peerings between them, as one viewer may see it.

Built from the peerings the viewer may see (:func:`peerings.selectors.visible_peerings`, the walls of
every list) and nothing else: a VPC appears because a visible peering names it, with the name the
cloud listed and its range only where :func:`peerings.permissions.cidr_shown` allows it (the
requester's range to both sides, the accepter's to the accepter's members). One read, no cloud call.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db.models import QuerySet
from django.urls import reverse

from peerings import permissions
from peerings.models import Peering

__all__ = ["MAP_STATUSES", "Graph", "build_graph", "graph_rows"]

#: What the map shows unless the viewer picks statuses: the peerings that are, or may become, live.
MAP_STATUSES = ("ACTIVE", "PENDING_ACCEPTANCE", "AWAITING_APPROVAL", "SUBMITTING")

_FIELDS = (
    "pk",
    "name",
    "status",
    "requester_tenant_id",
    "requester_tenant__name",
    "requester_project_id",
    "requester_vpc_id",
    "requester_vpc_name",
    "requester_vpc_cidr",
    "accepter_tenant_id",
    "accepter_tenant__name",
    "accepter_project_id",
    "accepter_vpc_id",
    "accepter_vpc_name",
    "accepter_vpc_cidr",
)


@dataclass
class Graph:
    """Cytoscape's ``elements``: tenant nodes, VPC nodes inside them, peering edges requester → accepter."""

    tenants: dict[str, dict[str, Any]] = field(default_factory=dict)
    vpcs: dict[str, dict[str, Any]] = field(default_factory=dict)
    edges: list[dict[str, Any]] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        return {"tenants": len(self.tenants), "vpcs": len(self.vpcs), "peerings": len(self.edges)}

    def elements(self) -> list[dict[str, Any]]:
        return [
            *({"data": data} for data in self.tenants.values()),
            *({"data": data} for data in self.vpcs.values()),
            *({"data": data} for data in self.edges),
        ]


def _tenant_node(graph: Graph, values: dict[str, Any], side: str, mine: set[int]) -> str:
    tenant_id = values[f"{side}_tenant_id"]
    key = f"t{tenant_id}" if tenant_id is not None else f"p{values[f'{side}_project_id']}"
    if key not in graph.tenants:
        project = values[f"{side}_project_id"]
        name = values[f"{side}_tenant__name"] or f"project {project} (outside the portal)"
        graph.tenants[key] = {"id": key, "label": name, "kind": "tenant", "mine": tenant_id in mine}
    return key


def _vpc_node(graph: Graph, values: dict[str, Any], side: str, parent: str, cidr_shown: bool) -> str:
    vpc_id = str(values[f"{side}_vpc_id"])
    key = f"v{vpc_id}"
    node = graph.vpcs.get(key)
    name = values[f"{side}_vpc_name"] or vpc_id[:8]
    cidr = values[f"{side}_vpc_cidr"] if cidr_shown else ""
    if node is None:
        graph.vpcs[key] = node = {
            "id": key,
            "parent": parent,
            "kind": "vpc",
            "vpc_id": vpc_id,
            "name": name,
            "cidr": cidr,
            "url": f"{reverse('peerings:list')}?vpc_id={vpc_id}",
        }
    elif cidr and not node["cidr"]:
        node["cidr"] = cidr  # another peering of the same VPC may show its range
    node["label"] = f"{node['name']}\n{node['cidr']}" if node["cidr"] else node["name"]
    return key


def graph_rows(peerings: QuerySet[Peering], limit: int) -> tuple[list[dict[str, Any]], bool]:
    """At most ``limit`` of ``peerings`` (walled and filtered), with only what the graph needs (one
    read), and whether there were more."""
    rows = list(peerings.order_by("pk").values(*_FIELDS)[: limit + 1])
    return rows[:limit], len(rows) > limit


def build_graph(rows: Iterable[dict[str, Any]], mine: set[int]) -> Graph:
    """The graph of ``rows`` (:func:`graph_rows`) for a viewer who is a member of tenants ``mine``."""
    graph = Graph()
    before, _, after = reverse("peerings:detail", args=[0]).rpartition("0")  # one reverse, not one a row
    for values in rows:
        ends = []
        for side in ("requester", "accepter"):
            parent = _tenant_node(graph, values, side, mine)
            shown = permissions.cidr_shown(side, values["accepter_tenant_id"], mine)
            ends.append(_vpc_node(graph, values, side, parent, shown))
        graph.edges.append(
            {
                "id": f"e{values['pk']}",
                "source": ends[0],
                "target": ends[1],
                "label": values["name"],
                "status": values["status"],
                "url": f"{before}{values['pk']}{after}",
            }
        )
    return graph
