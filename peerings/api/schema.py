"""The API's OpenAPI decoration shared by its views: the error responses each operation documents and
the ``Idempotency-Key`` headers of the writes."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse

from peerings.api import serializers as s
from peerings.api.idempotency import HEADER, KEY_PATTERN, REPLAY_HEADER

__all__ = ["CLOUD_ERRORS", "ERROR_DESCRIPTIONS", "IDEMPOTENCY_PARAMETERS", "WRITE_ERRORS", "errors"]

ERROR_DESCRIPTIONS = {
    400: "Invalid input or an unknown query parameter (per field or parameter in error.fields; the "
    "message lists the parameters the operation takes), or a warning to confirm "
    "(overlap_confirmation_required).",
    401: "No valid credentials: send Authorization: Token <key> or a session cookie.",
    403: "Your role does not allow this (not_permitted), or a session write without a CSRF token.",
    404: "Not found, or not visible to your tenants.",
    409: "The peering's status does not allow this, or the cloud shows another decision won (invalid_state; "
    "error.peering has its status); another operation on it is in flight (operation_in_flight: retry "
    "after Retry-After seconds, with the same Idempotency-Key); or the Idempotency-Key is in use.",
    422: "The cloud refused the request (error.cloud), or the Idempotency-Key was used for another request.",
    429: "Too many requests (throttled), or another export of yours is still running (export_in_progress); "
    "see Retry-After.",
    503: "The cloud could not be reached or failed. A new request is kept as SUBMITTING (error.peering) "
    "and will be confirmed or withdrawn; anything else was not changed. Retry later.",
    504: "The cloud did not answer in time; the outcome is unknown. A new request is kept as SUBMITTING "
    "(error.peering); retry with the same Idempotency-Key, or refresh the peering.",
}


def errors(*codes: int) -> dict[int, OpenApiResponse]:
    """Schema entries for the error responses an operation may give (always with 400: an unknown
    query parameter, 401 and 429)."""
    return {
        code: OpenApiResponse(s.ErrorSerializer, description=ERROR_DESCRIPTIONS[code])
        for code in sorted({*codes, 400, 401, 429})
    }


CLOUD_ERRORS = (422, 503, 504)
WRITE_ERRORS = (400, 403, 404, 409, *CLOUD_ERRORS)

IDEMPOTENCY_PARAMETERS = [
    OpenApiParameter(
        HEADER,
        {"type": "string", "minLength": 1, "maxLength": 255, "pattern": KEY_PATTERN},
        OpenApiParameter.HEADER,
        description="Send the same key (e.g. a UUID) to retry a write safely: the first final answer is "
        "replayed. Keys are per user; reusing one for another request answers 422.",
    ),
    OpenApiParameter(
        REPLAY_HEADER,
        {"type": "string", "enum": ["true"]},
        OpenApiParameter.HEADER,
        response=True,
        description="Present when this is the stored answer to an earlier request with the same key.",
    ),
]
