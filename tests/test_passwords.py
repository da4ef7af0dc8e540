"""The password pages are the portal's: reset links from PORTAL_BASE_URL, rate limits, token revocation."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.models import ApiToken
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery staple"  # tests.factories.UserFactory's
NEW_PASSWORD = "a-much-longer-new-passphrase-2026"


@pytest.fixture(autouse=True)
def _fresh_counters(settings):
    """The limits count in the cache, which outlives a test."""
    settings.PORTAL_BASE_URL = "https://portal.example.com"
    cache.clear()
    yield
    cache.clear()


def _token_works(key: str) -> bool:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client.get("/api/v1/tenants/").status_code == 200


def _ask_reset(email: str, address: str = "192.0.2.10", **extra):
    return Client(REMOTE_ADDR=address).post(reverse("password_reset"), {"email": email}, **extra)


def _reset_link() -> str:
    (link,) = re.findall(r"https?://\S+/reset/\S+/", mail.outbox[-1].body)
    return link


# --- The reset -------------------------------------------------------------------------------


def test_the_reset_pages_are_the_portals_own(client):
    for name in ("password_reset", "password_reset_done", "password_reset_complete"):
        html = client.get(reverse(name)).content.decode()
        assert "· VPC peering portal</title>" in html
        assert "Django administration" not in html
    assert 'href="/accounts/password_reset/"' in client.get(reverse("login")).content.decode()


def test_the_reset_link_comes_from_the_portal_base_url_whatever_the_host(settings):
    settings.ALLOWED_HOSTS = ["*"]
    UserFactory(username="mallory")
    response = _ask_reset("mallory@example.com", HTTP_HOST="evil.example")
    assert response.status_code == 302
    (message,) = mail.outbox
    assert message.to == ["mallory@example.com"]
    assert "evil.example" not in message.body
    assert _reset_link().startswith("https://portal.example.com/accounts/reset/")
    assert message.subject == "Reset your password on the VPC peering portal"


def test_the_reset_is_limited_per_client_address(settings):
    settings.PASSWORD_RESET_RATE_PER_ADDRESS = "2/hour"
    UserFactory(username="mallory")
    assert _ask_reset("mallory@example.com").status_code == 302
    assert _ask_reset("nobody@example.com").status_code == 302
    refused = _ask_reset("mallory@example.com")
    assert refused.status_code == 429
    assert 1 <= int(refused["Retry-After"]) <= 3601
    assert "Too many password-reset requests from your address" in refused.content.decode()
    assert len(mail.outbox) == 1
    assert _ask_reset("mallory@example.com", address="198.51.100.7").status_code == 302  # another address
    assert len(mail.outbox) == 2


def test_the_reset_is_limited_per_account_without_telling(settings):
    settings.PASSWORD_RESET_RATE_PER_ACCOUNT = "2/hour"
    UserFactory(username="mallory")
    for attempt in range(5):
        response = _ask_reset("Mallory@example.com", address=f"192.0.2.{attempt + 1}")
        assert response.status_code == 302  # the same answer, sent or not
        assert response["Location"] == reverse("password_reset_done")
    assert len(mail.outbox) == 2  # twenty in a second before


@pytest.mark.parametrize("revoke", [True, False])
def test_the_new_password_from_the_link_revokes_the_api_tokens_unless_unticked(revoke):
    user = UserFactory(username="mallory")
    _, key = ApiToken.objects.create_token(user, name="ci")
    _ask_reset("mallory@example.com")
    client = Client()
    form_page = client.get(_reset_link().removeprefix("https://portal.example.com"), follow=True)
    html = form_page.content.decode()
    assert re.search(r'<input type="checkbox" name="revoke_api_tokens"[^>]* checked', html)  # ticked
    data = {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    if revoke:
        data["revoke_api_tokens"] = "on"
    done = client.post(form_page.redirect_chain[-1][0], data)
    assert done.status_code == 302
    assert done["Location"] == reverse("password_reset_complete")
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    assert _token_works(key) is not revoke


# --- The change ------------------------------------------------------------------------------


def _change(client: Client, **extra: str):
    data = {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD, **extra}
    return client.post(reverse("password_change"), data)


def test_the_change_page_is_the_portals_and_offers_to_revoke_the_tokens():
    client = Client()
    client.force_login(UserFactory())
    html = client.get(reverse("password_change")).content.decode()
    assert "· VPC peering portal</title>" in html
    assert re.search(r'<input type="checkbox" name="revoke_api_tokens"[^>]* checked', html)


def test_a_password_change_revokes_the_api_tokens_when_ticked():
    user = UserFactory()
    _, key = ApiToken.objects.create_token(user, name="ci")
    client = Client()
    client.force_login(user)
    response = _change(client, revoke_api_tokens="on")
    assert response.status_code == 302
    assert not _token_works(key)
    assert "1 API token(s) of the account were revoked" in client.get(response["Location"]).content.decode()


def test_a_password_change_keeps_the_tokens_when_unticked():
    user = UserFactory()
    _, key = ApiToken.objects.create_token(user, name="ci")
    client = Client()
    client.force_login(user)
    assert _change(client).status_code == 302
    assert _token_works(key)


def test_the_admins_own_password_change_is_the_portals(admin_client):
    response = admin_client.get("/admin/password_change/")
    assert response.status_code == 302
    assert response["Location"] == reverse("password_change")


# --- The admin ---------------------------------------------------------------------------------


def test_a_superuser_revokes_all_of_a_users_tokens(admin_client):
    user = UserFactory()
    other = UserFactory()
    _, first = ApiToken.objects.create_token(user, name="ci")
    _, second = ApiToken.objects.create_token(user, name="laptop")
    _, kept = ApiToken.objects.create_token(other, name="ci")
    response = admin_client.post(
        reverse("admin:auth_user_changelist"),
        {"action": "revoke_api_tokens", "_selected_action": [user.pk]},
        follow=True,
    )
    assert "2 API token(s) revoked." in response.content.decode()
    assert not _token_works(first)
    assert not _token_works(second)
    assert _token_works(kept)


def test_staff_without_superuser_rights_cannot_open_the_users_at_all():
    """Users are global configuration: staff holding the user permissions still get no user admin,
    so no revoke action either (the superusers' alone)."""
    from django.contrib.auth.models import Permission

    staff = UserFactory(is_staff=True)
    codenames = ["view_user", "change_user", "delete_user"]
    staff.user_permissions.add(*Permission.objects.filter(codename__in=codenames))
    client = Client()
    client.force_login(staff)
    response = client.get(reverse("admin:auth_user_changelist"))
    assert response.status_code == 403
    assert "revoke_api_tokens" not in response.content.decode()


def test_a_password_an_admin_sets_revokes_the_users_tokens(admin_client):
    user = UserFactory()
    _, key = ApiToken.objects.create_token(user, name="ci")
    response = admin_client.post(
        reverse("admin:auth_user_password_change", args=[user.pk]),
        {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD, "usable_password": "true"},
    )
    assert response.status_code == 302
    assert get_user_model().objects.get(pk=user.pk).check_password(NEW_PASSWORD)
    assert not _token_works(key)
