"""Hand-written SQL for the statements every simulator request runs (the hot path).

The ORM spent most of a request compiling its statements (a few milliseconds for the
handful a request needs, against tens of microseconds to run them on a local store).
The statements every request runs (the key lookup, the replay insert, the clock and
expiry check, reading, answering and deleting one peering, creating one) are written
here by hand, with ``%s`` placeholders and portable SQL, so they run the same on
SQLite and PostgreSQL through Django's cursor (its error wrapping and query logging
included). Rare paths (lists, routes, the expiry sweep itself, fault rules) keep the ORM.

Values cross the boundary through the model fields (:func:`param`) on the way in and
:func:`to_uuid`, :func:`to_datetime` and :func:`to_duration` on the way out.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from typing import Any

from django.db.models import Model

from vpcsim import store

__all__ = ["execute", "fetchall", "fetchone", "for_update", "param", "to_datetime", "to_duration", "to_uuid"]


def param(model: type[Model], field: str, value: Any) -> Any:
    """``value`` as the database stores ``model.field`` (UUIDs as hex on SQLite, naive UTC times...)."""
    connection = store.connection()
    return model._meta.get_field(field).get_db_prep_value(value, connection, prepared=False)


def for_update(alias: str) -> str:
    """`` FOR UPDATE OF <alias>`` where the database has row locks (SQLite locks the whole file)."""
    features = store.connection().features
    if not features.has_select_for_update:
        return ""
    return f" FOR UPDATE OF {alias}" if features.has_select_for_update_of else " FOR UPDATE"


def execute(sql: str, params: Sequence[Any] = ()) -> int:
    """Run one statement; returns the number of rows it changed."""
    with store.connection().cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


def fetchone(sql: str, params: Sequence[Any] = ()) -> tuple | None:
    with store.connection().cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()


def fetchall(sql: str, params: Sequence[Any] = ()) -> list[tuple]:
    with store.connection().cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def to_uuid(value: Any) -> uuid.UUID:
    """A UUID column's value (a ``uuid.UUID`` on PostgreSQL, 32 hex digits on SQLite)."""
    return value if isinstance(value, uuid.UUID) else uuid.UUID(value)


def to_datetime(value: Any) -> dt.datetime:
    """A datetime column's value, aware in UTC (SQLite hands back naive UTC, or text)."""
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)


def to_duration(value: Any) -> dt.timedelta:
    """A duration column's value (an interval on PostgreSQL, microseconds on SQLite)."""
    if value is None:
        return dt.timedelta(0)
    return value if isinstance(value, dt.timedelta) else dt.timedelta(microseconds=int(value))
