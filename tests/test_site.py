"""The site's small things: the favicon, the API docs behind the sign-in, forms that never cut text."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from tests.factories import MembershipFactory, PeeringFactory

pytestmark = pytest.mark.django_db


def test_the_favicon_is_the_portals_own(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 301
    assert response["Location"].endswith("favicon.svg")
    assert client.get(reverse("login")).content.decode().count('rel="icon"') == 1


def test_the_admin_pages_carry_the_favicon_too(admin_client):
    assert 'rel="icon"' in admin_client.get(reverse("admin:index")).content.decode()


def test_the_api_docs_send_a_signed_out_person_to_sign_in(client):
    docs = reverse("api:docs")
    response = client.get(docs)
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('login')}?next={docs}"


def test_the_api_docs_answer_a_bad_token_with_the_apis_401(client):
    response = client.get(reverse("api:docs"), HTTP_AUTHORIZATION="Token not-a-token")
    assert response.status_code == 401


def test_a_name_over_the_limit_is_refused_with_a_message_not_cut_by_the_browser(client):
    membership = MembershipFactory(user__username="paster")
    peering = PeeringFactory(requester_tenant=membership.tenant, name="short")
    client.force_login(membership.user)
    url = reverse("peerings:edit", args=[peering.pk])
    form = client.get(url).content.decode()
    name_input = re.search(r'<input[^>]*name="name"[^>]*>', form).group(0)
    assert "maxlength" not in name_input  # the browser would cut a pasted 65th character without a word
    assert "novalidate" in form  # the portal's messages, not the browser's bubbles
    response = client.post(url, {"name": "n" * 65, "description": ""})
    assert response.status_code == 200
    assert "at most 64 characters (it has 65)" in response.content.decode()
    peering.refresh_from_db()
    assert peering.name == "short"
