"""The correlation id of the request (or background job) being served, in a context variable.

The request-log middleware sets it from a sane incoming ``X-Correlation-Id`` or a new one,
and returns it in the response; a Celery task runs under the id of the request that queued it
(or its own task id). The cloud client sends it upstream as ``X-Correlation-Id``: every call
made while serving one request shares the request's id (the call log tells the calls apart by
operation and path), so one id finds the request line, its cloud calls and their history rows.
"""

from __future__ import annotations

import re
import uuid
from contextvars import ContextVar, Token

__all__ = ["TASK_HEADER", "current", "is_sane", "new", "reset", "set_current"]

#: The Celery message header carrying the queuing request's id (Celery's own ``correlation_id``
#: is the task id).
TASK_HEADER = "portal_correlation_id"

_current: ContextVar[str | None] = ContextVar("correlation_id", default=None)

#: What an incoming id may look like: a short token (it is echoed, logged and stored, max 64).
_SANE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,63}")


def current() -> str | None:
    """The id of the request or job being served, or None outside of one."""
    return _current.get()


def new() -> str:
    return uuid.uuid4().hex


def is_sane(value: str | None) -> bool:
    return bool(value) and _SANE.fullmatch(value) is not None


def set_current(value: str | None) -> Token:
    return _current.set(value)


def reset(token: Token) -> None:
    _current.reset(token)
