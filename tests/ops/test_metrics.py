"""/metrics: refused to anyone without the token or an allowed address; counts what it should."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from notifications.models import Delivery, DeliveryStatus, Event, EventKind
from ops import runs
from ops.locks import acquire
from peerings.choices import CallOperation, PeeringStatus
from tests.factories import PeeringFactory, UpstreamCallFactory

TOKEN = "metrics-test-token-0123456789"

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _metrics_token(settings):
    settings.METRICS_TOKEN = TOKEN
    settings.METRICS_ALLOWED_IPS = []


def scrape(client: Client | None = None, **headers) -> dict[tuple[str, tuple], float]:
    response = (client or Client()).get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}", **headers)
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/plain")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.content.decode())
        for sample in family.samples
    }


def test_anonymous_callers_and_wrong_tokens_are_refused(client, settings):
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 401
    settings.METRICS_TOKEN = ""
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer ").status_code == 401


def test_an_allowed_address_needs_no_token(client, settings):
    settings.METRICS_ALLOWED_IPS = ["10.0.0.0/8"]
    assert client.get("/metrics", REMOTE_ADDR="10.1.2.3").status_code == 200
    assert client.get("/metrics", REMOTE_ADDR="192.0.2.1").status_code == 401


def test_requests_are_counted_by_route_method_and_status(client):
    before = scrape()
    key = (
        "portal_http_request_duration_seconds_count",
        (("method", "GET"), ("route", "healthz"), ("status", "200")),
    )
    missing = (
        "portal_http_request_duration_seconds_count",
        (("method", "GET"), ("route", "api:not-found"), ("status", "404")),
    )

    client.get("/healthz/")
    client.get("/healthz/")
    client.get("/api/v1/no-such-thing/")

    after = scrape()
    assert after[key] == before.get(key, 0) + 2
    assert after[missing] == before.get(missing, 0) + 1
    bucket = next(
        k
        for k in after
        if k[0] == "portal_http_request_duration_seconds_bucket" and ("route", "healthz") in k[1]
    )
    assert bucket


def test_the_portals_state_is_read_from_the_database():
    lease = acquire("sync_peerings", ttl=dt.timedelta(minutes=1))
    from ops.models import JobLock

    JobLock.objects.filter(name="sync_peerings").update(acquired_at=timezone.now() - dt.timedelta(seconds=42))
    runs.record("sync_peerings", ok=True)
    runs.record("sync_peerings", ok=False, error="x")
    runs.record("sync_peerings", ok=True)
    stuck = PeeringFactory(status=PeeringStatus.SUBMITTING)
    PeeringFactory(status=PeeringStatus.SUBMITTING)
    type(stuck).objects.filter(pk=stuck.pk).update(updated_at=timezone.now() - dt.timedelta(minutes=10))
    event = Event.objects.create(kind=EventKind.REQUESTED)
    Delivery.objects.create(event=event, channel="email", recipient="user:1", status=DeliveryStatus.PENDING)
    Delivery.objects.create(
        event=event, channel="webhook", recipient="webhook:1", status=DeliveryStatus.FAILED
    )
    UpstreamCallFactory(operation=CallOperation.SHOW, status_code=200, duration_ms=120)
    UpstreamCallFactory(operation=CallOperation.SHOW, status_code=200, duration_ms=80)
    UpstreamCallFactory(operation=CallOperation.ACCEPT, status_code=None, error_code="Timeout")
    UpstreamCallFactory(operation=CallOperation.CREATE, status_code=400, error_code="VPC.0001")

    found = scrape()

    assert found[("portal_database_up", ())] == 1
    assert found[("portal_job_lease_held", (("job", "sync_peerings"),))] == 1
    assert 41 <= found[("portal_job_lease_age_seconds", (("job", "sync_peerings"),))] < 60
    assert found[("portal_job_runs_total", (("job", "sync_peerings"), ("outcome", "success")))] == 2
    assert found[("portal_job_runs_total", (("job", "sync_peerings"), ("outcome", "failure")))] == 1
    assert found[("portal_job_last_success_timestamp_seconds", (("job", "sync_peerings"),))] > 0
    assert found[("portal_peerings_submitting", ())] == 2
    assert 590 <= found[("portal_peerings_submitting_oldest_age_seconds", ())] < 700
    assert found[("portal_deliveries", (("channel", "email"), ("status", "pending")))] == 1
    assert found[("portal_deliveries", (("channel", "webhook"), ("status", "failed")))] == 1
    calls = "portal_cloud_calls_recent"
    assert found[(calls, (("operation", "show"), ("outcome", "ok")))] == 2
    assert found[(calls, (("operation", "accept"), ("outcome", "no_answer")))] == 1
    assert found[(calls, (("operation", "create"), ("outcome", "refused")))] == 1
    assert found[(f"{calls}_duration_seconds", (("operation", "show"), ("outcome", "ok")))] == pytest.approx(
        0.2
    )

    lease.release()
    assert scrape()[("portal_job_lease_held", (("job", "sync_peerings"),))] == 0


def test_a_database_that_is_down_is_a_metric_not_an_error(monkeypatch):
    from django.db import OperationalError

    from ops import metrics

    def down(self):
        raise OperationalError("connection refused")
        yield  # pragma: no cover

    monkeypatch.setattr(metrics.DatabaseCollector, "_families", down)
    found = scrape()
    assert found[("portal_database_up", ())] == 0
