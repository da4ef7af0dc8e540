"""The API over real HTTP (the live server's WSGI handler), as curl or a generated client sees it."""

from __future__ import annotations

import pytest
import requests

from accounts.models import ApiToken
from tests.factories import create_body
from vpcsim.models import Peering as SimPeering


@pytest.fixture
def session(cloud, acme_member) -> requests.Session:
    http = requests.Session()
    http.headers["Authorization"] = f"Token {ApiToken.objects.create_token(acme_member, name='http')[1]}"
    return http


def test_request_over_http_with_an_idempotency_key(cloud, session, prod_web, globex_app):
    url = f"{cloud.url}/api/v1/peerings/"
    body = create_body(prod_web, globex_app)

    first = session.post(url, json=body, headers={"Idempotency-Key": "a1b2c3"}, timeout=30)
    replay = session.post(url, json=body, headers={"Idempotency-Key": "a1b2c3"}, timeout=30)

    assert first.status_code == 201, first.text
    assert first.headers["Location"] == first.json()["url"] == f"{url}{first.json()['id']}/"
    assert first.headers["Content-Type"] == "application/json"
    assert replay.status_code == 201
    assert replay.headers["Idempotent-Replayed"] == "true"
    assert replay.json() == first.json()
    assert SimPeering.objects.count() == 1


def test_errors_over_http_are_json(cloud, session):
    anonymous = requests.get(f"{cloud.url}/api/v1/peerings/", timeout=30)
    missing = session.get(f"{cloud.url}/api/v1/peerings/not-a-number/", timeout=30)

    assert anonymous.status_code == 401
    assert anonymous.headers["WWW-Authenticate"] == "Token"
    assert anonymous.json()["error"]["code"] == "not_authenticated"
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "not_found"
