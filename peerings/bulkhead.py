"""A bulkhead for cloud calls: a slow cloud cannot take every thread of a server process.

Each process lets at most ``CLOUD_MAX_CONCURRENT_CALLS`` threads wait on the cloud at once
(by default half of ``GUNICORN_THREADS``, so reads, pages and ``/healthz/`` always find a
thread). A thread holds its slot for a whole operation: a workflow operation (:func:`guarded`) claims
it before it saves anything (:func:`claim`), and the client (:mod:`peerings.cloud`) takes it
around each call; a thread that already holds one goes on (the slot is re-entrant).

When every slot is taken, a request thread is refused at once with
:class:`~peerings.exceptions.CloudBusy` (the API's 503 ``cloud_busy`` with ``Retry-After``;
a page's message): nothing was sent and nothing was saved. Requests are marked by
:class:`RefuseWhenBusyMiddleware`; everything else (Celery jobs, commands, work run after a
response) waits for a slot instead, for at most the longest one call can take.
"""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, TypeVar

from django.conf import settings

from peerings.call_bounds import call_bound
from peerings.exceptions import CloudBusy

__all__ = ["RefuseWhenBusyMiddleware", "claim", "guarded", "in_use", "limit", "scope", "slot", "waiting"]

F = TypeVar("F", bound=Callable[..., Any])

_state = threading.Condition()
_in_use = 0
_waiting = 0
_local = threading.local()  # depth: the thread's holds on its slot; scopes: open operations
_refuse: ContextVar[bool] = ContextVar("cloud_bulkhead_refuse", default=False)


def limit() -> int:
    """How many threads of this process may wait on the cloud at once."""
    return max(1, int(settings.CLOUD_MAX_CONCURRENT_CALLS))


def in_use() -> int:
    """Slots taken now (tests, diagnostics)."""
    return _in_use


def waiting() -> int:
    """Threads waiting for a slot now (jobs; requests never wait)."""
    return _waiting


def _wait_bound() -> float:
    return call_bound()


def _busy() -> CloudBusy:
    return CloudBusy(retry_after=int(settings.CLOUD_BUSY_RETRY_AFTER))


def _acquire(*, refuse: bool) -> None:
    global _in_use, _waiting
    with _state:
        if _in_use < limit():
            _in_use += 1
            return
        if refuse:
            raise _busy()
        deadline = time.monotonic() + _wait_bound()
        _waiting += 1
        try:
            while _in_use >= limit():
                left = deadline - time.monotonic()
                if left <= 0:
                    raise _busy()
                _state.wait(timeout=left)
            _in_use += 1
        finally:
            _waiting -= 1


def _release() -> None:
    global _in_use
    with _state:
        _in_use -= 1
        _state.notify()


def _held() -> int:
    return getattr(_local, "depth", 0)


def _take() -> None:
    """One more hold on the thread's slot; the first takes it (refused, or waited for)."""
    if not _held():
        _acquire(refuse=_refuse.get())
    _local.depth = _held() + 1


def _drop() -> None:
    _local.depth = _held() - 1
    if not _local.depth:
        _release()


@contextmanager
def slot() -> Iterator[None]:
    """Hold one of the process's slots for cloud calls (re-entrant within a thread).

    Raises :class:`~peerings.exceptions.CloudBusy` in a request when none is free; elsewhere
    waits for one.
    """
    _take()
    try:
        yield
    finally:
        _drop()


@contextmanager
def scope() -> Iterator[None]:
    """A workflow operation: a slot taken by :func:`claim` inside it is held until it ends.

    Outside a request (jobs) the slot is taken at once, waiting for it before any transaction
    begins; a request claims it where the operation is about to save something, after its
    permission and lease checks (so a refused decision is still a 409, not a 503).
    """
    scopes = _local.__dict__.setdefault("scopes", [])
    scopes.append(False)
    try:
        if not _refuse.get():
            claim()
        yield
    finally:
        if scopes.pop():
            _drop()


def claim() -> None:
    """Take the current operation's slot now, if it has none (no-op outside :func:`scope`).

    Call it before the operation saves anything: a refusal (``CloudBusy``) leaves nothing behind.
    """
    scopes = getattr(_local, "scopes", None)
    if scopes and not scopes[-1]:
        _take()
        scopes[-1] = True


def guarded(function: F) -> F:
    """Run ``function`` (a workflow operation that calls the cloud) as a :func:`scope`."""

    @functools.wraps(function)
    def run(*args: Any, **kwargs: Any) -> Any:
        with scope():
            return function(*args, **kwargs)

    return run  # type: ignore[return-value]


class RefuseWhenBusyMiddleware:
    """Marks the request's thread: its cloud calls are refused, not queued, when the bulkhead is full."""

    def __init__(self, get_response: Callable[[Any], Any]) -> None:
        self.get_response = get_response

    def __call__(self, request: Any) -> Any:
        token = _refuse.set(True)
        try:
            return self.get_response(request)
        finally:
            _refuse.reset(token)
