"""Delivering an event: who receives it, the e-mails, the signed webhook calls.

Each (event, recipient, channel) is one :class:`Delivery` row (a unique constraint), created
once; a worker claims a row before sending it (a conditional update), so two workers never
send the same one, and a sent row is never sent again. Failures are recorded, retried with
exponential backoff up to ``NOTIFICATIONS_MAX_ATTEMPTS``, then left as ``failed``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import requests
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from notifications.models import (
    Channel,
    Delivery,
    DeliveryAttempt,
    DeliveryStatus,
    Event,
    EventKind,
    NotificationPreference,
    WebhookEndpoint,
)
from peerings import selectors
from peerings.choices import ChangeSource, Role
from peerings.choices import PeeringStatus as S
from peerings.models import Membership, Peering
from peerings.permissions import peering_cidr_shown

__all__ = ["deliver", "plan", "sign", "signature_header"]

logger = logging.getLogger("notifications")

SIGNATURE_HEADER = "X-Portal-Signature"
CLAIM_SECONDS = 120
#: Events of the requester tenant's own approval, told to its webhooks only.
REQUESTER_ONLY = (EventKind.HELD, EventKind.APPROVED, EventKind.DECLINED)


# --- Who receives an event ------------------------------------------------------------------------


def _approvers(tenant: Any) -> list[Any]:
    if tenant is None:
        return []
    return list(
        get_user_model()
        .objects.filter(memberships__tenant=tenant, memberships__role=Role.APPROVER, is_active=True)
        .order_by("pk")
        .distinct()
    )


def _deleted_by_other_side(event: Event, peering: Peering) -> bool:
    """A deletion the requester's side did not make: the accepter's people, or the cloud."""
    change = event.status_change
    if change is None or change.actor_id is None:
        return change is None or change.source == ChangeSource.SYNC
    return not Membership.objects.filter(user_id=change.actor_id, tenant=peering.requester_tenant_id).exists()


def email_recipients(event: Event) -> list[Any]:
    peering = event.peering
    if peering is None:
        return []
    if event.kind in (EventKind.REQUESTED, EventKind.EXPIRING):
        return _approvers(peering.accepter_tenant)
    requester = peering.requested_by
    if (
        event.kind == EventKind.HELD
    ):  # those who may approve it (not its requester, where duties are separate)
        approvers = _approvers(peering.requester_tenant)
        if requester is not None and peering.requester_tenant.separate_duties:
            approvers = [user for user in approvers if user.pk != requester.pk]
        return approvers
    if requester is None or not requester.is_active:
        return []
    if event.kind == EventKind.DELETED and not _deleted_by_other_side(event, peering):
        return []
    change = event.status_change
    if event.kind in (EventKind.ACCEPTED, EventKind.APPROVED) and change and change.actor_id == requester.pk:
        return []  # nothing to tell the person who did it
    if event.kind in (
        EventKind.ACCEPTED,
        EventKind.REJECTED,
        EventKind.EXPIRED,
        EventKind.FAILED,
        EventKind.DELETED,
        EventKind.APPROVED,
        EventKind.DECLINED,
    ):
        return [requester]
    return []


def webhook_endpoints(event: Event) -> list[WebhookEndpoint]:
    if event.kind == EventKind.TEST:
        return [event.endpoint] if event.endpoint is not None else []
    peering = event.peering
    if peering is None:
        return []
    tenants = {t for t in (peering.requester_tenant_id, peering.accepter_tenant_id) if t}
    if event.kind in REQUESTER_ONLY or selectors.is_held_back(peering):
        tenants = {peering.requester_tenant_id}  # the portal's gate: the peer has not been asked yet
    return [
        endpoint
        for endpoint in WebhookEndpoint.objects.filter(tenant__in=tenants, is_active=True).order_by("pk")
        if endpoint.wants(event.kind)
    ]


def plan(event: Event) -> list[Delivery]:
    """The event's delivery rows, created once (a second plan finds them)."""
    rows = []
    for user in email_recipients(event):
        address = (user.email or "").strip()
        if not address:
            status = DeliveryStatus.SKIPPED_NO_ADDRESS
        elif not NotificationPreference.email_enabled_for(user):
            status = DeliveryStatus.SKIPPED_OPTED_OUT
        else:
            status = DeliveryStatus.PENDING
        rows.append(
            Delivery(
                event=event,
                channel=Channel.EMAIL,
                recipient=f"user:{user.pk}",
                user=user,
                address=address,
                status=status,
            )
        )
    for endpoint in webhook_endpoints(event):
        rows.append(
            Delivery(
                event=event,
                channel=Channel.WEBHOOK,
                recipient=f"webhook:{endpoint.pk}",
                endpoint=endpoint,
                address=endpoint.url,
            )
        )
    for row in rows:
        try:
            with transaction.atomic():
                row.save()
        except IntegrityError:  # planned before, by this or another worker
            pass
    return list(event.deliveries.select_related("user", "endpoint").order_by("pk"))


# --- Sending --------------------------------------------------------------------------------------


def _claim(delivery: Delivery, now: Any) -> bool:
    """Take the row for sending; False when it is sent, final, claimed or not due."""
    due = Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now)
    free = Q(status=DeliveryStatus.PENDING) | Q(status=DeliveryStatus.SENDING, claimed_until__lt=now)
    return bool(
        Delivery.objects.filter(free, due, pk=delivery.pk).update(
            status=DeliveryStatus.SENDING, claimed_until=now + timedelta(seconds=CLAIM_SECONDS)
        )
    )


def backoff(attempts: int) -> float:
    return min(settings.NOTIFICATIONS_RETRY_BACKOFF * (2 ** max(0, attempts - 1)), 3600.0)


def _finish(delivery: Delivery, *, ok: bool, error: str = "") -> None:
    now = timezone.now()
    attempts = delivery.attempts + 1
    if ok:
        fields = {"status": DeliveryStatus.SENT, "sent_at": now, "last_error": "", "next_attempt_at": None}
    elif attempts >= settings.NOTIFICATIONS_MAX_ATTEMPTS:
        fields = {"status": DeliveryStatus.FAILED, "last_error": error, "next_attempt_at": None}
    else:
        fields = {
            "status": DeliveryStatus.PENDING,
            "last_error": error,
            "next_attempt_at": now + timedelta(seconds=backoff(attempts)),
        }
    Delivery.objects.filter(pk=delivery.pk).update(attempts=attempts, claimed_until=None, **fields)
    for name, value in {"attempts": attempts, **fields}.items():
        setattr(delivery, name, value)


def deliver(event: Event) -> list[Delivery]:
    """Send every due delivery of ``event``; returns the ones that failed this time."""
    failed = []
    for delivery in plan(event):
        if delivery.is_final or not _claim(delivery, timezone.now()):
            continue
        try:
            if delivery.channel == Channel.EMAIL:
                send_email(event, delivery)
                _finish(delivery, ok=True)
            else:
                ok, error = call_webhook(event, delivery)
                _finish(delivery, ok=ok, error=error)
                if not ok:
                    failed.append(delivery)
        except Exception as exc:
            logger.warning("delivery %s of event %s failed: %r", delivery.pk, event.pk, exc)
            _finish(delivery, ok=False, error=repr(exc)[:2000])
            failed.append(delivery)
    return failed


# --- E-mail ---------------------------------------------------------------------------------------


def _link(name: str, *args: Any) -> str:
    return settings.PORTAL_BASE_URL + reverse(name, args=args)


def _vpc_cidrs(peering: Peering) -> dict[str, str]:
    """CIDRs the portal knows without asking the cloud: its recorded VPC listings."""
    from peerings.models import UpstreamCall

    wanted = {str(peering.requester_vpc_id), str(peering.accepter_vpc_id)}
    found: dict[str, str] = {}
    calls = UpstreamCall.objects.filter(
        operation="list_vpcs",
        tenant__in=[t for t in (peering.requester_tenant_id, peering.accepter_tenant_id) if t],
        status_code__lt=400,
    ).order_by("-created_at")[:10]
    for call in calls:
        body = call.response_body if isinstance(call.response_body, dict) else {}
        for vpc in body.get("vpcs") or []:
            if isinstance(vpc, dict) and str(vpc.get("id")) in wanted and str(vpc.get("id")) not in found:
                found[str(vpc["id"])] = str(vpc.get("cidr") or "")
        if len(found) == len(wanted):
            break
    return found


def _in_accepter(delivery: Delivery, peering: Peering | None) -> bool:
    if peering is None or delivery.user_id is None:
        return False
    tenant_ids = Membership.objects.filter(user_id=delivery.user_id).values_list("tenant_id", flat=True)
    return peering_cidr_shown(peering, "accepter", set(tenant_ids))


SUBJECTS = {
    EventKind.REQUESTED: "Peering request {name} from {requester} waits for your decision",
    EventKind.EXPIRING: "Reminder: peering request {name} expires soon",
    EventKind.ACCEPTED: "Peering {name} was accepted",
    EventKind.REJECTED: "Peering {name} was rejected",
    EventKind.EXPIRED: "Peering {name} expired without a decision",
    EventKind.FAILED: "Peering {name} failed in the cloud",
    EventKind.DELETED: "Peering {name} was deleted",
    EventKind.HELD: "Peering request {name} from {requester} waits for your approval",
    EventKind.APPROVED: "Peering request {name} was approved and sent to the cloud",
    EventKind.DECLINED: "Peering request {name} was declined",
}

#: Events that ask the recipient to decide.
DECISION_REQUESTS = (EventKind.REQUESTED, EventKind.EXPIRING, EventKind.HELD)


def email_context(event: Event, delivery: Delivery) -> dict[str, Any]:
    data = event.payload.get("peering", {})
    peering = event.peering
    cidrs = _vpc_cidrs(peering) if peering is not None else {}
    expires_at = None
    if peering is not None and event.kind in (EventKind.REQUESTED, EventKind.EXPIRING):
        start = peering.upstream_created_at or peering.created_at
        expires_at = start + timedelta(seconds=settings.PENDING_EXPIRY_SECONDS)
    requester = data.get("requester", {})
    accepter = data.get("accepter", {})
    return {
        "kind": event.kind,
        "event": event,
        "user": delivery.user,
        "peering": data,
        "change": event.payload.get("change") or {},
        "requester_name": (requester.get("tenant") or {}).get("name") or requester.get("project_id"),
        "accepter_name": (accepter.get("tenant") or {}).get("name") or accepter.get("project_id"),
        "requester_cidr": cidrs.get(requester.get("vpc_id", "")),
        # Need to know: the accepter's range only to its own members (permissions.peering_cidr_shown).
        "accepter_cidr": cidrs.get(accepter.get("vpc_id", "")) if _in_accepter(delivery, peering) else "",
        "requested_by": (data.get("requested_by") or {}).get("username"),
        "link": _link("peerings:detail", data.get("id")) if data.get("id") else settings.PORTAL_BASE_URL,
        "preferences_link": _link("notifications:preferences"),
        "expires_at": expires_at,
        "is_decision_request": event.kind in DECISION_REQUESTS,
        "status": S(data["status"]).label if data.get("status") in S.values else data.get("status"),
    }


def render_email(event: Event, delivery: Delivery) -> EmailMultiAlternatives:
    context = email_context(event, delivery)
    subject = SUBJECTS[event.kind].format(
        name=context["peering"].get("name"), requester=context["requester_name"]
    )
    message = EmailMultiAlternatives(
        subject=subject,
        body=render_to_string("notifications/email/event.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[delivery.address],
        headers={"X-Portal-Event": event.kind, "X-Portal-Event-Id": str(event.pk)},
    )
    message.attach_alternative(render_to_string("notifications/email/event.html", context), "text/html")
    return message


def send_email(event: Event, delivery: Delivery) -> None:
    render_email(event, delivery).send(fail_silently=False)


# --- Webhooks -------------------------------------------------------------------------------------


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """HMAC-SHA256 of ``"<timestamp>.<body>"`` under the endpoint's secret, in hex."""
    return hmac.new(secret.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256).hexdigest()


def signature_header(secret: str, body: bytes, timestamp: int | None = None) -> str:
    timestamp = int(time.time()) if timestamp is None else timestamp
    return f"t={timestamp},v1={sign(secret, timestamp, body)}"


def webhook_body(event: Event) -> bytes:
    document = {
        "id": event.pk,
        "type": event.kind,
        "created_at": event.created_at.isoformat(),
        "data": event.payload,
    }
    return json.dumps(document, sort_keys=True, separators=(",", ":")).encode()


def allowed_url(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and bool(parts.hostname)


def call_webhook(event: Event, delivery: Delivery) -> tuple[bool, str]:
    """POST the event to the endpoint; record the attempt and its answer."""
    endpoint = delivery.endpoint
    if endpoint is None:
        DeliveryAttempt.objects.create(delivery=delivery, error="the endpoint was removed")
        return False, "the endpoint was removed"
    url = endpoint.url
    if not allowed_url(url):
        error = "only http:// and https:// URLs are called"
        DeliveryAttempt.objects.create(delivery=delivery, error=error)
        return False, error
    body = webhook_body(event)
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "vpc-peering-portal-webhooks/1",
        "X-Portal-Event": event.kind,
        "X-Portal-Delivery": str(delivery.pk),
        SIGNATURE_HEADER: signature_header(endpoint.secret.reveal() if endpoint.secret else "", body),
    }
    started = time.monotonic()
    try:
        response = requests.post(
            url, data=body, headers=headers, timeout=settings.WEBHOOK_TIMEOUT, allow_redirects=False
        )
    except requests.RequestException as exc:
        error = f"{type(exc).__name__}: {exc}"[:2000]
        DeliveryAttempt.objects.create(
            delivery=delivery, error=error, duration_ms=int((time.monotonic() - started) * 1000)
        )
        return False, error
    ok = 200 <= response.status_code < 300
    error = "" if ok else f"HTTP {response.status_code}"
    DeliveryAttempt.objects.create(
        delivery=delivery,
        ok=ok,
        status_code=response.status_code,
        response_body=response.text[:4000],
        error=error,
        duration_ms=int((time.monotonic() - started) * 1000),
    )
    return ok, error
