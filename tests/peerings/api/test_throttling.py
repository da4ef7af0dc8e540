"""Rates per user (so per token): ``user`` for every request, ``writes`` for writes only."""

from __future__ import annotations

import pytest

from tests.factories import MembershipFactory, PeeringFactory


@pytest.fixture
def rates(settings):
    def set_rates(user: str, writes: str) -> None:
        settings.REST_FRAMEWORK = {
            **settings.REST_FRAMEWORK,
            "DEFAULT_THROTTLE_RATES": {"user": user, "writes": writes},
        }

    return set_rates


def test_writes_have_their_own_tighter_rate(api, home, rates):
    rates("100/minute", "2/minute")
    peering = PeeringFactory(requester_tenant=home)
    url = f"/api/v1/peerings/{peering.pk}/"

    answers = [api.patch(url, {}, format="json").status_code for _ in range(3)]

    assert answers == [400, 400, 429]
    throttled = api.patch(url, {}, format="json")
    assert throttled.json()["error"]["code"] == "throttled"
    assert int(throttled["Retry-After"]) > 0
    assert api.get(url).status_code == 200  # reads are not writes


def test_every_request_counts_against_the_user_rate_per_user(client_for, api, home, rates):
    rates("3/minute", "100/minute")
    other = client_for(MembershipFactory().user)

    answers = [api.get("/api/v1/tenants/").status_code for _ in range(4)]

    assert answers == [200, 200, 200, 429]
    assert other.get("/api/v1/tenants/").status_code == 200
