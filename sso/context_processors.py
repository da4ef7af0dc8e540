"""What the sign-in page needs to offer company sign-in."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest

__all__ = ["company_sign_in"]


def company_sign_in(request: HttpRequest) -> dict:
    return {
        "company_sign_in": {
            "enabled": settings.OIDC_ENABLED,
            "name": settings.OIDC_PROVIDER_NAME,
            "local_for_superusers_only": settings.LOCAL_SIGN_IN == "superusers",
        }
    }
