"""The rules are pure: their tests take plain values and dataclasses, never the database.

pytest-django blocks database access in any test without the ``django_db`` mark; this fixture
makes sure no test here asks for it.
"""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _no_database(request: pytest.FixtureRequest) -> None:
    assert request.node.get_closest_marker("django_db") is None, "rules tests run without a database"
    assert not {"db", "transactional_db"} & set(request.fixturenames)
