"""The REST API tests start every test with empty throttle counters (the clients are in tests/conftest.py)."""

from __future__ import annotations

import pytest
from django.core.cache import cache


@pytest.fixture(autouse=True)
def _clear_throttle_history():
    """Throttle counters live in the cache; start every test from zero."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def me(db):
    """The caller of an API test: a user with no tenant yet (``home`` gives them one)."""
    from tests.factories import UserFactory

    return UserFactory(username="me")


@pytest.fixture
def home(me):
    """``me``'s tenant, where they are an approver."""
    from peerings.choices import Role
    from tests.factories import MembershipFactory

    return MembershipFactory(user=me, role=Role.APPROVER, tenant__name="home").tenant


@pytest.fixture
def api(client_for, me):
    """An API client with ``me``'s token."""
    return client_for(me)
