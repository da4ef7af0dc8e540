"""Identity-provider groups → tenant roles: the one function run at each sign-in.

A user's memberships granted through groups (``source=oidc``) are brought in line with the
groups the provider sends: added, changed or removed, each change recorded as a
:class:`~sso.models.MembershipChange`. Memberships granted by hand (``source=manual``) are
never touched; a group that maps to a tenant where the user already has one is skipped.
Several groups mapping to one tenant give the highest of their roles (approver over member).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import transaction

from peerings.choices import MembershipSource, Role
from peerings.models import Membership
from sso.models import GroupMapping, MembershipAction, MembershipChange

__all__ = ["memberships_sync", "roles_for_groups"]

#: Higher wins when several groups give roles in one tenant.
_RANK = {Role.MEMBER: 1, Role.APPROVER: 2}


def roles_for_groups(groups: Iterable[str]) -> dict[int, str]:
    """``{tenant id: role}`` the groups give, through :class:`~sso.models.GroupMapping`."""
    wanted: dict[int, str] = {}
    for tenant_id, role in GroupMapping.objects.filter(group__in=set(groups)).values_list(
        "tenant_id", "role"
    ):
        if _RANK[role] > _RANK.get(wanted.get(tenant_id), 0):
            wanted[tenant_id] = role
    return wanted


def memberships_sync(*, user: Any, groups: Iterable[str]) -> list[MembershipChange]:
    """Make ``user``'s group-granted memberships match ``groups``; return the changes recorded."""
    groups = sorted(set(groups))
    changes: list[MembershipChange] = []
    with transaction.atomic():
        wanted = roles_for_groups(groups)
        held = {m.tenant_id: m for m in Membership.objects.select_for_update().filter(user=user)}

        def record(tenant_id: int, action: str, old: str = "", new: str = "") -> None:
            changes.append(
                MembershipChange(
                    user=user,
                    tenant_id=tenant_id,
                    action=action,
                    old_role=old,
                    new_role=new,
                    source=MembershipSource.OIDC,
                    groups=groups,
                )
            )

        for tenant_id, role in wanted.items():
            membership = held.get(tenant_id)
            if membership is None:
                Membership.objects.create(
                    user=user, tenant_id=tenant_id, role=role, source=MembershipSource.OIDC
                )
                record(tenant_id, MembershipAction.ADDED, new=role)
            elif membership.source == MembershipSource.OIDC and membership.role != role:
                Membership.objects.filter(pk=membership.pk).update(role=role)
                record(tenant_id, MembershipAction.CHANGED, old=membership.role, new=role)
        for tenant_id, membership in held.items():
            if membership.source == MembershipSource.OIDC and tenant_id not in wanted:
                membership.delete()
                record(tenant_id, MembershipAction.REMOVED, old=membership.role)
        MembershipChange.objects.bulk_create(changes)
    return changes
