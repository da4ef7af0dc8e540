"""PostgreSQL sessions as an OLTP portal wants them: JIT compilation off.

PostgreSQL compiles a statement to machine code once its estimated cost passes
``jit_above_cost``. For the portal's short reads that compilation is the whole cost: the calls
list's page at 100,000 peerings runs in about 13 ms, and in about 90 ms when the planner's estimate
crosses the threshold (the benchmark saw every one of its reads take 3x as long once the
statistics of a freshly grown table put it there). Each new connection turns it off for its
session (``SET jit = off``: one statement per connection, kept across requests; works behind
session or transaction pooling, unlike a startup option). ``DATABASE_JIT=true`` leaves the
server's setting alone.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db.backends.signals import connection_created

__all__ = ["connect", "session_settings"]


def session_settings(sender: Any, connection: Any, **kwargs: Any) -> None:
    """``connection_created``: a new PostgreSQL session of the portal's gets ``jit = off``."""
    if connection.vendor != "postgresql" or settings.DATABASE_JIT:
        return
    with connection.cursor() as cursor:
        cursor.execute("SET jit = off")


def connect() -> None:
    connection_created.connect(session_settings, dispatch_uid="ops.database.session_settings")
