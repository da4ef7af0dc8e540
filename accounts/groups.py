"""The "Approvers" group: the admin screens a staff approver needs, kept in line after every migrate.

Django's model permissions only open the admin's screens; what a staff user may see and do there is
decided by their tenant roles (:mod:`peerings.admin_scope`). Tick *Staff status* and add the user to
this group: they then see their tenants, members, peerings and history, decide their tenants'
peerings through the admin's actions, manage their tenants' members and webhooks (as an approver of
those tenants) and their own API tokens. Global settings stay the superusers'.
"""

from __future__ import annotations

from typing import Any

from django.apps import apps as global_apps
from django.db import DEFAULT_DB_ALIAS, router

__all__ = ["APPROVERS", "APPROVER_PERMISSIONS", "ensure_approvers_group"]

APPROVERS = "Approvers"

#: ``app_label.codename`` of every permission the group holds.
APPROVER_PERMISSIONS = (
    "peerings.view_tenant",
    "peerings.change_tenant",
    "peerings.view_membership",
    "peerings.add_membership",
    "peerings.change_membership",
    "peerings.delete_membership",
    "peerings.view_peering",
    "peerings.change_peering",
    "peerings.view_upstreamcall",
    "peerings.view_statuschange",
    "notifications.view_event",
    "notifications.view_delivery",
    "notifications.view_webhookendpoint",
    "notifications.add_webhookendpoint",
    "notifications.change_webhookendpoint",
    "notifications.delete_webhookendpoint",
    "notifications.view_notificationpreference",
    "notifications.change_notificationpreference",
    "accounts.view_apitoken",
    "accounts.add_apitoken",
    "accounts.change_apitoken",
    "accounts.view_preferences",
    "accounts.add_preferences",
    "accounts.change_preferences",
)


def ensure_approvers_group(using: str = DEFAULT_DB_ALIAS, apps: Any = global_apps, **kwargs: Any) -> None:
    """Create the group if it is missing and give it exactly :data:`APPROVER_PERMISSIONS`
    (a ``post_migrate`` receiver: idempotent)."""
    try:
        group_model = apps.get_model("auth", "Group")
        permission_model = apps.get_model("auth", "Permission")
    except LookupError:  # a migration state without auth
        return
    if not router.allow_migrate_model(using, permission_model):
        return  # another store (the simulator's own database) holds no users or permissions
    wanted = [name.split(".", 1) for name in APPROVER_PERMISSIONS]
    found = {
        (label, codename): pk
        for pk, label, codename in permission_model.objects.using(using).values_list(
            "pk", "content_type__app_label", "codename"
        )
    }
    ids = [found[(label, codename)] for label, codename in wanted if (label, codename) in found]
    if len(ids) < len(wanted):
        return  # permissions not created yet (this post_migrate runs before another app's)
    group, _ = group_model.objects.using(using).get_or_create(name=APPROVERS)
    group.permissions.set(ids)
