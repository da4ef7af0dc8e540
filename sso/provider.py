"""The identity provider's endpoints, read from its OpenID Connect discovery document.

The document is fetched when first needed and kept in the shared cache for
``OIDC_DISCOVERY_CACHE_SECONDS``; settings are read at call time, so tests (and a changed
configuration) take effect at once. A provider that cannot be reached raises
:class:`ProviderUnavailable`, which the views turn into a message on the sign-in page.
"""

from __future__ import annotations

from dataclasses import dataclass

import requests
from django.conf import settings
from django.core.cache import cache

__all__ = ["Provider", "ProviderUnavailable", "forget_provider", "get_provider"]

_CACHE_PREFIX = "sso:discovery:"


class ProviderUnavailable(Exception):
    """The identity provider did not answer, or answered something that is not usable."""


@dataclass(frozen=True)
class Provider:
    """What the portal needs from the discovery document."""

    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    userinfo_endpoint: str
    jwks_uri: str
    end_session_endpoint: str = ""

    @classmethod
    def from_document(cls, document: dict) -> Provider:
        try:
            return cls(
                issuer=document["issuer"],
                authorization_endpoint=document["authorization_endpoint"],
                token_endpoint=document["token_endpoint"],
                userinfo_endpoint=document["userinfo_endpoint"],
                jwks_uri=document["jwks_uri"],
                end_session_endpoint=document.get("end_session_endpoint", ""),
            )
        except (KeyError, TypeError) as exc:
            raise ProviderUnavailable(f"the discovery document lacks {exc}") from exc


def _verify_tls() -> bool:
    return getattr(settings, "OIDC_VERIFY_SSL", True)


def get_provider() -> Provider:
    """The configured provider's endpoints (from the cache, else from its discovery URL)."""
    url = settings.OIDC_DISCOVERY_URL
    if not url:
        raise ProviderUnavailable("company sign-in is not configured")
    document = cache.get(_CACHE_PREFIX + url)
    if document is None:
        try:
            response = requests.get(url, timeout=settings.OIDC_TIMEOUT, verify=_verify_tls())
            response.raise_for_status()
            document = response.json()
        except (requests.RequestException, ValueError) as exc:
            raise ProviderUnavailable(f"the discovery document could not be read: {exc}") from exc
        provider = Provider.from_document(document)
        if settings.OIDC_ISSUER and provider.issuer.rstrip("/") != settings.OIDC_ISSUER:
            raise ProviderUnavailable(f"the provider names itself {provider.issuer!r}, not OIDC_ISSUER")
        cache.set(_CACHE_PREFIX + url, document, settings.OIDC_DISCOVERY_CACHE_SECONDS)
        return provider
    return Provider.from_document(document)


def forget_provider() -> None:
    """Drop the cached document (a test pointing the portal at another provider)."""
    if settings.OIDC_DISCOVERY_URL:
        cache.delete(_CACHE_PREFIX + settings.OIDC_DISCOVERY_URL)
