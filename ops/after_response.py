"""Work that runs once the current request's response has been handed to the client.

Without a broker Celery runs tasks in-process (``CELERY_TASK_ALWAYS_EAGER``): the e-mails
and webhooks a change queues would then be sent before its answer. :func:`defer` keeps such
work on the request, and :class:`AfterResponseMiddleware` runs it when the server closes the
response (after the body was written), in the same process, under the request's correlation
id. Outside a request :func:`defer` declines and the caller runs the work at once. Nothing
is kept beyond the request: what must survive a crash is in the database already (the
notification outbox is written in the change's transaction and swept by its retry job).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any

from ops import correlation

__all__ = ["AfterResponseMiddleware", "defer"]

logger = logging.getLogger("ops.after_response")

_pending: ContextVar[list[Callable[[], Any]] | None] = ContextVar("after_response", default=None)


def defer(work: Callable[[], Any]) -> bool:
    """Run ``work`` after the current response is sent; False (nothing kept) outside a request."""
    jobs = _pending.get()
    if jobs is None:
        return False
    jobs.append(work)
    return True


def _run(jobs: list[Callable[[], Any]], correlation_id: str | None) -> None:
    token = correlation.set_current(correlation_id)
    try:
        for work in jobs:
            try:
                work()
            except Exception:  # one failed job neither stops the others nor reaches the client
                logger.exception("Work deferred after the response failed")
    finally:
        correlation.reset(token)


class AfterResponseMiddleware:
    """Collects :func:`defer`'d work while a request is served; runs it when the response closes."""

    def __init__(self, get_response: Callable[[Any], Any]) -> None:
        self.get_response = get_response

    def __call__(self, request: Any) -> Any:
        jobs: list[Callable[[], Any]] = []
        token = _pending.set(jobs)
        try:
            response = self.get_response(request)
        finally:
            _pending.reset(token)
        if jobs:
            correlation_id = correlation.current()
            # Django runs a response's closers from close(), which the WSGI server calls once the
            # body is written (before request_finished closes the database connection).
            response._resource_closers.append(lambda: _run(jobs, correlation_id))
        return response
