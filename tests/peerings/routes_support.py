"""Helpers of the route tests: an active cross-account peering, and the SDK as an independent reader."""

from __future__ import annotations

from huaweicloudsdkcore.auth.credentials import BasicCredentials
from huaweicloudsdkvpc.v2 import ListVpcRoutesRequest, VpcClient

from peerings.models import Tenant
from peerings.secrets import Secret


def _reveal(value) -> str:
    return value.reveal() if isinstance(value, Secret) else str(value)


def sdk_for(tenant: Tenant, endpoint: str) -> VpcClient:
    """The official SDK with ``tenant``'s keys: reads the simulator without the portal's client."""
    credentials = BasicCredentials(_reveal(tenant.access_key), _reveal(tenant.secret_key), tenant.project_id)
    return VpcClient.new_builder().with_credentials(credentials).with_endpoints([endpoint]).build()


def sdk_routes(tenant: Tenant, endpoint: str, vpc_id) -> set[tuple[str, str, str, str]]:
    """``{(destination, nexthop, vpc_id, tenant_id)}`` of the VPC's routes, as the SDK lists them."""
    listed = sdk_for(tenant, endpoint).list_vpc_routes(ListVpcRoutesRequest(vpc_id=str(vpc_id)))
    return {(r.destination, r.nexthop, r.vpc_id, r.tenant_id) for r in listed.routes}
