"""Peering routes: create/list/show/delete, their rules, and their removal with the peering."""

from __future__ import annotations

import uuid

import pytest

from tests.vpcsim.support import PEERINGS, ROUTES, neutron_error, route_body
from vpcsim.models import Route

pytestmark = pytest.mark.django_db


@pytest.fixture
def active(make_peering, alpha, alpha_dev) -> dict:
    """An ACTIVE peering between alpha's first VPC and alpha-dev's VPC."""
    return make_peering(alpha, alpha_dev)


def add_route(api_client, *, nexthop: str, vpc_id: str, destination: str):
    return api_client.post(ROUTES, route_body(nexthop=nexthop, vpc_id=vpc_id, destination=destination))


def test_both_sides_add_a_route_over_an_active_peering(api, alpha, alpha_dev, active):
    mine = add_route(api(alpha), nexthop=active["id"], vpc_id=alpha.vpc_ids[0], destination="10.2.0.0/16")
    theirs = add_route(
        api(alpha_dev), nexthop=active["id"], vpc_id=alpha_dev.vpc_ids[0], destination="10.0.0.0/16"
    )

    assert mine.status_code == theirs.status_code == 201
    route = mine.json()["route"]
    assert uuid.UUID(route["id"])
    assert route == {
        "id": route["id"],
        "destination": "10.2.0.0/16",
        "nexthop": active["id"],
        "type": "peering",
        "vpc_id": alpha.vpc_ids[0],
        "tenant_id": alpha.project_id,
    }
    assert theirs.json()["route"]["tenant_id"] == alpha_dev.project_id


def test_show_list_and_delete(api, alpha, alpha_dev, active):
    client = api(alpha)
    route = add_route(
        client, nexthop=active["id"], vpc_id=alpha.vpc_ids[0], destination="10.2.0.0/16"
    ).json()["route"]

    assert client.get(f"{ROUTES}/{route['id']}").json() == {"route": route}
    assert client.get(ROUTES).json() == {"routes": [route], "routes_links": []}
    assert api(alpha_dev).get(ROUTES).json()["routes"] == []
    hidden = [api(alpha_dev).get(f"{ROUTES}/{route['id']}"), api(alpha_dev).delete(f"{ROUTES}/{route['id']}")]
    assert [(r.status_code, neutron_error(r)["type"]) for r in hidden] == [(404, "RouteNotFound")] * 2
    assert Route.objects.count() == 1

    response = client.delete(f"{ROUTES}/{route['id']}")

    assert response.status_code == 204
    assert response.content == b""
    missing = client.get(f"{ROUTES}/{route['id']}")
    assert missing.status_code == 404
    assert neutron_error(missing) == {
        "type": "RouteNotFound",
        "message": f"Route {route['id']} could not be found.",
        "detail": "",
    }


def test_list_filters_and_paging(api, make_peering, alpha, alpha_dev, active):
    client = api(alpha)
    inner = make_peering(alpha, alpha, request_vpc=0, accept_vpc=1)
    made = [
        add_route(client, nexthop=active["id"], vpc_id=alpha.vpc_ids[0], destination="10.2.0.0/16"),
        add_route(client, nexthop=inner["id"], vpc_id=alpha.vpc_ids[0], destination="10.1.0.0/16"),
        add_route(client, nexthop=inner["id"], vpc_id=alpha.vpc_ids[1], destination="10.0.0.0/16"),
    ]
    routes = sorted((r.json()["route"] for r in made), key=lambda r: r["id"])

    def listed(**query):
        return [r["id"] for r in client.get(ROUTES, query=query).json()["routes"]]

    assert listed() == [r["id"] for r in routes]
    assert listed(vpc_id=alpha.vpc_ids[1]) == [r["id"] for r in routes if r["vpc_id"] == alpha.vpc_ids[1]]
    assert listed(destination="10.2.0.0/16") == [r["id"] for r in routes if r["destination"] == "10.2.0.0/16"]
    assert listed(id=routes[1]["id"]) == [routes[1]["id"]]
    assert len(listed(type="peering")) == 3
    assert listed(type="ecs") == []
    assert len(listed(tenant_id=alpha.project_id)) == 3
    assert listed(tenant_id=alpha_dev.project_id) == []

    page = client.get(ROUTES, query={"limit": 2}).json()
    assert [r["id"] for r in page["routes"]] == [r["id"] for r in routes[:2]]
    assert page["routes_links"] == [
        {"rel": "next", "href": f"http://testserver{ROUTES}?limit=2&marker={routes[1]['id']}"}
    ]
    assert listed(limit=2, marker=routes[1]["id"]) == [routes[2]["id"]]
    bad = client.get(ROUTES, query={"marker": str(uuid.uuid4())})
    assert bad.status_code == 400
    assert neutron_error(bad)["type"] == "BadRequest"


def _invalid(field: str, reason: str) -> str:
    return f"Invalid input for {field}. Reason: {reason}"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"type": "ecs"}, _invalid("type", "'ecs' is not in ['peering'].")),
        ({"destination": "10.2.0.1/16"}, _invalid("destination", "'10.2.0.1/16' is not a valid CIDR.")),
        ({"destination": "10.2.0.1"}, _invalid("destination", "'10.2.0.1' is not a valid CIDR.")),
        ({"destination": "banana"}, _invalid("destination", "'banana' is not a valid CIDR.")),
        ({"nexthop": "pcx-1"}, _invalid("nexthop", "'pcx-1' is not a valid UUID.")),
        ({"vpc_id": "vpc-1"}, _invalid("vpc_id", "'vpc-1' is not a valid UUID.")),
    ],
)
def test_route_attribute_validation(api, alpha, active, change, message):
    body = route_body(nexthop=active["id"], vpc_id=alpha.vpc_ids[0], destination="10.2.0.0/16")
    body["route"].update(change)

    response = api(alpha).post(ROUTES, body)

    assert response.status_code == 400
    assert neutron_error(response) == {"type": "InvalidInput", "message": message, "detail": ""}
    assert not Route.objects.exists()


@pytest.mark.parametrize("missing", ["type", "nexthop", "destination", "vpc_id"])
def test_every_route_attribute_is_required(api, alpha, active, missing):
    body = route_body(nexthop=active["id"], vpc_id=alpha.vpc_ids[0], destination="10.2.0.0/16")
    del body["route"][missing]

    response = api(alpha).post(ROUTES, body)

    assert response.status_code == 400
    assert neutron_error(response)["message"] == _invalid(missing, "Missing required attribute.")


def test_ipv6_destination_is_accepted(api, alpha, active):
    response = add_route(
        api(alpha), nexthop=active["id"], vpc_id=alpha.vpc_ids[0], destination="2001:db8::/32"
    )

    assert response.status_code == 201
    route = response.json()["route"]
    assert (route["destination"], route["nexthop"], route["vpc_id"]) == (
        "2001:db8::/32",
        active["id"],
        alpha.vpc_ids[0],
    )
    stored = Route.objects.get()
    assert (str(stored.route_id), stored.destination) == (route["id"], "2001:db8::/32")


def test_route_needs_an_active_peering(api, make_peering, alpha, beta):
    pending = make_peering(alpha, beta)

    response = add_route(
        api(alpha), nexthop=pending["id"], vpc_id=alpha.vpc_ids[0], destination="192.168.0.0/16"
    )

    assert response.status_code == 400
    assert neutron_error(response) == {
        "type": "InvalidInput",
        "message": f"Invalid input for operation: VPC peering connection {pending['id']} is "
        "PENDING_ACCEPTANCE, not ACTIVE.",
        "detail": "",
    }


def test_route_vpc_must_be_the_callers(api, alpha, alpha_dev, active):
    response = add_route(
        api(alpha), nexthop=active["id"], vpc_id=alpha_dev.vpc_ids[0], destination="10.0.0.0/16"
    )

    assert response.status_code == 400
    assert neutron_error(response)["message"] == (
        f"Invalid input for operation: VPC {alpha_dev.vpc_ids[0]} could not be found "
        f"in project {alpha.project_id}."
    )


def test_route_vpc_must_be_a_side_of_the_peering(api, alpha, active):
    response = add_route(api(alpha), nexthop=active["id"], vpc_id=alpha.vpc_ids[1], destination="10.2.0.0/16")

    assert response.status_code == 400
    assert neutron_error(response)["message"] == (
        f"Invalid input for operation: VPC peering connection {active['id']} "
        f"does not connect VPC {alpha.vpc_ids[1]}."
    )


def test_one_route_per_destination_per_vpc(api, alpha, active):
    client = api(alpha)
    add_route(client, nexthop=active["id"], vpc_id=alpha.vpc_ids[0], destination="10.2.0.0/16")

    response = add_route(client, nexthop=active["id"], vpc_id=alpha.vpc_ids[0], destination="10.2.0.0/16")

    assert response.status_code == 409
    assert neutron_error(response) == {
        "type": "RouteExists",
        "message": f"A route to 10.2.0.0/16 already exists in VPC {alpha.vpc_ids[0]}.",
        "detail": "",
    }
    assert Route.objects.count() == 1


@pytest.mark.parametrize("deleter", ["requester", "accepter"])
def test_deleting_the_peering_deletes_the_routes_of_both_sides(api, alpha, alpha_dev, active, deleter):
    mine = add_route(api(alpha), nexthop=active["id"], vpc_id=alpha.vpc_ids[0], destination="10.2.0.0/16")
    theirs = add_route(
        api(alpha_dev), nexthop=active["id"], vpc_id=alpha_dev.vpc_ids[0], destination="10.0.0.0/16"
    )
    party = alpha if deleter == "requester" else alpha_dev

    assert api(party).delete(f"{PEERINGS}/{active['id']}").status_code == 204

    assert not Route.objects.exists()
    assert api(alpha).get(f"{ROUTES}/{mine.json()['route']['id']}").status_code == 404
    assert api(alpha_dev).get(ROUTES).json()["routes"] == []
    assert theirs.status_code == 201


def test_route_malformed_json_is_400(api, alpha):
    response = api(alpha).request("POST", ROUTES, raw=b"[")

    assert response.status_code == 400
    assert neutron_error(response)["type"] == "MalformedRequestBody"


def test_route_body_without_route_is_400(api, alpha):
    response = api(alpha).post(ROUTES, {"routes": []})

    assert response.status_code == 400
    assert neutron_error(response)["message"] == "Bad route request: Unable to find 'route' in request body"
