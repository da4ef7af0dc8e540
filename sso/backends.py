"""Authentication backends: company sign-in (OpenID Connect) and local passwords.

:class:`OIDCBackend` is mozilla-django-oidc's authorization-code backend with what a
portal handing out tenant roles needs on top:

* the provider's endpoints come from its discovery document (:mod:`sso.provider`), read at
  sign-in, never at start;
* the ID token's signature, ``iss``, ``aud``, ``exp`` and ``iat`` are all checked (the library
  checks the signature and the nonce only), and the userinfo's ``sub`` must be the token's;
* users are found by the provider's issuer and subject (:class:`~sso.models.Identity`), never by
  e-mail, so an account at the provider cannot take over a local account of the same address;
* at each sign-in the user's group-granted memberships follow their groups (:mod:`sso.groups`).

A sign-in refused for a reason the user should read stores it in ``request.sso_refusal``
(:class:`SignInRefused`), which the callback view shows.
"""

from __future__ import annotations

import logging
from typing import Any

import jwt
import requests
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import SuspiciousOperation
from django.db import transaction
from django.utils import timezone
from mozilla_django_oidc.auth import OIDCAuthenticationBackend

from sso.groups import memberships_sync
from sso.models import Identity
from sso.provider import Provider, get_provider

__all__ = ["LocalPasswordBackend", "OIDCBackend", "SignInRefused"]

logger = logging.getLogger(__name__)


class SignInRefused(SuspiciousOperation):
    """A response from the provider the portal does not accept; the message is safe to show."""


class LocalPasswordBackend(ModelBackend):
    """Django's username and password, for superusers only when ``LOCAL_SIGN_IN=superusers``."""

    def authenticate(
        self, request: Any, username: str | None = None, password: str | None = None, **kwargs: Any
    ):
        user = super().authenticate(request, username=username, password=password, **kwargs)
        if user is not None and settings.LOCAL_SIGN_IN == "superusers" and not user.is_superuser:
            return None
        return user


class OIDCBackend(OIDCAuthenticationBackend):
    """Authorization code flow with PKCE against the provider named by ``OIDC_DISCOVERY_URL``."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # The library reads every endpoint here; Django builds a backend for each session
        # lookup, so nothing is read until a sign-in actually happens (``_configure``).
        self.UserModel = get_user_model()
        self.provider: Provider | None = None

    def _configure(self) -> None:
        self.provider = get_provider()
        self.OIDC_OP_TOKEN_ENDPOINT = self.provider.token_endpoint
        self.OIDC_OP_USER_ENDPOINT = self.provider.userinfo_endpoint
        self.OIDC_OP_JWKS_ENDPOINT = self.provider.jwks_uri
        self.OIDC_RP_CLIENT_ID = settings.OIDC_RP_CLIENT_ID
        self.OIDC_RP_CLIENT_SECRET = settings.OIDC_RP_CLIENT_SECRET
        self.OIDC_RP_SIGN_ALGO = settings.OIDC_RP_SIGN_ALGO
        self.OIDC_RP_IDP_SIGN_KEY = None

    def authenticate(self, request: Any, **kwargs: Any) -> Any:
        if request is None or not request.GET.get("code") or not request.GET.get("state"):
            return None  # a local sign-in: not for this backend
        if "nonce" not in kwargs:
            return None  # only the callback view passes the nonce and the PKCE verifier
        self._configure()
        try:
            return super().authenticate(request, **kwargs)
        except SignInRefused as refusal:
            logger.warning("OIDC sign-in refused: %s", refusal)
            request.sso_refusal = str(refusal)
            return None

    def get_user(self, user_id: Any) -> Any:
        """The session's user, unless an administrator has since disabled them."""
        user = super().get_user(user_id)
        return user if user is not None and self.user_can_authenticate(user) else None

    # --- the ID token ---------------------------------------------------------------------------------

    def _verify_jws(self, payload: Any, key: Any) -> dict:
        """Signature, algorithm, issuer, audience and lifetime of a signed token."""
        try:
            algorithm = jwt.get_unverified_header(payload).get("alg")
            if algorithm != self.OIDC_RP_SIGN_ALGO:
                raise SignInRefused(
                    f"The ID token is signed with {algorithm!r}, not {self.OIDC_RP_SIGN_ALGO}."
                )
            return jwt.decode(
                payload,
                key,
                algorithms=[algorithm],
                audience=self.OIDC_RP_CLIENT_ID,
                issuer=self.provider.issuer,
                leeway=settings.OIDC_CLOCK_SKEW_SECONDS,
                options={"require": ["exp", "iat", "iss", "aud", "sub"]},
            )
        except jwt.ExpiredSignatureError as exc:
            raise SignInRefused("The ID token has expired.") from exc
        except jwt.InvalidTokenError as exc:
            raise SignInRefused(f"The ID token is not valid ({exc}).") from exc

    def retrieve_matching_jwk(self, token: Any) -> Any:
        try:
            return super().retrieve_matching_jwk(token)
        except jwt.InvalidTokenError as exc:
            raise SignInRefused(f"The ID token is not valid ({exc}).") from exc

    def verify_token(self, token: Any, **kwargs: Any) -> dict:
        try:
            return super().verify_token(token, **kwargs)
        except SignInRefused:
            raise
        except SuspiciousOperation as exc:  # the library's own checks: the nonce, the key
            raise SignInRefused(f"The ID token was refused ({exc}).") from exc

    def get_userinfo(self, access_token: str, id_token: str, payload: dict) -> dict:
        """The userinfo answer over the ID token's claims; both must name the same subject."""
        claims = super().get_userinfo(access_token, id_token, payload)
        if claims.get("sub") != payload["sub"]:
            raise SignInRefused("The provider's userinfo names another subject than the ID token.")
        return {**payload, **claims}

    # --- the user -------------------------------------------------------------------------------------

    def get_or_create_user(self, access_token: str, id_token: str, payload: dict) -> Any:
        # The library logs and drops what this raises: keep the reason for the page first.
        try:
            return self._sign_in(access_token, id_token, payload)
        except SignInRefused as refusal:
            self.request.sso_refusal = str(refusal)
            raise

    def _sign_in(self, access_token: str, id_token: str, payload: dict) -> Any:
        claims = self.get_userinfo(access_token, id_token, payload)
        if settings.OIDC_GROUPS_CLAIM not in claims:
            # Then every group-granted membership goes: most likely the provider's configuration.
            logger.warning(
                "OIDC sign-in of %s without a %r claim", payload["sub"], settings.OIDC_GROUPS_CLAIM
            )
        groups = _groups(claims.get(settings.OIDC_GROUPS_CLAIM))
        with transaction.atomic():
            identity = (
                Identity.objects.select_for_update()
                .select_related("user")
                .filter(issuer=payload["iss"], subject=payload["sub"])
                .first()
            )
            if identity is None:
                identity = Identity(
                    user=self._new_user(claims), issuer=payload["iss"], subject=payload["sub"]
                )
            user = identity.user
            self.update_user(user, claims)
            identity.groups, identity.last_sign_in = groups, timezone.now()
            identity.save()
            if user.is_active:
                memberships_sync(user=user, groups=groups)
        return user

    def _new_user(self, claims: dict) -> Any:
        username = str(claims.get(settings.OIDC_USERNAME_CLAIM) or claims["sub"])[:150]
        if self.UserModel.objects.filter(username__iexact=username).exists():
            raise SignInRefused(
                f"A portal account named {username!r} already exists and is not linked to this provider; "
                "an administrator can link it (Identities, in the admin)."
            )
        return self.UserModel.objects.create_user(username, email=claims.get("email") or "")

    def update_user(self, user: Any, claims: dict) -> Any:
        """Names and e-mail follow the provider's."""
        fields = {
            "email": claims.get("email") or user.email,
            "first_name": (claims.get("given_name") or user.first_name)[:150],
            "last_name": (claims.get("family_name") or user.last_name)[:150],
        }
        changed = [name for name, value in fields.items() if getattr(user, name) != value]
        for name in changed:
            setattr(user, name, fields[name])
        if changed:
            user.save(update_fields=changed)
        return user

    def get_token(self, payload: dict) -> dict:
        try:
            return super().get_token(payload)
        except requests.HTTPError as exc:
            raise SignInRefused("The provider refused to exchange the sign-in code.") from exc


def _groups(value: Any) -> list[str]:
    """The groups claim as a list of names (a provider may send one string, or nothing)."""
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    return [str(group) for group in value if group]
