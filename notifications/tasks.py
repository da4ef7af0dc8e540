"""Celery tasks delivering the outbox, queued after the change's transaction commits."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from celery import shared_task
from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from notifications import delivery as sender
from notifications.models import Delivery, DeliveryStatus, Event
from ops import runs

__all__ = ["DeliveryFailed", "deliver_event", "redeliver"]

logger = logging.getLogger("notifications")


class DeliveryFailed(Exception):
    """Some deliveries of an event failed this time; they are retried later."""


@shared_task(bind=True, name="notifications.deliver_event", acks_late=True, max_retries=None)
def deliver_event(self: Any, event_id: int) -> dict[str, Any]:
    """Send an event's deliveries; failed ones are retried with backoff (and by :func:`redeliver`)."""
    event = Event.objects.select_related("peering", "status_change", "endpoint").filter(pk=event_id).first()
    if event is None:
        return {"skipped": "no such event"}
    failed = sender.deliver(event)
    retry = [d for d in failed if d.status == DeliveryStatus.PENDING]
    if retry and not self.request.is_eager:
        # Each row keeps its own next_attempt_at; the task comes back at the earliest one.
        countdown = max(1.0, min((d.next_attempt_at - timezone.now()).total_seconds() for d in retry))
        raise self.retry(countdown=countdown, exc=DeliveryFailed(f"{len(retry)} delivery(ies) failed"))
    return {"failed": len(failed)}


#: An event with no delivery row this long after it was written lost its delivery task (the broker
#: was down when it was queued): the sweep plans it. Older ones are left alone (an event nobody
#: receives has no rows either, and is not planned again forever).
UNPLANNED_GRACE = timedelta(minutes=2)
UNPLANNED_HORIZON = timedelta(days=1)


@shared_task(name="notifications.redeliver", acks_late=True)
def redeliver() -> dict[str, Any]:
    """The sweep (beat): every event with a delivery that is due again, or whose worker died, and
    every recent event whose delivery task was lost before it planned anything."""
    with runs.track("redeliver_notifications"):
        return _redeliver()


def _redeliver() -> dict[str, Any]:
    now = timezone.now()
    due = Delivery.objects.filter(
        Q(status=DeliveryStatus.PENDING, next_attempt_at__lte=now)
        | Q(status=DeliveryStatus.PENDING, next_attempt_at__isnull=True, created_at__lte=now)
        | Q(status=DeliveryStatus.SENDING, claimed_until__lt=now)
    )
    batch = settings.NOTIFICATIONS_SWEEP_BATCH
    event_ids = set(due.values_list("event_id", flat=True)[:batch])
    unplanned = Event.objects.filter(
        deliveries__isnull=True,
        created_at__lte=now - UNPLANNED_GRACE,
        created_at__gte=now - UNPLANNED_HORIZON,
    ).values_list("pk", flat=True)[:batch]
    event_ids = sorted(event_ids | set(unplanned))
    for event_id in event_ids:
        deliver_event.apply_async(args=(event_id,))
    return {"events": len(event_ids)}
