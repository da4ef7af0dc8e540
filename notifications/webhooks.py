"""A webhook call: the signed body, through the egress policy, each attempt recorded (status,
duration and a short error, never the receiver's body)."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from urllib.parse import urlsplit

import requests
from django.conf import settings

from notifications.models import Delivery, DeliveryAttempt, Event
from ops import egress

__all__ = ["SIGNATURE_HEADER", "allowed_url", "call_webhook", "sign", "signature_header", "webhook_body"]

SIGNATURE_HEADER = "X-Portal-Signature"


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
