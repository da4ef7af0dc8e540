"""Sign-in attempts are limited per user and per address (django-axes, in the database)."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery staple"  # tests.factories.UserFactory's
LOCKED = "Too many failed sign-in attempts"
LOGINS = {"pages": "login", "admin": "admin:login"}


@pytest.fixture(autouse=True)
def _limit(settings):
    settings.AXES_FAILURE_LIMIT = 3


def _sign_in(url: str, username: str, password: str, address: str = "192.0.2.10"):
    return Client(REMOTE_ADDR=address).post(url, {"username": username, "password": password})


def _fail(url: str, username: str, times: int, address: str = "192.0.2.10") -> None:
    for _ in range(times):
        response = _sign_in(url, username, "wrong", address)
        assert response.status_code in (200, 429)


@pytest.mark.parametrize("login", sorted(LOGINS))
def test_the_right_password_is_refused_after_too_many_wrong_ones(login):
    UserFactory(username="mallory", is_staff=True)
    url = reverse(LOGINS[login])
    _fail(url, "mallory", 3)
    response = _sign_in(url, "mallory", PASSWORD)
    assert response.status_code == 429
    assert LOCKED in response.content.decode()
    assert "_auth_user_id" not in response.client.session


@pytest.mark.parametrize("login", sorted(LOGINS))
def test_fewer_failures_still_let_the_user_in(login):
    UserFactory(username="mallory", is_staff=True)
    url = reverse(LOGINS[login])
    _fail(url, "mallory", 2)
    assert _sign_in(url, "mallory", PASSWORD).status_code == 302


def test_another_user_from_another_address_is_unaffected():
    UserFactory(username="mallory")
    UserFactory(username="trent")
    url = reverse("login")
    _fail(url, "mallory", 3, address="192.0.2.10")
    assert _sign_in(url, "trent", PASSWORD, address="198.51.100.7").status_code == 302


def test_the_locked_user_is_refused_from_any_address_and_the_address_for_any_user():
    """Per user and per address, each on its own (AXES_LOCKOUT_PARAMETERS' default)."""
    UserFactory(username="mallory")
    UserFactory(username="trent")
    url = reverse("login")
    _fail(url, "mallory", 3, address="192.0.2.10")
    assert _sign_in(url, "mallory", PASSWORD, address="198.51.100.7").status_code == 429
    assert _sign_in(url, "trent", PASSWORD, address="192.0.2.10").status_code == 429


def test_a_lockout_on_the_pages_login_holds_on_the_admin_login():
    UserFactory(username="mallory", is_staff=True)
    _fail(reverse("login"), "mallory", 3)
    assert _sign_in(reverse("admin:login"), "mallory", PASSWORD).status_code == 429


def test_pair_only_counting_leaves_the_user_free_elsewhere(settings):
    settings.AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
    UserFactory(username="mallory")
    url = reverse("login")
    _fail(url, "mallory", 3, address="192.0.2.10")
    assert _sign_in(url, "mallory", PASSWORD, address="192.0.2.10").status_code == 429
    assert _sign_in(url, "mallory", PASSWORD, address="198.51.100.7").status_code == 302


def test_client_address_behind_trusted_proxies(rf, settings):
    from portal.middleware import client_ip

    request = rf.get("/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="192.0.2.66, 203.0.113.9")
    settings.TRUSTED_PROXY_COUNT = 0
    assert client_ip(request) == "10.0.0.1"
    settings.TRUSTED_PROXY_COUNT = 1
    assert client_ip(request) == "203.0.113.9"  # the spoofable left part is ignored
