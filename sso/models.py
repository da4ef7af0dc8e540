"""Company sign-in's tables: identities, group mappings and the record of every membership change.

* :class:`Identity` links a portal user to one subject of one identity provider (``iss`` + ``sub``),
  so a user is never matched by a claim the provider lets people change (e-mail, name).
* :class:`GroupMapping` says which tenant role an identity-provider group gives.
* :class:`MembershipChange` is append-only: one row for each membership the sign-in's group sync
  added, changed or removed, with its source and the groups it was computed from.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from peerings.choices import MembershipSource, Role

__all__ = ["GroupMapping", "Identity", "MembershipAction", "MembershipChange"]


class GroupMapping(models.Model):
    """One identity-provider group gives one role in one tenant."""

    group = models.CharField(
        max_length=255, help_text="The group's name exactly as the provider sends it in the groups claim."
    )
    tenant = models.ForeignKey("peerings.Tenant", on_delete=models.CASCADE, related_name="group_mappings")
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.MEMBER)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["group", "tenant__name"]
        constraints = [
            models.UniqueConstraint(fields=["group", "tenant"], name="sso_group_mapping_unique_group_tenant"),
            models.CheckConstraint(condition=Q(role__in=Role.values), name="sso_group_mapping_role_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.group} → {self.tenant} ({self.role})"


class Identity(models.Model):
    """A portal user's account at an identity provider: the provider's issuer and subject."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="identities")
    issuer = models.CharField(max_length=255)
    subject = models.CharField(max_length=255)
    groups = models.JSONField(default=list, blank=True, help_text="The groups sent at the last sign-in.")
    last_sign_in = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "identities"
        ordering = ["issuer", "subject"]
        constraints = [
            models.UniqueConstraint(fields=["issuer", "subject"], name="sso_identity_unique_issuer_subject"),
        ]

    def __str__(self) -> str:
        return f"{self.user} ({self.subject} at {self.issuer})"


class MembershipAction(models.TextChoices):
    ADDED = "added", "Added"
    CHANGED = "changed", "Role changed"
    REMOVED = "removed", "Removed"


class MembershipChange(models.Model):
    """An append-only record of one membership added, changed or removed, and why."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="membership_changes"
    )
    tenant = models.ForeignKey("peerings.Tenant", on_delete=models.CASCADE, related_name="membership_changes")
    action = models.CharField(max_length=8, choices=MembershipAction.choices)
    old_role = models.CharField(max_length=16, choices=Role.choices, blank=True)
    new_role = models.CharField(max_length=16, choices=Role.choices, blank=True)
    source = models.CharField(max_length=8, choices=MembershipSource.choices)
    groups = models.JSONField(
        default=list, blank=True, help_text="The user's groups at the provider when the change was made."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "-created_at"], name="sso_change_user_recent")]

    def __str__(self) -> str:
        return f"{self.user} in {self.tenant}: {self.get_action_display()}"
