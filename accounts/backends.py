"""The sign-in rate limit's authentication backend (django-axes), for web sign-ins only."""

from __future__ import annotations

from typing import Any

from axes.backends import AxesStandaloneBackend

__all__ = ["SignInLimitBackend"]


class SignInLimitBackend(AxesStandaloneBackend):
    """django-axes' check, skipped for a sign-in without a request.

    Both of the portal's logins (the pages' and the admin's) pass the request, so both are
    limited. Code that checks a password without one (the test client's ``login()``, a
    shell) has no client address to count and is not a web sign-in.
    """

    def authenticate(self, request: Any = None, *args: Any, **kwargs: Any) -> Any:
        if request is None:
            return None
        return super().authenticate(request, *args, **kwargs)
