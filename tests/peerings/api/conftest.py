"""The REST API tests start every test with empty throttle counters; ``api`` is ``me``'s client
(``me``, ``home`` and the clients are in tests/conftest.py)."""

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
def api(client_for, me):
    """An API client with ``me``'s token."""
    return client_for(me)
