"""The request form helps a new user: the peer tenant and its VPCs to pick from, what was
typed kept across a reload, the problems at the top. The browser side is in tests/browser."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from peerings import vpcs
from peerings.choices import CallOperation
from peerings.models import UpstreamCall
from tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_peer_tenant_is_picked_among_the_known_tenants(cloud, acme_member, acme_prod, globex_main):
    response = signed_in(acme_member).get(reverse("peerings:request"))
    html = response.content.decode()
    # Every tenant the portal holds, by name and project id, and "type the ids" stays possible.
    assert f"{globex_main.name} ({globex_main.project_id})" in html
    assert f"{acme_prod.name} ({acme_prod.project_id})" in html
    assert "Another project (type its ids below)" in html
    assert 'name="accept_vpc_id"' in html
    assert 'name="accept_project_id"' in html


def test_a_non_member_sees_the_peer_vpcs_by_name_only(cloud, acme_member, globex_main, globex_app):
    response = signed_in(acme_member).get(reverse("peerings:request"), {"peer_tenant": globex_main.pk})
    html = response.content.decode()
    assert response.context["peer_vpcs"] == [{"id": str(globex_app.vpc_id), "name": "globex-app"}]
    assert "globex-app" in html
    assert str(globex_app.vpc_id) in html
    assert "10.20.0.0/16" not in html  # globex's range is not alice's to know
    assert "address ranges are shown to its members only" in html
    # The peer's project id is filled in for the user.
    assert response.context["form"]["accept_project_id"].value() == globex_main.project_id
    # The read is a recorded call, signed with the peer tenant's keys, naming the user.
    call = UpstreamCall.objects.filter(operation=CallOperation.LIST_VPCS, tenant=globex_main).get()
    assert call.acting_user == acme_member


def test_a_member_of_the_peer_tenant_sees_the_cidrs(cloud, acme_member, acme_prod, acme_dev, dev_app):
    MembershipFactory(user=acme_member, tenant=acme_dev)
    response = signed_in(acme_member).get(
        reverse("peerings:request"), {"tenant": acme_prod.pk, "peer_tenant": acme_dev.pk}
    )
    html = response.content.decode()
    assert response.context["peer_vpcs"][0]["cidr"] == "10.10.0.0/16"
    assert "dev-app — 10.10.0.0/16" in html
    assert "address ranges are shown to its members only" not in html


def test_peer_vpcs_strips_cidrs_for_non_members(cloud, acme_member, globex_member, globex_main):
    assert all("cidr" not in vpc for vpc in vpcs.peer_vpcs(tenant=globex_main, acting_user=acme_member))
    assert all(vpc["cidr"] for vpc in vpcs.peer_vpcs(tenant=globex_main, acting_user=globex_member))


def test_a_reload_keeps_what_was_typed(cloud, acme_member, acme_prod, globex_main, prod_web):
    typed = {
        "tenant": acme_prod.pk,
        "request_vpc_id": str(prod_web.vpc_id),
        "accept_vpc_id": "0f8b03b9-898f-5357-8e7d-cfb6f93805ab",
        "name": "typed-name",
        "description": "typed description",
    }
    response = signed_in(acme_member).get(reverse("peerings:request"), typed)
    form = response.context["form"]
    for field in ("request_vpc_id", "accept_vpc_id", "name", "description"):
        assert form[field].value() == typed[field]
    assert not form.is_bound  # an unbound form: nothing is reported as wrong yet
    html = response.content.decode()
    assert 'value="typed-name"' in html
    assert "typed description" in html


def test_problems_are_summed_up_at_the_top_with_the_focus(cloud, acme_member, acme_prod, prod_web):
    response = signed_in(acme_member).post(
        reverse("peerings:request"),
        {"tenant": acme_prod.pk, "request_vpc_id": str(prod_web.vpc_id), "accept_vpc_id": "nope", "name": ""},
    )
    html = response.content.decode()
    summary = html.index('id="problems"')
    assert summary < html.index('name="request_vpc_id"')  # above every field
    assert "data-focus" in html[summary - 200 : summary + 200]
    assert '<a href="#id_name">Name</a>' in html
