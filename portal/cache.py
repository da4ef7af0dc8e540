"""The database cache in fewer statements: the default cache when there is no Redis.

Django's ``DatabaseCache`` spends five statements on every write (a ``COUNT(*)`` of the
table to decide whether to cull, then ``BEGIN``, ``SELECT``, ``UPDATE`` or ``INSERT``,
``COMMIT``); the API's throttles write two keys per request. On PostgreSQL a write here is
one ``INSERT … ON CONFLICT DO UPDATE`` (atomic by itself), and each process counts (and
culls) the table at most once every ``CULL_INTERVAL`` seconds (``OPTIONS["CULL_INTERVAL"]``,
60 by default), so the table may overshoot ``MAX_ENTRIES`` by what a minute writes. Other databases keep
Django's own code. Reads are Django's (one statement).

A write outside a transaction commits **asynchronously** (``synchronous_commit`` off for that one
statement, set within it): it does not wait for the WAL to reach the disk (a flush costs 4-5 ms on
the benchmark's machine, so the two throttle counters were two flushes per API write). What a
crash of PostgreSQL itself may lose is the last fraction of a second of cache writes: a cache and
rate counters can lose them. A write inside a transaction leaves that transaction's commit alone.
"""

from __future__ import annotations

import base64
import pickle
import time
from contextlib import nullcontext
from datetime import UTC, datetime
from typing import Any

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.db import DatabaseCache as DjangoDatabaseCache
from django.db import DatabaseError, connections, router, transaction
from django.utils.timezone import now as tz_now

__all__ = ["DatabaseCache"]

#: The written row, read from a function that turns ``synchronous_commit`` off until the end of
#: its (one-statement) transaction.
UNSYNCED_ROW = "SELECT %s, %s, %s FROM set_config('synchronous_commit', 'off', true)"


class DatabaseCache(DjangoDatabaseCache):
    """``django.core.cache.backends.db.DatabaseCache`` with one-statement writes on PostgreSQL."""

    def __init__(self, table: str, params: dict[str, Any]) -> None:
        super().__init__(table, params)
        options = params.get("OPTIONS", {})
        self._cull_interval = float(options.get("CULL_INTERVAL", 60))
        self._next_cull = 0.0  # this process's housekeeping clock (time.monotonic)

    def _base_set(self, mode: str, key: str, value: Any, timeout: Any = DEFAULT_TIMEOUT) -> bool:
        db = router.db_for_write(self.cache_model_class)
        connection = connections[db]
        if connection.vendor != "postgresql" or mode == "touch":
            return super()._base_set(mode, key, value, timeout)
        timeout = self.get_backend_timeout(timeout)
        now = tz_now().replace(microsecond=0)
        forever = datetime.max.replace(tzinfo=UTC)
        expires = forever if timeout is None else datetime.fromtimestamp(timeout, UTC)
        expires = expires.replace(microsecond=0)
        encoded = base64.b64encode(pickle.dumps(value, self.pickle_protocol)).decode("latin1")
        table = connection.ops.quote_name(self._table)
        # "add" replaces only an expired entry; "set" always does.
        condition = f" WHERE {table}.expires < %s" if mode == "add" else ""
        params = [key, encoded, expires] + ([now] if mode == "add" else [])
        # Inside a transaction, a failed write must not break it: a savepoint then. Outside, the
        # statement is its own transaction and commits without waiting for the disk (above).
        nested = connection.in_atomic_block
        guard = transaction.atomic(using=db) if nested else nullcontext()
        rows = "VALUES (%s, %s, %s)" if nested else UNSYNCED_ROW
        try:
            with guard, connection.cursor() as cursor:
                if time.monotonic() >= self._next_cull:
                    self._next_cull = time.monotonic() + self._cull_interval
                    cursor.execute(f"SELECT COUNT(*) FROM {table}")  # noqa: S608 (the table's quoted name)
                    count = cursor.fetchone()[0]
                    if count > self._max_entries:
                        self._cull(db, cursor, now, count)
                upsert = (
                    f"INSERT INTO {table} (cache_key, value, expires) {rows} "
                    f"ON CONFLICT (cache_key) DO UPDATE SET value = EXCLUDED.value, "
                    f"expires = EXCLUDED.expires{condition} RETURNING 1"
                )
                cursor.execute(upsert, params)
                return cursor.fetchone() is not None
        except DatabaseError:
            return False  # as Django's: a write that fails is a miss, never an error
