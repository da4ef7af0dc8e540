"""Separation of duties: where a tenant separates duties, whoever requested a peering does not also
let it through on that tenant's side. It binds portal admins too: there is no override.

Who *may* decide is a matter of roles (:mod:`peerings.permissions`); these two functions say only
whether separation of duties stands in the way of a given user.
"""

from __future__ import annotations

__all__ = ["may_accept", "may_approve"]


def _own_request(user_id: int | None, requested_by_id: int | None) -> bool:
    return requested_by_id is not None and requested_by_id == user_id


def may_approve(user_id: int | None, *, requested_by_id: int | None, separate_duties: bool) -> bool:
    """Whether duties let ``user_id`` approve a request held by the requester tenant (its
    ``separate_duties``): not the user who requested it."""
    return not (separate_duties and _own_request(user_id, requested_by_id))


def may_accept(user_id: int | None, *, requested_by_id: int | None, separate_duties: bool) -> bool:
    """Whether duties let ``user_id`` accept a request addressed to the accepter tenant (its
    ``separate_duties``): not the user who requested it. Rejecting is never barred."""
    return not (separate_duties and _own_request(user_id, requested_by_id))
