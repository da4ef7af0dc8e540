"""The REST API's path and error envelope, for the code that answers API requests outside DRF
(the request-limits middleware, the database-down 503, the 500 handler) as DRF's handler does."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

__all__ = ["API_PREFIX", "error_body", "is_api"]

API_PREFIX = "/api/"


def is_api(request: HttpRequest) -> bool:
    """Whether the request is one of the REST API's (answered in its JSON shapes)."""
    return request.path_info.startswith(API_PREFIX)


def error_body(
    code: str,
    message: str,
    *,
    fields: dict[str, list[str]] | None = None,
    cloud: dict[str, Any] | None = None,
    peering: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The one error shape: ``{"error": {"code", "message", "fields"?, "cloud"?, "peering"?}}``."""
    error: dict[str, Any] = {"code": code, "message": message}
    if fields:
        error["fields"] = fields
    if cloud:
        error["cloud"] = cloud
    if peering:
        error["peering"] = peering
    return {"error": error}
