"""The admin's one authority model: tenant walls, tenant roles, and superuser-only global settings.

* **Walls** (what a staff user sees): their tenants' rows only, whatever the role. Each admin
  names, in ``tenant_scope``, the lookups from its model to a tenant, and in ``peering_path`` the
  way to a peering, whose visibility is :func:`peerings.access.seen_by` (a request
  held, declined or withdrawn before it was sent is its requester's alone). The scoped queryset
  is the one the changelist, the change page, the actions and the inlines use, so a row outside
  the walls cannot be listed, opened or acted on. Superusers see every row.
* **Roles** (what a staff user changes): Django's model permissions only open the admin's
  screens. Adding, changing and deleting a tenant's rows takes an approver of that tenant
  (``managed_by``), as on the pages; members see them read-only. The peering workflow's
  actions check roles in :mod:`peerings.permissions`.
* **Global configuration** is the superusers' alone: fields listed in ``global_fields`` are
  read-only to everyone else (``secret_fields`` are not even shown), and whole admins of
  global settings (users, groups, sign-in lockouts, the simulator) are wrapped by
  :func:`superusers_only`.

``tests/test_admin_scoping.py`` walks every registered admin, so a new one cannot be left unwalled.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.contrib import admin
from django.db.models import Q, QuerySet
from django.http import HttpRequest

from peerings import access, selectors
from peerings.choices import Role
from peerings.models import Membership, Tenant

__all__ = [
    "SuperuserChanges",
    "SuperuserOnly",
    "TenantScopedAdmin",
    "TenantScopedInline",
    "approver_tenant_ids",
    "sees_all",
    "superusers_only",
    "within_walls",
]


def sees_all(user: Any) -> bool:
    """A superuser (active): every row, and the global settings."""
    return bool(getattr(user, "is_superuser", False) and getattr(user, "is_active", False))


def approver_tenant_ids(user: Any) -> QuerySet:
    """The ids of the tenants ``user`` is an approver of, as a subquery."""
    if not getattr(user, "is_authenticated", False):
        return Membership.objects.none().values("tenant_id")
    return Membership.objects.filter(user=user, role=Role.APPROVER).values("tenant_id")


def within_walls(
    queryset: QuerySet, user: Any, lookups: tuple[str, ...], *, peering: str | None = None
) -> QuerySet:
    """``queryset`` cut to the rows whose ``lookups`` reach one of ``user``'s tenants, or whose
    peering (through ``peering``: ``""`` for a peering itself, ``"peering__"``…) ``user`` sees."""
    if sees_all(user):
        return queryset
    if not lookups and peering is None:
        return queryset.none()
    tenants = access.user_tenant_ids(user)
    condition = Q()
    for lookup in lookups:
        condition |= Q(**{f"{lookup}__in": tenants})
    if peering is not None:
        condition |= access.seen_by(tenants, through=peering)
    return queryset.filter(condition)


class _Scoped:
    #: Lookups from the model to a tenant (``"pk"`` for the tenant itself).
    tenant_scope: tuple[str, ...] = ()
    #: The path to the row's peering (``""``: the row is one), seen as the peering lists see it.
    peering_path: str | None = None
    #: The lookup to the tenant whose approvers may add, change and delete a row; ``None``: the
    #: walls alone decide (read-only admins, or rows of the user's own).
    managed_by: str | None = None
    #: Global settings: read-only to all but superusers.
    global_fields: tuple[str, ...] = ()
    #: Global secrets: neither shown nor in the form for all but superusers.
    secret_fields: tuple[str, ...] = ()

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return self.scope(request, super().get_queryset(request))  # type: ignore[misc]

    def scope(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        return within_walls(queryset, request.user, self.tenant_scope, peering=self.peering_path)

    def managed(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        """The rows of ``queryset`` ``request.user`` may change (``managed_by``'s approvers)."""
        if sees_all(request.user) or self.managed_by is None:
            return queryset
        return queryset.filter(**{f"{self.managed_by}__in": approver_tenant_ids(request.user)})

    def manages(self, request: HttpRequest, obj: Any = None) -> bool:
        """Whether ``request.user`` may change ``obj`` (any row they manage when ``None``)."""
        if sees_all(request.user) or self.managed_by is None:
            return True
        if obj is None:
            return approver_tenant_ids(request.user).exists()
        return self.managed(request, type(obj)._default_manager.filter(pk=obj.pk)).exists()

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return super().has_add_permission(request, *args) and self.manages(request)  # type: ignore[misc]

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return super().has_change_permission(request, obj) and self.manages(request, obj)  # type: ignore[misc]

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return super().has_delete_permission(request, obj) and self.manages(request, obj)  # type: ignore[misc]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        fields = list(super().get_readonly_fields(request, obj))  # type: ignore[misc]
        if not sees_all(request.user):
            fields += [name for name in (*self.global_fields, *self.secret_fields) if name not in fields]
        return fields

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> Any:
        fieldsets = super().get_fieldsets(request, obj)  # type: ignore[misc]
        if sees_all(request.user) or not self.secret_fields:
            return fieldsets
        hidden = set(self.secret_fields)
        kept = []
        for title, options in fieldsets:
            names = [name for name in options["fields"] if name not in hidden]
            if names:
                kept.append((title, {**options, "fields": names}))
        return kept

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.related_model is Tenant and not sees_all(request.user):
            tenants = selectors.user_tenants(request.user)
            if self.managed_by is not None:
                tenants = tenants.filter(pk__in=approver_tenant_ids(request.user))
            kwargs["queryset"] = tenants
        return super().formfield_for_foreignkey(db_field, request, **kwargs)  # type: ignore[misc]


class TenantScopedAdmin(_Scoped, admin.ModelAdmin):
    """A ModelAdmin behind the tenant walls, changed by the tenants' approvers."""


class TenantScopedInline(_Scoped):
    """Mix into an inline (before ``admin.TabularInline``)."""


class SuperuserChanges:
    """Global settings shown within the walls (with the model permissions), changed by superusers only."""

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return sees_all(request.user) and super().has_add_permission(request, *args)  # type: ignore[misc]

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return sees_all(request.user) and super().has_change_permission(request, obj)  # type: ignore[misc]

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return sees_all(request.user) and super().has_delete_permission(request, obj)  # type: ignore[misc]


class SuperuserOnly(SuperuserChanges):
    """Global settings: only superusers open them (staff model permissions do not)."""

    def has_module_permission(self, request: HttpRequest) -> bool:
        return sees_all(request.user) and super().has_module_permission(request)  # type: ignore[misc]

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return sees_all(request.user) and super().has_view_permission(request, obj)  # type: ignore[misc]


def superusers_only(site: admin.AdminSite, labels: Iterable[str]) -> None:
    """Re-register the admins of ``labels`` (``"app.Model"``, or ``"app"`` for all of an app's)
    behind :class:`SuperuserOnly` (admins of other apps: users, groups, sign-in lockouts)."""
    for model, model_admin in list(site._registry.items()):
        listed = model._meta.label in labels or model._meta.app_label in labels
        if not listed or isinstance(model_admin, SuperuserOnly):
            continue
        cls = type(model_admin)
        site.unregister(model)
        site.register(model, type(cls.__name__, (SuperuserOnly, cls), {"__module__": cls.__module__}))


#: The admins of global settings that other apps register.
GLOBAL_ADMINS = ("auth", "axes", "vpcsim")


def wall_global_admins() -> None:
    """Put the other apps' admins of global settings behind :class:`SuperuserOnly` (once loaded)."""
    superusers_only(admin.site, GLOBAL_ADMINS)
