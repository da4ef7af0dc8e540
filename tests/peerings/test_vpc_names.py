"""VPCs by name and range beside their ids, kept on the peering when it is requested or
refreshed by a person, so pages and lists need no cloud call; the accepter's range only
for members of the accepter tenant."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from peerings.choices import CallOperation, ChangeSource
from peerings.models import UpstreamCall
from peerings.workflow import peering_refresh
from tests.factories import MembershipFactory
from vpcsim.models import Vpc

pytestmark = pytest.mark.django_db


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_a_request_keeps_both_vpcs_names_and_ranges(pending, active):
    assert (pending.requester_vpc_name, pending.requester_vpc_cidr) == ("prod-web", "10.1.0.0/16")
    assert (pending.accepter_vpc_name, pending.accepter_vpc_cidr) == ("globex-app", "10.20.0.0/16")
    assert (active.accepter_vpc_name, active.accepter_vpc_cidr) == ("prod-db", "10.2.0.0/16")


def test_a_persons_refresh_rereads_the_names(pending, acme_member, prod_web):
    Vpc.objects.filter(pk=prod_web.pk).update(name="prod-web-renamed")
    peering = peering_refresh(peering=pending, acting_user=acme_member, source=ChangeSource.USER)
    assert peering.requester_vpc_name == "prod-web-renamed"
    pending.refresh_from_db()
    assert pending.requester_vpc_name == "prod-web-renamed"
    assert pending.accepter_vpc_name == "globex-app"


def test_the_sync_job_lists_no_vpcs(pending):
    before = UpstreamCall.objects.filter(operation=CallOperation.LIST_VPCS).count()
    peering_refresh(peering=pending, acting_user=None, source=ChangeSource.SYNC)
    assert UpstreamCall.objects.filter(operation=CallOperation.LIST_VPCS).count() == before


@pytest.mark.parametrize("url", ["peerings:detail", "peerings:list", "peerings:dashboard", "peerings:delete"])
def test_pages_show_names_and_the_accepter_range_only_to_its_members(
    url, pending, acme_member, globex_approver
):
    args = [pending.pk] if url in ("peerings:detail", "peerings:delete") else []
    requester_side = signed_in(acme_member).get(reverse(url, args=args)).content.decode()
    assert "prod-web" in requester_side
    assert "10.1.0.0/16" in requester_side
    assert "globex-app" in requester_side
    assert "10.20.0.0/16" not in requester_side  # alice is not a member of Globex
    accepter_side = signed_in(globex_approver).get(reverse(url, args=args)).content.decode()
    assert "globex-app" in accepter_side
    assert "10.20.0.0/16" in accepter_side
    assert "10.1.0.0/16" in accepter_side


def test_the_pages_call_no_cloud(pending, acme_member):
    before = UpstreamCall.objects.count()
    client = signed_in(acme_member)
    for url in (
        reverse("peerings:list"),
        reverse("peerings:dashboard"),
        reverse("peerings:detail", args=[pending.pk]),
    ):
        assert client.get(url).status_code == 200
    assert UpstreamCall.objects.count() == before


def test_the_delete_prompt_asks_before_it_acts(active, acme_member):
    html = signed_in(acme_member).get(reverse("peerings:delete", args=[active.pk])).content.decode()
    assert "Nothing has been deleted yet" in html
    assert "will be deleted in the cloud" in html
    assert "traffic between the two VPCs will stop" in html
    assert "will keep it" in html
    assert "is deleted in the cloud" not in html


def test_the_admin_shows_names_and_gates_the_accepter_range(admin_client, admin_user, pending):
    changelist = admin_client.get(reverse("admin:peerings_peering_changelist")).content.decode()
    assert "prod-web" in changelist
    assert "globex-app" in changelist
    assert "10.20.0.0/16" not in changelist  # the admin is no member of Globex
    change = admin_client.get(reverse("admin:peerings_peering_change", args=[pending.pk])).content.decode()
    assert "10.20.0.0/16" not in change
    assert "globex-app" in change
    MembershipFactory(user=admin_user, tenant=pending.accepter_tenant)
    change = admin_client.get(reverse("admin:peerings_peering_change", args=[pending.pk])).content.decode()
    assert "10.20.0.0/16" in change
    search = admin_client.get(reverse("admin:peerings_peering_changelist"), {"q": "globex-app"})
    assert search.context["cl"].result_count == 1
