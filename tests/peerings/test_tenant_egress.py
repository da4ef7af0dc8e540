"""A tenant's own endpoint and region under the egress policy; the operator's endpoint is trusted.

A refused call never reaches the listener, so the tenant's access key is never sent there.
"""

from __future__ import annotations

import pytest
from django.urls import reverse

from ops import egress
from peerings.exceptions import CloudUnavailable
from peerings.models import REGION_INVALID, Peering, Tenant, UpstreamCall
from peerings.upstream import open_create, tenant_client
from tests.egress_support import fake_dns
from tests.factories import TenantFactory, tenant_admin_form

pytestmark = pytest.mark.django_db

AK = "AKTENANTEGRESS000001"


def add_tenant(admin_client, **fields: str):
    data = tenant_admin_form(access_key=AK, secret_key="sk-egress-test", **fields)
    return admin_client.post(reverse("admin:peerings_tenant_add"), data)


@pytest.mark.parametrize(
    "endpoint",
    [
        "http://127.0.0.1:8000",
        "http://localhost:8001",
        "http://169.254.169.254",
        "http://10.0.0.1",
        "http://0.0.0.0:8000",
        "http://metadata.google.internal",
    ],
)
def test_the_admin_refuses_an_internal_tenant_endpoint(egress_on, admin_client, endpoint):
    response = add_tenant(admin_client, endpoint=endpoint)
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors["endpoint"]
    assert any("egress policy" in e for e in errors), errors
    assert not Tenant.objects.filter(name="new-tenant").exists()


def sdk_regions() -> list[str]:
    regions = pytest.importorskip("huaweicloudsdkvpc.v2.region.vpc_region").VpcRegion.static_fields
    return sorted(regions)


@pytest.mark.parametrize(
    "region", ["cn-north-4", "ap-southeast-1", "la-south-2", "eu-west-101", "my-kualalumpur-1"]
)
def test_the_admin_accepts_a_region_name(admin_client, region):
    response = add_tenant(admin_client, endpoint="", region=region)
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert Tenant.objects.get(name="new-tenant").api_endpoint == f"https://vpc.{region}.myhuaweicloud.com"


def test_every_region_of_the_cloud_sdk_is_a_region_name():
    from peerings.models import validate_region

    regions = sdk_regions()
    assert "cn-north-4" in regions
    assert len(regions) > 30
    for region in regions:
        validate_region(region)


@pytest.mark.parametrize(
    "region",
    ["evil.example.com/#", "127.0.0.1", "CN-NORTH-4", "cn-north", "cn-north-4.attacker", "cn_north_4", "x-1"],
)
def test_the_admin_refuses_a_region_outside_the_pattern(admin_client, region):
    response = add_tenant(admin_client, endpoint="", region=region)
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["region"] == [REGION_INVALID]


def test_a_stored_region_outside_the_pattern_builds_no_url():
    tenant = TenantFactory(endpoint="", region="attacker.example/#")
    assert tenant.api_endpoint == ""
    with pytest.raises(ValueError, match="must be an http"):
        tenant_client(tenant)
    # Nor is a create opened for it in the request's transaction: the send refuses it, as before.
    assert open_create(Peering(name="p", requester_tenant=tenant), tenant=tenant) is None
    assert not UpstreamCall.objects.exists()


def test_a_tenant_endpoint_at_loopback_is_never_called(egress_on, listeners):
    """Stored before the rule: the call is refused, the listener gets nothing, the AK goes nowhere."""
    listener = listeners()
    tenant = TenantFactory(endpoint=listener.url, access_key=AK, secret_key="sk-egress-test")
    tenant.refresh_from_db()
    with pytest.raises(CloudUnavailable) as raised:
        tenant_client(tenant).list_vpcs()
    assert raised.value.code == "EgressRefused"
    assert not raised.value.outcome_unknown
    assert raised.value.record.attempts == 1  # a refusal is not retried
    assert "egress policy (loopback address)" in raised.value.message
    assert listener.requests == []


def test_a_tenant_endpoint_named_to_resolve_to_loopback_is_never_called(egress_on, listeners, monkeypatch):
    listener = listeners()
    monkeypatch.setattr(egress, "_lookup", fake_dns({"vpc.tenant.example": ["127.0.0.1"]}))
    tenant = TenantFactory(endpoint=f"http://vpc.tenant.example:{listener.port}", access_key=AK)
    tenant.refresh_from_db()
    with pytest.raises(CloudUnavailable, match="egress policy"):
        tenant_client(tenant).list_vpcs()
    assert listener.requests == []


def test_a_region_endpoint_is_guarded_and_the_operators_endpoint_is_not(egress_on, settings, listeners):
    listener = listeners()
    settings.VPC_API_ENDPOINT = listener.url  # the operator's: reached even with the policy bare
    assert tenant_client(TenantFactory(endpoint="", region="cn-north-4")).guarded
    tenant = TenantFactory(endpoint="", region="", access_key=AK)
    tenant.refresh_from_db()
    client = tenant_client(tenant, retries=0)
    assert not client.guarded
    with pytest.raises(CloudUnavailable):  # the listener is no VPC API: its answer is unreadable
        client.list_vpcs()
    assert len(listener.requests) == 1
