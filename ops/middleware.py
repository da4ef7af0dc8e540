"""One log line per request, and the request's correlation id (in and out, and for the cloud)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils.functional import SimpleLazyObject, empty

from ops import correlation, metrics

__all__ = ["HEADER", "RequestLogMiddleware"]

logger = logging.getLogger("portal.request")

HEADER = "X-Correlation-Id"
#: Probes hit these every few seconds: their lines are logged at DEBUG.
QUIET_PATHS = frozenset({"/healthz/", "/readyz/", "/metrics"})


def _user_id(request: HttpRequest) -> Any:
    """The user's id if the request was authenticated; never loads a user just to log it."""
    user = getattr(request, "user", None)
    if user is None or (isinstance(user, SimpleLazyObject) and user._wrapped is empty):
        return None
    return user.pk if user.is_authenticated else None


def _tenant(request: HttpRequest) -> Any:
    """The tenant a request is about, when known: set by a view, or a URL's / query's tenant."""
    tenant = getattr(request, "tenant", None)
    if tenant is not None:
        return getattr(tenant, "pk", tenant)
    match = getattr(request, "resolver_match", None)
    if match is not None:
        if "tenant_id" in match.kwargs:
            return match.kwargs["tenant_id"]
        if (match.url_name or "").startswith("tenant-") and "pk" in match.kwargs:
            return match.kwargs["pk"]
    value = request.GET.get("tenant")
    return value if value and value.isdigit() else None


class RequestLogMiddleware:
    """Outermost: sets the correlation id, times the request, logs one line when it is answered
    and counts it in the metrics (:func:`ops.metrics.observe_request`).

    The line carries method, path (never the query string or any header), status,
    duration_ms, user_id, tenant and correlation_id.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.headers.get(HEADER)
        cid = incoming if correlation.is_sane(incoming) else correlation.new()
        request.correlation_id = cid
        token = correlation.set_current(cid)
        started = time.monotonic()
        try:
            response = self.get_response(request)
            response[HEADER] = cid
            status = response.status_code
            elapsed = time.monotonic() - started
            duration_ms = round(elapsed * 1000, 1)
            metrics.observe_request(request, status, elapsed)
            logger.log(
                logging.DEBUG if request.path in QUIET_PATHS and status < 400 else logging.INFO,
                "%s %s %s %.1fms",
                request.method,
                request.path,
                status,
                duration_ms,
                extra={
                    "method": request.method,
                    "path": request.path,
                    "status": status,
                    "duration_ms": duration_ms,
                    "user_id": _user_id(request),
                    "tenant": _tenant(request),
                },
            )
            return response
        finally:
            correlation.reset(token)
