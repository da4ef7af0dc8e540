"""The inventory: the peerings themselves as rows for an export (CSV or JSON lines), within the walls.

Each row names both sides (tenant, project, VPC by id, name and range), the status, who requested,
approved and decided and when, and the routes applied on each side. The accepter's range is written
only for a member of the accepter tenant (:func:`peerings.permissions.cidr_shown`), as on every
page. Rows are read in chunks, each chunk's live routes with one more query: 100,000 peerings never sit
in memory at once.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from typing import Any

from django.db.models import QuerySet

from peerings import permissions
from peerings.choices import LIVE_ROUTE_STATES
from peerings.export import Table
from peerings.models import Peering, PeeringRoute

__all__ = ["CHUNK_SIZE", "COLUMNS", "inventory_rows", "inventory_table"]

CHUNK_SIZE = 2000

#: (column, field of the peering's values); "" marks the columns this module computes.
_FIELDS = [
    ("id", "id"),
    ("name", "name"),
    ("status", "status"),
    ("peering_id", "upstream_id"),
    ("requester_tenant", "requester_tenant__name"),
    ("requester_project_id", "requester_project_id"),
    ("requester_vpc_id", "requester_vpc_id"),
    ("requester_vpc_name", "requester_vpc_name"),
    ("requester_vpc_cidr", "requester_vpc_cidr"),
    ("accepter_tenant", "accepter_tenant__name"),
    ("accepter_project_id", "accepter_project_id"),
    ("accepter_vpc_id", "accepter_vpc_id"),
    ("accepter_vpc_name", "accepter_vpc_name"),
    ("accepter_vpc_cidr", "accepter_vpc_cidr"),
    ("requested_by", "requested_by__username"),
    ("created_at", "created_at"),
    ("approved_by", "approved_by__username"),
    ("approved_at", "approved_at"),
    ("decided_by", "decided_by__username"),
    ("decided_at", "decided_at"),
    ("decision_reason", "decision_reason"),
]
_COMPUTED = ["requester_routes", "accepter_routes"]

#: The inventory's columns, in order.
COLUMNS = [name for name, _ in _FIELDS] + _COMPUTED


def _routes(peering_ids: list[int]) -> dict[tuple[int, str], list[str]]:
    routes: dict[tuple[int, str], list[str]] = defaultdict(list)
    live = PeeringRoute.objects.filter(peering_id__in=peering_ids, state__in=LIVE_ROUTE_STATES)
    for peering_id, side, destination in live.order_by("destination").values_list(
        "peering_id", "side", "destination"
    ):
        routes[(peering_id, side)].append(destination)
    return routes


def _chunks(peerings: QuerySet[Peering]) -> Iterator[list[dict[str, Any]]]:
    fields = [field for _, field in _FIELDS]
    chunk: list[dict[str, Any]] = []
    for values in peerings.values(*fields, "accepter_tenant_id").iterator(chunk_size=CHUNK_SIZE):
        chunk.append(values)
        if len(chunk) == CHUNK_SIZE:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def inventory_rows(peerings: QuerySet[Peering], tenant_ids: set[int]) -> Iterator[list[Any]]:
    """One list of :data:`COLUMNS` values per peering of ``peerings`` (walled and filtered already),
    for a viewer who is a member of ``tenant_ids``."""
    for chunk in _chunks(peerings):
        routes = _routes([values["id"] for values in chunk])
        for values in chunk:
            if not permissions.cidr_shown("accepter", values["accepter_tenant_id"], tenant_ids):
                values["accepter_vpc_cidr"] = ""
            row = [values[field] for _, field in _FIELDS]
            row.append(" ".join(routes.get((values["id"], "requester"), [])))
            row.append(" ".join(routes.get((values["id"], "accepter"), [])))
            yield row


def inventory_table(tenant_ids: set[int]) -> Table:
    """The inventory as an export table (:mod:`peerings.export`) for a member of ``tenant_ids``."""
    return Table(COLUMNS, lambda peerings: inventory_rows(peerings, tenant_ids))
