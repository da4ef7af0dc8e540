"""Company sign-in's pages: start a sign-in, receive the provider's answer, sign out.

The first two are mozilla-django-oidc's views (state, nonce and the PKCE verifier are kept
in the session per sign-in started), with the endpoints from the discovery document and
every failure turned into a message on the sign-in page, where the local form still works.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlencode

import requests
from django.conf import settings
from django.contrib import auth, messages
from django.core.exceptions import SuspiciousOperation
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import resolve_url
from django.views import View
from mozilla_django_oidc.views import OIDCAuthenticationCallbackView, OIDCAuthenticationRequestView

from peerings.models import Membership
from sso.provider import ProviderUnavailable, get_provider

__all__ = [
    "DISABLED",
    "NO_ROLES",
    "REFUSED",
    "STATE_UNKNOWN",
    "UNREACHABLE",
    "CallbackView",
    "LogoutView",
    "SignInView",
]

logger = logging.getLogger(__name__)

UNREACHABLE = "{name} can't be reached right now. Try again later, or sign in with a local account."
REFUSED = "Sign-in with {name} failed: {reason}"
STATE_UNKNOWN = "That sign-in answer does not belong to a sign-in started in this browser; start again."
DISABLED = "Your portal account is disabled. Ask an administrator."
NO_ROLES = (
    "You are signed in, but none of your groups at {name} gives you a role in a tenant yet. "
    "Ask an administrator to map one of your groups to a tenant."
)


def _name() -> str:
    return settings.OIDC_PROVIDER_NAME


class SignInView(OIDCAuthenticationRequestView):
    """Send the browser to the provider's authorization endpoint (with state, nonce and PKCE)."""

    def __init__(self, **kwargs: Any) -> None:
        View.__init__(self, **kwargs)  # the endpoints are read per request, not at start

    def get(self, request: HttpRequest) -> HttpResponse:
        if not settings.OIDC_ENABLED:
            raise Http404("Company sign-in is not configured.")
        try:
            provider = get_provider()
        except ProviderUnavailable as exc:
            logger.warning("OIDC provider unavailable: %s", exc)
            messages.error(request, UNREACHABLE.format(name=_name()))
            return HttpResponseRedirect(resolve_url(settings.LOGIN_URL))
        self.OIDC_OP_AUTH_ENDPOINT = provider.authorization_endpoint
        self.OIDC_RP_CLIENT_ID = settings.OIDC_RP_CLIENT_ID
        return super().get(request)


class CallbackView(OIDCAuthenticationCallbackView):
    """The provider's answer: check it, sign the user in, sync their memberships."""

    def get(self, request: HttpRequest) -> HttpResponse:
        if not settings.OIDC_ENABLED:
            raise Http404("Company sign-in is not configured.")
        try:
            return super().get(request)
        except (ProviderUnavailable, requests.RequestException) as exc:
            logger.warning("OIDC provider unavailable during sign-in: %s", exc)
            messages.error(request, UNREACHABLE.format(name=_name()))
        except SuspiciousOperation as exc:  # a state this session never started
            logger.warning("OIDC callback refused: %s", exc)
            messages.error(request, STATE_UNKNOWN)
        return HttpResponseRedirect(self.failure_url)

    @property
    def failure_url(self) -> str:
        return resolve_url(settings.LOGIN_REDIRECT_URL_FAILURE)

    def login_failure(self) -> HttpResponse:
        request = self.request
        user = getattr(self, "user", None)
        if getattr(request, "sso_refusal", ""):
            messages.error(request, REFUSED.format(name=_name(), reason=request.sso_refusal))
        elif user is not None and not user.is_active:
            messages.error(request, DISABLED)
        elif request.GET.get("error"):
            reason = request.GET.get("error_description") or request.GET["error"]
            messages.error(request, REFUSED.format(name=_name(), reason=reason[:200]))
        else:
            messages.error(request, STATE_UNKNOWN)
        return HttpResponseRedirect(self.failure_url)

    def login_success(self) -> HttpResponse:
        response = super().login_success()
        if not Membership.objects.filter(user=self.user).exists():
            messages.info(self.request, NO_ROLES.format(name=_name()))
        return response


class LogoutView(View):
    """End the portal's session and, when the provider offers it, the provider's (RP-initiated)."""

    http_method_names = ["post"]

    def post(self, request: HttpRequest) -> HttpResponse:
        after = resolve_url(settings.LOGOUT_REDIRECT_URL)
        target = after
        id_token = request.session.get("oidc_id_token")
        if id_token and settings.OIDC_ENABLED:
            target = _provider_logout_url(request, id_token, after) or after
        auth.logout(request)
        return HttpResponseRedirect(target)


def _provider_logout_url(request: HttpRequest, id_token: str, after: str) -> str:
    """The provider's end-session URL, back to ``after``; empty if it has none or is down."""
    try:
        endpoint = get_provider().end_session_endpoint
    except ProviderUnavailable as exc:
        logger.warning("OIDC provider unavailable at sign-out: %s", exc)
        return ""
    if not endpoint:
        return ""
    query = urlencode(
        {
            "id_token_hint": id_token,
            "post_logout_redirect_uri": request.build_absolute_uri(after),
            "client_id": settings.OIDC_RP_CLIENT_ID,
        }
    )
    return f"{endpoint}{'&' if '?' in endpoint else '?'}{query}"
