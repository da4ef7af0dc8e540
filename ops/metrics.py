"""Prometheus metrics at ``/metrics``: the requests this server answered, and the portal's state.

Two kinds:

* **Counted by the processes** (prometheus-client): requests by route, method and status with
  their latency (``portal_http_request_duration_seconds``), and shared-cache failures
  (``portal_cache_errors_total``). Under gunicorn every worker process writes its own file in
  ``PROMETHEUS_MULTIPROC_DIR`` (set by ``gunicorn.conf.py``) and a scrape adds them up, so any
  worker may answer it. They cover this app server only: scrape each one.
* **Read from the database at scrape time** (:class:`DatabaseCollector`): the same on every
  server, whichever answers: job leases held and their age, job runs and their last success,
  peerings waiting in ``SUBMITTING`` and the oldest one's age, operations in flight, deliveries by
  channel and status, cloud calls of the last ``METRICS_CLOUD_WINDOW_SECONDS`` by operation and
  outcome (from the history of calls), and ``portal_database_up``.

Access: ``Authorization: Bearer <METRICS_TOKEN>``, or a client address in ``METRICS_ALLOWED_IPS``
(addresses or networks, as :func:`portal.middleware.client_ip` sees them). Nobody else.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
import os
import time
from collections.abc import Iterator
from datetime import timedelta

from django.conf import settings
from django.db import DatabaseError
from django.db.models import Count, Min, Sum
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

__all__ = ["CACHE_ERRORS", "REQUESTS", "DatabaseCollector", "metrics_view", "observe_request", "route_of"]

logger = logging.getLogger("ops.metrics")

REQUESTS = Histogram(
    "portal_http_request_duration_seconds",
    "Requests answered by this app server, by route, method and status, and how long they took.",
    ["route", "method", "status"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
)
CACHE_ERRORS = Counter(
    "portal_cache_errors_total",
    "Reads and writes of the shared cache that failed and were done without (throttle: fail open).",
    ["use"],
)

METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def route_of(request: HttpRequest) -> str:
    """A bounded label for the request's route: its URL pattern's name, never the raw path."""
    match = getattr(request, "resolver_match", None)
    if match is not None:
        return match.view_name or match.route or "unnamed"
    if request.path_info.startswith("/" + settings.STATIC_URL.lstrip("/")):
        return "static"
    return "unmatched"


def observe_request(request: HttpRequest, status: int, seconds: float) -> None:
    method = request.method if request.method in METHODS else "other"
    REQUESTS.labels(route=route_of(request), method=method, status=str(status)).observe(seconds)


def _outcome(status_code: int | None, error_code: str) -> str:
    if status_code is None:
        return "no_answer"
    if status_code >= 500:
        return "server_error"
    if status_code >= 400:
        return "refused"
    return "invalid_answer" if error_code else "ok"


class DatabaseCollector(Collector):
    """Gauges and counters read from the database when scraped (a few grouped queries)."""

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily("portal_database_up", "1 when the database answered this scrape's queries.")
        try:
            families = list(self._families())
        except DatabaseError as exc:
            logger.warning("metrics: the database did not answer: %s", exc)
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        yield from families

    def _families(self) -> Iterator[Metric]:
        yield from self._leases()
        yield from self._jobs()
        yield from self._peerings()
        yield from self._deliveries()
        yield from self._cloud_calls()

    def _leases(self) -> Iterator[Metric]:
        from ops.models import JobLock

        now = timezone.now()
        held = GaugeMetricFamily(
            "portal_job_lease_held", "1 while a run holds the job's lease.", labels=["job"]
        )
        age = GaugeMetricFamily(
            "portal_job_lease_age_seconds", "How long the job's lease has been held.", labels=["job"]
        )
        for name, acquired, expires in JobLock.objects.values_list("name", "acquired_at", "expires_at"):
            running = expires > now
            held.add_metric([name], 1 if running else 0)
            age.add_metric([name], (now - acquired).total_seconds() if running else 0)
        yield held
        yield age

    def _jobs(self) -> Iterator[Metric]:
        from ops.models import JobStatus

        runs = CounterMetricFamily(
            "portal_job_runs", "Runs of each background job, by outcome.", labels=["job", "outcome"]
        )
        success = GaugeMetricFamily(
            "portal_job_last_success_timestamp_seconds",
            "When the job last succeeded (Unix time).",
            labels=["job"],
        )
        failure = GaugeMetricFamily(
            "portal_job_last_failure_timestamp_seconds",
            "When the job last failed (Unix time).",
            labels=["job"],
        )
        for row in JobStatus.objects.all():
            runs.add_metric([row.name, "success"], row.successes)
            runs.add_metric([row.name, "failure"], row.failures)
            if row.last_success_at is not None:
                success.add_metric([row.name], row.last_success_at.timestamp())
            if row.last_failure_at is not None:
                failure.add_metric([row.name], row.last_failure_at.timestamp())
        yield runs
        yield success
        yield failure

    def _peerings(self) -> Iterator[Metric]:
        from peerings.choices import PeeringStatus
        from peerings.models import Peering

        now = timezone.now()
        found = Peering.objects.filter(status=PeeringStatus.SUBMITTING).aggregate(
            count=Count("pk"), oldest=Min("updated_at")
        )
        yield GaugeMetricFamily(
            "portal_peerings_submitting",
            "Peerings sent to the cloud whose creation is not confirmed yet (SUBMITTING).",
            value=found["count"],
        )
        oldest = found["oldest"]
        yield GaugeMetricFamily(
            "portal_peerings_submitting_oldest_age_seconds",
            "How long the oldest SUBMITTING peering has waited since it last changed (0: none).",
            value=(now - oldest).total_seconds() if oldest else 0,
        )
        yield GaugeMetricFamily(
            "portal_peering_operations_in_flight",
            "Peerings with a cloud operation in flight (their lease held).",
            value=Peering.objects.filter(inflight_until__gt=now).exclude(inflight_token="").count(),
        )

    def _deliveries(self) -> Iterator[Metric]:
        from notifications.models import Delivery, DeliveryStatus

        now = timezone.now()
        open_statuses = [DeliveryStatus.PENDING, DeliveryStatus.SENDING, DeliveryStatus.FAILED]
        count = GaugeMetricFamily(
            "portal_deliveries",
            "Notification deliveries not sent (yet): pending, sending, or failed for good.",
            labels=["channel", "status"],
        )
        rows = (
            Delivery.objects.filter(status__in=open_statuses)
            .values_list("channel", "status")
            .annotate(n=Count("pk"), oldest=Min("created_at"))
            .order_by()
        )
        oldest_pending = None
        for channel, status, n, oldest in rows:
            count.add_metric([channel, status], n)
            if status == DeliveryStatus.PENDING and (oldest_pending is None or oldest < oldest_pending):
                oldest_pending = oldest
        yield count
        yield GaugeMetricFamily(
            "portal_deliveries_pending_oldest_age_seconds",
            "Age of the oldest delivery still waiting to be sent (0: none).",
            value=(now - oldest_pending).total_seconds() if oldest_pending else 0,
        )

    def _cloud_calls(self) -> Iterator[Metric]:
        from peerings.models import UpstreamCall

        window = settings.METRICS_CLOUD_WINDOW_SECONDS
        since = timezone.now() - timedelta(seconds=window)
        calls = GaugeMetricFamily(
            "portal_cloud_calls_recent",
            f"Cloud calls recorded in the last {window} s, by operation and outcome "
            "(ok, refused: 4xx, server_error: 5xx, no_answer, invalid_answer).",
            labels=["operation", "outcome"],
        )
        seconds = GaugeMetricFamily(
            "portal_cloud_calls_recent_duration_seconds",
            f"Time spent in the cloud calls of the last {window} s, by operation and outcome.",
            labels=["operation", "outcome"],
        )
        totals: dict[tuple[str, str], list[float]] = {}
        rows = (
            UpstreamCall.objects.filter(created_at__gte=since)
            .values_list("operation", "status_code", "error_code")
            .annotate(n=Count("pk"), ms=Sum("duration_ms"))
            .order_by()
        )
        for operation, status_code, error_code, n, ms in rows:
            entry = totals.setdefault((operation, _outcome(status_code, error_code)), [0, 0.0])
            entry[0] += n
            entry[1] += (ms or 0) / 1000
        for (operation, outcome), (n, spent) in sorted(totals.items()):
            calls.add_metric([operation, outcome], n)
            seconds.add_metric([operation, outcome], spent)
        yield calls
        yield seconds


def _allowed(request: HttpRequest) -> bool:
    token = settings.METRICS_TOKEN
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    if token and scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), token.encode()):
        return True
    if not settings.METRICS_ALLOWED_IPS:
        return False
    from portal.middleware import client_ip

    try:
        address = ipaddress.ip_address(client_ip(request) or "")
    except ValueError:
        return False
    return any(address in ipaddress.ip_network(net, strict=False) for net in settings.METRICS_ALLOWED_IPS)


def _registry() -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(DatabaseCollector())
    return registry


@never_cache
@require_safe
def metrics_view(request: HttpRequest) -> HttpResponse:
    """The metrics in Prometheus' text format, for a caller with the token or an allowed address."""
    if not _allowed(request):
        response = HttpResponse(
            "Metrics are for the monitoring system only.\n", status=401, content_type="text/plain"
        )
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    started = time.monotonic()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        processes = CollectorRegistry()
        multiprocess.MultiProcessCollector(processes)
        counted = generate_latest(processes)
    else:
        counted = generate_latest(REGISTRY)
    body = counted + generate_latest(_registry())
    logger.debug("metrics scraped in %.1f ms", (time.monotonic() - started) * 1000)
    return HttpResponse(body, content_type=CONTENT_TYPE_LATEST)
