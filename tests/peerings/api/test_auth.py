"""Every endpoint needs a token or a browser session; sessions need CSRF for writes."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from peerings.models import IdempotencyKey
from tests.factories import PeeringFactory

ENDPOINTS = [
    ("get", "/api/v1/"),
    ("get", "/api/v1/tenants/"),
    ("get", "/api/v1/tenants/{tenant}/"),
    ("get", "/api/v1/tenants/{tenant}/vpcs/"),
    ("get", "/api/v1/peerings/"),
    ("post", "/api/v1/peerings/"),
    ("get", "/api/v1/peerings/{peering}/"),
    ("patch", "/api/v1/peerings/{peering}/"),
    ("delete", "/api/v1/peerings/{peering}/"),
    ("post", "/api/v1/peerings/{peering}/accept/"),
    ("post", "/api/v1/peerings/{peering}/reject/"),
    ("post", "/api/v1/peerings/{peering}/refresh/"),
    ("get", "/api/v1/peerings/{peering}/calls/"),
    ("get", "/api/v1/peerings/{peering}/status-changes/"),
    ("get", "/api/v1/calls/"),
    ("get", "/api/v1/calls/1/"),
]


@pytest.fixture
def peering(home):
    return PeeringFactory(requester_tenant=home)


@pytest.mark.parametrize(("method", "path"), ENDPOINTS)
@pytest.mark.parametrize("credentials", [None, "Token wrong-key", "Bearer something"])
def test_no_valid_credentials_answers_401(anon, home, peering, method, path, credentials):
    if credentials:
        anon.credentials(HTTP_AUTHORIZATION=credentials)
    url = path.format(tenant=home.pk, peering=peering.pk)

    response = getattr(anon, method)(url, {}, format="json", HTTP_IDEMPOTENCY_KEY="k")

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"
    assert response.json()["error"]["code"] in {"not_authenticated", "authentication_failed"}
    assert not IdempotencyKey.objects.exists()


def test_a_token_authenticates(api, peering):
    response = api.get("/api/v1/peerings/")

    assert response.status_code == 200
    assert [p["id"] for p in response.json()["results"]] == [peering.pk]


def test_an_inactive_users_token_is_refused(api, me):
    me.is_active = False
    me.save()

    assert api.get("/api/v1/peerings/").status_code == 401


def test_a_browser_session_authenticates_and_needs_csrf_to_write(me, peering):
    browser = APIClient(enforce_csrf_checks=True)
    assert browser.login(username=me.username, password="correct horse battery staple")

    read = browser.get("/api/v1/peerings/")
    write = browser.patch(f"/api/v1/peerings/{peering.pk}/", {"name": "x"}, format="json")

    assert read.status_code == 200
    assert read.json()["count"] == 1
    assert write.status_code == 403
    assert write.json()["error"]["code"] == "permission_denied"
    assert "CSRF" in write.json()["error"]["message"]
