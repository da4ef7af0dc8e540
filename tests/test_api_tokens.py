"""API tokens: hashed at rest, several per user, expiry, revocation, last use, admin and command."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from importlib import import_module
from io import StringIO
from types import SimpleNamespace

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import ApiToken
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def _get(key: str, path: str = "/api/v1/tenants/"):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client.get(path)


def test_key_is_stored_only_as_its_digest_and_prefix():
    user = UserFactory()
    token, key = ApiToken.objects.create_token(user, name="ci")
    token.refresh_from_db()
    assert len(key) >= 40
    assert token.digest == hashlib.sha256(key.encode()).hexdigest()
    assert token.prefix == key[:8]
    stored = list(ApiToken.objects.values_list(flat=False))
    assert not any(key in str(value) for row in stored for value in row)
    assert _get(key).status_code == 200


def test_several_named_tokens_per_user_each_work_and_record_last_use():
    user = UserFactory()
    first, first_key = ApiToken.objects.create_token(user, name="ci")
    second, second_key = ApiToken.objects.create_token(user, name="laptop")
    assert _get(first_key).status_code == 200
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.last_used_at is not None
    assert second.last_used_at is None
    assert _get(second_key).status_code == 200


@pytest.mark.parametrize(
    "change",
    [
        {"revoked_at": timezone.now()},
        {"expires_at": timezone.now() - timedelta(seconds=1)},
    ],
    ids=["revoked", "expired"],
)
def test_revoked_or_expired_tokens_are_refused(change):
    token, key = ApiToken.objects.create_token(UserFactory(), name="old")
    ApiToken.objects.filter(pk=token.pk).update(**change)
    response = _get(key)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "authentication_failed"
    assert response["WWW-Authenticate"] == "Token"


def test_wrong_key_with_a_known_prefix_is_refused():
    _, key = ApiToken.objects.create_token(UserFactory(), name="ci")
    assert _get(key[:8] + "x" * (len(key) - 8)).status_code == 401


def test_an_inactive_users_token_is_refused():
    user = UserFactory()
    _, key = ApiToken.objects.create_token(user, name="ci")
    user.is_active = False
    user.save()
    assert _get(key).status_code == 401


def test_revoke():
    token, key = ApiToken.objects.create_token(UserFactory(), name="ci")
    token.revoke()
    assert not token.is_usable
    assert _get(key).status_code == 401


def test_command_prints_a_working_key_once():
    UserFactory(username="robot")
    out, err = StringIO(), StringIO()
    call_command("create_api_token", "robot", "--name", "deploy", "--days", "7", stdout=out, stderr=err)
    key = out.getvalue().strip()
    token = ApiToken.objects.get(name="deploy")
    assert token.user.username == "robot"
    assert timedelta(days=6) < token.expires_at - timezone.now() <= timedelta(days=7)
    assert key not in err.getvalue()
    assert token.prefix in err.getvalue()
    assert _get(key).status_code == 200
    with pytest.raises(CommandError):
        call_command("create_api_token", "nobody", "--name", "x", stdout=StringIO(), stderr=StringIO())


def test_admin_shows_the_key_once_and_lists_without_it(admin_client, admin_user):
    response = admin_client.post(
        reverse("admin:accounts_apitoken_add"),
        {
            "user": admin_user.pk,
            "name": "from-admin",
            "expires_at_0": "2099-01-01",
            "expires_at_1": "00:00:00",
        },
    )
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    key = response.context["key"]
    assert key in response.content.decode()
    assert _get(key).status_code == 200
    token = ApiToken.objects.get(name="from-admin")

    listing = admin_client.get(reverse("admin:accounts_apitoken_changelist")).content.decode()
    assert token.prefix in listing
    assert "from-admin" in listing
    assert key not in listing
    change = admin_client.get(reverse("admin:accounts_apitoken_change", args=[token.pk])).content.decode()
    assert key not in change


def test_admin_revoke_action(admin_client):
    token, key = ApiToken.objects.create_token(UserFactory(), name="ci")
    admin_client.post(
        reverse("admin:accounts_apitoken_changelist"),
        {"action": "revoke_tokens", "_selected_action": [token.pk]},
    )
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert _get(key).status_code == 401


def test_existing_drf_tokens_are_migrated_hashed():
    """The data migration hashes plain ``authtoken_token`` keys; the old keys keep working."""
    user = UserFactory()
    plain = "0123456789abcdef0123456789abcdef01234567"
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TABLE authtoken_token "
            "(key varchar(40) PRIMARY KEY, created timestamp NULL, user_id bigint)"
        )
        cursor.execute(
            "INSERT INTO authtoken_token (key, created, user_id) VALUES (%s, %s, %s)",
            [plain, timezone.now(), user.pk],
        )
    migration = import_module("accounts.migrations.0002_hash_drf_tokens")
    from django.apps import apps

    migration.hash_drf_tokens(apps, SimpleNamespace(connection=connection))
    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM authtoken_token")
        assert cursor.fetchone()[0] == 0
        cursor.execute("DROP TABLE authtoken_token")
    token = ApiToken.objects.get(user=user)
    assert token.prefix == plain[:8]
    assert _get(plain).status_code == 200


def _get_from(address: str, key: str):
    client = APIClient(REMOTE_ADDR=address)
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client.get("/api/v1/tenants/")


def test_bad_tokens_are_limited_per_client_address(settings):
    settings.API_BAD_TOKEN_RATE = "3/minute"
    user = UserFactory()
    _, good = ApiToken.objects.create_token(user, name="ci")
    for attempt in range(3):
        refused = _get_from("192.0.2.10", f"guess-{attempt}")
        assert refused.status_code == 401
    throttled = _get_from("192.0.2.10", "guess-4")
    assert throttled.status_code == 429
    assert throttled.json()["error"]["code"] == "throttled"
    assert "invalid tokens" in throttled.json()["error"]["message"]
    assert 1 <= int(throttled["Retry-After"]) <= 61
    # The address is held even with a good key (a guess that hits is not told apart) ...
    assert _get_from("192.0.2.10", good).status_code == 429
    # ... while other addresses, and good keys, are unaffected.
    assert _get_from("198.51.100.7", good).status_code == 200
    assert _get_from("198.51.100.7", "guess-5").status_code == 401


def test_the_bad_token_counter_lives_in_the_shared_cache(settings):
    """Counted in Django's cache (Redis or the database table in production), not in process memory."""
    from django.core.cache import cache

    settings.API_BAD_TOKEN_RATE = "2/minute"
    _get_from("192.0.2.11", "guess")
    _get_from("192.0.2.11", "guess")
    assert _get_from("192.0.2.11", "guess").status_code == 429
    cache.clear()  # another process sees what the cache holds: nothing left, nothing counted
    assert _get_from("192.0.2.11", "guess").status_code == 401
