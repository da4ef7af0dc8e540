"""How the pages show the portal's errors: one mapping from the :class:`PortalError` family to
what a page says, kept here so every page says the same.

* a cloud error (``CloudRefused``, ``CloudUnavailable``) is described with the cloud's code and
  message, and what to do (:func:`describe_cloud_error`);
* invalid input (``RequestInvalid``) goes on the form's fields (:func:`add_request_errors`), or,
  without a form, is flashed message by message (:func:`flash_request_errors`);
* any other refusal (``NotPermitted``, ``InvalidState``, ``OperationInFlight``, ``CloudBusy``)
  is shown with its own message.

A page that runs an operation on a peering and goes back to it mixes in :class:`PageErrorsMixin`:
``return self.refused(exc, peering)`` flashes the error and redirects to the peering's page.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponseRedirect

from peerings.exceptions import CloudError, CloudUnavailable, PortalError, RequestInvalid

__all__ = [
    "PageErrorsMixin",
    "add_request_errors",
    "describe_cloud_error",
    "error_message",
    "flash_error",
    "flash_request_errors",
]


def describe_cloud_error(exc: CloudError) -> str:
    """A sentence for the user with the cloud's code and message."""
    code = exc.code or (f"HTTP {exc.status}" if exc.status else "no answer")
    if isinstance(exc, CloudUnavailable):
        text = f"The cloud's VPC API is unavailable ({code}): {exc.message}"
        if exc.outcome_unknown:
            return f"{text} The outcome is unknown: refresh the peering before trying again."
        return f"{text} Try again later."
    return f"The cloud refused the request ({code}): {exc.message}"


def error_message(exc: PortalError, *, cloud_hint: str = "") -> str:
    """What a page says of ``exc``: a cloud error described (with ``cloud_hint`` after it), any
    other error its own message."""
    if isinstance(exc, CloudError):
        text = describe_cloud_error(exc)
        return f"{text} {cloud_hint}" if cloud_hint else text
    return exc.message


def add_request_errors(form: forms.Form, exc: RequestInvalid) -> None:
    """Put each of the workflow's messages on its field (``__all__`` or unknown: the whole form)."""
    for field, errors in exc.errors.items():
        for error in errors:
            form.add_error(field if field in form.fields else None, error)


def flash_error(
    request: HttpRequest, exc: PortalError, *, cloud_hint: str = "", described: bool = True
) -> None:
    """Flash ``exc`` as an error message (:func:`error_message`; ``described=False``: a cloud
    error's own message only, as the route plan says it)."""
    messages.error(request, error_message(exc, cloud_hint=cloud_hint) if described else exc.message)


def flash_request_errors(request: HttpRequest, exc: RequestInvalid) -> None:
    """Flash each of the workflow's messages about invalid input (a page without a form for it)."""
    for errors in exc.errors.values():
        for error in errors:
            messages.error(request, error)


class PageErrorsMixin:
    """A page that acts on a peering: a refusal is flashed, then the peering's page is shown again."""

    request: HttpRequest
    #: Said after a cloud error's description (where to look after a run that stopped halfway).
    cloud_hint: str = ""

    def refused(self, exc: PortalError, peering: Any, *, described: bool = True) -> HttpResponseRedirect:
        """Flash ``exc`` (:func:`flash_error`) and go back to ``peering``'s page (``self.back``)."""
        flash_error(self.request, exc, cloud_hint=self.cloud_hint, described=described)
        return self.back(peering)  # type: ignore[attr-defined]
