"""/healthz/ and /readyz/: the status for anyone, the details for operators only."""

from __future__ import annotations

import pytest

from ops import health
from tests.factories import UserFactory

TOKEN = "readyz-test-token-0123456789"
OPERATOR = {"HTTP_AUTHORIZATION": f"Bearer {TOKEN}"}


@pytest.fixture(autouse=True)
def _readyz_token(settings):
    settings.READYZ_TOKEN = TOKEN


def test_healthz_answers_without_the_database(client):
    response = client.get("/healthz/")  # no db fixture: any query would fail the test

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert "no-cache" in response["Cache-Control"]


@pytest.mark.django_db
def test_readyz_checks_database_migrations_and_cloud(client, cloud):
    response = client.get("/readyz/", **OPERATOR)

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "ok"
    assert body["failed"] == []
    # The test settings keep the cache in process memory and run tasks in-process: not checked.
    assert set(body["checks"]) == {"database", "migrations", "cloud"}
    assert body["checks"]["cloud"]["endpoint"] == cloud.url


@pytest.mark.django_db
def test_readyz_names_an_unreachable_cloud_to_operators_only(client, settings, closed_port):
    settings.VPC_API_ENDPOINT = f"http://127.0.0.1:{closed_port}"
    settings.READINESS_CLOUD_TIMEOUT = 0.5

    anonymous = client.get("/readyz/")
    wrong_token = client.get("/readyz/", HTTP_AUTHORIZATION="Bearer not-the-token")
    operator = client.get("/readyz/", **OPERATOR)

    assert anonymous.status_code == wrong_token.status_code == operator.status_code == 503
    assert anonymous.json() == wrong_token.json() == {"status": "unavailable"}
    assert str(closed_port) not in anonymous.content.decode()
    body = operator.json()
    assert body["status"] == "unavailable"
    assert body["failed"] == ["cloud"]
    assert "no answer" in body["checks"]["cloud"]["error"]


@pytest.mark.django_db
def test_a_superuser_gets_the_details_and_a_user_does_not(client, settings, closed_port):
    settings.VPC_API_ENDPOINT = f"http://127.0.0.1:{closed_port}"
    settings.READINESS_CLOUD_TIMEOUT = 0.5
    settings.READYZ_TOKEN = ""  # no token configured: a bearer header is nobody

    client.force_login(UserFactory(is_staff=True))
    assert client.get("/readyz/", **OPERATOR).json() == {"status": "unavailable"}
    client.force_login(UserFactory(is_superuser=True, is_staff=True))
    assert client.get("/readyz/").json()["failed"] == ["cloud"]


@pytest.mark.django_db
def test_readyz_names_the_database_and_unapplied_migrations(client, monkeypatch, cloud):
    def broken() -> dict:
        raise RuntimeError("connection refused")

    monkeypatch.setitem(health.CHECKS, "database", broken)
    response = client.get("/readyz/", **OPERATOR)

    assert response.status_code == 503
    body = response.json()
    assert body["failed"] == ["database", "migrations"]
    assert "connection refused" in body["checks"]["database"]["error"]

    monkeypatch.undo()
    unapplied = type("Migration", (), {"app_label": "ops", "name": "0002_x"})
    monkeypatch.setattr(
        health.MigrationExecutor, "migration_plan", lambda self, targets: [(unapplied, False)]
    )
    body = client.get("/readyz/", **OPERATOR).json()
    assert body["failed"] == ["migrations"]
    assert body["checks"]["migrations"]["pending"] == ["ops.0002_x"]


@pytest.mark.django_db
def test_a_shared_cache_and_broker_that_are_down_are_named_and_degrade_only(
    client, settings, monkeypatch, cloud, closed_port
):
    from portal.celery import app

    down = f"redis://127.0.0.1:{closed_port}/0"
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": down,
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.READINESS_SERVICE_TIMEOUT = 0.5
    monkeypatch.setattr(app.conf, "broker_url", down)

    response = client.get("/readyz/", **OPERATOR)

    # The portal serves without Redis: not ready to be taken out, "degraded", with what failed.
    assert response.status_code == 200
    body = response.json()
    assert (body["status"], body["failed"]) == ("degraded", ["cache", "broker"])
    assert "Connection" in body["checks"]["cache"]["error"]
    assert client.get("/readyz/").json() == {"status": "degraded"}

    settings.READYZ_REQUIRED = [*settings.READYZ_REQUIRED, "cache", "broker"]
    assert client.get("/readyz/").status_code == 503


def test_health_endpoints_need_no_sign_in_and_only_read(client):
    assert client.post("/healthz/").status_code == 405
