"""Webhooks under the egress policy: refused at input and at delivery, nothing kept of the answer.

The listeners are real loopback servers; ``listener.requests == []`` proves nothing arrived.
"""

from __future__ import annotations

import pytest
from django.urls import reverse

from notifications.models import Delivery, DeliveryAttempt, Event, EventKind, WebhookEndpoint
from notifications.webhooks import call_webhook
from ops import egress
from tests.egress_support import SECRET_BODY, SilentListener, fake_dns

pytestmark = pytest.mark.django_db

SECRET = "whsec_egress-test-secret-0123456789"
NOT_CALLED = "Could not connect to the endpoint, or it did not answer."


def add_endpoint(admin_client, tenant, url: str):
    return admin_client.post(
        reverse("admin:notifications_webhookendpoint_add"),
        {"tenant": tenant.pk, "url": url, "secret": "", "is_active": "on"},
    )


def send_test_event(endpoint: WebhookEndpoint) -> tuple[bool, str, Delivery]:
    endpoint.refresh_from_db()  # its secret as loaded, as a worker sees it
    event = Event.objects.create(kind=EventKind.TEST, endpoint=endpoint, payload={"message": "test"})
    delivery = Delivery.objects.create(
        event=event,
        channel="webhook",
        recipient=f"webhook:{endpoint.pk}",
        endpoint=endpoint,
        address=endpoint.url,
    )
    ok, error = call_webhook(event, delivery)
    return ok, error, delivery


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8000/api/v1/peerings/",
        "http://localhost:6379/",
        "http://169.254.169.254/latest/meta-data/",
        "http://10.0.0.1/hook",
        "http://0.0.0.0:8000/",
        "http://metadata.google.internal/computeMetadata/v1/",
        "http://[::1]/",
    ],
)
def test_the_admin_refuses_internal_webhook_urls(egress_on, admin_client, acme_prod, url):
    response = add_endpoint(admin_client, acme_prod, url)
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors["url"]
    assert any("egress policy" in e for e in errors), errors
    assert not WebhookEndpoint.objects.exists()


def test_the_admin_refuses_a_name_resolving_to_an_internal_address(
    egress_on, admin_client, acme_prod, monkeypatch
):
    monkeypatch.setattr(egress, "_lookup", fake_dns({"hooks.acme.example": ["10.1.2.3"]}))
    response = add_endpoint(admin_client, acme_prod, "https://hooks.acme.example/portal")
    assert "egress policy (private address)" in response.context["adminform"].form.errors["url"][0]
    assert not WebhookEndpoint.objects.exists()


def test_the_admin_accepts_a_public_webhook_url(egress_on, admin_client, acme_prod, monkeypatch):
    monkeypatch.setattr(egress, "_lookup", fake_dns({"hooks.acme.example": ["93.184.216.34"]}))
    response = add_endpoint(admin_client, acme_prod, "https://hooks.acme.example/portal")
    assert response.status_code == 200  # saved: the page shows the generated secret, once
    assert "errornote" not in response.content.decode()
    assert WebhookEndpoint.objects.get().url == "https://hooks.acme.example/portal"


def test_a_stored_loopback_endpoint_is_never_called(egress_on, acme_prod, listeners):
    """A row older than the rule (or written around the admin) is refused when it is called."""
    listener = listeners()
    endpoint = WebhookEndpoint.objects.create(tenant=acme_prod, url=listener.url + "/hook", secret=SECRET)
    ok, error, delivery = send_test_event(endpoint)
    assert not ok
    assert error == "Not sent: The address is not allowed by the portal's egress policy (loopback address)."
    attempt = delivery.attempt_rows.get()
    assert (attempt.ok, attempt.status_code, attempt.error) == (False, None, error)
    assert listener.requests == []


def test_a_name_resolving_to_loopback_is_never_called(egress_on, acme_prod, listeners, monkeypatch):
    listener = listeners()
    monkeypatch.setattr(egress, "_lookup", fake_dns({"hooks.acme.example": ["127.0.0.1"]}))
    endpoint = WebhookEndpoint.objects.create(
        tenant=acme_prod, url=f"http://hooks.acme.example:{listener.port}/hook", secret=SECRET
    )
    ok, error, _ = send_test_event(endpoint)
    assert not ok
    assert "egress policy (loopback address)" in error
    assert listener.requests == []


def test_a_redirect_to_an_internal_address_is_not_followed(settings, acme_prod, listeners):
    """The receiver is allowed; what it redirects to (127.0.0.2, outside the list) is never called."""
    settings.EGRESS_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    settings.EGRESS_ALLOWED_HOSTS = []
    internal = listeners("127.0.0.2")
    front = listeners(status=307, location=internal.url + "/latest/meta-data")
    endpoint = WebhookEndpoint.objects.create(tenant=acme_prod, url=front.url + "/hook", secret=SECRET)
    ok, error, _ = send_test_event(endpoint)
    assert (ok, error) == (False, "HTTP 307")
    assert len(front.requests) == 1
    assert internal.requests == []


def test_a_delivery_never_keeps_the_receivers_body(settings, admin_client, acme_prod, listeners):
    """The allow-listed simulator-style receiver answers; nothing of its answer is stored or shown."""
    settings.EGRESS_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    for status in (200, 500):
        listener = listeners(status=status)
        endpoint = WebhookEndpoint.objects.create(tenant=acme_prod, url=listener.url + "/hook", secret=SECRET)
        ok, error, delivery = send_test_event(endpoint)
        assert (ok, error) == (status == 200, "" if status == 200 else "HTTP 500")
        assert len(listener.requests) == 1
        attempt = delivery.attempt_rows.get()
        assert attempt.status_code == status
        rows = [*Delivery.objects.values(), *DeliveryAttempt.objects.values()]
        assert SECRET_BODY not in repr(rows)
        assert "response_body" not in {f.name for f in DeliveryAttempt._meta.get_fields()}
        page = admin_client.get(reverse("admin:notifications_delivery_change", args=[delivery.pk]))
        assert page.status_code == 200
        assert "internal-answer" not in page.content.decode()


def test_connection_errors_do_not_tell_open_ports_from_closed_ones(settings, acme_prod, closed_port):
    """A closed port (refused at once) and an open one that never answers read alike."""
    settings.EGRESS_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    settings.WEBHOOK_TIMEOUT = 0.3
    silent = SilentListener()
    try:
        errors = []
        for url in (f"http://127.0.0.1:{closed_port}/hook", silent.url + "/hook"):
            endpoint = WebhookEndpoint.objects.create(tenant=acme_prod, url=url, secret=SECRET)
            ok, error, delivery = send_test_event(endpoint)
            assert not ok
            errors.append((error, delivery.attempt_rows.get().error))
    finally:
        silent.close()
    assert errors == [(NOT_CALLED, NOT_CALLED)] * 2
