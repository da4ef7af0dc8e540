"""The page a locked sign-in gets (django-axes' ``AXES_LOCKOUT_CALLABLE``): what is locked, for how long.

With the default ``AXES_LOCKOUT_PARAMETERS`` (the username and the address counted together)
a lock holds one username from one address: the same user elsewhere, and every other user
from the same address (an office behind one NAT), can still sign in. The page says so.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from axes.helpers import get_client_username, get_cool_off, get_failure_limit
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from portal.middleware import client_ip

__all__ = ["describe_duration", "describe_lock", "lockout_response"]

_WHAT = {"username": "the username “{username}”", "ip_address": "your address ({address})"}


def describe_duration(duration: timedelta | None) -> str:
    """``15 minutes``, ``1 hour 30 minutes``... (an empty string for no cool-off)."""
    if not duration:
        return ""
    minutes = max(1, round(duration.total_seconds() / 60))
    hours, minutes = divmod(minutes, 60)
    parts = [f"{hours} hour{'s' if hours != 1 else ''}"] if hours else []
    if minutes:
        parts.append(f"{minutes} minute{'s' if minutes != 1 else ''}")
    return " ".join(parts)


def describe_lock(parameters: list[Any], *, username: str, address: str) -> str:
    """What the configured lockout parameters lock: ``the username “x” from your address (y)``...

    Each entry of ``parameters`` is counted on its own; a list entry counts its parts together.
    """
    described = []
    for entry in parameters:
        parts = [entry] if isinstance(entry, str) else list(entry)
        words = [_WHAT.get(part, part).format(username=username, address=address) for part in parts]
        described.append(" from ".join(words))
    return " or ".join(described)


def lockout_response(
    request: HttpRequest, original_response: HttpResponse | None = None, credentials: dict | None = None
) -> HttpResponse:
    """``registration/locked_out.html`` with what is locked and for how long (axes' status code)."""
    username = get_client_username(request, credentials) or ""
    cool_off = get_cool_off(request)
    parameters = settings.AXES_LOCKOUT_PARAMETERS
    context = {
        "username": username,
        "failure_limit": get_failure_limit(request, credentials),
        "locked": describe_lock(parameters, username=username, address=client_ip(request)),
        "cooloff": describe_duration(cool_off),
        # Only when the pair is all that is counted are other users and other addresses free.
        "pair_only": all(
            not isinstance(entry, str) and set(entry) == {"username", "ip_address"} for entry in parameters
        ),
    }
    return render(request, "registration/locked_out.html", context, status=settings.AXES_HTTP_RESPONSE_CODE)
