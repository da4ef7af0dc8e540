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


def test_a_refused_write_waits_for_the_window_to_move(api, home, rates):
    rates("100/minute", "1/minute")
    peering = PeeringFactory(requester_tenant=home)
    url = f"/api/v1/peerings/{peering.pk}/"
    api.patch(url, {}, format="json")

    refused = api.patch(url, {}, format="json")

    assert refused.status_code == 429
    assert 1 <= int(refused["Retry-After"]) <= 120


# --- The sliding window, on a clock of the test's own ---------------------------------------


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def _asking(user, clock: Clock, rate: str, settings):
    """``ask()``: one request of ``user`` through a fresh ``UserThrottle`` at ``clock``'s time
    (DRF makes one per request); True when allowed, else the seconds it says to wait."""
    from rest_framework.test import APIRequestFactory

    from peerings.api.throttling import UserThrottle

    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"user": rate}}
    request = APIRequestFactory().get("/api/v1/tenants/")
    request.user = user

    def ask() -> bool | float:
        throttle = UserThrottle()
        throttle.timer = clock
        return True if throttle.allow_request(request, None) else throttle.wait()

    return ask


@pytest.mark.django_db
def test_the_previous_window_counts_as_much_as_it_still_overlaps(me, settings):
    clock = Clock(60 * 1000 + 50)  # ten seconds before a minute's window ends
    ask = _asking(me, clock, "10/minute", settings)
    assert [ask() for _ in range(10)] == [True] * 10
    assert ask() is not True

    clock.now = 60 * 1001 + 30  # half-way into the next window: the ten count as five
    assert [ask() for _ in range(5)] == [True] * 5
    assert ask() is not True

    clock.now = 60 * 1001 + 45  # a quarter of them left: 2.5 + 5 allows three more
    assert [ask() for _ in range(3)] == [True] * 3
    assert ask() is not True


@pytest.mark.django_db
def test_a_refused_caller_is_told_when_the_weight_has_faded(me, settings):
    clock = Clock(60 * 2000 + 59)
    ask = _asking(me, clock, "4/minute", settings)
    assert [ask() for _ in range(4)] == [True] * 4
    clock.now = 60 * 2001 + 6  # 4 * 0.9 = 3.6: one more, then 3.6 + 1 >= 4
    assert ask() is True
    wait = ask()

    # 4 * (1 - t/60) + 1 < 4 once t > 15: nine seconds from now.
    assert wait == pytest.approx(9.0)
    clock.now += wait + 0.01
    assert ask() is True


def test_wait_seconds_past_the_limit_in_this_window_alone():
    from peerings.api.throttling import wait_seconds

    # 6 of a limit of 4 in this window (counted before the limit fell), 20 s in: the window's
    # remaining 40 s, then until 6 * (1 - t/60) < 4, t > 20.
    assert wait_seconds(4, 60, 20, 6, 0) == pytest.approx(60)
    assert wait_seconds(4, 60, 20, 4, 0) == pytest.approx(40)
    # Nothing in this window, 9 in the last: until 9 * (1 - t/60) < 4, t > 33.3.
    assert wait_seconds(4, 60, 20, 0, 9) == pytest.approx(60 * 5 / 9 - 20)
