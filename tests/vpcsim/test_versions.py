"""``GET /`` on the simulator served apart: the API versions, unauthenticated, as the cloud's endpoint
answers; the portal's readiness probe of the endpoint lands there, not on a logged 404."""

from __future__ import annotations

import logging

import pytest
from django.test import Client, override_settings

pytestmark = pytest.mark.django_db


@override_settings(ROOT_URLCONF="portal.simulator_urls")
def test_the_root_lists_the_api_versions_without_a_signature(caplog):
    with caplog.at_level(logging.WARNING, logger="django.request"):
        response = Client().get("/")
    assert response.status_code == 200
    assert {v["id"] for v in response.json()["versions"]} == {"v1", "v2.0"}
    assert not [r for r in caplog.records if "Not Found" in r.getMessage()]
