"""The API's token authentication, reading the caller's roles in the token's own statement."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db.models import F, QuerySet
from django.utils import timezone

from accounts.authentication import ApiTokenAuthentication
from accounts.models import PREFIX_LENGTH, ApiToken, keep_matching
from peerings import selectors
from peerings.choices import Role
from portal.prepared import PreparedRead

__all__ = ["TokenAndRolesAuthentication"]


def _token_and_roles(*, prefix: str, now: datetime) -> QuerySet[ApiToken]:
    """The usable tokens with ``prefix``, one row per membership of their user (its tenant and role)."""
    return ApiToken.objects.annotate(
        role_tenant_id=F("user__memberships__tenant_id"), role_name=F("user__memberships__role")
    ).prefixed(prefix, now)


#: The statement every API request runs first: compiled once per process (portal.prepared).
TOKEN_AND_ROLES = PreparedRead(_token_and_roles)


class TokenAndRolesAuthentication(ApiTokenAuthentication):
    """:class:`~accounts.authentication.ApiTokenAuthentication` whose token statement also reads
    the user's memberships (a left join: one row per membership), kept as the request's roles
    (:func:`peerings.selectors.request_roles`): one statement fewer for every API request that
    reads them. Read afresh on each request, like the token."""

    def authenticate(self, request: Any) -> tuple[Any, ApiToken] | None:
        self._roles: dict[int, Role] | None = None
        found = super().authenticate(request)
        if found is not None and self._roles is not None:
            selectors.remember_roles(request, self._roles)
        return found

    def find_token(self, key: str) -> ApiToken | None:
        found = TOKEN_AND_ROLES.rows(prefix=key[:PREFIX_LENGTH], now=timezone.now())
        rows = keep_matching(found, key)
        if not rows:
            return None
        self._roles = {
            row.role_tenant_id: Role(row.role_name) for row in rows if row.role_tenant_id is not None
        }
        return rows[0]
