"""E-mail notifications end to end: the workflow against the simulator, the file e-mail backend."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.mail import EmailMultiAlternatives
from django.core.management import call_command
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from notifications import delivery as sender
from notifications.models import Channel, Delivery, DeliveryStatus, Event, EventKind
from notifications.tasks import redeliver
from peerings import tasks
from peerings.choices import ChangeSource
from peerings.choices import PeeringStatus as S
from peerings.exceptions import CloudRefused
from peerings.history import record_status_change
from peerings.models import Peering
from peerings.upstream import tenant_client
from peerings.workflow import peering_accept, peering_delete, peering_reject
from vpcsim import clock


@pytest.fixture
def requested(mailbox, globex_approver, globex_member, acme_approver, pending) -> Peering:
    """``pending``, requested once globex's approver and member exist (and the mailbox is set)."""
    return pending


def test_a_request_emails_the_accepter_tenants_approvers(requested, mailbox, prod_web, globex_app):
    mails = mailbox.messages()
    assert [m["To"] for m in mails] == ["grace@example.com"]  # not the member, not acme's approver
    mail = mails[0]
    assert "web-to-globex" in mail["Subject"]
    assert "acme-prod" in mail["Subject"]
    text, html = mailbox.text(mail), mailbox.html(mail)
    for body in (text, html):
        assert "alice" in body  # from whom
        assert str(prod_web.vpc_id) in body
        assert str(globex_app.vpc_id) in body
        assert "prod-web" in body  # each VPC by its name, beside its id
        assert "globex-app" in body
        assert "10.1.0.0/16" in body
        assert "10.20.0.0/16" in body
        assert f"/peerings/{requested.pk}/" in body  # a link to decide
    assert "Decide: http://" in text
    event = Event.objects.get(kind=EventKind.REQUESTED)
    assert event.status_change.new_status == S.PENDING_ACCEPTANCE
    assert event.deliveries.get().status == DeliveryStatus.SENT


def test_accepted_emails_the_requester(requested, mailbox, globex_approver, settings):
    peering_accept(peering=requested, acting_user=globex_approver, reason="NET-42")
    mails = mailbox.to("alice@example.com")
    assert len(mails) == 1
    assert "accepted" in mails[0]["Subject"]
    assert "accepted by grace" in mailbox.text(mails[0])
    # Routes are still needed: the e-mail says so and links the route plan, at PORTAL_BASE_URL.
    plan = f"{settings.PORTAL_BASE_URL}/peerings/{requested.pk}/routes/"
    assert f"Add your side's routes (the other side adds its own) on the route plan: {plan}" in mailbox.text(
        mails[0]
    )
    assert f'href="{plan}"' in mailbox.html(mails[0])


def test_rejected_emails_the_requester_with_the_reason(requested, mailbox, globex_approver):
    peering_reject(peering=requested, acting_user=globex_approver, reason="Not on a Friday")
    (mail,) = mailbox.to("alice@example.com")
    assert "rejected" in mail["Subject"]
    assert "Reason given by globex-main (grace):\n> Not on a Friday" in mailbox.text(mail)
    assert "Not on a Friday" in mailbox.html(mail)


def test_expired_emails_the_requester(requested, mailbox, settings):
    clock.advance(dt.timedelta(seconds=settings.VPCSIM_PENDING_EXPIRY_SECONDS + 60))
    tasks.sync_peerings.apply().get()
    (mail,) = mailbox.to("alice@example.com")
    assert "expired" in mail["Subject"]


def test_a_reminder_goes_to_approvers_once_before_expiry(requested, mailbox, settings):
    settings.PENDING_EXPIRY_SECONDS = 3600
    settings.PENDING_EXPIRY_WARNING_SECONDS = 3600
    tasks.expire_pending.apply().get()
    tasks.expire_pending.apply().get()  # a second run sends no second reminder

    reminders = [m for m in mailbox.to("grace@example.com") if "Reminder" in m["Subject"]]
    assert len(reminders) == 1
    assert "expires at" in mailbox.text(reminders[0])
    assert Event.objects.filter(kind=EventKind.EXPIRING).count() == 1


def test_deleted_by_the_other_side_emails_the_requester(requested, mailbox, globex_approver, globex_member):
    peering = peering_accept(peering=requested, acting_user=globex_approver)
    peering_delete(peering=peering, acting_user=globex_member)
    (mail,) = [m for m in mailbox.to("alice@example.com") if "accepted" not in m["Subject"]]
    assert "deleted" in mail["Subject"]
    assert "by gary on the other side" in mailbox.text(mail)


def test_deleted_by_the_requester_side_sends_nothing(requested, mailbox, acme_member):
    peering_delete(peering=requested, acting_user=acme_member)
    assert mailbox.to("alice@example.com") == []
    assert Event.objects.filter(kind=EventKind.DELETED).count() == 1  # the event still exists (webhooks)


def test_failed_in_the_cloud_emails_the_requester(
    mailbox, request_to_globex, acme_prod, globex_main, prod_web, globex_app
):
    tenant_client(acme_prod).create_peering(
        name="made-outside",
        request_vpc_id=str(prod_web.vpc_id),
        accept_vpc_id=str(globex_app.vpc_id),
        accept_project_id=globex_main.project_id,
    )
    with pytest.raises(CloudRefused):
        request_to_globex("duplicate")
    (mail,) = mailbox.to("alice@example.com")
    assert "failed" in mail["Subject"]
    assert "VpcPeeringExists" in mailbox.text(mail)


def test_a_user_without_an_address_is_skipped_visibly(
    mailbox, globex_approver, pending_without_address, admin_client
):
    delivery = Delivery.objects.get(event__kind=EventKind.REQUESTED)
    assert delivery.status == DeliveryStatus.SKIPPED_NO_ADDRESS
    assert delivery.user == globex_approver
    assert mailbox.messages() == []
    page = admin_client.get(reverse("admin:notifications_delivery_changelist")).content.decode()
    assert "skipped: no address" in page


@pytest.fixture
def pending_without_address(globex_approver, request_to_globex):
    globex_approver.email = ""
    globex_approver.save()
    return request_to_globex()


def test_the_preferences_page_turns_emails_off(mailbox, client, globex_approver, request_to_globex):
    client.force_login(globex_approver)
    url = reverse("notifications:preferences")
    assert client.get(url).status_code == 200
    response = client.post(url, {})  # the box unticked
    assert response.status_code == 302
    assert "Notifications" in client.get(reverse("peerings:dashboard")).content.decode()  # in the nav

    request_to_globex()
    assert mailbox.messages() == []
    assert Delivery.objects.get().status == DeliveryStatus.SKIPPED_OPTED_OUT

    client.post(url, {"email_enabled": "on"})
    from notifications.models import NotificationPreference

    assert NotificationPreference.email_enabled_for(globex_approver)


def test_preferences_need_a_sign_in(client, db):
    response = client.get(reverse("notifications:preferences"))
    assert response.status_code == 302
    assert "login" in response["Location"]


def test_delivery_is_idempotent(requested, mailbox):
    event = Event.objects.get(kind=EventKind.REQUESTED)
    sender.deliver(event)
    sender.deliver(event)
    assert len(mailbox.messages()) == 1
    with pytest.raises(IntegrityError), transaction.atomic():
        Delivery.objects.create(
            event=event, channel=Channel.EMAIL, recipient=event.deliveries.get().recipient
        )


def test_a_failed_email_is_retried_with_backoff(mailbox, monkeypatch, globex_approver, request_to_globex):
    real_send = EmailMultiAlternatives.send
    failures = ["SMTP server down"]

    def flaky(self, *args, **kwargs):
        if failures:
            raise ConnectionError(failures.pop())
        return real_send(self, *args, **kwargs)

    monkeypatch.setattr(EmailMultiAlternatives, "send", flaky)
    request_to_globex()
    delivery = Delivery.objects.get()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.PENDING, 1)
    assert "SMTP server down" in delivery.last_error
    assert delivery.next_attempt_at > timezone.now() + dt.timedelta(seconds=20)  # backoff
    assert redeliver.apply().get() == {"events": 0}  # not due yet

    Delivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now() - dt.timedelta(seconds=1))
    out = io.StringIO()
    call_command("redeliver_notifications", stdout=out)
    assert out.getvalue().strip() == "Redelivered 1 event(s)."
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.SENT, 2)
    assert len(mailbox.messages()) == 1


def test_backoff_doubles_and_gives_up(settings):
    settings.NOTIFICATIONS_RETRY_BACKOFF = 30
    assert [sender.backoff(n) for n in (1, 2, 3)] == [30, 60, 120]
    assert sender.backoff(30) == 3600


@pytest.mark.django_db(transaction=True)
def test_the_event_is_written_in_the_changes_transaction(mailbox, acme_member):
    from tests.factories import PeeringFactory

    peering = PeeringFactory(status=S.SUBMITTING, requested_by=acme_member)
    seen = []

    def change_then_fail() -> None:
        with transaction.atomic():
            record_status_change(
                peering=peering,
                old_status=S.SUBMITTING,
                new_status=S.FAILED,
                actor=None,
                reason="x",
                source="sync",
            )
            seen.append(Event.objects.count())
            raise RuntimeError("rolled back")

    with pytest.raises(RuntimeError):
        change_then_fail()
    assert seen == [1]
    assert Event.objects.count() == 0
    assert mailbox.messages() == []  # nothing was queued for a change that never happened

    record_status_change(
        peering=peering,
        old_status=S.SUBMITTING,
        new_status=S.FAILED,
        actor=None,
        reason="x",
        source=ChangeSource.SYNC,
    )
    assert Event.objects.get().kind == EventKind.FAILED
    assert [m["To"] for m in mailbox.messages()] == [acme_member.email]
