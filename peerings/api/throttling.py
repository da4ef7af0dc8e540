"""Request-rate limits per user (and so per token): one for every call, a tighter one for writes.

Each limit is a **sliding-window counter**: the count of this window plus the previous window's
count weighted by how much of that window still lies within the last period (two small integers
in the shared cache per user and scope). DRF's own throttle keeps every request's timestamp of
the period in one cache entry, read and rewritten on each request: at the default 600 a minute
that is a 5 kB list per request, and its cost grows with the rate allowed. As with DRF's,
concurrent requests of one user may each count from the same read (the limit is approximate
under concurrency, never off by more than the requests in flight).

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

__all__ = ["UserThrottle", "WriteThrottle", "wait_seconds"]

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def wait_seconds(limit: int, period: float, into: float, this: int, last: int) -> float:
    """Seconds until a refused caller is under ``limit`` again, ``into`` seconds into a window of
    ``this`` requests after one of ``last`` (no request counts while refused)."""
    if this < limit and last > 0:  # the previous window's weight fades below what is left
        return max(period * (1 - (limit - this) / last) - into, 0.0)
    return period - into + period * max(1 - limit / this, 0.0) if this else period - into


class UserThrottle(UserRateThrottle):
    """Every request of a user: ``DEFAULT_THROTTLE_RATES["user"]``, read when the request comes in."""

    scope = "user"

    def get_rate(self) -> str | None:
        # DRF binds the rates at import; reading them now lets settings overrides take effect.
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)

    def allow_request(self, request: Any, view: Any) -> bool:
        try:
            return self._allow(request, view)
        except CACHE_ERRORS as exc:
            cache_failed("throttle", exc)
            return True

    def _allow(self, request: Any, view: Any) -> bool:
        if self.rate is None:
            return True
        key = self.get_cache_key(request, view)
        if key is None:
            return True
        window, into = divmod(self.timer(), self.duration)
        current, previous = f"{key}:{int(window)}", f"{key}:{int(window) - 1}"
        counts = self.cache.get_many([current, previous])
        this, last = counts.get(current, 0), counts.get(previous, 0)
        if last * (1 - into / self.duration) + this >= self.num_requests:
            self._wait = wait_seconds(self.num_requests, self.duration, into, this, last)
            return False
        self.cache.set(current, this + 1, timeout=2 * self.duration)
        return True

    def wait(self) -> float:
        """Seconds until this caller may call again (``Retry-After``; at least one)."""
        return max(getattr(self, "_wait", 1.0), 1.0)


class WriteThrottle(UserThrottle):
    """Writes only (POST, PATCH, DELETE and actions): ``DEFAULT_THROTTLE_RATES["writes"]``."""

    scope = "writes"

    def allow_request(self, request: Any, view: Any) -> bool:
        if request.method in SAFE_METHODS:
            return True
        return super().allow_request(request, view)
