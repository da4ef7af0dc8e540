"""Times shown in the signed-in user's zone (``Preferences.time_zone``, default UTC)."""

from __future__ import annotations

import zoneinfo
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils import timezone

__all__ = ["SESSION_KEY", "TimeZoneMiddleware", "user_time_zone"]

#: The zone is kept in the session once read, so a page costs no query for it.
SESSION_KEY = "portal_time_zone"


def user_time_zone(user) -> str:
    """The zone ``user`` chose, or UTC."""
    from accounts.models import Preferences

    if not getattr(user, "is_authenticated", False):
        return Preferences.DEFAULT_TIME_ZONE
    chosen = Preferences.objects.filter(user=user).values_list("time_zone", flat=True).first()
    return chosen or Preferences.DEFAULT_TIME_ZONE


class TimeZoneMiddleware:
    """Activate the user's zone for the request (after ``AuthenticationMiddleware``)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        name = "UTC"
        user = getattr(request, "user", None)
        session = getattr(request, "session", None)
        if user is not None and user.is_authenticated and session is not None:
            name = session.get(SESSION_KEY) or ""
            if not name:
                name = user_time_zone(user)
                session[SESSION_KEY] = name
        try:
            timezone.activate(zoneinfo.ZoneInfo(name))
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            timezone.activate(zoneinfo.ZoneInfo("UTC"))
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()


def remember_time_zone(sender, request, user, **kwargs) -> None:
    """At sign-in, keep the user's zone in the session: no page then queries it."""
    if request is not None and hasattr(request, "session"):
        request.session[SESSION_KEY] = user_time_zone(user)
