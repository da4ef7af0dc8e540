"""The network map's graph and the search: pure rules first, then the pages and the API, within the walls.

The world: Acme (alice is a member) requested two peerings, one to Globex (carol is a member) and one
between its own VPCs; Initech, which neither belongs to, has a peering of its own with Globex.
"""

from __future__ import annotations

import uuid

import pytest
from django.urls import reverse

from peerings.choices import LIVE_ROUTE_STATES, PeeringStatus, RouteSide
from peerings.models import PeeringRoute
from peerings.network import MAP_STATUSES, build_graph
from peerings.search import search
from tests.factories import PeeringFactory, TenantFactory

S = PeeringStatus


# --- The graph, without a database -----------------------------------------------------------------


def _row(pk: int, *, accepter_tenant_id: int | None = 2, status: str = "ACTIVE", **extra) -> dict:
    row = {
        "pk": pk,
        "name": f"p{pk}",
        "status": status,
        "requester_tenant_id": 1,
        "requester_tenant__name": "Acme",
        "requester_project_id": "acme-project",
        "requester_vpc_id": uuid.UUID(int=pk * 2),
        "requester_vpc_name": "web",
        "requester_vpc_cidr": "10.1.0.0/16",
        "accepter_tenant_id": accepter_tenant_id,
        "accepter_tenant__name": "Globex" if accepter_tenant_id else None,
        "accepter_project_id": "globex-project",
        "accepter_vpc_id": uuid.UUID(int=pk * 2 + 1),
        "accepter_vpc_name": "core",
        "accepter_vpc_cidr": "172.16.0.0/16",
    }
    return row | extra


def test_the_graph_nests_vpcs_in_tenants_and_points_from_requester_to_accepter():
    graph = build_graph([_row(1)], mine={1})
    nodes = {e["data"]["id"]: e["data"] for e in graph.elements()}
    web, core = nodes[f"v{uuid.UUID(int=2)}"], nodes[f"v{uuid.UUID(int=3)}"]
    assert (web["parent"], core["parent"]) == ("t1", "t2")
    assert nodes["t1"]["mine"]
    assert not nodes["t2"]["mine"]
    edge = nodes["e1"]
    assert (edge["source"], edge["target"], edge["status"]) == (web["id"], core["id"], "ACTIVE")
    assert edge["url"] == reverse("peerings:detail", args=[1])


def test_the_accepters_range_is_drawn_only_for_its_members():
    requester_view = build_graph([_row(1)], mine={1}).vpcs
    accepter_view = build_graph([_row(1)], mine={2}).vpcs
    core = f"v{uuid.UUID(int=3)}"
    assert requester_view[core]["cidr"] == ""
    assert "172.16" not in requester_view[core]["label"]
    assert accepter_view[core]["cidr"] == "172.16.0.0/16"
    # The requester's range is shown to both sides (as on every page).
    assert requester_view[f"v{uuid.UUID(int=2)}"]["cidr"] == accepter_view[f"v{uuid.UUID(int=2)}"]["cidr"]


def test_a_peer_outside_the_portal_is_drawn_by_its_project():
    graph = build_graph([_row(1, accepter_tenant_id=None)], mine={1})
    assert graph.tenants["pglobex-project"]["label"] == "project globex-project (outside the portal)"


def test_one_vpc_in_several_peerings_is_one_node():
    same_vpc = {"requester_vpc_id": uuid.UUID(int=99)}
    graph = build_graph([_row(1, **same_vpc), _row(2, **same_vpc)], mine={1})
    assert graph.counts() == {"tenants": 2, "vpcs": 3, "peerings": 2}


# --- Pages and API -----------------------------------------------------------------------------------


@pytest.fixture
def world(acme_to_globex):
    to_globex = acme_to_globex(status=S.PENDING_ACCEPTANCE)
    acme, globex = to_globex.requester_tenant, to_globex.accepter_tenant
    alice, carol = (tenant.memberships.get().user for tenant in (acme, globex))
    initech = TenantFactory(name="Initech")
    internal = PeeringFactory(
        name="acme-internal",
        status=S.ACTIVE,
        requester_tenant=acme,
        accepter_tenant=acme,
        requester_vpc_id=to_globex.requester_vpc_id,
        requester_vpc_name="acme-web",
        requester_vpc_cidr="10.1.0.0/16",
        accepter_vpc_name="acme-db",
        accepter_vpc_cidr="10.2.0.0/16",
    )
    theirs = PeeringFactory(
        name="initech-to-globex",
        status=S.ACTIVE,
        requester_tenant=initech,
        accepter_tenant=globex,
        requester_vpc_name="initech-app",
        requester_vpc_cidr="192.168.0.0/16",
        accepter_vpc_name="globex-core",
        accepter_vpc_id=to_globex.accepter_vpc_id,
        accepter_vpc_cidr="172.16.0.0/16",
    )
    PeeringRoute.objects.create(
        peering=internal,
        side=RouteSide.REQUESTER,
        tenant=acme,
        vpc_id=internal.requester_vpc_id,
        destination="10.2.0.0/16",
        state=sorted(LIVE_ROUTE_STATES)[0],
    )
    return {"alice": alice, "carol": carol, "to_globex": to_globex, "internal": internal, "theirs": theirs}


def _map(client, user, **params) -> dict:
    client.force_login(user)
    response = client.get(reverse("peerings:map-data"), params)
    assert response.status_code == 200
    return response.json()


def _labels(data: dict, kind: str) -> set[str]:
    return {e["data"]["label"] for e in data["elements"] if e["data"].get("kind", "edge") == kind}


def test_each_viewer_sees_only_their_peerings_and_permitted_ranges_on_the_map(client, world):
    alice = _map(client, world["alice"])
    assert _labels(alice, "edge") == {"acme-to-globex", "acme-internal"}
    assert "Initech" not in _labels(alice, "tenant")
    assert "globex-core" in _labels(alice, "vpc")  # Globex's range: not Acme's to see
    assert "acme-db\n10.2.0.0/16" in _labels(alice, "vpc")

    carol = _map(client, world["carol"])
    assert _labels(carol, "edge") == {"acme-to-globex", "initech-to-globex"}
    assert "globex-core\n172.16.0.0/16" in _labels(carol, "vpc")
    assert "acme-web\n10.1.0.0/16" in _labels(carol, "vpc")  # a requester's range: both sides see it
    assert not any("acme-db" in label for label in _labels(carol, "vpc"))


def test_the_map_filters_by_status_and_tenant_and_refuses_a_bad_filter(client, world):
    assert set(MAP_STATUSES) >= {"ACTIVE", "PENDING_ACCEPTANCE"}
    active = _map(client, world["alice"], status="ACTIVE")
    assert _labels(active, "edge") == {"acme-internal"}
    response = client.get(reverse("peerings:map-data"), {"status": "NOPE"})
    assert response.status_code == 400
    page = client.get(reverse("peerings:map"))
    assert page.status_code == 200
    assert 'id="network-map"' in page.content.decode()


def test_the_map_needs_a_sign_in(client, db):
    assert client.get(reverse("peerings:map-data")).status_code == 302


def test_search_by_an_address_finds_vpcs_peerings_and_routes_within_the_walls(world):
    found = search(world["carol"], "10.1.2.3")  # inside acme-web, a requester's range
    assert [p["name"] for p in found.peerings] == ["acme-to-globex"]
    assert [(v["name"], v["relation"]) for v in found.vpcs] == [("acme-web", "contains")]
    # Globex's range is not Acme's to see: an address in it finds nothing for alice, everything for carol.
    assert search(world["alice"], "172.16.9.9").empty
    assert {p["name"] for p in search(world["carol"], "172.16.0.0/24").peerings} == {
        "acme-to-globex",
        "initech-to-globex",
    }
    routes = search(world["alice"], "10.2.1.0/24").routes
    assert [(r["destination"], r["relation"], r["peering"]["name"]) for r in routes] == [
        ("10.2.0.0/16", "contains", "acme-internal")
    ]


def test_search_by_id_goes_straight_to_it_and_by_name_finds_what_is_visible(world):
    to_globex = world["to_globex"]
    assert search(world["alice"], str(to_globex.pk)).direct == reverse("peerings:detail", args=[to_globex.pk])
    assert search(world["alice"], to_globex.upstream_id).direct.endswith(f"/{to_globex.pk}/")
    assert search(world["alice"], str(to_globex.requester_vpc_id)).direct.endswith(
        f"?vpc_id={to_globex.requester_vpc_id}"
    )
    assert not search(world["alice"], str(world["theirs"].pk)).direct  # Initech's: not hers
    named = search(world["alice"], "globex")
    assert {p["name"] for p in named.peerings} == {"acme-to-globex"}
    assert {t["name"] for t in named.tenants} == {"Globex"}
    assert [(v["name"], v["cidr"]) for v in named.vpcs] == [("globex-core", "")]


def test_the_search_page_and_api_answer_the_same(client, world):
    client.force_login(world["carol"])
    page = client.get(reverse("peerings:search"), {"q": "10.1.2.3"})
    assert page.status_code == 200
    assert "acme-to-globex" in page.content.decode()
    assert client.get(reverse("peerings:search"), {"q": str(world["to_globex"].pk)}).status_code == 302

    api = client.get(reverse("api:search"), {"q": "10.1.2.3"})
    assert api.status_code == 200
    body = api.json()
    assert body["kind"] == "address"
    assert [p["name"] for p in body["peerings"]] == ["acme-to-globex"]
    assert body["vpcs"][0]["cidr"] == "10.1.0.0/16"
    assert client.get(reverse("api:search")).status_code == 400  # q is required


def test_the_api_search_needs_credentials(client, db):
    assert client.get(reverse("api:search"), {"q": "x"}).status_code == 401
