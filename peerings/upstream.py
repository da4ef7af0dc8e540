"""The one way to get a cloud client for a tenant: its endpoint, its keys, its project."""

from __future__ import annotations

from typing import Any

from peerings.cloud import Credentials, VpcApiClient
from peerings.models import Tenant
from peerings.secrets import Secret

__all__ = ["tenant_client"]


def _reveal(value: Secret | str) -> str:
    """A key field's value as a string, whether it was loaded (a ``Secret``) or just assigned."""
    return value.reveal() if isinstance(value, Secret) else str(value)


def tenant_client(tenant: Tenant, **options: Any) -> VpcApiClient:
    """A client that signs with ``tenant``'s keys and acts in its project.

    ``options`` are :class:`~peerings.cloud.VpcApiClient`'s (``session``, timeouts, ``retries``,
    ``backoff``). An endpoint typed for the tenant (its own or its region's) is called through the
    egress policy; the operator's ``VPC_API_ENDPOINT`` is not.
    """
    credentials = Credentials(
        access_key=_reveal(tenant.access_key),
        secret_key=tenant.secret_key,
        project_id=tenant.project_id,
    )
    options.setdefault("guarded", tenant.endpoint_typed)
    return VpcApiClient(endpoint=tenant.api_endpoint, credentials=credentials, **options)
