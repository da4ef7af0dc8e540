"""The shared cache (Redis, or the database's cache table) as something the portal can do without.

Nothing the portal keeps there is needed to answer: the API's throttle counters and short-lived
copies of cloud answers. When the cache is unreachable, a read is a miss and a write is dropped;
each failure is counted (``portal_cache_errors_total``) and logged at most once every
``LOG_EVERY`` seconds per process, so a Redis that is down neither fails requests nor floods the log.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from django.core.cache import cache
from django.db import DatabaseError

__all__ = ["CACHE_ERRORS", "cache_failed", "safe_get", "safe_set"]

logger = logging.getLogger("ops.cache")

try:
    from redis.exceptions import RedisError
except ImportError:  # pragma: no cover - redis is installed with celery[redis]
    RedisError = OSError  # type: ignore[assignment,misc]

#: What a cache that is down or cut off raises (Redis, the database cache's reads, sockets).
CACHE_ERRORS: tuple[type[BaseException], ...] = (RedisError, DatabaseError, OSError)

LOG_EVERY = 30.0
_last_logged: dict[str, float] = {}


def cache_failed(use: str, exc: BaseException) -> None:
    """Count a cache failure of ``use`` (``throttle``, ``vpc_list``...) and log it now and then."""
    from ops import metrics

    metrics.CACHE_ERRORS.labels(use=use).inc()
    now = time.monotonic()
    if now - _last_logged.get(use, -LOG_EVERY) >= LOG_EVERY:
        _last_logged[use] = now
        logger.warning(
            "the shared cache is unreachable (%s): %s; going on without it",
            use,
            f"{type(exc).__name__}: {exc}"[:300],
            extra={"cache_use": use},
        )


def safe_get(key: str, *, use: str, default: Any = None) -> Any:
    try:
        return cache.get(key, default)
    except CACHE_ERRORS as exc:
        cache_failed(use, exc)
        return default


def safe_set(key: str, value: Any, timeout: float | None, *, use: str) -> None:
    try:
        cache.set(key, value, timeout)
    except CACHE_ERRORS as exc:
        cache_failed(use, exc)
