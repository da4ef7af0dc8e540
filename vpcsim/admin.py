"""A read-mostly view of the simulated cloud; secret keys are never shown."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from vpcsim.models import AccessKey, Account, FaultRule, Peering, Project, Route, Vpc


class ReadOnlyAdmin(admin.ModelAdmin):
    """Lists and details only: the simulator's state changes through its API."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


class AccessKeyInline(admin.TabularInline):
    model = AccessKey
    fields = ["access_key"]
    readonly_fields = ["access_key"]
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(Account)
class AccountAdmin(ReadOnlyAdmin):
    list_display = ["name", "domain_id"]
    search_fields = ["name", "domain_id", "access_keys__access_key"]
    inlines = [AccessKeyInline]


@admin.register(Project)
class ProjectAdmin(ReadOnlyAdmin):
    list_display = ["name", "project_id", "account", "region"]
    list_select_related = ["account"]
    list_filter = ["region"]
    search_fields = ["name", "project_id", "account__name"]


@admin.register(Vpc)
class VpcAdmin(ReadOnlyAdmin):
    list_display = ["name", "vpc_id", "cidr", "project", "status", "created_at"]
    list_select_related = ["project__account"]
    search_fields = ["name", "vpc_id", "cidr", "project__project_id"]


@admin.register(Peering)
class PeeringAdmin(ReadOnlyAdmin):
    list_display = ["name", "peering_id", "status", "request_vpc", "accept_vpc", "created_at", "updated_at"]
    list_select_related = ["request_vpc", "accept_vpc"]
    list_filter = ["status"]
    search_fields = ["name", "peering_id", "request_vpc__vpc_id", "accept_vpc__vpc_id"]


@admin.register(Route)
class RouteAdmin(ReadOnlyAdmin):
    list_display = ["route_id", "destination", "nexthop", "vpc", "project"]
    list_select_related = ["nexthop", "vpc", "project__account"]
    search_fields = ["route_id", "destination", "nexthop__peering_id"]


@admin.register(FaultRule)
class FaultRuleAdmin(admin.ModelAdmin):
    """Injected faults (see vpcsim/faults.py): the rules every simulator process obeys, and their counts."""

    list_display = [
        "operation",
        "kind",
        "rate",
        "times",
        "remaining",
        "latency_ms",
        "retry_after",
        "injected",
    ]
    list_filter = ["operation", "kind"]
    readonly_fields = ["injected", "env_key", "created_at"]
