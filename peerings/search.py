"""Search the network by address, name or id, within the viewer's walls.

* An IP address or a CIDR block finds the VPCs whose range contains, lies inside or overlaps it, the
  peerings between such VPCs and the routes whose destination reaches it. Only ranges the viewer may
  see take part (:func:`peerings.permissions.cidr_shown`): a search never tells a viewer that
  a range they may not see covers an address.
* A VPC id, a cloud peering id or a portal peering id that names one visible thing goes straight to it.
* Anything else finds tenants (the directory every signed-in user has), VPCs and peerings by name.

One module for the page and the API: :func:`search` returns plain data both render.
"""

from __future__ import annotations

import ipaddress
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q
from django.urls import reverse

from peerings import permissions, selectors
from peerings.choices import LIVE_ROUTE_STATES, PeeringStatus, Role
from peerings.models import Peering, PeeringRoute, Tenant

__all__ = ["MAX_QUERY_LENGTH", "RESULTS_LIMIT", "Results", "search"]

#: Rows per kind of result; a search past it says there were more.
RESULTS_LIMIT = 50
MAX_QUERY_LENGTH = 100

_SIDES = ("requester", "accepter")
_VALUES = (
    "pk",
    "name",
    "status",
    "upstream_id",
    "requester_tenant_id",
    "requester_tenant__name",
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

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass
class Results:
    """What one search found; ``direct`` is the one page an exact id names."""

    query: str
    kind: str  # "address", "id" or "name"
    tenants: list[dict[str, Any]] = field(default_factory=list)
    vpcs: list[dict[str, Any]] = field(default_factory=list)
    peerings: list[dict[str, Any]] = field(default_factory=list)
    routes: list[dict[str, Any]] = field(default_factory=list)
    more: bool = False
    direct: str = ""

    @property
    def empty(self) -> bool:
        return not (self.tenants or self.vpcs or self.peerings or self.routes)


def _network(text: str) -> Network | None:
    try:
        return ipaddress.ip_network(text, strict=False)
    except ValueError:
        return None


def _relation(range_: Network, wanted: Network) -> str:
    if range_ == wanted:
        return "equal"
    if wanted.subnet_of(range_):  # type: ignore[arg-type]
        return "contains"
    if range_.subnet_of(wanted):  # type: ignore[arg-type]
        return "inside"
    return "overlaps"


def _peering(pk: int, name: str, status: str, upstream_id: str | None) -> dict[str, Any]:
    return {
        "id": pk,
        "name": name,
        "status": status,
        "status_label": PeeringStatus(status).label,
        "peering_id": upstream_id,
        "url": reverse("peerings:detail", args=[pk]),
    }


def _peering_row(values: Mapping[str, Any]) -> dict[str, Any]:
    return _peering(values["pk"], values["name"], values["status"], values["upstream_id"])


def _peering_of(peering: Peering) -> dict[str, Any]:
    return _peering(peering.pk, peering.name, peering.status, peering.upstream_id)


def _room(rows: list[Any]) -> bool:
    """Whether a list of results takes one more (one past the limit tells there were more)."""
    return len(rows) <= RESULTS_LIMIT


def _vpc(values: Mapping[str, Any], side: str, cidr: str, relation: str = "") -> dict[str, Any]:
    vpc_id = str(values[f"{side}_vpc_id"])
    tenant = values[f"{side}_tenant__name"] or values.get(f"{side}_project_id") or ""
    return {
        "vpc_id": vpc_id,
        "name": values[f"{side}_vpc_name"],
        "cidr": cidr,
        "tenant": tenant,
        "relation": relation,
        "url": f"{reverse('peerings:list')}?vpc_id={vpc_id}",
    }


def _by_address(results: Results, peerings: Any, wanted: Network, mine: set[int]) -> None:
    vpcs: dict[str, dict[str, Any]] = {}
    for values in peerings.values(*_VALUES).iterator(chunk_size=2000):
        accepter = values["accepter_tenant_id"]
        reaches = False
        for side in _SIDES:
            cidr = values[f"{side}_vpc_cidr"]
            if not cidr or not permissions.cidr_shown(side, accepter, mine):
                continue
            range_ = _network(cidr)
            if range_ is None or range_.version != wanted.version or not range_.overlaps(wanted):
                continue
            reaches = True
            if _room(list(vpcs)):
                vpc_id = str(values[f"{side}_vpc_id"])
                vpcs.setdefault(vpc_id, _vpc(values, side, cidr, _relation(range_, wanted)))
        if reaches and _room(results.peerings):
            results.peerings.append(_peering_row(values))
    results.vpcs = list(vpcs.values())
    routes = PeeringRoute.objects.filter(peering__in=peerings, state__in=LIVE_ROUTE_STATES).select_related(
        "peering", "tenant"
    )
    for route in routes.iterator(chunk_size=2000):
        destination = _network(route.destination)
        if destination is None or destination.version != wanted.version or not destination.overlaps(wanted):
            continue
        if not _room(results.routes):
            break
        results.routes.append(
            {
                "destination": route.destination,
                "relation": _relation(destination, wanted),
                "side": route.side,
                "tenant": route.tenant.name,
                "peering": _peering_of(route.peering),
                "state": route.state,
            }
        )


def _by_id(results: Results, peerings: Any, text: str) -> None:
    """An exact id: a portal peering id, a cloud peering id, or a VPC id on a visible peering."""
    found = None
    if text.isdigit() and len(text) < 19:
        found = peerings.filter(pk=int(text)).first()
    if found is None:
        found = peerings.filter(upstream_id__iexact=text).first()
    if found is not None:
        results.peerings.append(_peering_of(found))
        results.direct = reverse("peerings:detail", args=[found.pk])
        return
    try:
        vpc_id = uuid.UUID(text)
    except ValueError:
        return
    on_a_peering = peerings.filter(Q(requester_vpc_id=vpc_id) | Q(accepter_vpc_id=vpc_id)).exists()
    if on_a_peering:
        results.direct = f"{reverse('peerings:list')}?vpc_id={vpc_id}"


def _by_name(results: Results, peerings: Any, text: str, mine: set[int]) -> None:
    limit = RESULTS_LIMIT
    tenants = Tenant.objects.filter(name__icontains=text).order_by("name").values("pk", "name", "project_id")
    results.tenants = [
        {"id": t["pk"], "name": t["name"], "project_id": t["project_id"], "member": t["pk"] in mine}
        for t in tenants[: limit + 1]
    ]
    named = peerings.filter(Q(name__icontains=text) | Q(description__icontains=text))
    results.peerings = [_peering_row(v) for v in named.order_by("name", "pk").values(*_VALUES)[: limit + 1]]
    vpcs: dict[str, dict[str, Any]] = {}
    matching = peerings.filter(Q(requester_vpc_name__icontains=text) | Q(accepter_vpc_name__icontains=text))
    for values in matching.order_by("pk").values(*_VALUES)[: limit * 2]:
        accepter = values["accepter_tenant_id"]
        for side in _SIDES:
            if text.lower() in (values[f"{side}_vpc_name"] or "").lower():
                cidr = values[f"{side}_vpc_cidr"] if permissions.cidr_shown(side, accepter, mine) else ""
                vpcs.setdefault(str(values[f"{side}_vpc_id"]), _vpc(values, side, cidr))
    results.vpcs = list(vpcs.values())


def search(user: Any, query: str, *, roles: Mapping[int, Role] | None = None) -> Results:
    """Everything ``user`` may see that ``query`` names (see the module docstring)."""
    text = query.strip()[:MAX_QUERY_LENGTH]
    mine = set(selectors.user_roles(user) if roles is None else roles)
    peerings = selectors.visible_peerings(user, listing=True)
    wanted = _network(text) if any(c in text for c in ".:") else None
    if wanted is not None:
        results = Results(text, "address")
        _by_address(results, peerings, wanted, mine)
    else:
        results = Results(text, "id")
        _by_id(results, peerings, text)
        if not results.direct:
            results = Results(text, "name")
            _by_name(results, peerings, text, mine)
    for kind in ("tenants", "vpcs", "peerings", "routes"):
        rows = getattr(results, kind)
        if len(rows) > RESULTS_LIMIT:
            results.more = True
            setattr(results, kind, rows[:RESULTS_LIMIT])
    return results
