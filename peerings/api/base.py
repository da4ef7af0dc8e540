"""What every API view shares (:class:`ApiView`): authentication, throttles, JSON in, pagination,
idempotent writes, a 400 for an unknown query parameter, and the list envelope."""

from __future__ import annotations

from typing import Any

from rest_framework.exceptions import ValidationError
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.settings import api_settings

from peerings.api.filtering import FilterBackend
from peerings.api.idempotency import IdempotentViewMixin
from peerings.api.pagination import CURSOR_PARAM, PortalPagination
from peerings.api.parsers import DepthLimitedJSONParser
from peerings.api.throttling import UserThrottle, WriteThrottle
from peerings.rules.messages import UNKNOWN_QUERY_PARAMETER

__all__ = ["ENVELOPE_PARAM", "ApiView"]

#: Opt-in to the bare JSON array ``tenants/{id}/vpcs/`` and ``peerings/{id}/routes/`` answered
#: before they had the list envelope: ``?envelope=false``. Deprecated; removed in 0.3.0. Left out
#: of the schema, whose 200 for these operations is the envelope (see the operations' descriptions).
ENVELOPE_PARAM = "envelope"


class ApiView(IdempotentViewMixin):
    """What every API view shares: auth, throttles, JSON in, pagination, idempotent writes, and a
    400 for a query parameter the action does not take (listing those it does)."""

    permission_classes = [IsAuthenticated]
    throttle_classes = [UserThrottle, WriteThrottle]
    parser_classes = [DepthLimitedJSONParser]
    pagination_class = PortalPagination
    #: Actions that answer a page of a list (they take ``page``, ``page_size`` and ``cursor``).
    list_actions: frozenset[str] = frozenset({"list"})
    #: Further query parameters an action takes: ``{action: names}``.
    action_query_params: dict[str, tuple[str, ...]] = {}

    @property
    def fake(self) -> bool:
        """True while drf-spectacular builds the schema (no real request)."""
        return getattr(self, "swagger_fake_view", False)

    def accepted_query_params(self) -> set[str]:
        """The query parameters this request's action takes: its filters, its pages, ``format``."""
        accepted = {api_settings.URL_FORMAT_OVERRIDE or "format"}
        paginator = self.paginator
        if self.action in self.list_actions and isinstance(paginator, PortalPagination):
            accepted |= {paginator.page_query_param, paginator.page_size_query_param, CURSOR_PARAM}
        filterset_class = getattr(self, "filterset_class", None)
        if filterset_class is not None and FilterBackend in self.filter_backends:
            accepted |= set(filterset_class.base_filters)
        return accepted | set(self.action_query_params.get(self.action or "", ()))

    def check_request(self, request: Request) -> None:
        unknown = sorted(set(request.query_params) - self.accepted_query_params())
        if unknown:
            accepted = ", ".join(sorted(self.accepted_query_params()))
            raise ValidationError(
                {name: [UNKNOWN_QUERY_PARAMETER.format(accepted=accepted)] for name in unknown}
            )
        super().check_request(request)

    def bare_list(self, request: Request) -> bool:
        """Whether the caller opted in to the deprecated bare array (``?envelope=false``)."""
        value = request.query_params.get(ENVELOPE_PARAM)
        if value is None:
            return False
        if value != "false":
            raise ValidationError({ENVELOPE_PARAM: ['Only "false" (the deprecated bare array) is accepted.']})
        return True

    def listed(self, request: Request, rows: Any, serializer_class: type) -> Response:
        """A list in the API's envelope (``count``, ``count_capped``, ``next``, ``previous``,
        ``results``), or the deprecated bare array with ``?envelope=false``."""
        context = self.get_serializer_context()
        if self.bare_list(request):
            response = Response(serializer_class(rows, many=True, context=context).data)
            response["Deprecation"] = "true"  # RFC 9745: the bare array goes in 0.3.0
            return response
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(serializer_class(page, many=True, context=context).data)
