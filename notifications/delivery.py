"""Delivering an event: who receives it, the e-mails, the signed webhook calls.

Each (event, recipient, channel) is one :class:`Delivery` row (a unique constraint), created
once; a worker claims a row before sending it (a conditional update), so two workers never
send the same one at once, and a row recorded as sent is never sent again. Failures are
recorded, retried with exponential backoff up to ``NOTIFICATIONS_MAX_ATTEMPTS``, then left as
``failed``.

Delivery is **at least once**: a worker that dies after the mail server (or the webhook's
receiver) took a message but before the row says ``sent`` leaves the row claimed; when the
claim runs out (``CLAIM_SECONDS``) another worker sends it again. Such a duplicate is harmless:
every e-mail of a delivery carries the same ``Message-ID`` (:func:`message_id`), which mail
servers and clients use to drop a second copy, and every webhook call carries the delivery's
id in ``X-Portal-Delivery`` for receivers to do the same. Once a send has completed, only its
recording remains: a failure after that point (closing the SMTP connection, the database
briefly away while recording) is never taken for a failed send.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
from datetime import timedelta
from email.utils import parseaddr
from typing import Any
from urllib.parse import urlsplit

import requests
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import DatabaseError, IntegrityError, transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from notifications.email_text import one_line, quoted
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
from ops import egress
from peerings import access
from peerings.choices import ChangeSource, Role, RouteSide
from peerings.choices import PeeringStatus as S
from peerings.models import Membership, Peering
from peerings.permissions import peering_cidr_shown
from peerings.rules import duties

__all__ = ["deliver", "message_id", "plan", "sign", "signature_header"]

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
    actor_tenants = Membership.objects.filter(user_id=change.actor_id).values_list("tenant_id", flat=True)
    return RouteSide.REQUESTER not in access.sides_of(set(actor_tenants), peering)


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
        return [user for user in _approvers(peering.requester_tenant) if duties.may_approve(user.pk, peering)]
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
    if event.kind in REQUESTER_ONLY:  # the portal's gate: the peer has not been asked
        tenants = {peering.requester_tenant_id}
    else:
        tenants = access.seeing_tenant_ids(peering)  # a request held back is its requester's alone
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


#: Recording a completed send is tried this many times (the database briefly away) before the
#: worker gives up and leaves the row claimed (then sent again: at least once).
FINISH_ATTEMPTS = 3


def _record(delivery: Delivery, *, ok: bool, error: str = "") -> None:
    """:func:`_finish`, tried again a few times when the database fails (a completed send must stick)."""
    for attempt in range(1, FINISH_ATTEMPTS + 1):
        try:
            _finish(delivery, ok=ok, error=error)
            return
        except DatabaseError:
            if attempt == FINISH_ATTEMPTS:
                raise
            logger.warning("recording delivery %s failed; trying again", delivery.pk, exc_info=True)
            time.sleep(attempt)


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
                ok, error = True, ""
            else:
                ok, error = call_webhook(event, delivery)
        except Exception as exc:
            logger.warning("delivery %s of event %s failed: %r", delivery.pk, event.pk, exc)
            ok, error = False, repr(exc)[:2000]
        # Outside the try: a send that completed is recorded as sent, never as failed.
        _record(delivery, ok=ok, error=error)
        if not ok:
            failed.append(delivery)
    return failed


# --- E-mail ---------------------------------------------------------------------------------------


def _link(name: str, *args: Any) -> str:
    return settings.PORTAL_BASE_URL + reverse(name, args=args)


def _vpc(peering: Peering | None, side: str, payload: dict[str, Any], cidr_shown: bool) -> dict[str, str]:
    """One side's VPC as the peering keeps it (the name and range the cloud listed): no cloud call."""
    vpc_id = str(payload.get("vpc_id") or (getattr(peering, f"{side}_vpc_id", "") if peering else ""))
    name = one_line(getattr(peering, f"{side}_vpc_name", "") if peering else "")
    cidr = (getattr(peering, f"{side}_vpc_cidr", "") if peering else "") if cidr_shown else ""
    return {"id": vpc_id, "name": name, "cidr": cidr or ""}


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
    expires_at = None
    if peering is not None and event.kind in (EventKind.REQUESTED, EventKind.EXPIRING):
        expires_at = peering.expires_at
    requester = data.get("requester", {})
    accepter = data.get("accepter", {})
    change = event.payload.get("change") or {}
    requester_name = one_line((requester.get("tenant") or {}).get("name") or requester.get("project_id"))
    accepter_name = one_line((accepter.get("tenant") or {}).get("name") or accepter.get("project_id"))
    return {
        "kind": event.kind,
        "event": event,
        "user": delivery.user,
        "peering": data,
        # Text others wrote: the name on one line, a reason or description quoted (email_text).
        "name": one_line(data.get("name")),
        "description_quoted": quoted(data.get("description")) if data.get("description") else "",
        "reason_quoted": quoted(change.get("reason")) if change.get("reason") else "",
        # A rejection is the accepter's decision; a declined request, the requester's approver's.
        "reason_by": accepter_name if event.kind == EventKind.REJECTED else requester_name,
        "cloud_message": one_line(f"{data.get('error_code') or ''} {data.get('error_message') or ''}"),
        "change": change,
        "requester_name": requester_name,
        "accepter_name": accepter_name,
        # Need to know: the accepter's range only to its own members (permissions.peering_cidr_shown).
        "requester_vpc": _vpc(peering, "requester", requester, cidr_shown=True),
        "accepter_vpc": _vpc(peering, "accepter", accepter, cidr_shown=_in_accepter(delivery, peering)),
        # After an acceptance traffic still needs a route in each VPC: the route plan says what is missing.
        "routes_link": _link("peerings:routes", data.get("id")) if data.get("id") else "",
        "routes_on_accept": bool(getattr(peering, "routes_on_accept", False)),
        "requested_by": (data.get("requested_by") or {}).get("username"),
        "link": _link("peerings:detail", data.get("id")) if data.get("id") else settings.PORTAL_BASE_URL,
        "preferences_link": _link("notifications:preferences"),
        "expires_at": expires_at,
        "is_decision_request": event.kind in DECISION_REQUESTS,
        "status": S(data["status"]).label if data.get("status") in S.values else data.get("status"),
    }


def email_subject(kind: str, **values: Any) -> str:
    """The subject of an e-mail about ``kind``: always one line, whatever the values hold
    (a line break in a header would make Django refuse the whole message)."""
    return one_line(SUBJECTS[kind].format(**{key: one_line(value) for key, value in values.items()}))


def render_email(event: Event, delivery: Delivery) -> EmailMultiAlternatives:
    context = email_context(event, delivery)
    subject = email_subject(event.kind, name=context["name"], requester=context["requester_name"])
    message = EmailMultiAlternatives(
        subject=subject,
        body=render_to_string("notifications/email/event.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[delivery.address],
        headers={
            "Message-ID": message_id(delivery),
            "X-Portal-Event": event.kind,
            "X-Portal-Event-Id": str(event.pk),
            "X-Portal-Delivery": str(delivery.pk),
        },
    )
    message.attach_alternative(render_to_string("notifications/email/event.html", context), "text/html")
    return message


def message_id(delivery: Delivery) -> str:
    """The delivery's own ``Message-ID``: the same on every attempt, so a resent copy is a duplicate."""
    domain = parseaddr(settings.DEFAULT_FROM_EMAIL)[1].rpartition("@")[2] or "portal.invalid"
    return f"<delivery-{delivery.pk}.event-{delivery.event_id}@{domain}>"


def send_email(event: Event, delivery: Delivery) -> None:
    """Hand the e-mail to the mail server; returns once it was accepted (raises otherwise).

    The connection is closed apart: a failure while closing, after the server accepted the
    message, is logged and does not make the delivery fail (and be sent again).
    """
    message = render_email(event, delivery)
    connection = get_connection(fail_silently=False)
    connection.open()
    message.connection = connection
    try:
        sent = message.send(fail_silently=False)
    finally:
        try:
            connection.close()
        except Exception:
            logger.info("closing the mail connection after delivery %s failed", delivery.pk, exc_info=True)
    if not sent:
        raise RuntimeError("the mail backend accepted no message")


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


def transport_error(exc: requests.RequestException) -> str:
    """A short error for a call that got no HTTP answer; it tells nothing about what listens there.

    A refused connection, a timeout and a dropped connection read alike, so the delivery pages
    cannot be used to tell open ports from closed ones; a refusal of the egress policy says so.
    """
    if isinstance(exc, egress.EgressRefused):
        return f"Not sent: {exc}"
    return "Could not connect to the endpoint, or it did not answer."


def call_webhook(event: Event, delivery: Delivery) -> tuple[bool, str]:
    """POST the event to the endpoint through the egress policy; record the attempt.

    The attempt keeps the status, the duration and a short error, never the receiver's body
    (which is not even read); a redirect is not followed (it is a failed attempt).
    """
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
        with egress.session(pool_connections=1, pool_maxsize=1) as http:
            response = http.post(
                url, data=body, headers=headers, timeout=settings.WEBHOOK_TIMEOUT, stream=True
            )
            response.close()  # the body is never read
    except requests.RequestException as exc:
        error = transport_error(exc)
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
        error=error,
        duration_ms=int((time.monotonic() - started) * 1000),
    )
    return ok, error
