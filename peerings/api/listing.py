"""Lists whose common read runs a prepared statement: ``list`` of a view over the caller's tenants.

The common read of a list (by keyset, no filter named, any page size or cursor) runs its page's
statement as :class:`~peerings.api.pagination.PreparedList` compiled it once per shape; a read
naming a filter, an ordering or ``?page=`` goes through the ORM, from the same builder
(``get_queryset`` of the ``list`` action returns ``prepared_list.build(...)``). Both read the caller's
tenants with the token (:func:`peerings.selectors.request_roles`), afresh on every request.
"""

from __future__ import annotations

from typing import Any, ClassVar

from django.db.models import QuerySet
from rest_framework.request import Request
from rest_framework.response import Response

from peerings import selectors
from peerings.api.filtering import asks_filtering
from peerings.api.pagination import PreparedList

__all__ = ["PreparedListMixin"]


class PreparedListMixin:
    """For a view (with ``ListModelMixin``) whose list is ``prepared_list.build(tenant_ids=...)``."""

    prepared_list: ClassVar[PreparedList]
    request: Any
    paginator: Any

    def caller_tenant_ids(self) -> list[int]:
        """The caller's tenants, sorted (read with the token)."""
        return sorted(selectors.request_roles(self.request))

    def listed_queryset(self) -> QuerySet:
        """The list's rows through the ORM (filters, orderings and numbered pages start here)."""
        return self.prepared_list.build(tenant_ids=self.caller_tenant_ids())

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        paginator = self.paginator
        if (
            paginator is None
            or paginator.page_query_param in request.query_params
            or asks_filtering(request, self)
        ):
            return super().list(request, *args, **kwargs)  # type: ignore[misc]
        page = paginator.paginate_prepared(self.prepared_list, request, tenant_ids=self.caller_tenant_ids())
        return self.get_paginated_response(self.get_serializer(page, many=True).data)  # type: ignore[attr-defined]
