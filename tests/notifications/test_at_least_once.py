"""E-mail is delivered at least once: a copy sent again is recognisably the same message, and a
send that completed is never taken for a failure (and sent again)."""

from __future__ import annotations

import pytest
from django.core.mail.backends.filebased import EmailBackend
from django.db import OperationalError
from django.utils import timezone

from notifications import delivery as sender
from notifications.models import Delivery, DeliveryStatus, Event, EventKind


@pytest.fixture
def requested(mailbox, globex_approver, pending):
    return Event.objects.get(kind=EventKind.REQUESTED)


def test_a_delivery_sent_again_after_a_lost_worker_has_the_same_message_id(requested, mailbox, settings):
    delivery = requested.deliveries.get()
    # A worker took the message to the mail server and died before recording it: the row stays
    # claimed; when the claim has run out another worker sends it again.
    Delivery.objects.filter(pk=delivery.pk).update(
        status=DeliveryStatus.SENDING, claimed_until=timezone.now() - timezone.timedelta(seconds=1)
    )
    sender.deliver(requested)

    first, second = mailbox.messages()
    assert first["Message-ID"] == second["Message-ID"]
    domain = settings.DEFAULT_FROM_EMAIL.rsplit("@", 1)[1].rstrip(">")
    assert first["Message-ID"] == f"<delivery-{delivery.pk}.event-{requested.pk}@{domain}>"
    assert first["X-Portal-Delivery"] == str(delivery.pk)


def test_a_failure_closing_the_connection_after_the_send_is_not_a_failed_send(
    mailbox, monkeypatch, globex_approver, request_to_globex
):
    def close_fails(self):
        raise OSError("connection reset while closing")

    monkeypatch.setattr(EmailBackend, "close", close_fails)
    request_to_globex()

    delivery = Delivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.last_error) == (DeliveryStatus.SENT, 1, "")
    sender.deliver(delivery.event)  # a later sweep sends nothing more
    assert len(mailbox.messages()) == 1


def test_recording_a_completed_send_is_tried_again_not_taken_for_a_failure(
    mailbox, monkeypatch, globex_approver, request_to_globex
):
    real_finish = sender._finish
    failures = ["database briefly away"]

    def flaky_finish(delivery, **kwargs):
        if failures:
            raise OperationalError(failures.pop())
        real_finish(delivery, **kwargs)

    monkeypatch.setattr(sender, "_finish", flaky_finish)
    monkeypatch.setattr(sender.time, "sleep", lambda seconds: None)
    request_to_globex()

    delivery = Delivery.objects.get()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.SENT, 1)
    assert failures == []
    assert len(mailbox.messages()) == 1


def test_an_event_whose_delivery_task_was_lost_is_planned_and_sent_by_the_sweep(
    mailbox, monkeypatch, globex_approver, request_to_globex
):
    from notifications import outbox
    from notifications.tasks import UNPLANNED_GRACE, redeliver

    # The broker was down when the change committed: the delivery task never ran.
    monkeypatch.setattr(outbox, "queue_delivery", lambda event: None)
    request_to_globex()
    event = Event.objects.get(kind=EventKind.REQUESTED)
    assert not event.deliveries.exists()
    assert redeliver.apply().get() == {"events": 0}  # too fresh: its task may still be on its way

    Event.objects.filter(pk=event.pk).update(created_at=timezone.now() - UNPLANNED_GRACE)
    assert redeliver.apply().get() == {"events": 1}

    assert event.deliveries.get().status == DeliveryStatus.SENT
    assert len(mailbox.messages()) == 1
    assert redeliver.apply().get() == {"events": 0}  # planned once
