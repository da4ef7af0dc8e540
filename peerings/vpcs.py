"""Reading a tenant's VPCs from the cloud: a recorded call, next to the workflow."""

from __future__ import annotations

from typing import Any

from peerings import permissions
from peerings.exceptions import CloudError
from peerings.history import record_call
from peerings.models import Tenant
from peerings.upstream import tenant_client

__all__ = ["fetch_tenant_vpcs", "peer_vpcs", "tenant_vpcs"]


def tenant_vpcs(*, tenant: Tenant, acting_user: Any) -> list[dict]:
    """The tenant's VPCs as the cloud lists them; the user must be a member of the tenant.

    The call is recorded as an ``UpstreamCall`` (operation ``list_vpcs``), failed or not;
    a failure raises ``CloudRefused`` / ``CloudUnavailable``.
    """
    permissions.check_tenant(acting_user, tenant)
    return fetch_tenant_vpcs(tenant=tenant, acting_user=acting_user)


def peer_vpcs(*, tenant: Tenant, acting_user: Any) -> list[dict]:
    """A peer tenant's VPCs for the request form, read with that tenant's keys (a recorded call).

    Any signed-in user may find a peer's VPCs by name and id, to request a peering with
    one; the CIDR blocks are kept only for members of ``tenant``
    (:func:`peerings.permissions.may_see_cidrs`), so a non-member learns no address range.
    """
    listed = fetch_tenant_vpcs(tenant=tenant, acting_user=acting_user)
    if permissions.may_see_cidrs(acting_user, tenant):
        return listed
    return [{"id": vpc.get("id"), "name": vpc.get("name")} for vpc in listed]


def fetch_tenant_vpcs(*, tenant: Tenant, acting_user: Any = None) -> list[dict]:
    """List the tenant's VPCs with its own keys and record the call; no permission check.

    For the request rules, which read a portal accepter's VPCs (their CIDRs) on behalf of
    a requester who is not a member of it. Fronts use :func:`tenant_vpcs`.
    """
    try:
        response = tenant_client(tenant).list_vpcs()
    except CloudError as exc:
        if exc.record is not None:
            record_call(exc.record, tenant=tenant, acting_user=acting_user)
        raise
    record_call(response.record, tenant=tenant, acting_user=acting_user)
    return list(response.data)
