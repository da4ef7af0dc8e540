"""The backup and restore drill: dump the PostgreSQL database, restore it afresh, check the copy.

:func:`drill` does what a restore after a disaster would, and proves it worked:

1. opens a ``REPEATABLE READ`` transaction on the live database and exports its snapshot, so the
   dump and every number compared below see the same instant, however busy the portal is;
2. ``pg_dump --format=custom --snapshot=…`` into a file (the backup);
3. creates a fresh database and ``pg_restore``\\s the file into it;
4. checks the copy: every table's row count equals the snapshot's; the history tables
   (append-only: cloud calls, status changes, route changes) hold the same first and last rows,
   column by column; every encrypted field (tenants' AK/SK, webhook secrets) decrypts with
   ``PORTAL_ENCRYPTION_KEYS`` to the same value as the original; no migration is missing;
5. drops the fresh database (unless kept) and reports.

Nothing is written to the live database. ``pg_dump`` and ``pg_restore`` come from ``PATH`` (or
``PG_DUMP`` / ``PG_RESTORE``) and must be at least the server's major version.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.apps import apps
from django.core.exceptions import ImproperlyConfigured
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.loader import MigrationLoader

__all__ = ["DrillFailed", "DrillReport", "drill"]

logger = logging.getLogger("ops.backup")

#: Rows compared column by column at each end of every history table.
SAMPLE = 50


class DrillFailed(RuntimeError):
    """The backup could not be made or restored, or the copy differs from the original."""


@dataclass
class DrillReport:
    dump_file: Path
    dump_bytes: int = 0
    database: str = ""
    tables: int = 0
    rows: int = 0
    history_rows_compared: int = 0
    secrets_decrypted: int = 0
    seconds: float = 0.0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def summary(self) -> str:
        return (
            f"Dumped {self.dump_bytes} bytes, restored into {self.database}: {self.tables} tables, "
            f"{self.rows} rows equal; {self.history_rows_compared} history rows compared column by "
            f"column; {self.secrets_decrypted} encrypted values decrypted; {self.seconds:.1f} s."
        )


def _params(settings_dict: dict[str, Any], dbname: str) -> dict[str, Any]:
    params = {
        "host": settings_dict.get("HOST") or None,
        "port": settings_dict.get("PORT") or None,
        "user": settings_dict.get("USER") or None,
        "password": settings_dict.get("PASSWORD") or None,
        "dbname": dbname,
    }
    return {k: v for k, v in params.items() if v is not None}


def _tool_env(settings_dict: dict[str, Any]) -> dict[str, str]:
    env = dict(os.environ)
    for var, key in (("PGHOST", "HOST"), ("PGPORT", "PORT"), ("PGUSER", "USER"), ("PGPASSWORD", "PASSWORD")):
        if settings_dict.get(key):
            env[var] = str(settings_dict[key])
    return env


def _run(command: list[str], env: dict[str, str]) -> None:
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)  # noqa: S603
    if result.returncode != 0:
        raise DrillFailed(
            f"{Path(command[0]).name} failed ({result.returncode}): {result.stderr.strip()[-2000:]}"
        )


def _tool(name: str) -> str:
    """``pg_dump`` / ``pg_restore``: from ``PG_DUMP`` / ``PG_RESTORE``, else ``PATH``."""
    found = os.environ.get(name.upper()) or shutil.which(name)
    if not found:
        raise DrillFailed(f"{name} is not installed (or set {name.upper()})")
    return found


def _tables(cursor: Any) -> list[str]:
    cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = current_schema() ORDER BY tablename")
    return [row[0] for row in cursor.fetchall()]


def _counts(cursor: Any, tables: list[str]) -> dict[str, int]:
    from psycopg import sql

    counts = {}
    for table in tables:
        cursor.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table)))
        counts[table] = cursor.fetchone()[0]
    return counts


def _history_models() -> list[Any]:
    from peerings.models import AppendOnlyModel

    return [m for m in apps.get_models() if issubclass(m, AppendOnlyModel)]


def _sample(cursor: Any, table: str) -> list[tuple]:
    from psycopg import sql

    query = sql.SQL(
        "(SELECT * FROM {t} ORDER BY id LIMIT %s) UNION ALL (SELECT * FROM {t} ORDER BY id DESC LIMIT %s)"
    ).format(t=sql.Identifier(table))
    cursor.execute(query, [SAMPLE, SAMPLE])
    return sorted(cursor.fetchall(), key=lambda row: row[0])


def _encrypted_fields() -> list[tuple[Any, Any]]:
    from peerings.secrets import EncryptedSecretField

    return [
        (model, f)
        for model in apps.get_models()
        for f in model._meta.concrete_fields
        if isinstance(f, EncryptedSecretField)
    ]


def _secrets(cursor: Any) -> dict[tuple[str, str, Any], str]:
    """Every encrypted value, decrypted (raises ``ImproperlyConfigured`` if a key is missing)."""
    from psycopg import sql

    found = {}
    for model, f in _encrypted_fields():
        table = model._meta.db_table
        cursor.execute(
            sql.SQL("SELECT id, {c} FROM {t} WHERE {c} IS NOT NULL").format(
                c=sql.Identifier(f.column), t=sql.Identifier(table)
            )
        )
        for pk, value in cursor.fetchall():
            found[(table, f.column, pk)] = f.from_db_value(value, None, None).reveal()
    return found


def _missing_migrations(cursor: Any) -> list[str]:
    """Migrations of this code that the database has not applied (read from ``django_migrations``)."""
    cursor.execute("SELECT app, name FROM django_migrations")
    applied = {(app, name) for app, name in cursor.fetchall()}
    graph = MigrationLoader(None, ignore_no_migrations=True).graph
    return sorted(f"{app}.{name}" for app, name in graph.nodes if (app, name) not in applied)


def drill(*, dump_file: Path | None = None, keep: bool = False) -> DrillReport:
    """Dump, restore into a fresh database, compare; raises :class:`DrillFailed` on any difference."""
    import psycopg

    started = time.monotonic()
    source = connections[DEFAULT_DB_ALIAS]
    if source.vendor != "postgresql":
        raise DrillFailed("the backup drill needs PostgreSQL (DATABASE_URL=postgres://...)")
    settings_dict = source.settings_dict
    workdir = None
    if dump_file is None:
        workdir = Path(tempfile.mkdtemp(prefix="portal-backup-"))
        dump_file = workdir / "portal.dump"
    report = DrillReport(dump_file=dump_file)
    suffix = f"_drill_{int(time.time())}_{uuid.uuid4().hex[:6]}"  # never another drill's database
    restored_name = settings_dict["NAME"][: 63 - len(suffix)] + suffix
    report.database = restored_name
    env = _tool_env(settings_dict)
    try:
        with psycopg.connect(**_params(settings_dict, settings_dict["NAME"])) as live:
            live.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            with live.cursor() as cursor:
                cursor.execute("SELECT pg_export_snapshot()")
                snapshot = cursor.fetchone()[0]
                _run(
                    [
                        _tool("pg_dump"),
                        "--format=custom",
                        "--no-owner",
                        "--no-privileges",
                        f"--snapshot={snapshot}",
                        f"--file={dump_file}",
                        settings_dict["NAME"],
                    ],
                    env,
                )
                tables = _tables(cursor)
                counts = _counts(cursor, tables)
                samples = {m._meta.db_table: _sample(cursor, m._meta.db_table) for m in _history_models()}
                secrets = _secrets(cursor)
            live.rollback()
        report.dump_bytes = dump_file.stat().st_size

        with psycopg.connect(**_params(settings_dict, "postgres"), autocommit=True) as admin:
            admin.execute(f'CREATE DATABASE "{restored_name}"')
        _run(
            [
                _tool("pg_restore"),
                "--no-owner",
                "--no-privileges",
                "--exit-on-error",
                f"--dbname={restored_name}",
                str(dump_file),
            ],
            env,
        )

        with psycopg.connect(**_params(settings_dict, restored_name)) as copy, copy.cursor() as cursor:
            restored_tables = _tables(cursor)
            if restored_tables != tables:
                report.problems.append(f"tables differ: {sorted(set(tables) ^ set(restored_tables))}")
            restored_counts = _counts(cursor, [t for t in tables if t in restored_tables])
            for table, count in counts.items():
                if restored_counts.get(table) != count:
                    report.problems.append(f"{table}: {count} rows, restored {restored_counts.get(table)}")
            report.tables, report.rows = len(restored_counts), sum(restored_counts.values())
            for table, rows in samples.items():
                again = _sample(cursor, table)
                if again != rows:
                    report.problems.append(f"{table}: the sampled history rows differ after the restore")
                report.history_rows_compared += len(again)
            restored_secrets = _secrets(cursor)
            if restored_secrets != secrets:
                report.problems.append("encrypted values differ after the restore")
            report.secrets_decrypted = len(restored_secrets)
            missing = _missing_migrations(cursor)
            if missing:
                report.problems.append(f"migrations missing in the restored database: {missing[:10]}")

    except (psycopg.Error, ImproperlyConfigured) as exc:  # the latter: a value no key decrypts
        raise DrillFailed(f"{type(exc).__name__}: {exc}") from exc
    finally:
        if not keep:
            with psycopg.connect(**_params(settings_dict, "postgres"), autocommit=True) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{restored_name}" WITH (FORCE)')
            if workdir is not None:
                shutil.rmtree(workdir, ignore_errors=True)
    report.seconds = time.monotonic() - started
    if report.problems:
        raise DrillFailed("; ".join(report.problems))
    logger.info("backup drill passed: %s", report.summary(), extra={"job": "backup_drill"})
    return report
