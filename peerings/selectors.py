"""Reads: the tenants a user belongs to, their role, and a tenant's VPCs in the cloud."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from peerings.choices import Role
from peerings.exceptions import CloudError, NotPermitted
from peerings.history import record_call
from peerings.models import Membership, Tenant
from peerings.upstream import tenant_client

__all__ = ["fetch_tenant_vpcs", "membership_role", "tenant_vpcs", "user_tenants"]


def user_tenants(user: Any) -> QuerySet[Tenant]:
    """The tenants ``user`` is a member of (any role)."""
    if not getattr(user, "is_authenticated", False):
        return Tenant.objects.none()
    return Tenant.objects.filter(memberships__user=user)


def membership_role(user: Any, tenant: Tenant | None) -> Role | None:
    """``user``'s role in ``tenant``, or ``None`` when they are not a member."""
    if tenant is None or not getattr(user, "is_authenticated", False):
        return None
    role = Membership.objects.filter(user=user, tenant=tenant).values_list("role", flat=True).first()
    return Role(role) if role else None


def tenant_vpcs(*, tenant: Tenant, acting_user: Any) -> list[dict]:
    """The tenant's VPCs as the cloud lists them; the user must be a member of the tenant.

    The call is recorded as an ``UpstreamCall`` (operation ``list_vpcs``), failed or not;
    a failure raises ``CloudRefused`` / ``CloudUnavailable``.
    """
    if membership_role(acting_user, tenant) is None:
        raise NotPermitted("You are not a member of this tenant.")
    return fetch_tenant_vpcs(tenant=tenant, acting_user=acting_user)


def fetch_tenant_vpcs(*, tenant: Tenant, acting_user: Any = None) -> list[dict]:
    """List the tenant's VPCs with its own keys and record the call; no permission check.

    For the workflow, which reads a portal accepter's VPCs (their CIDRs) on behalf of a
    requester who is not a member of it. Fronts use :func:`tenant_vpcs`.
    """
    try:
        response = tenant_client(tenant).list_vpcs()
    except CloudError as exc:
        if exc.record is not None:
            record_call(exc.record, tenant=tenant, acting_user=acting_user)
        raise
    record_call(response.record, tenant=tenant, acting_user=acting_user)
    return list(response.data)
