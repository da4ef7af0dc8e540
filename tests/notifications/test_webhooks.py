"""Outbound webhooks end to end: the workflow against the simulator, a loopback receiver.

The signature is checked here with an independent implementation (``hmac`` on the raw body).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import time

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from notifications.models import Delivery, DeliveryAttempt, DeliveryStatus, Event, WebhookEndpoint
from notifications.tasks import redeliver
from peerings import tasks
from peerings.upstream import tenant_client
from peerings.workflow import peering_accept, peering_delete, peering_reject, peering_request
from vpcsim import clock

SECRET = "whsec_test-secret-0123456789"


def verify(headers: dict, body: bytes, secret: str = SECRET, tolerance: int = 300) -> bool:
    """What a receiver does: parse ``t=…,v1=…``, recompute, compare in constant time."""
    parts = dict(item.split("=", 1) for item in headers["X-Portal-Signature"].split(","))
    timestamp = int(parts["t"])
    expected = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return abs(time.time() - timestamp) <= tolerance and hmac.compare_digest(expected, parts["v1"])


@pytest.fixture
def hooks(receiver, acme_prod, globex_main):
    """One endpoint per tenant, both on the loopback receiver (paths tell them apart)."""
    return {
        "acme": WebhookEndpoint.objects.create(tenant=acme_prod, url=receiver.url + "/acme", secret=SECRET),
        "globex": WebhookEndpoint.objects.create(
            tenant=globex_main, url=receiver.url + "/globex", secret=SECRET
        ),
    }


def request_peering(acme_prod, globex_main, acme_member, prod_web, globex_app, name="web-to-globex"):
    return peering_request(
        tenant=acme_prod,
        acting_user=acme_member,
        name=name,
        request_vpc_id=prod_web.vpc_id,
        accept_vpc_id=globex_app.vpc_id,
        accept_project_id=globex_main.project_id,
    )


@pytest.fixture
def requested(hooks, cloud, acme_prod, globex_main, acme_member, prod_web, globex_app):
    return request_peering(acme_prod, globex_main, acme_member, prod_web, globex_app)


def types(receiver, path: str | None = None) -> list[str]:
    return [
        json.loads(r["body"])["type"] for r in receiver.requests if path is None or r["path"].endswith(path)
    ]


def test_requested_reaches_both_tenants_signed(requested, receiver):
    assert types(receiver, "/acme") == ["peering.requested"]
    assert types(receiver, "/globex") == ["peering.requested"]
    for request in receiver.requests:
        assert verify(request["headers"], request["body"])
        assert not verify(request["headers"], request["body"] + b" ")  # any change breaks it
        assert not verify(request["headers"], request["body"], secret="another")
        assert request["headers"]["Content-Type"] == "application/json"
        assert request["headers"]["X-Portal-Event"] == "peering.requested"
    event = receiver.events()[0]
    assert event["data"]["peering"]["id"] == requested.pk
    assert event["data"]["peering"]["status"] == "PENDING_ACCEPTANCE"
    assert event["data"]["change"]["actor"]["username"] == "alice"


@pytest.mark.parametrize(
    ("decide", "kind"),
    [
        (lambda p, user: peering_accept(peering=p, acting_user=user), "peering.accepted"),
        (lambda p, user: peering_reject(peering=p, acting_user=user, reason="no"), "peering.rejected"),
    ],
)
def test_decisions(requested, receiver, globex_approver, decide, kind):
    decide(requested, globex_approver)
    assert types(receiver, "/acme") == ["peering.requested", kind]
    assert all(verify(r["headers"], r["body"]) for r in receiver.requests)
    if kind == "peering.rejected":
        assert receiver.events()[-1]["data"]["change"]["reason"] == "no"


def test_deleted(requested, receiver, acme_member):
    peering_delete(peering=requested, acting_user=acme_member)
    assert types(receiver, "/globex") == ["peering.requested", "peering.deleted"]


def test_expired(requested, receiver, settings):
    clock.advance(dt.timedelta(seconds=settings.VPCSIM_PENDING_EXPIRY_SECONDS + 60))
    tasks.sync_peerings.apply().get()
    assert types(receiver, "/acme") == ["peering.requested", "peering.expired"]


def test_failed(hooks, receiver, cloud, acme_prod, globex_main, acme_member, prod_web, globex_app):
    tenant_client(acme_prod).create_peering(
        name="made-outside",
        request_vpc_id=str(prod_web.vpc_id),
        accept_vpc_id=str(globex_app.vpc_id),
        accept_project_id=globex_main.project_id,
    )
    with pytest.raises(Exception, match="exists"):
        request_peering(acme_prod, globex_main, acme_member, prod_web, globex_app)
    assert types(receiver, "/acme") == ["peering.failed"]
    assert receiver.events()[0]["data"]["peering"]["error_code"] == "VpcPeeringExists"


def test_an_endpoint_gets_only_its_subscribed_events(
    receiver, cloud, acme_prod, globex_main, acme_member, prod_web, globex_app
):
    WebhookEndpoint.objects.create(
        tenant=acme_prod, url=receiver.url, secret=SECRET, events=["peering.accepted"]
    )
    request_peering(acme_prod, globex_main, acme_member, prod_web, globex_app)
    assert receiver.requests == []


def test_failures_are_recorded_and_retried_with_backoff(
    hooks, receiver, cloud, acme_prod, globex_main, acme_member, prod_web, globex_app
):
    receiver.statuses = [500]  # the first call fails
    hooks["globex"].is_active = False
    hooks["globex"].save()
    request_peering(acme_prod, globex_main, acme_member, prod_web, globex_app)

    delivery = Delivery.objects.get(endpoint=hooks["acme"])
    assert (delivery.status, delivery.attempts, delivery.last_error) == (
        DeliveryStatus.PENDING,
        1,
        "HTTP 500",
    )
    assert delivery.next_attempt_at > timezone.now()
    first = delivery.attempt_rows.get()
    assert (first.ok, first.status_code, first.error) == (False, 500, "HTTP 500")

    Delivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now() - dt.timedelta(seconds=1))
    redeliver.apply().get()
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.SENT, 2)
    assert [a.status_code for a in delivery.attempt_rows.order_by("pk")] == [500, 200]
    assert len(receiver.requests) == 2  # and never a third
    redeliver.apply().get()
    assert len(receiver.requests) == 2


def test_a_delivery_gives_up_after_the_last_attempt(
    hooks, receiver, settings, closed_port, cloud, acme_prod, globex_main, acme_member, prod_web, globex_app
):
    settings.NOTIFICATIONS_MAX_ATTEMPTS = 2
    WebhookEndpoint.objects.filter(pk=hooks["acme"].pk).update(url=f"http://127.0.0.1:{closed_port}/")
    request_peering(acme_prod, globex_main, acme_member, prod_web, globex_app)
    delivery = Delivery.objects.get(endpoint=hooks["acme"])
    Delivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())
    redeliver.apply().get()
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.FAILED, 2)
    # Closed, filtered or silent: the same words, nothing learnt about the port.
    assert delivery.last_error == "Could not connect to the endpoint, or it did not answer."
    assert all(not a.ok and a.status_code is None for a in delivery.attempt_rows.all())


def test_only_http_urls_are_called(db, acme_prod, admin_client):
    response = admin_client.post(
        reverse("admin:notifications_webhookendpoint_add"),
        {"tenant": acme_prod.pk, "url": "file:///etc/passwd", "secret": "", "is_active": "on"},
    )
    assert response.status_code == 200
    assert "Only http:// and https://" in response.content.decode() or "Enter a valid URL" in (
        response.content.decode()
    )
    assert not WebhookEndpoint.objects.exists()

    endpoint = WebhookEndpoint.objects.create(tenant=acme_prod, url="ftp://127.0.0.1/x", secret=SECRET)
    from notifications.webhooks import call_webhook

    event = Event.objects.create(kind="webhook.test", endpoint=endpoint)
    delivery = Delivery.objects.create(
        event=event, channel="webhook", recipient="webhook:x", endpoint=endpoint
    )
    assert call_webhook(event, delivery) == (False, "only http:// and https:// URLs are called")


def test_the_secret_is_stored_encrypted_and_generated_when_empty(db, acme_prod, admin_client, receiver):
    response = admin_client.post(
        reverse("admin:notifications_webhookendpoint_add"),
        {"tenant": acme_prod.pk, "url": receiver.url, "secret": "", "is_active": "on"},
    )
    assert response.status_code == 200  # the answer itself shows it, no redirect
    endpoint = WebhookEndpoint.objects.get()
    secret = endpoint.secret.reveal()
    assert secret.startswith("whsec_")
    assert f'<code id="webhook-secret">{secret}</code>' in response.content.decode()  # shown once
    assert "no-store" in response["Cache-Control"]
    # Never in a cookie (the messages cookie is signed, not encrypted), nor on the next page.
    assert all(secret not in morsel.value for morsel in response.cookies.values())
    assert "messages" not in response.cookies
    listing = admin_client.get(reverse("admin:notifications_webhookendpoint_changelist"))
    assert secret not in listing.content.decode()
    with connection.cursor() as cursor:
        cursor.execute("SELECT secret FROM notifications_webhookendpoint")
        (stored,) = cursor.fetchone()
    assert secret not in stored
    page = admin_client.get(reverse("admin:notifications_webhookendpoint_change", args=[endpoint.pk]))
    assert secret not in page.content.decode()


def test_a_secret_the_admin_typed_is_not_shown_back(db, acme_prod, admin_client, receiver):
    response = admin_client.post(
        reverse("admin:notifications_webhookendpoint_add"),
        {"tenant": acme_prod.pk, "url": receiver.url, "secret": SECRET, "is_active": "on"},
        follow=True,
    )
    assert response.redirect_chain  # the admin's usual redirect to the list
    assert SECRET not in response.content.decode()
    assert WebhookEndpoint.objects.get().secret.reveal() == SECRET


@pytest.mark.django_db(transaction=True)
def test_send_a_test_event_from_the_admin(acme_prod, admin_client, receiver):
    endpoint = WebhookEndpoint.objects.create(tenant=acme_prod, url=receiver.url, secret=SECRET)
    response = admin_client.post(
        reverse("admin:notifications_webhookendpoint_changelist"),
        {"action": "send_test_event", "_selected_action": [endpoint.pk]},
        follow=True,
    )
    assert response.status_code == 200
    (request,) = receiver.requests
    assert verify(request["headers"], request["body"])
    assert json.loads(request["body"])["type"] == "webhook.test"
    attempt = DeliveryAttempt.objects.get()
    assert (attempt.ok, attempt.status_code) == (True, 200)
    delivery_page = admin_client.get(
        reverse("admin:notifications_delivery_change", args=[attempt.delivery_id])
    )
    page = delivery_page.content.decode()
    assert delivery_page.status_code == 200
    assert "received" not in page  # the receiver's answer is neither kept nor shown
