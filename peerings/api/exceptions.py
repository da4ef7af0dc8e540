"""The API's one exception handler: every failure answers ``{"error": {...}}``.

The portal's exception family (``peerings.exceptions``) is mapped here, once:

==========================  ======  =================================
exception                   status  ``error.code``
==========================  ======  =================================
RequestInvalid              400     ``invalid`` (``fields`` per field)
RequestInvalid (warning)    400     ``overlap_confirmation_required``
NotPermitted                403     ``not_permitted``
InvalidState                409     ``invalid_state``
OperationInFlight           409     ``operation_in_flight`` (+ ``Retry-After``)
CloudRefused                422     ``cloud_refused`` (+ ``cloud``)
CloudUnavailable            503     ``cloud_unavailable`` (+ ``cloud``)
CloudUnavailable (unknown)  504     ``cloud_timeout`` (+ ``cloud``)
OperationalError (database) 503     ``database_unavailable`` (+ ``Retry-After``)
CloudBusy                   503     ``cloud_busy`` (+ ``Retry-After``)
==========================  ======  =================================

When the workflow kept a peering (a request saved as ``SUBMITTING`` that the cloud did
not confirm, a peering whose status another decision moved), the error carries it as
``peering: {id, url, status}`` and the message says what was kept, so a tool can
refresh or retry it.

DRF's own exceptions keep their status and code (``not_authenticated`` 401,
``not_found`` 404, ``throttled`` 429...); a body over ``DATA_UPLOAD_MAX_MEMORY_SIZE``
is 413 ``request_too_large``, other unreadable requests 400 ``parse_error``; the database
unreachable (``OperationalError``/``InterfaceError``) is 503 ``database_unavailable`` with
``Retry-After`` (:mod:`ops.unavailable`); anything unexpected is logged and
answers 500 ``server_error`` in the same shape.
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.views import set_rollback

from ops.api_shape import error_body
from ops.unavailable import CODE as DB_CODE
from ops.unavailable import DATABASE_ERRORS, retry_after
from ops.unavailable import MESSAGE as DB_MESSAGE
from peerings.choices import PeeringStatus
from peerings.exceptions import (
    CloudBusy,
    CloudError,
    CloudRefused,
    CloudUnavailable,
    InvalidState,
    NotPermitted,
    OperationInFlight,
    PortalError,
    RequestInvalid,
)

__all__ = [
    "FIELD_NAMES",
    "RequestTooLarge",
    "api_exception_handler",
    "error_body",
    "flatten_errors",
    "peering_ref",
]

logger = logging.getLogger(__name__)

NON_FIELD = "non_field_errors"

#: The workflow's field names -> the API's (the cloud's nested names).
FIELD_NAMES = {
    "request_vpc_id": "request_vpc_info.vpc_id",
    "accept_vpc_id": "accept_vpc_info.vpc_id",
    "accept_project_id": "accept_vpc_info.tenant_id",
    "tenant": "request_vpc_info.tenant_id",
    "confirm_overlap": "confirm_overlap",
    "__all__": NON_FIELD,
}


class RequestTooLarge(exceptions.APIException):
    """A body over ``DATA_UPLOAD_MAX_MEMORY_SIZE`` (normally refused earlier by ``portal.middleware``)."""

    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "request_too_large"
    default_detail = "The request body is larger than this service accepts."


def flatten_errors(detail: Any, prefix: str = "") -> dict[str, list[str]]:
    """DRF's nested error detail as ``{"a.b": ["message", ...]}``; top-level lists are non-field errors."""
    flat: dict[str, list[str]] = {}
    if isinstance(detail, dict):
        for key, value in detail.items():
            name = NON_FIELD if key in (NON_FIELD, "__all__") and not prefix else str(key)
            for sub, messages in flatten_errors(value, f"{prefix}{name}.").items():
                flat.setdefault(sub, []).extend(messages)
    elif isinstance(detail, list) and any(isinstance(item, dict | list) for item in detail):
        for index, value in enumerate(detail):
            for sub, messages in flatten_errors(value, f"{prefix}{index}.").items():
                flat.setdefault(sub, []).extend(messages)
    else:
        messages = detail if isinstance(detail, list) else [detail]
        # dict.fromkeys: two validators saying the same thing (DRF's and ours on NUL) say it once.
        flat[prefix.rstrip(".") or NON_FIELD] = list(dict.fromkeys(str(message) for message in messages))
    return flat


def _first_message(fields: dict[str, list[str]], default: str) -> str:
    for name, messages in fields.items():
        if messages:
            return messages[0] if name == NON_FIELD else f"{name}: {messages[0]}"
    return default


def _cloud(exc: CloudError) -> dict[str, Any]:
    return {"status": exc.status, "code": exc.code, "message": exc.message}


def peering_ref(peering: Any, request: Any) -> dict[str, Any] | None:
    """A peering in an error body: ``{id, url, status}``."""
    if peering is None or peering.pk is None:
        return None
    url = reverse("api:peering-detail", args=[peering.pk], request=request)
    return {"id": peering.pk, "url": url, "status": peering.status}


def _saved(exc: PortalError) -> str:
    """What the user should know about a request the cloud did not confirm."""
    peering = exc.peering
    if peering is None or peering.status != PeeringStatus.SUBMITTING:
        return ""
    return (
        f"Your request is saved as SUBMITTING (peering {peering.pk}); it will be confirmed or "
        "withdrawn once the cloud answers: refresh it, or retry with the same Idempotency-Key."
    )


def _portal_response(exc: PortalError, request: Any = None) -> Response:
    kept = peering_ref(exc.peering, request)
    if isinstance(exc, RequestInvalid):
        fields: dict[str, list[str]] = {}
        for name, messages in exc.errors.items():
            fields.setdefault(FIELD_NAMES.get(name, name), []).extend(str(m) for m in messages)
        code = "overlap_confirmation_required" if exc.needs_confirmation else "invalid"
        return Response(error_body(code, exc.message, fields=fields), status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, NotPermitted):
        return Response(error_body("not_permitted", exc.message), status=status.HTTP_403_FORBIDDEN)
    if isinstance(exc, OperationInFlight):
        body = error_body("operation_in_flight", exc.message, peering=kept)
        return Response(body, status=status.HTTP_409_CONFLICT, headers={"Retry-After": str(exc.retry_after)})
    if isinstance(exc, CloudBusy):
        body = error_body("cloud_busy", exc.message)
        headers = {"Retry-After": str(exc.retry_after)}
        return Response(body, status=status.HTTP_503_SERVICE_UNAVAILABLE, headers=headers)
    if isinstance(exc, InvalidState):
        body = error_body("invalid_state", exc.message, peering=kept)
        return Response(body, status=status.HTTP_409_CONFLICT)
    if isinstance(exc, CloudRefused):
        body = error_body("cloud_refused", exc.message, cloud=_cloud(exc), peering=kept)
        return Response(body, status=status.HTTP_422_UNPROCESSABLE_ENTITY)
    if isinstance(exc, CloudUnavailable) and exc.outcome_unknown:
        saved = _saved(exc) or "Refresh the peering before trying again."
        message = f"{exc.message} The outcome is unknown: {saved[0].lower()}{saved[1:]}"
        body = error_body("cloud_timeout", message, cloud=_cloud(exc), peering=kept)
        return Response(body, status=status.HTTP_504_GATEWAY_TIMEOUT)
    if isinstance(exc, CloudError):  # unavailable, or a bare CloudError
        message = f"{exc.message} {_saved(exc) or 'Nothing was changed; retry later.'}"
        body = error_body("cloud_unavailable", message, cloud=_cloud(exc), peering=kept)
        return Response(body, status=status.HTTP_503_SERVICE_UNAVAILABLE)
    return Response(error_body("invalid", exc.message), status=status.HTTP_400_BAD_REQUEST)


def _api_response(exc: exceptions.APIException) -> Response:
    headers: dict[str, str] = {}
    if getattr(exc, "auth_header", None):
        headers["WWW-Authenticate"] = exc.auth_header
    if getattr(exc, "wait", None):
        headers["Retry-After"] = f"{int(exc.wait)}"
    if isinstance(exc, exceptions.ValidationError) or isinstance(exc.detail, dict | list):
        fields = flatten_errors(exc.detail)
        code = exc.default_code if not isinstance(exc, exceptions.ValidationError) else "invalid"
        body = error_body(code, _first_message(fields, "The request is invalid."), fields=fields)
    else:
        code = getattr(exc.detail, "code", None) or exc.default_code
        body = error_body(str(code), str(exc.detail))
    return Response(body, status=exc.status_code, headers=headers)


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response:
    """``REST_FRAMEWORK["EXCEPTION_HANDLER"]``: map ``exc`` to one response in the error shape."""
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    elif isinstance(exc, RequestDataTooBig):
        exc = RequestTooLarge()
    elif isinstance(exc, SuspiciousOperation):
        exc = exceptions.ParseError("The request could not be read.")
    elif isinstance(exc, DjangoValidationError):
        detail = exc.message_dict if hasattr(exc, "error_dict") else {NON_FIELD: exc.messages}
        exc = exceptions.ValidationError(detail)

    if isinstance(exc, DATABASE_ERRORS):
        logger.warning("The database is unreachable: %s", f"{type(exc).__name__}: {exc}"[:300])
        response = Response(error_body(DB_CODE, DB_MESSAGE), status=status.HTTP_503_SERVICE_UNAVAILABLE)
        response["Retry-After"] = retry_after()
    elif isinstance(exc, PortalError):
        response = _portal_response(exc, context.get("request"))
    elif isinstance(exc, exceptions.APIException):
        response = _api_response(exc)
    else:
        view = context.get("view")
        logger.exception("Unhandled error in %s", type(view).__name__ if view else "the API")
        body = error_body("server_error", "An unexpected error occurred; it has been logged.")
        response = Response(body, status=status.HTTP_500_INTERNAL_SERVER_ERROR)
    set_rollback()
    return response
