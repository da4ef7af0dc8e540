"""The outbox (events), their deliveries (e-mail, webhook) and every attempt, users' preferences."""

from __future__ import annotations

import secrets
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q

from ops.egress import validate_outbound_url
from peerings.models import Peering, StatusChange, Tenant
from peerings.secrets import EncryptedSecretField

__all__ = [
    "Channel",
    "Delivery",
    "DeliveryAttempt",
    "DeliveryStatus",
    "Event",
    "EventKind",
    "NotificationPreference",
    "WebhookEndpoint",
]


class EventKind(models.TextChoices):
    REQUESTED = "peering.requested", "Peering requested"
    ACCEPTED = "peering.accepted", "Peering accepted"
    REJECTED = "peering.rejected", "Peering rejected"
    EXPIRED = "peering.expired", "Peering expired"
    DELETED = "peering.deleted", "Peering deleted"
    FAILED = "peering.failed", "Peering failed in the cloud"
    EXPIRING = "peering.expiring", "Peering expires soon (reminder)"
    HELD = "peering.held", "Peering request held for approval in the portal"
    APPROVED = "peering.approved", "Peering request approved in the portal (sent to the cloud)"
    DECLINED = "peering.declined", "Peering request declined in the portal"
    TEST = "webhook.test", "Test event"


#: Events a webhook endpoint may subscribe to (the reminder is e-mail only).
WEBHOOK_KINDS = [
    EventKind.REQUESTED,
    EventKind.ACCEPTED,
    EventKind.REJECTED,
    EventKind.EXPIRED,
    EventKind.DELETED,
    EventKind.FAILED,
    EventKind.HELD,
    EventKind.APPROVED,
    EventKind.DECLINED,
]


class Channel(models.TextChoices):
    EMAIL = "email", "E-mail"
    WEBHOOK = "webhook", "Webhook"


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "pending"
    SENDING = "sending", "sending"
    SENT = "sent", "sent"
    FAILED = "failed", "failed (no more retries)"
    SKIPPED_NO_ADDRESS = "skipped_no_address", "skipped: no address"
    SKIPPED_OPTED_OUT = "skipped_opted_out", "skipped: notifications turned off"


FINAL_STATUSES = frozenset(
    {
        DeliveryStatus.SENT,
        DeliveryStatus.FAILED,
        DeliveryStatus.SKIPPED_NO_ADDRESS,
        DeliveryStatus.SKIPPED_OPTED_OUT,
    }
)


class Event(models.Model):
    """One thing worth telling people about, written in the transaction that made it happen."""

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    kind = models.CharField(max_length=32, choices=EventKind.choices)
    peering = models.ForeignKey(Peering, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    status_change = models.OneToOneField(
        StatusChange, on_delete=models.PROTECT, null=True, blank=True, related_name="event"
    )
    #: A test event goes to this endpoint only.
    endpoint = models.ForeignKey(
        "WebhookEndpoint", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    payload = models.JSONField(default=dict)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            # The expiry reminder is sent once per peering, however often the job runs.
            models.UniqueConstraint(
                fields=["peering", "kind"],
                condition=Q(kind="peering.expiring"),
                name="event_one_reminder_per_peering",
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} #{self.pk}"


class WebhookEndpoint(models.Model):
    """A URL of a tenant's receiving its peerings' events as signed JSON."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="webhooks")
    url = models.URLField(
        max_length=2048,
        validators=[validate_outbound_url],
        help_text="http:// or https:// only, at a public address (the egress policy).",
    )
    secret = EncryptedSecretField(help_text="Signs every delivery (HMAC-SHA256); stored encrypted.")
    events = models.JSONField(
        default=list, blank=True, help_text="Event kinds to send; empty means all of them."
    )
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["tenant__name", "url"]

    def __str__(self) -> str:
        return f"{self.tenant}: {self.url}"

    @staticmethod
    def new_secret() -> str:
        return "whsec_" + secrets.token_urlsafe(32)

    def wants(self, kind: str) -> bool:
        return kind == EventKind.TEST or not self.events or kind in self.events


class Delivery(models.Model):
    """One event to one recipient over one channel: sent at most once."""

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="deliveries")
    channel = models.CharField(max_length=16, choices=Channel.choices)
    #: ``user:<id>`` or ``webhook:<id>``: with the event and channel, unique.
    recipient = models.CharField(max_length=64)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    endpoint = models.ForeignKey(
        WebhookEndpoint, on_delete=models.SET_NULL, null=True, blank=True, related_name="deliveries"
    )
    address = models.CharField(max_length=2048, blank=True)
    status = models.CharField(max_length=32, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True, db_index=True)
    #: A worker sending it holds it until then (a crashed worker's claim runs out).
    claimed_until = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "deliveries"
        constraints = [
            models.UniqueConstraint(
                fields=["event", "recipient", "channel"], name="delivery_once_per_recipient_channel"
            )
        ]

    def __str__(self) -> str:
        return f"{self.event} → {self.address or self.recipient} ({self.get_status_display()})"

    @property
    def is_final(self) -> bool:
        return self.status in FINAL_STATUSES


class DeliveryAttempt(models.Model):
    """One try at a delivery: its status, its duration and a short error; never the receiver's body."""

    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="attempt_rows")
    created_at = models.DateTimeField(auto_now_add=True)
    ok = models.BooleanField(default=False)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    error = models.TextField(blank=True)
    duration_ms = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{'ok' if self.ok else 'failed'} {self.status_code or ''} {self.error}".strip()


class NotificationPreference(models.Model):
    """A user's choice; without a row, notifications are on."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_preference"
    )
    email_enabled = models.BooleanField("e-mail notifications", default=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.user}: e-mail {'on' if self.email_enabled else 'off'}"

    @classmethod
    def email_enabled_for(cls, user: Any) -> bool:
        pref = cls.objects.filter(user=user).first()
        return pref is None or pref.email_enabled
