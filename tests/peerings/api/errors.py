"""The API's one error shape, read back by the tests: ``{"error": {"code", "message", "fields"?, ...}}``."""

from __future__ import annotations

from typing import Any

__all__ = ["api_error"]


def api_error(response: Any) -> tuple[int, str, list[str]]:
    """``(status, error.code, the fields named)`` of an error answer (and check its envelope)."""
    body = response.json()
    assert set(body) == {"error"}, body
    assert body["error"]["message"], body
    return response.status_code, body["error"]["code"], sorted(body["error"].get("fields", {}))
