"""Errors the simulator answers with, and their three wire envelopes.

* API gateway (authentication, before the service)::

      {"error_msg": "...", "error_code": "APIGW.0301", "request_id": "..."}

* Neutron style, on every ``/v2.0/...`` path::

      {"NeutronError": {"message": "...", "type": "InvalidInput", "detail": ""}}

* VPC v1 style, on ``/v1/{project_id}/vpcs``::

      {"code": "VPC.0101", "message": "..."}

An :class:`ApiError` carries both a Neutron ``type`` and a v1 ``code``; the view
serving the request picks the envelope.
"""

from __future__ import annotations

from django.http import JsonResponse

__all__ = [
    "ApiError",
    "GatewayError",
    "bad_request",
    "conflict",
    "invalid_attribute",
    "invalid_input",
    "malformed_body",
    "method_not_allowed",
    "not_authorized",
    "not_found",
]


class ApiError(Exception):
    """An error answer of the simulated API."""

    def __init__(self, status: int, message: str, *, type: str, code: str = "VPC.0101") -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.type = type
        self.code = code

    def neutron_response(self, request_id: str) -> JsonResponse:
        body = {"NeutronError": {"message": self.message, "type": self.type, "detail": ""}}
        return JsonResponse(body, status=self.status)

    def v1_response(self, request_id: str) -> JsonResponse:
        return JsonResponse({"code": self.code, "message": self.message}, status=self.status)


class GatewayError(ApiError):
    """Refused by the API gateway: always the gateway envelope, whatever the path."""

    def __init__(self, status: int, message: str, *, code: str = "APIGW.0301") -> None:
        super().__init__(status, message, type="GatewayError", code=code)

    def _gateway_response(self, request_id: str) -> JsonResponse:
        body = {"error_msg": self.message, "error_code": self.code, "request_id": request_id}
        return JsonResponse(body, status=self.status)

    neutron_response = v1_response = _gateway_response


def invalid_input(message: str) -> ApiError:
    """400 ``InvalidInput``: "Invalid input for operation: <message>"."""
    return ApiError(400, f"Invalid input for operation: {message}", type="InvalidInput")


def invalid_attribute(attribute: str, reason: str) -> ApiError:
    """400 ``InvalidInput`` about one attribute, worded as Neutron's attribute validators."""
    return ApiError(400, f"Invalid input for {attribute}. Reason: {reason}", type="InvalidInput")


def bad_request(resource: str, message: str) -> ApiError:
    """400 ``BadRequest``: "Bad <resource> request: <message>"."""
    return ApiError(400, f"Bad {resource} request: {message}", type="BadRequest")


def malformed_body(reason: str) -> ApiError:
    return ApiError(400, f"Malformed request body: {reason}", type="MalformedRequestBody")


def not_authorized(message: str) -> ApiError:
    return ApiError(403, message, type="PolicyNotAuthorized", code="VPC.0010")


def not_found(type: str, message: str) -> ApiError:
    return ApiError(404, message, type=type, code="VPC.0003")


def conflict(type: str, message: str) -> ApiError:
    return ApiError(409, message, type=type)


def method_not_allowed(method: str) -> ApiError:
    return ApiError(
        405, f"The method {method} is not allowed for this resource.", type="HTTPMethodNotAllowed"
    )
