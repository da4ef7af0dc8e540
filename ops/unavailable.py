"""The database down: a clean 503 with ``Retry-After``, in the API's error shape or as a plain page.

A stopped or unreachable PostgreSQL raises ``OperationalError`` / ``InterfaceError`` wherever the
database is first touched: the session or the token read by the authentication, a view, a
middleware writing the session back. The API's exception handler maps it in DRF views
(:func:`peerings.api.exceptions.api_exception_handler`); everywhere else Django hands the
uncaught error to ``handler500``, which is :func:`server_error` here. Neither touches the database
while answering. Nothing needs restarting when the database is back: a connection that failed is
discarded at the end of its request (Django's ``CONN_HEALTH_CHECKS``) and the next one reconnects.
"""

from __future__ import annotations

import sys

from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.views import defaults

from ops.api_shape import error_body, is_api

__all__ = ["DATABASE_ERRORS", "MESSAGE", "server_error", "unavailable_response"]

DATABASE_ERRORS = (OperationalError, InterfaceError)
CODE = "database_unavailable"
MESSAGE = (
    "The service is briefly unavailable (its database cannot be reached); nothing was changed. Retry later."
)


def retry_after() -> str:
    return str(settings.DATABASE_UNAVAILABLE_RETRY_AFTER)


def unavailable_response(request: HttpRequest) -> HttpResponse:
    """503 with ``Retry-After``: ``{"error": {...}}`` under ``/api/``, a short page elsewhere."""
    if is_api(request):
        response: HttpResponse = JsonResponse(error_body(CODE, MESSAGE), status=503)
    else:
        response = HttpResponse(render_to_string("503.html", {"message": MESSAGE}), status=503)
    response["Retry-After"] = retry_after()
    return response


def server_error(request: HttpRequest, template_name: str = defaults.ERROR_500_TEMPLATE_NAME) -> HttpResponse:
    """``handler500``: 503 when the error is the database being away, else a 500 (JSON under ``/api/``)."""
    if isinstance(sys.exc_info()[1], DATABASE_ERRORS):
        return unavailable_response(request)
    if is_api(request):
        body = error_body("server_error", "An unexpected error occurred; it has been logged.")
        return JsonResponse(body, status=500)
    return defaults.server_error(request, template_name)
