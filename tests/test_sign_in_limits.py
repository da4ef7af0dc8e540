"""Sign-in attempts are limited per username from one address (django-axes, in the database)."""

from __future__ import annotations

from datetime import timedelta

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


def test_another_user_from_the_same_address_can_still_sign_in():
    """The pair is counted (AXES_LOCKOUT_PARAMETERS' default): an office behind one address is not locked."""
    UserFactory(username="mallory")
    UserFactory(username="trent")
    url = reverse("login")
    _fail(url, "mallory", 3, address="192.0.2.10")
    assert _sign_in(url, "mallory", PASSWORD, address="192.0.2.10").status_code == 429
    assert _sign_in(url, "trent", PASSWORD, address="192.0.2.10").status_code == 302
    assert _sign_in(url, "mallory", PASSWORD, address="198.51.100.7").status_code == 302


def test_the_lockout_page_says_what_is_locked_and_for_how_long(settings):
    settings.AXES_COOLOFF_TIME = timedelta(minutes=90)
    UserFactory(username="mallory")
    url = reverse("login")
    _fail(url, "mallory", 3, address="192.0.2.10")
    page = _sign_in(url, "mallory", PASSWORD, address="192.0.2.10").content.decode()
    assert "the username “mallory” from your address (192.0.2.10)" in page
    assert "locked for 1 hour 30 minutes" in page
    assert "Other users, and this user from another address, can still sign in" in page
    assert "this account" not in page


def test_separately_counted_parameters_are_described_as_such(settings):
    settings.AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
    UserFactory(username="mallory")
    UserFactory(username="trent")
    url = reverse("login")
    _fail(url, "mallory", 3, address="192.0.2.10")
    assert _sign_in(url, "mallory", PASSWORD, address="198.51.100.7").status_code == 429
    page = _sign_in(url, "trent", PASSWORD, address="192.0.2.10")
    assert page.status_code == 429
    text = page.content.decode()
    assert "the username “trent” or your address (192.0.2.10)" in text
    assert "Other users" not in text


def test_a_lockout_on_the_pages_login_holds_on_the_admin_login():
    UserFactory(username="mallory", is_staff=True)
    _fail(reverse("login"), "mallory", 3)
    assert _sign_in(reverse("admin:login"), "mallory", PASSWORD).status_code == 429


def test_the_setting_reads_a_pair_from_the_environment():
    from django.conf import settings

    assert settings.AXES_LOCKOUT_PARAMETERS == [["username", "ip_address"]]


def test_client_address_behind_trusted_proxies(rf, settings):
    from portal.middleware import client_ip

    request = rf.get("/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="192.0.2.66, 203.0.113.9")
    settings.TRUSTED_PROXY_COUNT = 0
    assert client_ip(request) == "10.0.0.1"
    settings.TRUSTED_PROXY_COUNT = 1
    assert client_ip(request) == "203.0.113.9"  # the spoofable left part is ignored
