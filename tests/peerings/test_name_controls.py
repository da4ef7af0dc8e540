"""A peering name with a line break, a tab or another control character is refused by every front.

A line break in a name would end an e-mail's subject header (Django then refuses the message,
so nobody is told); the rule lives once in ``peerings.validation.validate_name``.
"""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from peerings.models import Peering, UpstreamCall
from peerings.rules.messages import NAME_CONTROL_CHARACTERS
from peerings.validation import validate_name
from tests.factories import create_body

pytestmark = pytest.mark.django_db

CONTROLLED = ["a\r\nBcc: eve@example.com", "a\nb", "a\rb", "a\tb", "a\x1bb", "a\x7fb", "a\x85b", "a\u2028b"]
URL = "/api/v1/peerings/"


@pytest.mark.parametrize("name", CONTROLLED)
def test_the_rule(name):
    with pytest.raises(ValidationError) as raised:
        validate_name(name)
    assert raised.value.messages == [NAME_CONTROL_CHARACTERS]


@pytest.mark.parametrize("name", ["web-to-db", "Web to DB 2", "web_db.v2", "网络-对等", "é à ü"])
def test_names_the_cloud_takes_still_pass(name):
    assert validate_name(name) == name


@pytest.mark.parametrize("name", ["a\r\nb", "a\tb", "a\x1bb"])
def test_the_api_refuses_it_on_create_before_the_cloud(cloud, acme_api, prod_web, prod_db, name):
    response = acme_api.post(URL, create_body(prod_web, prod_db, name=name), format="json")
    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {"name": [NAME_CONTROL_CHARACTERS]}
    assert not Peering.objects.exists()
    assert not UpstreamCall.objects.exists()


def test_the_api_refuses_it_on_rename(cloud, acme_api, prod_web, prod_db):
    created = acme_api.post(URL, create_body(prod_web, prod_db), format="json").json()
    response = acme_api.patch(f"{URL}{created['id']}/", {"name": "x\r\nSubject: y"}, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {"name": [NAME_CONTROL_CHARACTERS]}
    assert Peering.objects.get().name == "web-to-peer"


def test_the_page_form_refuses_it(cloud, acme_member, acme_prod, prod_web, prod_db):
    client = Client()
    client.force_login(acme_member)
    response = client.post(
        reverse("peerings:request"),
        {
            "tenant": acme_prod.pk,
            "request_vpc_id": str(prod_web.vpc_id),
            "accept_vpc_id": str(prod_db.vpc_id),
            "name": "web\r\nto db",
        },
    )
    assert response.status_code == 200
    assert NAME_CONTROL_CHARACTERS in response.content.decode()
    assert not Peering.objects.exists()
