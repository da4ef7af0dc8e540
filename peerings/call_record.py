"""What one call to the cloud sent and got back: the client fills it, the history stores it.

Its own module so that the client (:mod:`peerings.cloud`), its exceptions
(:mod:`peerings.exceptions`) and the history (:mod:`peerings.history`) can all name it
without importing one another.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["CallRecord"]


@dataclass
class CallRecord:
    """What one logical call (all its attempts) sent and got back; secrets removed."""

    operation: str
    method: str
    url: str
    request_body: dict | None = None
    status_code: int | None = None
    response_body: Any | None = None
    error_code: str = ""
    error_message: str = ""
    duration_ms: int = 0
    attempts: int = 0
    correlation_id: str = ""
    cloud_request_id: str = ""
    #: The call's history row, once ``before_send`` has written it (``peerings.history``).
    row_id: int | None = None
