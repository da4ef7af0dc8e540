"""The operators' admin: tenants and their members, the peering approval screen, the history.

The admin never changes a peering itself: its actions (:mod:`peerings.admin_actions`) call the
workflow, which checks tenant roles (superusers included), talks to the cloud and records the
change; its errors are shown with ``message_user``.
"""

from __future__ import annotations

import json
from functools import partial
from typing import Any

from django.contrib import admin
from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.forms.models import BaseInlineFormSet, modelform_factory
from django.http import HttpRequest, HttpResponse
from django.utils.html import format_html

from peerings import export, inventory, permissions
from peerings.admin_actions import OPERATIONS, PeeringOperations, admin_action, export_actions
from peerings.admin_forms import TenantAdminForm, TenantNameForm, UsernameField
from peerings.admin_scope import SuperuserChanges, TenantScopedAdmin, approver_tenant_ids, sees_all
from peerings.models import (
    AutoApprovedVpc,
    Membership,
    Peering,
    PeeringRoute,
    RouteChange,
    StatusChange,
    Tenant,
    UpstreamCall,
)
from peerings.paginators import CappedCountPaginator
from peerings.routes.records import describe
from peerings.selectors import calls_as_seen, user_roles, without_keys
from peerings.templatetags.peering_tags import vpc_html
from portal.admin_mixins import ReadOnlyMixin

__all__ = ["MembershipAdmin", "PeeringAdmin", "StatusChangeAdmin", "TenantAdmin", "UpstreamCallAdmin"]

admin.site.site_header = "VPC peering portal"
admin.site.site_title = "VPC peering portal"
admin.site.index_title = "Administration"


def _pretty_json(value: Any) -> str:
    if value is None:
        return "—"
    return format_html("<pre>{}</pre>", json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False))


# --- Tenants and members ---------------------------------------------------------------------------------


class UserByName:
    """A membership's user: for staff who are not superusers, typed by user name (no directory)."""

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "user" and not sees_all(request.user):
            return UsernameField(label=db_field.verbose_name.capitalize())
        return super().formfield_for_foreignkey(db_field, request, **kwargs)  # type: ignore[misc]


class MembershipInline(UserByName, admin.TabularInline):
    """The tenant's members: changed by its approvers (and superusers), read-only to its members."""

    model = Membership
    fields = ["user", "role", "source", "created_at"]
    readonly_fields = ["source", "created_at"]
    autocomplete_fields = ["user"]
    extra = 0

    def get_queryset(self, request: HttpRequest) -> QuerySet[Membership]:
        return super().get_queryset(request).select_related("user")

    @staticmethod
    def _approves(request: HttpRequest, tenant: Tenant | None) -> bool:
        if sees_all(request.user):
            return True
        return tenant is not None and approver_tenant_ids(request.user).filter(tenant_id=tenant.pk).exists()

    def has_add_permission(self, request: HttpRequest, obj: Tenant | None = None) -> bool:
        return super().has_add_permission(request, obj) and self._approves(request, obj)

    def has_change_permission(self, request: HttpRequest, obj: Tenant | None = None) -> bool:
        return super().has_change_permission(request, obj) and self._approves(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Tenant | None = None) -> bool:
        return super().has_delete_permission(request, obj) and self._approves(request, obj)


class AutoApprovedVpcInline(SuperuserChanges, admin.TabularInline):
    """The auto-approval allow-list: global configuration, changed by superusers only."""

    model = AutoApprovedVpc
    fields = ["vpc_id", "note", "created_at"]
    readonly_fields = ["created_at"]
    extra = 0
    verbose_name_plural = "allow-list: peer VPCs whose requests are approved automatically"


class TenantListFilter(admin.RelatedOnlyFieldListFilter):
    """A tenant filter: for staff, only the tenants their (scoped) changelist holds; for a
    superuser, who sees every row, every tenant (finding the tenants the rows hold read every
    row: 38 ms at 100k peerings, twice per page)."""

    def field_choices(self, field: Any, request: HttpRequest, model_admin: Any) -> list:
        if sees_all(request.user):
            return admin.RelatedFieldListFilter.field_choices(self, field, request, model_admin)
        return super().field_choices(field, request, model_admin)


ONLY_SEEN = TenantListFilter


@admin.register(Tenant)
class TenantAdmin(TenantScopedAdmin):
    """Tenants: a staff approver renames her tenant and manages its members; its cloud settings,
    keys, approval policy and separation of duties are the superusers' (read-only or hidden)."""

    form = TenantAdminForm
    tenant_scope = ("pk",)
    managed_by = "pk"
    global_fields = (
        "project_id",
        "separate_duties",
        "approval_policy",
        "org_unit",
        "auto_approve_same_org_unit",
        "region",
        "endpoint",
    )
    secret_fields = ("access_key", "secret_key")
    list_display = [
        "name",
        "project_id",
        "region",
        "endpoint_display",
        "approval_policy",
        "member_count",
        "created_at",
    ]
    list_filter = ["region", "approval_policy"]
    search_fields = ["name", "project_id"]
    readonly_fields = ["endpoint_display", "created_at", "updated_at"]
    fieldsets = [
        (None, {"fields": ["name", "project_id", "separate_duties"]}),
        (
            "Approval policy",
            {
                "fields": ["approval_policy", "org_unit", "auto_approve_same_org_unit"],
                "description": "Held requests wait in the approvers' queue (status Awaiting approval) "
                "before anything is sent to the cloud. The rules here and the allow-list below "
                "approve a request at once.",
            },
        ),
        ("Cloud API", {"fields": ["region", "endpoint", "endpoint_display"]}),
        (
            "Keys",
            {
                "fields": ["access_key", "secret_key"],
                "description": "The keys the portal signs this tenant's calls with. They are write-only.",
            },
        ),
        ("Dates", {"fields": ["created_at", "updated_at"]}),
    ]
    inlines = [MembershipInline, AutoApprovedVpcInline]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Tenant]:
        return super().get_queryset(request).annotate(member_count=Count("memberships"))

    def has_add_permission(self, request: HttpRequest) -> bool:
        # A new tenant has no members yet: staff tied to tenants could not see it.
        return sees_all(request.user) and super().has_add_permission(request)

    def has_delete_permission(self, request: HttpRequest, obj: Tenant | None = None) -> bool:
        return sees_all(request.user) and super().has_delete_permission(request, obj)

    def get_form(self, request: HttpRequest, obj: Tenant | None = None, **kwargs: Any) -> Any:
        if sees_all(request.user):
            return super().get_form(request, obj, **kwargs)
        # The name only: the rest is read-only or hidden (global_fields, secret_fields).
        callback = partial(self.formfield_for_dbfield, request=request)
        return modelform_factory(Tenant, form=TenantNameForm, fields=["name"], formfield_callback=callback)

    @admin.display(description="members", ordering="member_count")
    def member_count(self, obj: Tenant) -> int:
        return obj.member_count

    @admin.display(description="VPC API endpoint")
    def endpoint_display(self, obj: Tenant) -> str:
        return obj.api_endpoint if obj.pk else "—"


@admin.register(Membership)
class MembershipAdmin(UserByName, TenantScopedAdmin):
    tenant_scope = ("tenant",)
    managed_by = "tenant"
    list_display = ["user", "tenant", "role", "source", "created_at"]
    list_filter = ["role", "source", ("tenant", ONLY_SEEN)]
    readonly_fields = ["source"]  # granted here: by hand; the sign-in's group sync keeps its own
    list_select_related = ["user", "tenant"]
    search_fields = ["user__username", "user__email", "tenant__name"]
    autocomplete_fields = ["user", "tenant"]


# --- The approval screen ----------------------------------------------------------------------------------


class StatusChangeInline(ReadOnlyMixin, admin.TabularInline):
    model = StatusChange
    fields = ["created_at", "old_status", "new_status", "actor", "source", "reason"]
    readonly_fields = fields
    extra = 0
    ordering = ["created_at", "id"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[StatusChange]:
        return super().get_queryset(request).select_related("actor", "peering")


#: The peering page shows this many of its newest calls; the calls' own list pages through all.
INLINE_CALLS = 20


class RecentCallsFormSet(BaseInlineFormSet):
    """Only the peering's newest ``INLINE_CALLS`` calls (a long history would not fit a page)."""

    def get_queryset(self) -> QuerySet[UpstreamCall]:
        if not hasattr(self, "_recent"):  # asked once per form: read once
            calls = super().get_queryset()
            newest = calls.order_by("-created_at", "-id").values_list("pk", flat=True)[:INLINE_CALLS]
            self._recent = calls.filter(pk__in=list(newest)).order_by("created_at", "id")
        return self._recent


class UpstreamCallInline(ReadOnlyMixin, admin.TabularInline):
    model = UpstreamCall
    formset = RecentCallsFormSet
    verbose_name_plural = f"upstream calls (the newest {INLINE_CALLS}; all of them under “Upstream calls”)"
    fields = [
        "created_at",
        "operation",
        "status_code",
        "error_code",
        "tenant",
        "acting_user",
        "duration_ms",
        "attempts",
        "correlation",
    ]
    readonly_fields = fields
    extra = 0
    ordering = ["created_at", "id"]
    show_change_link = True

    @admin.display(description="correlation id")
    def correlation(self, obj: UpstreamCall) -> str:
        value = obj.correlation_id or ""
        return format_html('<code title="{}">{}</code>', value, value[:8] + ("…" if len(value) > 8 else ""))

    def get_queryset(self, request: HttpRequest) -> QuerySet[UpstreamCall]:
        return super().get_queryset(request).select_related("tenant", "acting_user")


class PeeringRouteInline(ReadOnlyMixin, admin.TabularInline):
    """The peering's routes in both VPCs, as the portal knows them (changed only by the actions)."""

    model = PeeringRoute
    fields = [
        "side",
        "tenant",
        "vpc_shown",
        "destination",
        "state",
        "upstream_id",
        "error_code",
        "created_by",
        "applied_at",
    ]
    readonly_fields = fields
    extra = 0
    ordering = ["-side", "destination", "-id"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[PeeringRoute]:
        return super().get_queryset(request).select_related("tenant", "created_by", "peering")

    @admin.display(description="VPC")
    def vpc_shown(self, route: PeeringRoute) -> str:
        """The VPC by the name the cloud listed (its id when none was), the id in a tooltip."""
        peering = route.peering
        name = peering.requester_vpc_name if route.side == "requester" else peering.accepter_vpc_name
        return format_html('<span title="{}">{}</span>', route.vpc_id, name or route.vpc_id)


class RouteChangeInline(ReadOnlyMixin, admin.TabularInline):
    model = RouteChange
    fields = ["created_at", "route_shown", "event", "actor", "source", "detail"]
    readonly_fields = fields
    extra = 0
    ordering = ["created_at", "id"]
    verbose_name_plural = "route history"

    def get_queryset(self, request: HttpRequest) -> QuerySet[RouteChange]:
        return super().get_queryset(request).select_related("route__peering", "actor")

    @admin.display(description="route")
    def route_shown(self, change: RouteChange) -> str:
        """``10.20.0.0/16 in prod-web (requester)``: the VPC by name, not by id."""
        route = change.route
        return f"{describe(route, route.peering)} ({route.get_side_display().lower()})"


class LargeListMixin:
    """For tables that grow without bound: a count that stops at its limit, no second full count,
    and the listed tenants' keys left out (a list never signs; decrypting them was per-row work)."""

    paginator = CappedCountPaginator
    show_full_result_count = False
    tenants_listed: tuple[str, ...] = ()

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        queryset = super().get_queryset(request)
        match = getattr(request, "resolver_match", None)
        if self.tenants_listed and match is not None and (match.url_name or "").endswith("_changelist"):
            queryset = without_keys(queryset, *self.tenants_listed)
        return queryset


@admin.register(Peering)
class PeeringAdmin(PeeringOperations, LargeListMixin, ReadOnlyMixin, TenantScopedAdmin):
    """Peerings as the portal mirrors them, read-only: they are requested in the portal or the API,
    and every change goes through the workflow's actions."""

    peering_path = ""
    list_display = ["name", "status", "requester", "accepter", "requested_by", "created_at"]
    list_per_page = 50  # the table fits a 1366-pixel screen and pages (tests/browser/test_pages.py)
    # A date filter, not date_hierarchy: the hierarchy lists the months of every row (a full scan).
    list_filter = [
        "status",
        ("created_at", admin.DateFieldListFilter),
        ("requester_tenant", ONLY_SEEN),
        ("accepter_tenant", ONLY_SEEN),
    ]
    list_select_related = ["requester_tenant", "accepter_tenant", "requested_by"]
    tenants_listed = ("requester_tenant", "accepter_tenant")
    search_fields = [
        "name",
        "upstream_id",
        "requester_vpc_id",
        "accepter_vpc_id",
        "requester_vpc_name",
        "accepter_vpc_name",
    ]
    search_help_text = "Name, cloud peering id, VPC id or VPC name"
    fieldsets = [
        (None, {"fields": ["name", "description", "status", "upstream_id", "routes_on_accept"]}),
        (
            "Requester",
            {"fields": ["requester_tenant", "requester_project_id", "requester_vpc", "requested_by"]},
        ),
        ("Accepter", {"fields": ["accepter_tenant", "accepter_project_id", "accepter_vpc"]}),
        ("Approval in the portal", {"fields": ["approved_by", "approved_at", "approval_reason"]}),
        ("Decision", {"fields": ["decided_by", "decided_at", "decision_reason"]}),
        (
            "Cloud",
            {
                "fields": [
                    "error_code",
                    "error_message",
                    "upstream_created_at",
                    "upstream_updated_at",
                    "last_synced_at",
                    "created_at",
                    "updated_at",
                ]
            },
        ),
    ]
    readonly_fields = [name for _, options in fieldsets for name in options["fields"]]
    inlines = [StatusChangeInline, PeeringRouteInline, RouteChangeInline, UpstreamCallInline]
    actions = [
        *(admin_action(op) for op in OPERATIONS),
        *export_actions(lambda request: inventory.inventory_table(set(user_roles(request.user))), "peerings"),
    ]

    def has_operate_permission(self, request: HttpRequest) -> bool:
        """May run the workflow actions (the workflow then checks tenant roles)."""
        return request.user.has_perm("peerings.change_peering")

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: dict | None = None
    ) -> HttpResponse:
        """The peering's page, with a button for each action the user may take on it now."""
        peering = self.get_object(request, object_id)
        operations = []
        if peering is not None:
            offered = permissions.allowed_actions(peering, permissions.actor_for(request.user, peering))
            available = self.get_actions(request)
            operations = [op for op in OPERATIONS if op.action in available and op.kind in offered]
        return super().change_view(
            request, object_id, form_url, {**(extra_context or {}), "operations": operations}
        )

    def get_queryset(self, request: HttpRequest) -> QuerySet[Peering]:
        # Whether the admin user is a member of the accepter tenant: only then its range is shown.
        member = Membership.objects.filter(user=request.user, tenant=OuterRef("accepter_tenant"))
        return super().get_queryset(request).annotate(viewer_in_accepter=Exists(member))

    @staticmethod
    def _vpc(obj: Peering, side: str, *, short: bool = False) -> str:
        in_accepter = {obj.accepter_tenant_id} if getattr(obj, "viewer_in_accepter", False) else set()
        return vpc_html(obj, side, in_accepter, short=short)

    @admin.display(description="requester (tenant / VPC)", ordering="requester_tenant__name")
    def requester(self, obj: Peering) -> str:
        return format_html("{}<br>{}", obj.requester_tenant, self._vpc(obj, "requester", short=True))

    @admin.display(description="accepter (tenant / VPC)", ordering="accepter_tenant__name")
    def accepter(self, obj: Peering) -> str:
        tenant = obj.accepter_tenant or f"project {obj.accepter_project_id}"
        return format_html("{}<br>{}", tenant, self._vpc(obj, "accepter", short=True))

    @admin.display(description="requester VPC")
    def requester_vpc(self, obj: Peering) -> str:
        return self._vpc(obj, "requester")

    @admin.display(description="accepter VPC")
    def accepter_vpc(self, obj: Peering) -> str:
        return self._vpc(obj, "accepter")


# --- The append-only history -----------------------------------------------------------------------------


class CallOutcomeFilter(admin.SimpleListFilter):
    title = "outcome"
    parameter_name = "outcome"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        return [
            ("ok", "Succeeded (2xx/3xx)"),
            ("refused", "Refused (4xx)"),
            ("failed", "Failed (5xx)"),
            ("no_response", "No response"),
        ]

    def queryset(self, request: HttpRequest, queryset: QuerySet[UpstreamCall]) -> QuerySet[UpstreamCall]:
        conditions = {
            "ok": Q(status_code__lt=400),
            "refused": Q(status_code__gte=400, status_code__lt=500),
            "failed": Q(status_code__gte=500),
            "no_response": Q(status_code__isnull=True),
        }
        condition = conditions.get(self.value() or "")
        return queryset.filter(condition) if condition is not None else queryset


class StatusCodeFilter(admin.SimpleListFilter):
    """The usual codes, listed without reading every call (a DISTINCT over the whole table did)."""

    title = "status code"
    parameter_name = "status_code"
    CODES = (200, 201, 202, 204, 400, 401, 403, 404, 409, 422, 429, 500, 502, 503, 504)

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        return [(str(code), str(code)) for code in self.CODES]

    def queryset(self, request: HttpRequest, queryset: QuerySet[UpstreamCall]) -> QuerySet[UpstreamCall]:
        value = self.value() or ""
        return queryset.filter(status_code=int(value)) if value.isdigit() and len(value) <= 3 else queryset


@admin.register(UpstreamCall)
class UpstreamCallAdmin(LargeListMixin, ReadOnlyMixin, TenantScopedAdmin):
    tenant_scope = ("tenant",)
    peering_path = "peering__"
    # Fits a 1366-pixel screen: the method goes with the operation, the correlation id is shortened.
    list_display = [
        "created_at",
        "operation",
        "status_code",
        "error_code",
        "tenant",
        "peering",
        "acting_user",
        "duration_ms",
        "correlation",
    ]
    list_per_page = 50
    list_filter = [
        "operation",
        CallOutcomeFilter,
        StatusCodeFilter,
        ("created_at", admin.DateFieldListFilter),
        ("tenant", ONLY_SEEN),
    ]
    list_select_related = ["tenant", "peering", "acting_user"]
    tenants_listed = ("tenant",)
    # The URL and the cloud's request id as the user may see them (selectors.calls_as_seen): a
    # search must not find another side's call by what it does not show.
    search_fields = [
        "=correlation_id",
        "=shown_cloud_request_id",
        "peering__name",
        "peering__upstream_id",
        "shown_url",
    ]
    search_help_text = "Correlation id, cloud request id, peering name or id, URL"
    fieldsets = [
        (None, {"fields": ["created_at", "operation", "tenant", "peering", "acting_user"]}),
        ("Request", {"fields": ["method", "url_shown", "request_body_pretty"]}),
        (
            "Response",
            {
                "fields": [
                    "status_code",
                    "error_code",
                    "error_message_shown",
                    "response_body_pretty",
                    "cloud_request_id_shown",
                    "details_hidden",
                ]
            },
        ),
        ("Timing", {"fields": ["duration_ms", "attempts", "correlation_id"]}),
    ]
    readonly_fields = [
        "url_shown",
        "request_body_pretty",
        "error_message_shown",
        "response_body_pretty",
        "cloud_request_id_shown",
        "details_hidden",
    ]
    actions = export_actions(export.CALL_COLUMNS, "calls")

    def get_queryset(self, request: HttpRequest) -> QuerySet[UpstreamCall]:
        """Within the walls, each call as the user may see it: staff see the bodies of calls signed
        with their tenants' keys only, superusers every call's."""
        return calls_as_seen(super().get_queryset(request), request.user, sees_all=sees_all(request.user))

    @admin.display(description="URL")
    def url_shown(self, obj: UpstreamCall) -> str:
        return obj.shown_url  # type: ignore[attr-defined]

    @admin.display(description="error message")
    def error_message_shown(self, obj: UpstreamCall) -> str:
        return obj.shown_error_message or "—"  # type: ignore[attr-defined]

    @admin.display(description="cloud request id")
    def cloud_request_id_shown(self, obj: UpstreamCall) -> str:
        return obj.shown_cloud_request_id or "—"  # type: ignore[attr-defined]

    @admin.display(description="details hidden (signed with the other side's keys)", boolean=True)
    def details_hidden(self, obj: UpstreamCall) -> bool:
        return bool(obj.details_hidden)  # type: ignore[attr-defined]

    @admin.display(description="correlation id", ordering="correlation_id")
    def correlation(self, obj: UpstreamCall) -> str:
        value = obj.correlation_id or ""
        return format_html('<code title="{}">{}</code>', value, value[:8] + ("…" if len(value) > 8 else ""))

    @admin.display(description="request body")
    def request_body_pretty(self, obj: UpstreamCall) -> str:
        return _pretty_json(obj.shown_request_body)  # type: ignore[attr-defined]

    @admin.display(description="response body")
    def response_body_pretty(self, obj: UpstreamCall) -> str:
        return _pretty_json(obj.shown_response_body)  # type: ignore[attr-defined]


@admin.register(StatusChange)
class StatusChangeAdmin(LargeListMixin, ReadOnlyMixin, TenantScopedAdmin):
    peering_path = "peering__"
    list_display = ["created_at", "peering", "old_status", "new_status", "actor", "source", "reason"]
    list_per_page = 50
    list_filter = [
        "new_status",
        "source",
        ("created_at", admin.DateFieldListFilter),
        ("peering__requester_tenant", ONLY_SEEN),
        ("peering__accepter_tenant", ONLY_SEEN),
    ]
    list_select_related = ["peering", "actor"]
    search_fields = ["peering__name", "peering__upstream_id", "reason"]
    search_help_text = "Peering name or cloud id, reason"
    fields = ["created_at", "peering", "old_status", "new_status", "actor", "source", "reason"]
    actions = export_actions(export.STATUS_CHANGE_COLUMNS, "status-changes")
