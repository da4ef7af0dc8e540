"""Production defaults (check --deploy is clean), the simulator off unless enabled, security headers."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.urls import reverse

from accounts.models import ApiToken
from tests.factories import UserFactory

ROOT = Path(__file__).resolve().parent.parent

#: The production environment docs/operations.md documents (values are examples).
PRODUCTION_ENV = {
    "DJANGO_SECRET_KEY": "p" * 30 + "-production-example-key-0123456789",
    "PORTAL_ENCRYPTION_KEYS": "dGVzdC1vbmx5LWZpZWxkLWVuY3J5cHRpb24ta2V5LTE=",
    "DJANGO_ALLOWED_HOSTS": "portal.example.com",
    "PORTAL_BASE_URL": "https://portal.example.com",
    "DJANGO_CSRF_TRUSTED_ORIGINS": "https://portal.example.com",
    "DJANGO_BEHIND_TLS_PROXY": "true",
    "DATABASE_URL": "postgres://portal@db.invalid:5432/portal",  # never connected to by the checks
}


def _manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={"PATH": os.environ.get("PATH", ""), "DJANGO_SETTINGS_MODULE": "portal.settings", **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def _settings(*names: str, env: dict[str, str]) -> list[str]:
    code = "import django; django.setup(); from django.conf import settings as s; " + "; ".join(
        f"print(repr(getattr(s, {name!r}, None)))" for name in names
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={"PATH": os.environ.get("PATH", ""), "DJANGO_SETTINGS_MODULE": "portal.settings", **env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.splitlines()


def test_check_deploy_is_clean_with_the_documented_production_environment():
    result = _manage("check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION_ENV)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_production_defaults():
    values = _settings(
        "SECURE_SSL_REDIRECT",
        "SECURE_HSTS_SECONDS",
        "SESSION_COOKIE_SECURE",
        "CSRF_COOKIE_SECURE",
        "SECURE_PROXY_SSL_HEADER",
        "VPC_SIMULATOR_ENABLED",
        "INSTALLED_APPS",
        env={k: v for k, v in PRODUCTION_ENV.items() if k != "DJANGO_BEHIND_TLS_PROXY"},
    )
    redirect, hsts, session, csrf, proxy, simulator, apps = values
    assert (redirect, hsts, session, csrf) == ("True", "31536000", "True", "True")
    assert proxy == "None", "no proxy header unless DJANGO_BEHIND_TLS_PROXY says so"
    assert simulator == "False"
    assert "'vpcsim'" not in apps
    assert "'demo'" not in apps


def test_debug_does_not_turn_the_simulator_on():
    env = {"DJANGO_DEBUG": "true"}
    assert _settings("VPC_SIMULATOR_ENABLED", "SECURE_SSL_REDIRECT", env=env) == ["False", "False"]
    on = _settings("VPC_SIMULATOR_ENABLED", "INSTALLED_APPS", env={**env, "VPC_SIMULATOR_ENABLED": "true"})
    assert on[0] == "True"
    assert "'vpcsim'" in on[1]
    assert "'demo'" in on[1]


def test_behind_a_proxy_the_forwarded_proto_counts():
    values = _settings("SECURE_PROXY_SSL_HEADER", env=PRODUCTION_ENV)
    assert values == ["('HTTP_X_FORWARDED_PROTO', 'https')"]


# --- Headers --------------------------------------------------------------------------------------


@pytest.fixture
def member(db):
    return UserFactory(username="hedy", is_staff=True, is_superuser=True)


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/accounts/login/", "/", "/admin/", "/api/v1/docs/", "/api/v1/tenants/"])
def test_every_answer_has_the_security_headers(client, member, path):
    client.force_login(member)
    response = client.get(path)
    assert response.status_code == 200
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Frame-Options"] == "DENY"
    policy = response["Content-Security-Policy"]
    assert "default-src 'self'" in policy
    assert "script-src 'self'" in policy
    assert "style-src 'self'" in policy
    assert "frame-ancestors 'none'" in policy
    assert "unsafe-inline" not in policy


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/", "/peerings/", "/admin/", "/api/v1/docs/"])
def test_signed_in_pages_are_not_stored(client, member, path):
    client.force_login(member)
    assert "no-store" in client.get(path)["Cache-Control"]


@pytest.mark.django_db
def test_api_answers_are_not_stored(client, member):
    _, key = ApiToken.objects.create_token(member, name="headers")
    ok = client.get("/api/v1/tenants/", HTTP_AUTHORIZATION=f"Token {key}")
    refused = client.get("/api/v1/tenants/")
    assert ok.status_code == 200
    assert refused.status_code == 401
    assert "no-store" in ok["Cache-Control"]
    assert "no-store" in refused["Cache-Control"]


@pytest.mark.django_db
def test_the_anonymous_login_page_is_not_stored_either(client):
    assert "no-store" in client.get(reverse("login"))["Cache-Control"]  # Django's own never_cache


@pytest.mark.django_db
def test_the_api_docs_page_has_no_inline_code(client, member):
    client.force_login(member)
    page = client.get("/api/v1/docs/").content.decode()
    assert "<style" not in page
    assert "<script>" not in page
    assert 'src="/api/v1/docs/?script=' in page
    script = client.get("/api/v1/docs/?script=")
    assert script.status_code == 200
    assert script["Content-Type"].startswith("application/javascript")
    assert "SwaggerUIBundle" in script.content.decode()


@pytest.mark.django_db
def test_https_redirect_and_hsts_when_enabled(client, settings):
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_HSTS_SECONDS = 31_536_000
    settings.SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    assert client.get("/accounts/login/").status_code == 301
    secure = client.get("/accounts/login/", secure=True)
    assert secure["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
