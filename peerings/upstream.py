"""The one way to get a cloud client for a tenant: its endpoint, its keys, its project, and the
history row committed before each of its calls is sent (:func:`peerings.history.open_call`).

A new request's create may have its row written earlier, in the transaction that saves the peering
(:func:`open_create`): the same moment and the same database, one commit instead of two."""

from __future__ import annotations

from typing import Any

from peerings.cloud import CallRecord, Credentials, PreparedCall, VpcApiClient
from peerings.history import open_call
from peerings.models import Peering, Tenant
from peerings.secrets import Secret

__all__ = ["open_create", "tenant_client"]


def _reveal(value: Secret | str) -> str:
    """A key field's value as a string, whether it was loaded (a ``Secret``) or just assigned."""
    return value.reveal() if isinstance(value, Secret) else str(value)


def tenant_client(
    tenant: Tenant, *, acting_user: Any = None, peering: Peering | None = None, **options: Any
) -> VpcApiClient:
    """A client that signs with ``tenant``'s keys and acts in its project.

    Before each call is sent its history row is committed (``sending``), naming ``acting_user``
    and ``peering``; the caller writes the outcome into it with
    :func:`peerings.history.record_call`. ``options`` are :class:`~peerings.cloud.VpcApiClient`'s
    (``session``, timeouts, ``retries``, ``backoff``). An endpoint typed for the tenant (its own or
    its region's) is called through the egress policy; the operator's ``VPC_API_ENDPOINT`` is not.
    """
    credentials = Credentials(
        access_key=_reveal(tenant.access_key),
        secret_key=tenant.secret_key,
        project_id=tenant.project_id,
    )
    options.setdefault("guarded", tenant.endpoint_typed)

    def before_send(record: CallRecord) -> None:
        if record.row_id is None:  # else opened already, in the caller's transaction (open_create)
            open_call(record, tenant=tenant, acting_user=acting_user, peering=peering)

    options.setdefault("before_send", before_send)
    return VpcApiClient(endpoint=tenant.api_endpoint, credentials=credentials, **options)


def open_create(peering: Peering, *, tenant: Tenant, acting_user: Any = None) -> PreparedCall | None:
    """The create of ``peering`` with ``tenant``'s keys, built, its history row (``sending``) saved
    in the caller's transaction; send it with ``create_peering(prepared=...)`` once that commits.

    None when no client can be made for ``tenant`` (an endpoint it refuses): the send fails as before.
    """
    try:
        client = tenant_client(tenant)
    except ValueError:
        return None
    call = client.prepare_create(
        name=peering.name,
        description=peering.description,
        request_vpc_id=str(peering.requester_vpc_id),
        accept_vpc_id=str(peering.accepter_vpc_id),
        accept_project_id=peering.accepter_project_id,
    )
    open_call(call.record, tenant=tenant, acting_user=acting_user, peering=peering)
    return call
