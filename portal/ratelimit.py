"""Fixed-window counters in the shared cache: "at most N events per period for this key".

The cache is the one every app server shares (Redis, or the database's cache table; see
``CACHES`` in the settings), so a limit holds across processes, not per worker. Used for bad
API tokens per client address and for password-reset requests per address and per account.
(django-ratelimit would do the counting, but its system checks refuse the database cache the
portal falls back on without Redis.)
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass

from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured

from ops.shared_cache import CACHE_ERRORS, cache_failed, safe_get

__all__ = ["Limit", "parse_rate"]

_PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_rate(rate: str) -> tuple[int, int]:
    """``"20/minute"`` -> ``(20, 60)``; the period is second, minute, hour or day (first letter counts)."""
    try:
        count, period = rate.split("/")
        return int(count), _PERIODS[period.strip()[0].lower()]
    except (ValueError, KeyError, IndexError):
        raise ImproperlyConfigured(f"Not a rate: {rate!r} (write e.g. 20/minute)") from None


@dataclass(frozen=True)
class Limit:
    """At most ``count`` events per ``period`` seconds for each key, under ``scope``."""

    scope: str
    count: int
    period: int

    @classmethod
    def from_rate(cls, scope: str, rate: str) -> Limit:
        count, period = parse_rate(rate)
        return cls(scope, count, period)

    def _cache_key(self, key: str, now: float) -> str:
        hashed = hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()[:32]
        return f"ratelimit:{self.scope}:{hashed}:{int(now // self.period)}"

    def retry_after(self, now: float | None = None) -> int:
        """Seconds until the current window ends."""
        now = time.time() if now is None else now
        return max(1, int(self.period - now % self.period) + 1)

    def exceeded(self, key: str) -> bool:
        """Whether ``key`` has used up this window's events (nothing is counted). An unreachable
        cache counts nothing: the limit fails open (counted and logged by ``ops.shared_cache``)."""
        return (safe_get(self._cache_key(key, time.time()), use=f"ratelimit:{self.scope}") or 0) >= self.count

    def hit(self, key: str) -> int:
        """Count one event for ``key``; returns the window's count so far (0 when the cache is down)."""
        cache_key = self._cache_key(key, time.time())
        try:
            cache.add(cache_key, 0, timeout=self.period + 1)
            try:
                return cache.incr(cache_key)
            except ValueError:  # expired between add and incr
                cache.set(cache_key, 1, timeout=self.period + 1)
                return 1
        except CACHE_ERRORS as exc:
            cache_failed(f"ratelimit:{self.scope}", exc)
            return 0
