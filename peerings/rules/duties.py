"""Separation of duties: where a tenant separates duties, whoever requested a peering does not also
let it through on that tenant's side. It binds portal admins too: there is no override.

Who *may* decide is a matter of roles (:mod:`peerings.permissions`); these two functions say only
whether separation of duties stands in the way of a given user. They read the tenant's
``separate_duties`` only for the user who requested it (reading a tenant may cost a query).
"""

from __future__ import annotations

from typing import Any, Protocol

__all__ = ["Request", "may_accept", "may_approve"]


class Request(Protocol):
    """A peering as these rules read it (a ``Peering`` will do)."""

    requested_by_id: int | None
    requester_tenant: Any  # with ``separate_duties``
    accepter_tenant: Any  # with ``separate_duties``


def _own(user_id: int | None, request: Request) -> bool:
    return request.requested_by_id is not None and request.requested_by_id == user_id


def may_approve(user_id: int | None, request: Request) -> bool:
    """Whether duties let ``user_id`` approve ``request`` held by the requester tenant: not the
    user who requested it, where that tenant separates duties."""
    return not (_own(user_id, request) and request.requester_tenant.separate_duties)


def may_accept(user_id: int | None, request: Request) -> bool:
    """Whether duties let ``user_id`` accept ``request`` for the accepter tenant: not the user who
    requested it, where that tenant separates duties. Rejecting is never barred."""
    return not (_own(user_id, request) and request.accepter_tenant.separate_duties)
