"""The backup and restore drill on PostgreSQL: dump, restore afresh, compare (skipped on SQLite)."""

from __future__ import annotations

import io

import psycopg
import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from ops import backup
from ops.models import JobStatus
from tests.factories import PeeringFactory, StatusChangeFactory, TenantFactory, UpstreamCallFactory

needs_postgres = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="pg_dump/pg_restore: needs DATABASE_URL=postgres://..."
)


@pytest.fixture
def portal_with_history(transactional_db):
    tenants = [TenantFactory(access_key=f"AKDRILL{i:013d}", secret_key=f"sk-drill-{i}") for i in range(3)]
    for i in range(4):
        peering = PeeringFactory(requester_tenant=tenants[i % 3], accepter_tenant=tenants[(i + 1) % 3])
        StatusChangeFactory(peering=peering, reason=f"change {i}")
        UpstreamCallFactory(tenant=tenants[i % 3], peering=peering, response_body={"n": i, "nested": [i]})
    return tenants


def _restored_databases() -> list[str]:
    name = connection.settings_dict["NAME"]
    with connection.cursor() as cursor:
        cursor.execute("SELECT datname FROM pg_database WHERE datname LIKE %s", [f"{name}_drill_%"])
        return [row[0] for row in cursor.fetchall()]


@needs_postgres
@pytest.mark.django_db(transaction=True)
def test_the_drill_restores_a_working_copy_and_drops_it(portal_with_history, tmp_path):
    out = io.StringIO()
    dump = tmp_path / "portal.dump"

    call_command("backup_drill", "--dump-file", str(dump), stdout=out)

    text = out.getvalue()
    assert "Backup drill passed" in text, text
    assert dump.stat().st_size > 0
    assert "6 encrypted values decrypted" in text  # 3 tenants x (AK, SK)
    assert "history rows compared" in text
    assert _restored_databases() == []
    assert JobStatus.objects.get(name="backup_drill").successes == 1


@needs_postgres
@pytest.mark.django_db(transaction=True)
def test_a_restore_that_lost_a_history_row_fails_the_drill(portal_with_history, monkeypatch):
    real_run = backup._run

    def restore_then_lose_a_row(command, env):
        real_run(command, env)
        if "pg_restore" in command[0]:
            target = next(arg.split("=", 1)[1] for arg in command if arg.startswith("--dbname="))
            params = backup._params(connection.settings_dict, target)
            with psycopg.connect(**params) as copy:
                copy.execute(
                    "DELETE FROM peerings_statuschange WHERE id = (SELECT max(id) FROM peerings_statuschange)"
                )

    monkeypatch.setattr(backup, "_run", restore_then_lose_a_row)

    with pytest.raises(CommandError) as failed:
        call_command("backup_drill", stdout=io.StringIO())

    assert "peerings_statuschange: 4 rows, restored 3" in str(failed.value)
    assert "sampled history rows differ" in str(failed.value)
    assert _restored_databases() == []
    assert JobStatus.objects.get(name="backup_drill").failures == 1


@needs_postgres
@pytest.mark.django_db(transaction=True)
def test_a_restored_key_that_does_not_decrypt_fails_the_drill(portal_with_history, monkeypatch):
    real_run = backup._run

    def restore_then_garble_a_key(command, env):
        real_run(command, env)
        if "pg_restore" in command[0]:
            target = next(arg.split("=", 1)[1] for arg in command if arg.startswith("--dbname="))
            with psycopg.connect(**backup._params(connection.settings_dict, target)) as copy:
                copy.execute(
                    "UPDATE peerings_tenant SET secret_key = 'not-a-fernet-token' "
                    "WHERE id = (SELECT min(id) FROM peerings_tenant)"
                )

    monkeypatch.setattr(backup, "_run", restore_then_garble_a_key)

    with pytest.raises(backup.DrillFailed, match="cannot be decrypted"):
        backup.drill()
    assert _restored_databases() == []


def test_the_drill_refuses_sqlite(monkeypatch):
    monkeypatch.setattr(connection, "vendor", "sqlite")
    with pytest.raises(backup.DrillFailed, match="needs PostgreSQL"):
        backup.drill()
