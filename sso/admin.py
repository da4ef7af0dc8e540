"""Company sign-in in the admin: global configuration, for superusers only.

Group mappings decide who gets which role in every tenant, so no staff account tied to a
tenant may see or change them; identities and the membership changes are read-only records.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from portal.admin_mixins import ReadOnlyMixin
from sso.models import GroupMapping, Identity, MembershipChange

__all__ = ["GroupMappingAdmin", "IdentityAdmin", "MembershipChangeAdmin"]


class SuperuserOnlyAdmin(admin.ModelAdmin):
    """Every screen and verb of the model reserved to superusers."""

    def has_module_permission(self, request: HttpRequest) -> bool:
        return request.user.is_active and request.user.is_superuser

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.has_module_permission(request)

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return self.has_module_permission(request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.has_module_permission(request)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.has_module_permission(request)


@admin.register(GroupMapping)
class GroupMappingAdmin(SuperuserOnlyAdmin):
    list_display = ["group", "tenant", "role", "created_at"]
    list_filter = ["role", "tenant"]
    list_select_related = ["tenant"]
    search_fields = ["group", "tenant__name"]
    autocomplete_fields = ["tenant"]


@admin.register(Identity)
class IdentityAdmin(SuperuserOnlyAdmin):
    """Links a portal user to a provider's subject (e.g. an existing local account)."""

    list_display = ["user", "subject", "issuer", "last_sign_in"]
    list_select_related = ["user"]
    search_fields = ["user__username", "subject", "issuer"]
    autocomplete_fields = ["user"]
    readonly_fields = ["groups", "last_sign_in", "created_at"]


@admin.register(MembershipChange)
class MembershipChangeAdmin(ReadOnlyMixin, SuperuserOnlyAdmin):
    """The record of memberships the sign-in's group sync added, changed or removed (read-only)."""

    list_display = ["created_at", "user", "tenant", "action", "old_role", "new_role", "source"]
    list_filter = ["action", "source", "tenant"]
    list_select_related = ["user", "tenant"]
    search_fields = ["user__username", "tenant__name"]
    date_hierarchy = "created_at"

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [field.name for field in self.model._meta.fields]
