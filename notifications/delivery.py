"""Delivering an event: its rows, claimed, sent (:mod:`notifications.emails`, :mod:`notifications.webhooks`)
to the recipients :mod:`notifications.recipients` names, recorded and retried.

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

import logging
import time
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import DatabaseError, IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from notifications.emails import send_email
from notifications.models import Channel, Delivery, DeliveryStatus, Event, NotificationPreference
from notifications.recipients import email_recipients, webhook_endpoints
from notifications.webhooks import call_webhook

__all__ = ["CLAIM_SECONDS", "backoff", "deliver", "plan"]

logger = logging.getLogger("notifications")

CLAIM_SECONDS = 120


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
