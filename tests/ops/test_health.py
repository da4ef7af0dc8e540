"""/healthz/ and /readyz/."""

from __future__ import annotations

import pytest

from ops import health


def test_healthz_answers_without_the_database(client):
    response = client.get("/healthz/")  # no db fixture: any query would fail the test

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert "no-cache" in response["Cache-Control"]


@pytest.mark.django_db
def test_readyz_checks_database_migrations_and_cloud(client, cloud):
    response = client.get("/readyz/")

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "ok"
    assert body["failed"] == []
    assert set(body["checks"]) == {"database", "migrations", "cloud"}
    assert body["checks"]["cloud"]["endpoint"] == cloud.url


@pytest.mark.django_db
def test_readyz_names_an_unreachable_cloud(client, settings, closed_port):
    settings.VPC_API_ENDPOINT = f"http://127.0.0.1:{closed_port}"
    settings.READINESS_CLOUD_TIMEOUT = 0.5

    response = client.get("/readyz/")

    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["failed"] == ["cloud"]
    assert "no answer" in body["checks"]["cloud"]["error"]


@pytest.mark.django_db
def test_readyz_names_the_database_and_unapplied_migrations(client, monkeypatch, cloud):
    def broken() -> dict:
        raise RuntimeError("connection refused")

    monkeypatch.setitem(health.CHECKS, "database", broken)
    response = client.get("/readyz/")

    assert response.status_code == 503
    body = response.json()
    assert body["failed"] == ["database", "migrations"]
    assert "connection refused" in body["checks"]["database"]["error"]

    monkeypatch.undo()
    unapplied = type("Migration", (), {"app_label": "ops", "name": "0002_x"})
    monkeypatch.setattr(
        health.MigrationExecutor, "migration_plan", lambda self, targets: [(unapplied, False)]
    )
    body = client.get("/readyz/").json()
    assert body["failed"] == ["migrations"]
    assert body["checks"]["migrations"]["pending"] == ["ops.0002_x"]


def test_health_endpoints_need_no_sign_in_and_only_read(client):
    assert client.post("/healthz/").status_code == 405
