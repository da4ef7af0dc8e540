"""The portal's PostgreSQL sessions run without JIT compilation (ops.database), unless asked."""

from __future__ import annotations

import pytest
from django.db import connection, connections

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="a PostgreSQL session setting"),
]


def _new_session_jit() -> tuple[str, str]:
    """A new connection's ``jit`` and the server's own default for it."""
    fresh = connections.create_connection("default")
    try:
        with fresh.cursor() as cursor:
            cursor.execute("SHOW jit")
            session = cursor.fetchone()[0]
            cursor.execute("RESET jit")
            cursor.execute("SHOW jit")
            return session, cursor.fetchone()[0]
    finally:
        fresh.close()


def test_a_new_session_has_jit_off():
    session, _ = _new_session_jit()
    assert session == "off"


def test_database_jit_leaves_the_server_setting(settings):
    settings.DATABASE_JIT = True
    session, server = _new_session_jit()
    assert session == server
