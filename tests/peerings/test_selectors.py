"""Reads: a user's tenants and roles, and a tenant's VPCs from the cloud (recorded)."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser

from peerings.choices import Role
from peerings.exceptions import CloudRefused, CloudUnavailable, NotPermitted
from peerings.models import UpstreamCall
from peerings.selectors import membership_role, user_tenants, visible_peerings
from peerings.vpcs import tenant_vpcs
from tests.factories import MembershipFactory, PeeringFactory, TenantFactory, UserFactory


@pytest.mark.django_db
def test_user_tenants_and_roles():
    user = UserFactory()
    member_of = MembershipFactory(user=user, role=Role.MEMBER).tenant
    approver_of = MembershipFactory(user=user, role=Role.APPROVER).tenant
    other = TenantFactory()

    assert set(user_tenants(user)) == {member_of, approver_of}
    assert membership_role(user, member_of) is Role.MEMBER
    assert membership_role(user, approver_of) is Role.APPROVER
    assert membership_role(user, other) is None
    assert membership_role(user, None) is None
    assert membership_role(AnonymousUser(), member_of) is None
    assert not user_tenants(AnonymousUser()).exists()


def test_tenant_vpcs_lists_the_cloud_and_records_the_call(cloud, acme_prod, acme_member, prod_web, prod_db):
    vpcs = tenant_vpcs(tenant=acme_prod, acting_user=acme_member)

    assert {(v["id"], v["name"], v["cidr"]) for v in vpcs} == {
        (str(prod_web.vpc_id), "prod-web", "10.1.0.0/16"),
        (str(prod_db.vpc_id), "prod-db", "10.2.0.0/16"),
    }
    call = UpstreamCall.objects.get()
    assert (call.operation, call.tenant, call.acting_user, call.peering) == (
        "list_vpcs",
        acme_prod,
        acme_member,
        None,
    )
    assert (call.method, call.status_code) == ("GET", 200)
    assert call.url.endswith(f"/v1/{acme_prod.project_id}/vpcs")


@pytest.mark.parametrize("user", ["outsider", "globex_approver"])
def test_tenant_vpcs_needs_membership_and_sends_nothing(request, user, cloud, acme_prod, globex_main):
    with pytest.raises(NotPermitted):
        tenant_vpcs(tenant=acme_prod, acting_user=request.getfixturevalue(user))
    assert not UpstreamCall.objects.exists()


def test_tenant_vpcs_failure_is_recorded(cloud, acme_prod, acme_member, closed_port):
    acme_prod.endpoint = f"http://127.0.0.1:{closed_port}"
    acme_prod.save()
    with pytest.raises(CloudUnavailable):
        tenant_vpcs(tenant=acme_prod, acting_user=acme_member)
    call = UpstreamCall.objects.get()
    assert (call.operation, call.status_code, call.tenant) == ("list_vpcs", None, acme_prod)
    assert call.error_message


def test_tenant_vpcs_with_wrong_keys_is_refused_and_recorded(cloud, acme_prod, acme_member):
    acme_prod.secret_key = "not-the-secret"
    acme_prod.save()
    with pytest.raises(CloudRefused) as caught:
        tenant_vpcs(tenant=acme_prod, acting_user=acme_member)
    assert caught.value.status == 401
    call = UpstreamCall.objects.get()
    assert (call.status_code, call.error_code) == (401, caught.value.code)


@pytest.mark.django_db
def test_visible_peerings_are_both_sides_of_a_users_tenants():
    mine, addressed, other = PeeringFactory(), PeeringFactory(), PeeringFactory()
    user = UserFactory()
    MembershipFactory(user=user, tenant=mine.requester_tenant)
    MembershipFactory(user=user, tenant=addressed.accepter_tenant)

    assert set(visible_peerings(user)) == {mine, addressed}
    assert not visible_peerings(AnonymousUser()).exists()
    assert other not in visible_peerings(user)
