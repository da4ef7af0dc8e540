"""Waiting on a condition, never for a fixed time: the tests' one helper for it."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

import pytest

__all__ = ["wait_for"]

T = TypeVar("T")


def wait_for(
    condition: Callable[[], T],
    *,
    timeout: float = 10.0,
    what: str | Callable[[], str] = "the condition",
    interval: float = 0.05,
) -> T:
    """Call ``condition`` until it returns something true, and return that value (an exception
    counts as not yet, e.g. a service still starting; ``pytest.fail`` inside it ends the wait).
    Fail the test after ``timeout`` seconds, naming ``what`` (a callable is asked only then, e.g.
    for the servers' logs)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            value = condition()
        except Exception as exc:
            value, last = None, exc
        else:
            last = None
        if value:
            return value
        if time.monotonic() > deadline:
            named = what() if callable(what) else what
            pytest.fail(f"not within {timeout}s: {named}" + (f" (last error: {last!r})" if last else ""))
        time.sleep(interval)
