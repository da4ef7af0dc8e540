"""Request-rate limits per user (and so per token): one for every call, a tighter one for writes.

The counters live in the shared cache. When it is unreachable the limits are not enforced
(fail open): the request is served, the failure counted (``portal_cache_errors_total``,
``use="throttle"``) and logged (:mod:`ops.shared_cache`). A Redis outage must not turn every
call, reads included, into an error.
"""

from __future__ import annotations

from typing import Any

from rest_framework.settings import api_settings
from rest_framework.throttling import UserRateThrottle

from ops.shared_cache import CACHE_ERRORS, cache_failed

__all__ = ["UserThrottle", "WriteThrottle"]

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class UserThrottle(UserRateThrottle):
    """Every request of a user: ``DEFAULT_THROTTLE_RATES["user"]``, read when the request comes in."""

    scope = "user"

    def get_rate(self) -> str | None:
        # DRF binds the rates at import; reading them now lets settings overrides take effect.
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)

    def allow_request(self, request: Any, view: Any) -> bool:
        try:
            return super().allow_request(request, view)
        except CACHE_ERRORS as exc:
            cache_failed("throttle", exc)
            return True


class WriteThrottle(UserThrottle):
    """Writes only (POST, PATCH, DELETE and actions): ``DEFAULT_THROTTLE_RATES["writes"]``."""

    scope = "writes"

    def allow_request(self, request: Any, view: Any) -> bool:
        if request.method in SAFE_METHODS:
            return True
        return super().allow_request(request, view)
