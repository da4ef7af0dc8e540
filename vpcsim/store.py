"""Where the simulator keeps its state: the ``vpcsim`` database when one is configured.

With ``VPCSIM_DATABASE_URL`` (e.g. ``sqlite:///var/vpcsim.sqlite3``) the simulator's tables
live in their own database, alias ``vpcsim``, and :class:`VpcSimRouter` sends every read,
write and migration of this app there (and nothing else); without it they stay in
``default``, beside the portal's. A simulator served apart on a local SQLite file in WAL
mode then answers without a network round trip per statement, as moto keeps its state in
its own process. Code here names :data:`DB` for transactions and raw connections.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import connections

__all__ = ["ALIAS", "DB", "VpcSimRouter", "connection"]

ALIAS = "vpcsim"
APP = "vpcsim"

#: The alias holding the simulator's tables.
DB = ALIAS if ALIAS in settings.DATABASES else "default"


def connection() -> Any:
    return connections[DB]


class VpcSimRouter:
    """The simulator's models in the ``vpcsim`` database; everything else elsewhere."""

    def db_for_read(self, model: type, **hints: Any) -> str | None:
        return ALIAS if model._meta.app_label == APP else None

    db_for_write = db_for_read

    def allow_relation(self, obj1: Any, obj2: Any, **hints: Any) -> bool | None:
        ours = {obj1._meta.app_label == APP, obj2._meta.app_label == APP}
        return True if ours == {True} else (False if len(ours) == 2 else None)

    def allow_migrate(self, db: str, app_label: str, **hints: Any) -> bool:
        return (db == ALIAS) == (app_label == APP)
