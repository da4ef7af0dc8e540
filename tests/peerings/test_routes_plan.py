"""The route plan's conflict rules, as pure functions (no database, no cloud)."""

from __future__ import annotations

import pytest

from peerings.routes.plan import ConflictKind, network, plan_routes

PEERING = "7d5f1e3a-0000-4000-8000-000000000001"
OTHER = "7d5f1e3a-0000-4000-8000-000000000002"


def route(destination: str, nexthop: str = OTHER, route_id: str = "r1") -> dict:
    return {"id": route_id, "destination": destination, "nexthop": nexthop, "type": "peering"}


def kinds(destinations, existing=(), *, own="10.1.0.0/16", peer="10.20.0.0/16") -> list[set[str]]:
    plan = plan_routes(
        vpc_cidr=own, peer_cidr=peer, nexthop=PEERING, existing=existing, destinations=destinations
    )
    return [{c.kind.value for c in p.conflicts} for p in plan]


def test_the_peer_range_into_an_empty_table_is_sent():
    (proposed,) = plan_routes(
        vpc_cidr="10.1.0.0/16",
        peer_cidr="10.20.0.0/16",
        nexthop=PEERING,
        existing=[],
        destinations=["10.20.0.0/16"],
    )
    assert proposed.to_send
    assert not proposed.blocked
    assert not proposed.exists
    assert proposed.destination == "10.20.0.0/16"


def test_chosen_subnets_of_the_peer_range_are_sent():
    assert kinds(["10.20.1.0/24", "10.20.2.0/24"]) == [set(), set()]


@pytest.mark.parametrize("value", ["10.20.0.1/16", "10.20.0.0", "banana", "10.20.0.0/33", ""])
def test_not_a_network_is_invalid(value):
    assert kinds([value]) == [{"invalid"}]
    assert network(value) is None


def test_outside_the_peer_range():
    assert kinds(["10.30.0.0/16"]) == [{"outside_peer"}]
    assert kinds(["10.0.0.0/8"]) == [{"outside_peer", "overlaps_own"}]


def test_an_unknown_peer_range_skips_that_rule_only():
    assert kinds(["10.30.0.0/16"], peer="") == [set()]
    assert kinds(["10.1.0.0/24"], peer="") == [{"overlaps_own"}]


def test_a_destination_overlapping_the_vpcs_own_range():
    # The whole VPC range where the peer's was meant: the classic mistake.
    assert kinds(["10.1.0.0/16"], peer="10.0.0.0/8") == [{"overlaps_own"}]


def test_a_destination_already_routed_elsewhere():
    plan = plan_routes(
        vpc_cidr="10.1.0.0/16",
        peer_cidr="10.20.0.0/16",
        nexthop=PEERING,
        existing=[route("10.20.0.0/16", OTHER, "elsewhere")],
        destinations=["10.20.0.0/16"],
    )
    (conflict,) = plan[0].conflicts
    assert conflict.kind == ConflictKind.ROUTED_ELSEWHERE
    assert conflict.blocking
    assert conflict.route_id == "elsewhere"
    assert "already routed" in conflict.message


def test_a_destination_overlapping_a_route_elsewhere():
    assert kinds(["10.20.1.0/24"], [route("10.20.0.0/16")]) == [{"routed_elsewhere"}]
    assert kinds(["10.20.0.0/16"], [route("10.20.5.0/24")]) == [{"routed_elsewhere"}]


def test_the_same_route_over_this_peering_exists_and_blocks_nothing():
    (proposed,) = plan_routes(
        vpc_cidr="10.1.0.0/16",
        peer_cidr="10.20.0.0/16",
        nexthop=PEERING,
        existing=[route("10.20.0.0/16", PEERING, "ours")],
        destinations=["10.20.0.0/16"],
    )
    assert proposed.exists
    assert not proposed.blocked
    assert not proposed.to_send
    assert proposed.conflicts[0].route_id == "ours"


def test_a_subnet_where_the_whole_range_is_routed_over_this_peering():
    assert kinds(["10.20.1.0/24"], [route("10.20.0.0/16", PEERING)]) == [{"overlaps_route"}]


def test_routes_to_unrelated_ranges_do_not_matter():
    assert kinds(["10.20.0.0/16"], [route("192.168.0.0/16"), route("10.21.0.0/16", PEERING)]) == [set()]


def test_destinations_proposed_twice_or_overlapping_each_other():
    assert kinds(["10.20.0.0/16", "10.20.1.0/24", "10.20.0.0/16"]) == [set(), {"duplicate"}, {"duplicate"}]


def test_ipv6_and_ipv4_never_overlap():
    assert kinds(["fd00::/64"], [route("10.20.0.0/16")], own="10.1.0.0/16", peer="") == [set()]
    assert kinds(["fd00::/64"], own="fd00::/48", peer="") == [{"overlaps_own"}]


def test_an_unreadable_existing_destination_is_ignored():
    assert kinds(["10.20.0.0/16"], [{"id": "x", "destination": None, "nexthop": OTHER}]) == [set()]
