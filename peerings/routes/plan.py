"""The route plan: which routes one side of a peering needs, and what stands in their way.

Pure functions over plain values (the VPC's range, the routes its table already has, the
destinations proposed), so every rule is tested without a database or a cloud. A proposed
destination is **blocked** by any of:

* ``invalid``: not a network in CIDR notation (``10.20.0.0/16``; host bits must be zero);
* ``outside_peer``: not within the peer VPC's range (the routes go to the peer, or to chosen
  subnets of it);
* ``overlaps_own``: it overlaps the VPC's own range (traffic to it would never leave);
* ``routed_elsewhere``: it equals or overlaps a route the table has to another next hop;
* ``overlaps_route``: it overlaps, without equalling, a route the table already has over this
  peering (the whole range where a subnet is routed, or the other way round);
* ``duplicate``: it equals or overlaps another destination of the same proposal.

One that equals a route the table already has over this peering is ``exists``: nothing is
sent for it, and it blocks nothing.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

__all__ = ["Conflict", "ConflictKind", "ProposedRoute", "network", "plan_routes"]

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class ConflictKind(StrEnum):
    INVALID = "invalid"
    OUTSIDE_PEER = "outside_peer"
    OVERLAPS_OWN = "overlaps_own"
    ROUTED_ELSEWHERE = "routed_elsewhere"
    OVERLAPS_ROUTE = "overlaps_route"
    DUPLICATE = "duplicate"
    EXISTS = "exists"


@dataclass(frozen=True)
class Conflict:
    """Why a destination cannot be sent as it is (``exists``: need not be)."""

    kind: ConflictKind
    message: str
    route_id: str = ""  # the existing route it collides with, if any

    @property
    def blocking(self) -> bool:
        return self.kind != ConflictKind.EXISTS


@dataclass(frozen=True)
class ProposedRoute:
    """One destination of the plan and what stands in its way."""

    destination: str
    conflicts: tuple[Conflict, ...] = ()

    @property
    def blocked(self) -> bool:
        return any(c.blocking for c in self.conflicts)

    @property
    def exists(self) -> bool:
        return any(c.kind == ConflictKind.EXISTS for c in self.conflicts)

    @property
    def to_send(self) -> bool:
        return not self.conflicts


def network(value: Any) -> Network | None:
    """``value`` as a network (``10.20.0.0/16``), or None if it is not one (host bits set, no prefix)."""
    if not isinstance(value, str) or "/" not in value:
        return None
    try:
        return ipaddress.ip_network(value.strip(), strict=True)
    except ValueError:
        return None


def _overlap(a: Network, b: Network) -> bool:
    return a.version == b.version and a.overlaps(b)


def _inside(inner: Network, outer: Network) -> bool:
    return inner.version == outer.version and inner.subnet_of(outer)  # type: ignore[arg-type]


def plan_routes(
    *,
    vpc_cidr: str,
    peer_cidr: str,
    nexthop: str,
    existing: Iterable[Mapping[str, Any]],
    destinations: Sequence[str],
) -> list[ProposedRoute]:
    """The plan for one VPC: each of ``destinations`` with its conflicts.

    ``existing`` are the VPC's routes as the cloud lists them (``id``, ``destination``,
    ``nexthop``); ``nexthop`` is the peering's cloud id. An empty ``peer_cidr`` (not known)
    skips the ``outside_peer`` rule; an empty ``vpc_cidr`` the ``overlaps_own`` one.
    """
    own, peer = network(vpc_cidr), network(peer_cidr)
    table = [(network(r.get("destination")), r) for r in existing]
    planned: list[ProposedRoute] = []
    seen: list[Network] = []
    for destination in destinations:
        net = network(destination)
        if net is None:
            message = f"{destination!r} is not a network in CIDR notation, e.g. 10.20.0.0/16."
            planned.append(ProposedRoute(str(destination), (Conflict(ConflictKind.INVALID, message),)))
            continue
        text = str(net)
        conflicts: list[Conflict] = []
        if peer is not None and not _inside(net, peer):
            conflicts.append(
                Conflict(ConflictKind.OUTSIDE_PEER, f"{text} is not within the peer VPC's range {peer}.")
            )
        if own is not None and _overlap(net, own):
            conflicts.append(
                Conflict(ConflictKind.OVERLAPS_OWN, f"{text} overlaps this VPC's own range {own}.")
            )
        for other, route in table:
            if other is None or not _overlap(net, other):
                continue
            route_id = str(route.get("id") or "")
            ours = str(route.get("nexthop") or "") == str(nexthop)
            if ours and other == net:
                conflicts.append(
                    Conflict(ConflictKind.EXISTS, f"A route to {text} over this peering exists.", route_id)
                )
            elif ours:
                conflicts.append(
                    Conflict(
                        ConflictKind.OVERLAPS_ROUTE,
                        f"{text} overlaps the route to {other} this VPC already has over this peering.",
                        route_id,
                    )
                )
            else:
                same = "is already routed" if other == net else f"overlaps the route to {other}"
                conflicts.append(
                    Conflict(
                        ConflictKind.ROUTED_ELSEWHERE,
                        f"{text} {same} to another next hop ({route.get('nexthop')}).",
                        route_id,
                    )
                )
        if any(_overlap(net, s) for s in seen):
            conflicts.append(
                Conflict(
                    ConflictKind.DUPLICATE, f"{text} is proposed twice, or overlaps another destination."
                )
            )
        seen.append(net)
        planned.append(ProposedRoute(text, tuple(conflicts)))
    return planned
