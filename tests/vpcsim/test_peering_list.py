"""Listing peerings: filters, ordering and Neutron limit/marker pagination."""

from __future__ import annotations

import uuid
from urllib.parse import parse_qsl, urlsplit

import pytest

from tests.vpcsim.support import PEERINGS, neutron_error

pytestmark = pytest.mark.django_db


@pytest.fixture
def seven(make_peering, alpha, alpha_dev, beta) -> list[dict]:
    """Seven peerings alpha-main is a side of (three same-account ACTIVE, four cross-account PENDING)."""
    made = [
        make_peering(alpha, alpha, request_vpc=0, accept_vpc=1, name="inner"),
        make_peering(alpha, alpha_dev, request_vpc=0, name="dev-web"),
        make_peering(alpha_dev, alpha, accept_vpc=1, name="dev-db"),
    ]
    made += [
        make_peering(alpha, beta, request_vpc=i, accept_vpc=j, name=f"beta-{i}{j}")
        for i in (0, 1)
        for j in (0, 1)
    ]
    return sorted(made, key=lambda p: p["id"])


def ids(response) -> list[str]:
    return [p["id"] for p in response.json()["peerings"]]


def follow(api_client, link: dict):
    parts = urlsplit(link["href"])
    return api_client.get(parts.path, query=parse_qsl(parts.query))


def test_list_is_in_ascending_id_order_without_links(api, alpha, seven):
    response = api(alpha).get(PEERINGS)

    assert ids(response) == [p["id"] for p in seven]
    assert response.json()["peerings_links"] == []
    assert response.json()["peerings"] == seven


def test_each_side_lists_its_own(api, alpha, alpha_dev, beta, seven):
    assert len(ids(api(alpha_dev).get(PEERINGS))) == 2
    assert len(ids(api(beta).get(PEERINGS))) == 4


@pytest.mark.parametrize(
    ("query", "expected_names"),
    [
        ({"status": "ACTIVE"}, {"inner", "dev-web", "dev-db"}),
        (
            {"status": ["ACTIVE", "PENDING_ACCEPTANCE"]},
            {"inner", "dev-web", "dev-db", "beta-00", "beta-01", "beta-10", "beta-11"},
        ),
        ({"status": "REJECTED"}, set()),
        ({"name": "beta-01"}, {"beta-01"}),
        ({"name": "beta"}, set()),
        ({"name": "beta-01", "status": "ACTIVE"}, set()),
    ],
)
def test_filters(api, alpha, seven, query, expected_names):
    response = api(alpha).get(PEERINGS, query=query)

    assert {p["name"] for p in response.json()["peerings"]} == expected_names


def test_filter_by_id(api, alpha, seven):
    assert ids(api(alpha).get(PEERINGS, query={"id": seven[3]["id"]})) == [seven[3]["id"]]
    assert ids(api(alpha).get(PEERINGS, query={"id": "not-a-uuid"})) == []


def test_filter_by_vpc_id_matches_either_side(api, alpha, beta, seven):
    """alpha's second VPC is the requester of two beta peerings, accepter of two others."""
    response = api(alpha).get(PEERINGS, query={"vpc_id": alpha.vpc_ids[1]})

    assert {p["name"] for p in response.json()["peerings"]} == {"inner", "dev-db", "beta-10", "beta-11"}
    from_beta = api(beta).get(PEERINGS, query={"vpc_id": beta.vpc_ids[0]})
    assert {p["name"] for p in from_beta.json()["peerings"]} == {"beta-00", "beta-10"}


def test_filter_by_tenant_id_matches_either_side(api, alpha, alpha_dev, seven):
    response = api(alpha).get(PEERINGS, query={"tenant_id": alpha_dev.project_id})

    assert {p["name"] for p in response.json()["peerings"]} == {"dev-web", "dev-db"}
    assert len(ids(api(alpha).get(PEERINGS, query={"tenant_id": alpha.project_id}))) == 7


def test_paging_with_limit_and_next_links(api, alpha, seven):
    client = api(alpha)
    first = client.get(PEERINGS, query={"limit": 3})

    assert ids(first) == [p["id"] for p in seven[:3]]
    [link] = first.json()["peerings_links"]
    assert link["rel"] == "next"
    assert link["href"] == f"http://testserver{PEERINGS}?limit=3&marker={seven[2]['id']}"

    second = follow(client, link)
    assert ids(second) == [p["id"] for p in seven[3:6]]
    [link] = second.json()["peerings_links"]
    assert dict(parse_qsl(urlsplit(link["href"]).query))["marker"] == seven[5]["id"]

    last = follow(client, link)
    assert ids(last) == [seven[6]["id"]]
    assert last.json()["peerings_links"] == []


@pytest.mark.parametrize("limit", [7, 8, 2000])
def test_no_next_link_when_nothing_remains(api, alpha, seven, limit):
    response = api(alpha).get(PEERINGS, query={"limit": limit})

    assert len(ids(response)) == 7
    assert response.json()["peerings_links"] == []


def test_limit_zero_means_no_limit(api, alpha, seven):
    response = api(alpha).get(PEERINGS, query={"limit": 0})

    assert len(ids(response)) == 7
    assert response.json()["peerings_links"] == []


def test_last_item_as_marker_gives_an_empty_page(api, alpha, seven):
    response = api(alpha).get(PEERINGS, query={"limit": 3, "marker": seven[-1]["id"]})

    assert response.json() == {"peerings": [], "peerings_links": []}


def test_next_link_keeps_the_filters(api, alpha, seven):
    client = api(alpha)
    first = client.get(PEERINGS, query={"status": "PENDING_ACCEPTANCE", "limit": 2})
    [link] = first.json()["peerings_links"]

    assert ("status", "PENDING_ACCEPTANCE") in parse_qsl(urlsplit(link["href"]).query)
    rest = follow(client, link)
    pending = [p["id"] for p in seven if p["status"] == "PENDING_ACCEPTANCE"]
    assert ids(first) + ids(rest) == pending


def test_marker_of_an_item_filtered_out_still_works(api, alpha, seven):
    """The marker is looked up among visible items, whatever the filters."""
    active = [p["id"] for p in seven if p["status"] == "ACTIVE"]
    response = api(alpha).get(PEERINGS, query={"status": "ACTIVE", "marker": seven[0]["id"]})

    assert ids(response) == [i for i in active if i > seven[0]["id"]]


def test_page_reverse_returns_the_items_before_the_marker(api, alpha, seven):
    client = api(alpha)
    response = client.get(PEERINGS, query={"limit": 2, "marker": seven[5]["id"], "page_reverse": "True"})

    assert ids(response) == [seven[3]["id"], seven[4]["id"]]
    [link] = response.json()["peerings_links"]
    assert link["rel"] == "previous"
    earlier = follow(client, link)
    assert ids(earlier) == [seven[1]["id"], seven[2]["id"]]


@pytest.mark.parametrize("limit", ["-1", "2001", "ten", "1.5"])
def test_invalid_limit_is_400(api, alpha, limit):
    response = api(alpha).get(PEERINGS, query={"limit": limit})

    assert response.status_code == 400
    assert neutron_error(response) == {
        "type": "BadRequest",
        "message": f"Bad limit request: Limit must be an integer between 0 and 2000, not '{limit}'",
        "detail": "",
    }


def test_invalid_page_reverse_is_400(api, alpha):
    response = api(alpha).get(PEERINGS, query={"page_reverse": "maybe"})

    assert response.status_code == 400
    assert neutron_error(response)["type"] == "BadRequest"


@pytest.mark.parametrize("marker", ["unknown", "not-a-uuid", "invisible"])
def test_bad_marker_is_400(api, make_peering, alpha, alpha_dev, beta, marker):
    hidden = make_peering(alpha_dev, beta)["id"]
    value = {"unknown": str(uuid.uuid4()), "not-a-uuid": "not-a-uuid", "invisible": hidden}[marker]

    response = api(alpha).get(PEERINGS, query={"limit": 2, "marker": value})

    assert response.status_code == 400
    assert neutron_error(response) == {
        "type": "BadRequest",
        "message": f"Bad peerings request: marker '{value}' does not refer to an item of the list",
        "detail": "",
    }
