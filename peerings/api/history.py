"""The API's append-only histories, read-only: the cloud calls and the status changes the caller's
tenants may see, filtered and exported."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db.models import QuerySet
from rest_framework import viewsets

from peerings import export, selectors
from peerings.api import schema
from peerings.api import serializers as s
from peerings.api.base import ApiView
from peerings.api.exporting import ExportMixin
from peerings.api.filtering import FilterBackend
from peerings.api.listing import PreparedListMixin
from peerings.api.pagination import PreparedList
from peerings.filtersets import StatusChangeFilterSet, UpstreamCallFilterSet
from peerings.models import StatusChange, UpstreamCall

__all__ = ["HistoryViewSet", "StatusChangeViewSet", "UpstreamCallViewSet"]


class HistoryViewSet(ExportMixin, ApiView, viewsets.ReadOnlyModelViewSet):
    """An append-only history, read-only: the rows the caller's tenants may see, filtered, exported."""

    model: type[UpstreamCall] | type[StatusChange]
    visible: Callable[[Any], QuerySet]
    filter_backends = [FilterBackend]
    lookup_value_regex = r"[0-9]+"

    def get_queryset(self) -> QuerySet:
        if self.fake:
            return self.model.objects.none()
        if self.action == "list" and hasattr(self, "prepared_list"):
            return self.listed_queryset()
        return self.visible(self.request.user)


@schema.CALLS
class UpstreamCallViewSet(PreparedListMixin, HistoryViewSet):
    """The append-only log of calls to the cloud, read-only."""

    #: Its list's keyset pages, compiled once per shape (:mod:`peerings.api.listing`).
    prepared_list = PreparedList(selectors.calls_seen_by)
    model = UpstreamCall
    visible = staticmethod(selectors.visible_calls)
    export_columns = export.CALL_COLUMNS
    export_name = "calls"
    serializer_class = s.UpstreamCallSerializer
    filterset_class = UpstreamCallFilterSet


@schema.STATUS_CHANGES
class StatusChangeViewSet(HistoryViewSet):
    """The append-only log of status changes, read-only."""

    model = StatusChange
    visible = staticmethod(selectors.visible_status_changes)
    export_columns = export.STATUS_CHANGE_COLUMNS
    export_name = "status-changes"
    serializer_class = s.StatusChangeSerializer
    filterset_class = StatusChangeFilterSet
