"""Reading a tenant's VPCs from the cloud: recorded calls on the engine (:mod:`peerings.operations`)."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterable
from typing import Any

from django.conf import settings

from ops.shared_cache import safe_get, safe_set
from peerings import permissions
from peerings.models import Tenant
from peerings.operations import Operation

__all__ = ["fetch_tenant_vpcs", "peer_vpcs", "request_vpcs", "tenant_vpcs"]


def _cache_key(tenant: Tenant) -> str:
    digest = hashlib.sha256(f"{tenant.api_endpoint}|{tenant.project_id}".encode()).hexdigest()[:32]
    return f"tenant-vpcs:{tenant.pk}:{digest}"


def _remember(tenant: Tenant, found: list[dict]) -> list[dict]:
    if settings.VPC_LIST_CACHE_SECONDS > 0:
        safe_set(_cache_key(tenant), found, settings.VPC_LIST_CACHE_SECONDS, use="vpc_list")
    return found


def _ids(vpcs: list[dict]) -> set[uuid.UUID]:
    found = set()
    for vpc in vpcs:
        try:
            found.add(uuid.UUID(str(vpc.get("id"))))
        except ValueError:
            continue
    return found


def request_vpcs(*, tenant: Tenant, wanted: Iterable[Any], acting_user: Any = None) -> list[dict]:
    """The tenant's VPCs for checking a new request: as listed by the cloud at most
    ``VPC_LIST_CACHE_SECONDS`` ago (the shared cache) when that list holds every VPC in
    ``wanted``; else (a miss) read again now.

    The request rules stay the same and never refuse on a cached list: a VPC created since
    it was listed is a miss, read afresh. The cloud's own create is the last check: a VPC
    deleted since it was listed is refused there.
    """
    if settings.VPC_LIST_CACHE_SECONDS > 0:
        found = safe_get(_cache_key(tenant), use="vpc_list")
        if isinstance(found, list):
            try:
                want = {uuid.UUID(str(vpc)) for vpc in wanted}
            except ValueError:
                want = None
            if want is not None and want <= _ids(found):
                return found
    return fetch_tenant_vpcs(tenant=tenant, acting_user=acting_user)


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
    read = Operation(tenant=tenant, acting_user=acting_user)
    response = read.send_and_record(lambda client: client.list_vpcs())
    return _remember(tenant, list(response.data))
