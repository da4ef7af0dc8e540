"""``Authorization: Token <key>`` against hashed :class:`accounts.models.ApiToken` rows."""

from __future__ import annotations

from typing import Any

from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication

from accounts.models import ApiToken

__all__ = ["ApiTokenAuthentication"]


class ApiTokenAuthentication(TokenAuthentication):
    """DRF's token header, checked against the SHA-256 of the key; revoked and expired keys fail."""

    keyword = "Token"
    model = ApiToken

    def authenticate_credentials(self, key: str) -> tuple[Any, ApiToken]:
        token = ApiToken.objects.find(key)
        if token is None:
            raise exceptions.AuthenticationFailed("Invalid, expired or revoked token.")
        if not token.user.is_active:
            raise exceptions.AuthenticationFailed("User inactive or deleted.")
        token.touch()
        return token.user, token
