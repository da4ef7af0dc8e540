"""The API's token authentication, reading the caller's roles in the token's own statement."""

from __future__ import annotations

from typing import Any

from django.db.models import F

from accounts.authentication import ApiTokenAuthentication
from accounts.models import ApiToken
from peerings import selectors
from peerings.choices import Role

__all__ = ["TokenAndRolesAuthentication"]


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
        rows = ApiToken.objects.annotate(
            role_tenant_id=F("user__memberships__tenant_id"), role_name=F("user__memberships__role")
        ).matching(key)
        if not rows:
            return None
        self._roles = {
            row.role_tenant_id: Role(row.role_name) for row in rows if row.role_tenant_id is not None
        }
        return rows[0]
