"""The one way to get a cloud client for a tenant: its endpoint, its keys, its project."""

from __future__ import annotations

from typing import Any

from peerings.cloud import VpcApiClient
from peerings.models import Tenant

__all__ = ["tenant_client"]


def tenant_client(tenant: Tenant, **options: Any) -> VpcApiClient:
    """A client that signs with ``tenant``'s keys and acts in its project."""
    return VpcApiClient.for_tenant(tenant, **options)
