"""Destinations as typed on the routes page and in the API's ?requester= / ?accepter=: one parser."""

from __future__ import annotations

from peerings.routes.input import destinations_by_side, parse_destinations


def test_destinations_are_split_on_lines_commas_and_spaces():
    assert parse_destinations("10.0.0.0/24,10.0.1.0/24\n 10.0.2.0/24 ,, \t10.0.3.0/24\n") == [
        "10.0.0.0/24",
        "10.0.1.0/24",
        "10.0.2.0/24",
        "10.0.3.0/24",
    ]
    assert parse_destinations(" , \n") == []


def test_only_the_sides_given_are_chosen():
    params = {"requester": "10.0.0.0/24, 10.0.1.0/24", "accepter": "", "other": "10.9.0.0/16"}
    assert destinations_by_side(params) == {"requester": ["10.0.0.0/24", "10.0.1.0/24"]}
    assert destinations_by_side({"accepter": "192.168.0.0/24"}) == {"accepter": ["192.168.0.0/24"]}
