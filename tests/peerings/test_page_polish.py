"""Pages: an out-of-range page shows the last one, a refused reject stays on the peering's URL,
flash messages read naturally, the admin's tables paginate."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from peerings import admin as peerings_admin
from peerings.rules.limits import PAGE_SIZE
from tests.factories import MembershipFactory, PeeringFactory

pytestmark = pytest.mark.django_db


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def many(db):
    membership = MembershipFactory(user__username="paula")
    PeeringFactory.create_batch(PAGE_SIZE + 3, requester_tenant=membership.tenant)
    return membership.user


@pytest.mark.parametrize(
    ("asked", "shown"), [("2", 2), ("99", 2), ("99999999999999999999", 2), ("x", 1), ("0", 2)]
)
def test_an_out_of_range_page_shows_the_last_page(many, asked, shown):
    response = signed_in(many).get(reverse("peerings:list"), {"page": asked})
    assert response.status_code == 200
    assert response.context["page_obj"].number == shown


def test_a_refused_reject_comes_back_to_the_peerings_page_once(pending, globex_approver):
    client = signed_in(globex_approver)
    url = reverse("peerings:reject", args=[pending.pk])
    response = client.post(url, {"reject-reason": ""})
    assert response.status_code == 302
    assert response.url == reverse("peerings:detail", args=[pending.pk])
    shown = client.get(response.url)
    assert shown.context["reject_form"].errors
    # Shown once: the next visit is a fresh page.
    assert not client.get(response.url).context["reject_form"].is_bound


def test_flash_messages_name_the_status_only_when_unexpected(pending, globex_approver):
    response = signed_in(globex_approver).post(
        reverse("peerings:accept", args=[pending.pk]), {"accept-reason": ""}, follow=True
    )
    messages = [str(m) for m in response.context["messages"]]
    assert messages == ["Peering accepted."]


@pytest.mark.parametrize("model_admin", [peerings_admin.PeeringAdmin, peerings_admin.UpstreamCallAdmin])
def test_the_admin_tables_paginate(model_admin):
    assert model_admin.list_per_page <= 50
