"""Tenant walls in the admin: staff see and act on their tenants' rows only; superusers on all.

A staff user's tenants are their memberships (:func:`peerings.selectors.user_tenant_ids`),
whatever the role. Each admin names, in ``tenant_scope``, the lookups from its model to a
tenant; a row is visible when one of them is one of the user's tenants. The scoped queryset is
the one the changelist, the change page, the actions and the inlines use, so a row outside the
walls cannot be listed, opened or acted on. Tenant choices in forms and filters are scoped too.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import Q, QuerySet
from django.http import HttpRequest

from peerings import selectors
from peerings.models import Tenant

__all__ = ["TenantScopedAdmin", "TenantScopedInline", "sees_all", "within_walls"]


def sees_all(user: Any) -> bool:
    return bool(getattr(user, "is_superuser", False))


def within_walls(queryset: QuerySet, user: Any, lookups: tuple[str, ...]) -> QuerySet:
    """``queryset`` cut to the rows whose ``lookups`` reach one of ``user``'s tenants."""
    if sees_all(user):
        return queryset
    tenants = selectors.user_tenant_ids(user)
    condition = Q()
    for lookup in lookups:
        condition |= Q(**{f"{lookup}__in": tenants})
    return queryset.filter(condition) if lookups else queryset.none()


class _Scoped:
    #: Lookups from the model to a tenant (``"pk"`` for the tenant itself).
    tenant_scope: tuple[str, ...] = ()

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return self.scope(request, super().get_queryset(request))  # type: ignore[misc]

    def scope(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        return within_walls(queryset, request.user, self.tenant_scope)

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.related_model is Tenant and not sees_all(request.user):
            kwargs["queryset"] = selectors.user_tenants(request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)  # type: ignore[misc]


class TenantScopedAdmin(_Scoped, admin.ModelAdmin):
    """A ModelAdmin behind the tenant walls."""


class TenantScopedInline(_Scoped):
    """Mix into an inline (before ``admin.TabularInline``)."""
