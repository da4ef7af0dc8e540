"""Fixtures of the REST API tests: clients authenticated by token, and request helpers."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from accounts.models import ApiToken


@pytest.fixture(autouse=True)
def _clear_throttle_history():
    """Throttle counters live in the cache; start every test from zero."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def anon() -> APIClient:
    return APIClient()


@pytest.fixture
def client_for(db) -> Callable[..., APIClient]:
    """``client_for(user)``: an API client sending ``Authorization: Token <a new key of user's>``."""

    def make(user) -> APIClient:
        _, key = ApiToken.objects.create_token(user, name="tests")
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
        client.user = user
        return client

    return make


@pytest.fixture
def acme_api(client_for, acme_member) -> APIClient:
    """alice, a member of acme-prod."""
    return client_for(acme_member)


@pytest.fixture
def acme_approver_api(client_for, acme_approver) -> APIClient:
    """anna, an approver of acme-prod."""
    return client_for(acme_approver)


@pytest.fixture
def globex_api(client_for, globex_member) -> APIClient:
    """gary, a member of globex-main."""
    return client_for(globex_member)


@pytest.fixture
def globex_approver_api(client_for, globex_approver) -> APIClient:
    """grace, an approver of globex-main."""
    return client_for(globex_approver)


def create_body(request_vpc, accept_vpc, *, name="web-to-peer", tenant_id=None, **extra) -> dict:
    """A create body in the cloud's field names, from two simulator VPCs."""
    accept = {"vpc_id": str(accept_vpc.vpc_id), "tenant_id": accept_vpc.project.project_id}
    request = {"vpc_id": str(request_vpc.vpc_id)}
    if tenant_id:
        request["tenant_id"] = tenant_id
    return {"name": name, "request_vpc_info": request, "accept_vpc_info": accept, **extra}
