"""The outbox in the admin: events, deliveries with every attempt, webhooks, preferences."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db import transaction
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils.cache import add_never_cache_headers

from notifications.models import (
    WEBHOOK_KINDS,
    Channel,
    Delivery,
    DeliveryAttempt,
    Event,
    EventKind,
    NotificationPreference,
    WebhookEndpoint,
)
from notifications.outbox import queue_delivery
from notifications.webhooks import allowed_url
from ops.egress import validate_outbound_url
from peerings import access
from peerings.admin_scope import TenantScopedAdmin, TenantScopedInline, sees_all
from portal.admin_mixins import ReadOnlyMixin


def deliveries_within_walls(queryset: QuerySet, user: Any) -> QuerySet:
    """Webhook deliveries: the endpoint's tenant's staff; e-mails: the staff who see the peering."""
    if sees_all(user):
        return queryset
    tenants = access.user_tenant_ids(user)
    webhook = Q(channel=Channel.WEBHOOK, endpoint__tenant__in=tenants)
    email = Q(channel=Channel.EMAIL) & access.seen_by(tenants, through="event__peering__")
    return queryset.filter(webhook | email)


class DeliveryAttemptInline(ReadOnlyMixin, admin.TabularInline):
    model = DeliveryAttempt
    fields = ["created_at", "ok", "status_code", "error", "duration_ms"]
    readonly_fields = fields
    extra = 0


class DeliveryInline(ReadOnlyMixin, TenantScopedInline, admin.TabularInline):
    model = Delivery
    fields = ["channel", "address", "status", "attempts", "last_error", "sent_at"]
    readonly_fields = fields
    extra = 0
    show_change_link = True

    def scope(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        return deliveries_within_walls(queryset, request.user)


@admin.register(Event)
class EventAdmin(ReadOnlyMixin, TenantScopedAdmin):
    tenant_scope = ("endpoint__tenant",)
    peering_path = "peering__"
    list_display = ["id", "kind", "peering", "created_at"]
    list_filter = ["kind"]
    search_fields = ["peering__name", "peering__upstream_id"]
    fields = ["kind", "peering", "status_change", "endpoint", "payload", "created_at"]
    readonly_fields = fields
    inlines = [DeliveryInline]


@admin.register(Delivery)
class DeliveryAdmin(ReadOnlyMixin, TenantScopedAdmin):
    def scope(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        return deliveries_within_walls(queryset, request.user)

    list_display = ["id", "event", "channel", "address", "status", "attempts", "last_error", "sent_at"]
    list_filter = ["status", "channel", "event__kind"]
    search_fields = ["address", "recipient"]
    fields = [
        "event",
        "channel",
        "recipient",
        "user",
        "endpoint",
        "address",
        "status",
        "attempts",
        "last_error",
        "next_attempt_at",
        "sent_at",
        "created_at",
    ]
    readonly_fields = fields
    inlines = [DeliveryAttemptInline]


class WebhookEndpointForm(forms.ModelForm):
    url = forms.URLField(
        max_length=2048,
        assume_scheme="https",
        validators=[validate_outbound_url],
        help_text=WebhookEndpoint._meta.get_field("url").help_text,
    )
    secret = forms.CharField(
        required=False,
        widget=forms.PasswordInput(render_value=False),
        help_text="Leave empty to keep the current secret (a new endpoint gets a generated one, shown once).",
    )
    events = forms.MultipleChoiceField(
        choices=[(k.value, k.label) for k in WEBHOOK_KINDS],
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="None ticked: all of them.",
    )

    class Meta:
        model = WebhookEndpoint
        fields = ["tenant", "url", "secret", "events", "is_active"]

    def clean_url(self) -> str:
        url = self.cleaned_data["url"]
        if not allowed_url(url):
            raise forms.ValidationError("Only http:// and https:// URLs are called.")
        return url

    def clean_secret(self) -> Any:
        value = self.cleaned_data.get("secret")
        if value:
            return value
        if self.instance.pk:
            return self.instance.secret
        self.generated_secret = WebhookEndpoint.new_secret()
        return self.generated_secret


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(TenantScopedAdmin):
    """A tenant's webhooks: its approvers (and superusers) add, change and test them."""

    form = WebhookEndpointForm
    tenant_scope = ("tenant",)
    managed_by = "tenant"
    list_display = ["url", "tenant", "is_active", "created_at"]
    list_filter = ["is_active", ("tenant", admin.RelatedOnlyFieldListFilter)]
    actions = ["send_test_event"]

    def save_model(self, request: HttpRequest, obj: WebhookEndpoint, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        # A generated secret is shown once, on the page answering this request (response_add):
        # never in a message, which would carry it in the messages cookie to the next page.
        request._new_webhook_secret = getattr(form, "generated_secret", None)

    def response_add(
        self, request: HttpRequest, obj: WebhookEndpoint, post_url_continue: Any = None
    ) -> HttpResponse:
        secret = getattr(request, "_new_webhook_secret", None)
        if not secret:
            return super().response_add(request, obj, post_url_continue)
        context = {
            **self.admin_site.each_context(request),
            "title": "Webhook endpoint added",
            "opts": self.opts,
            "endpoint": obj,
            "secret": secret,
        }
        response = TemplateResponse(request, "admin/notifications/webhookendpoint/created.html", context)
        add_never_cache_headers(response)
        return response

    @admin.action(description="Send a test event", permissions=["change"])
    def send_test_event(self, request: HttpRequest, queryset: Any) -> None:
        queryset = self.managed(request, queryset)
        for endpoint in queryset:
            with transaction.atomic():
                event = Event.objects.create(
                    kind=EventKind.TEST,
                    endpoint=endpoint,
                    payload={"message": "A test event from the portal.", "tenant": endpoint.tenant.name},
                )
                queue_delivery(event)
        messages.success(
            request,
            f"Test event queued for {queryset.count()} endpoint(s); see Deliveries for the outcome "
            "(status and timing, never the receiver's answer).",
        )


@admin.register(NotificationPreference)
class NotificationPreferenceAdmin(TenantScopedAdmin):
    """A user's own e-mail preference (the settings page's); superusers see everyone's."""

    list_display = ["user", "email_enabled", "updated_at"]
    list_filter = ["email_enabled"]
    raw_id_fields = ["user"]

    def scope(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        return queryset if sees_all(request.user) else queryset.filter(user=request.user)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return [] if sees_all(request.user) else ["user"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return sees_all(request.user) and super().has_add_permission(request)
