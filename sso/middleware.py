"""Let the sign-out form lead to the provider: its origin in the page's CSP ``form-action``.

The portal's policy allows forms to submit to itself only, and browsers apply that to the
redirects after a submission too; a user signed in through the provider is sent on to its
end-session endpoint when signing out (:class:`sso.views.LogoutView`), so their pages allow
that one origin.
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlsplit

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from sso.provider import ProviderUnavailable, get_provider

__all__ = ["ProviderFormActionMiddleware"]


class ProviderFormActionMiddleware:
    """Adds the end-session endpoint's origin to ``form-action`` for provider-signed-in users."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        session = getattr(request, "session", None)
        if settings.OIDC_ENABLED and session is not None and session.get("oidc_id_token"):
            try:
                endpoint = get_provider().end_session_endpoint
            except ProviderUnavailable:
                return response
            if endpoint:
                parts = urlsplit(endpoint)
                update = dict(getattr(response, "_csp_update", None) or {})
                update["form-action"] = [*update.get("form-action", []), f"{parts.scheme}://{parts.netloc}"]
                response._csp_update = update
        return response
