"""Local sign-in for superusers only, a disabled user's tokens and sessions, the admin's walls."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse

from accounts.models import ApiToken
from sso.models import GroupMapping, Identity, MembershipChange
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery staple"


def post_login(username: str) -> Client:
    client = Client()
    client.post(reverse("login"), {"username": username, "password": PASSWORD})
    return client


def signed_in(client: Client) -> bool:
    return client.get(reverse("peerings:dashboard")).status_code == 200


def test_local_sign_in_can_be_kept_for_superusers_only(settings):
    settings.LOCAL_SIGN_IN = "superusers"
    UserFactory(username="alice")
    root = UserFactory(username="root")
    root.is_superuser = True
    root.save()
    assert not signed_in(post_login("alice"))
    assert signed_in(post_login("root"))
    settings.LOCAL_SIGN_IN = "all"
    assert signed_in(post_login("alice"))


def test_disabling_a_user_revokes_their_tokens_and_ends_their_session():
    user = UserFactory(username="erin")
    client = post_login("erin")
    token, key = ApiToken.objects.create_token(user, name="ci")
    api = Client(HTTP_AUTHORIZATION=f"Token {key}")
    assert api.get("/api/v1/peerings/").status_code == 200

    user.is_active = False
    user.save()

    token.refresh_from_db()
    assert token.revoked_at is not None
    assert not signed_in(client)
    user.is_active = True
    user.save()
    assert api.get("/api/v1/peerings/").status_code == 401  # enabling again brings no token back


@pytest.mark.parametrize("model", [GroupMapping, Identity, MembershipChange])
def test_company_sign_in_admin_is_for_superusers_only(model):
    assert model in admin.site._registry
    staff = UserFactory(username="staff")
    staff.is_staff = True
    staff.save()
    staff.user_permissions.set(Permission.objects.filter(content_type__app_label="sso"))
    root = UserFactory(username="root")
    root.is_staff = root.is_superuser = True
    root.save()
    url = reverse(f"admin:sso_{model._meta.model_name}_changelist")
    client = Client()
    client.force_login(staff)
    assert client.get(url).status_code == 403
    client.force_login(root)
    assert client.get(url).status_code == 200
