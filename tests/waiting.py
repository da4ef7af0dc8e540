"""Waiting on a condition, never for a fixed time: the tests' one helper for it."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

import pytest

__all__ = ["wait_for"]

T = TypeVar("T")


def wait_for(
    condition: Callable[[], T], *, timeout: float = 10.0, what: str = "the condition", interval: float = 0.05
) -> T:
    """Call ``condition`` until it returns something true (an exception counts as not yet, e.g. a
    service still starting); fail the test after ``timeout`` seconds, naming ``what``."""
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
            pytest.fail(f"not within {timeout}s: {what}" + (f" (last error: {last!r})" if last else ""))
        time.sleep(interval)
