"""``Authorization: Token <key>`` against hashed :class:`accounts.models.ApiToken` rows.

Bad keys are counted per client address in the shared cache (``API_BAD_TOKEN_RATE``); past
the limit every token from that address answers 429 ``throttled`` with ``Retry-After`` until
the window ends, before any key is looked up, so guessing keys is slow from any one address.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication

from accounts.models import ApiToken
from portal.middleware import client_ip
from portal.ratelimit import Limit

__all__ = ["ApiTokenAuthentication"]


class ApiTokenAuthentication(TokenAuthentication):
    """DRF's token header, checked against the SHA-256 of the key; revoked and expired keys fail."""

    keyword = "Token"
    model = ApiToken

    def authenticate(self, request: Any) -> tuple[Any, ApiToken] | None:
        self._address = client_ip(request) or ""
        return super().authenticate(request)

    def authenticate_credentials(self, key: str) -> tuple[Any, ApiToken]:
        limit = Limit.from_rate("bad-api-token", settings.API_BAD_TOKEN_RATE)
        address = getattr(self, "_address", "")
        if limit.exceeded(address):
            raise exceptions.Throttled(
                wait=limit.retry_after(), detail="Too many invalid tokens from this address; try again later."
            )
        token = self.find_token(key)
        if token is None:
            limit.hit(address)
            raise exceptions.AuthenticationFailed("Invalid, expired or revoked token.")
        if not token.user.is_active:
            raise exceptions.AuthenticationFailed("User inactive or deleted.")
        token.touch()
        return token.user, token

    def find_token(self, key: str) -> ApiToken | None:
        """The usable token with this key, or ``None``: what a subclass reads with it goes here."""
        return ApiToken.objects.find(key)
