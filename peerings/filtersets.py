"""django-filter FilterSets shared by the REST API and the HTML pages; every ordering ends on ``id``."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import django_filters as filters
from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet
from django.db.models.functions import Coalesce

from peerings import access, selectors
from peerings.choices import LEGACY_CHANGE_SOURCES, CallOperation, ChangeSource, PeeringStatus, RouteSide
from peerings.models import Peering, StatusChange, Tenant, UpstreamCall
from peerings.rules.limits import CLOUD_ID_MAX_LENGTH, DESCRIPTION_MAX_LENGTH, NAME_MAX_LENGTH
from peerings.rules.messages import ORDERING_UNKNOWN, TENANT_FILTER_UNKNOWN

__all__ = [
    "CREATED_ALIAS",
    "PeeringFilterSet",
    "StableOrderingFilter",
    "StatusChangeFilterSet",
    "UpstreamCallFilterSet",
    "with_created",
]

#: Queryset alias: the cloud's creation time, or the portal's until the cloud has one.
CREATED_ALIAS = "created_sort"


def with_created(queryset: QuerySet[Peering]) -> QuerySet[Peering]:
    """Add the ``created_sort`` alias that ``created_at`` ordering and the created range use."""
    return queryset.alias(**{CREATED_ALIAS: Coalesce("upstream_created_at", "created_at")})


class StableOrderingFilter(filters.OrderingFilter):
    """``ordering=`` that always ends on the primary key, in the last term's direction.

    An unknown value is a 400 whose message lists the values allowed (as the schema does).
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        names = ", ".join(self.param_map)
        self.extra.setdefault("error_messages", {})["invalid_choice"] = ORDERING_UNKNOWN.format(choices=names)

    def filter(self, qs: QuerySet, value: Any) -> QuerySet:
        ordering = [self.get_ordering_value(param) for param in value or () if param]  # "a,,b" has blanks
        if not ordering:
            return qs
        tie_break = "-id" if ordering[-1].startswith("-") else "id"
        return qs.order_by(*ordering, tie_break)


class UtcDateTimeFilter(filters.IsoDateTimeFilter):
    """An ISO 8601 time, compared in UTC: PostgreSQL refuses offsets beyond 15:59 that ISO allows.

    A time that falls outside the years 1-9999 once in UTC is clamped to the nearest end.
    """

    def filter(self, qs: QuerySet, value: dt.datetime | None) -> QuerySet:
        if value is not None:
            try:
                value = value.astimezone(dt.UTC)
            except OverflowError:
                value = (dt.datetime.min if value.year == 1 else dt.datetime.max).replace(tzinfo=dt.UTC)
        return super().filter(qs, value)


def _tenant_q(sides: tuple[tuple[str, str], ...], value: str) -> Q:
    """Match a portal tenant id (digits) or a project id on any side: (project id field, tenant id field)."""
    is_id = value.isascii() and value.isdigit() and len(value) <= 18
    query = Q()
    for project_field, id_field in sides:
        query |= Q(**{project_field: value})
        if is_id:
            query |= Q(**{id_field: int(value)})
    return query


def _unknown_tenant(value: str) -> ValidationError:
    # A parameterised message: django-filter %-formats it, and the value may hold a "%".
    return ValidationError(TENANT_FILTER_UNKNOWN, code="unknown_tenant", params={"value": value})


class PeeringFilterSet(filters.FilterSet):
    # distinct=False: no join here can repeat a row, and DISTINCT over every column was a sort of them all.
    status = filters.MultipleChoiceFilter(
        choices=PeeringStatus.choices, distinct=False, help_text="One or more statuses."
    )
    tenant = filters.CharFilter(
        method="filter_tenant",
        max_length=CLOUD_ID_MAX_LENGTH,
        help_text="A tenant on either side: its portal id or project id.",
    )
    direction = filters.ChoiceFilter(
        choices=[("outgoing", "Requested by my tenants"), ("incoming", "Addressed to my tenants")],
        method="filter_direction",
        help_text="Relative to the caller's tenants.",
    )
    peer_tenant = filters.CharFilter(
        method="filter_peer_tenant",
        max_length=CLOUD_ID_MAX_LENGTH,
        help_text="The tenant on the other side from yours: its portal id or project id.",
    )
    requester_tenant = filters.CharFilter(
        method="filter_requester_tenant",
        max_length=CLOUD_ID_MAX_LENGTH,
        help_text="The requester: a portal id or project id.",
    )
    accepter_tenant = filters.CharFilter(
        method="filter_accepter_tenant",
        max_length=CLOUD_ID_MAX_LENGTH,
        help_text="The accepter: a portal id or project id.",
    )
    vpc_id = filters.UUIDFilter(method="filter_vpc", help_text="A VPC on either side.")
    name = filters.CharFilter(
        lookup_expr="icontains", max_length=NAME_MAX_LENGTH, help_text="Part of the name."
    )
    search = filters.CharFilter(
        method="filter_search",
        max_length=DESCRIPTION_MAX_LENGTH,
        help_text="Part of the name or the description.",
    )
    created_after = UtcDateTimeFilter(
        field_name=CREATED_ALIAS, lookup_expr="gte", help_text="Created at or after (ISO 8601)."
    )
    created_before = UtcDateTimeFilter(
        field_name=CREATED_ALIAS, lookup_expr="lt", help_text="Created before (ISO 8601)."
    )
    ordering = StableOrderingFilter(
        fields=((CREATED_ALIAS, "created_at"), ("name", "name"), ("status", "status")),
        help_text="created_at, name or status; prefix - for descending. Ties go by id.",
    )

    class Meta:
        model = Peering
        fields = [
            "status",
            "tenant",
            "peer_tenant",
            "requester_tenant",
            "accepter_tenant",
            "direction",
            "vpc_id",
            "name",
            "search",
            "created_after",
            "created_before",
        ]

    TENANT_FILTERS = ("tenant", "peer_tenant", "requester_tenant", "accepter_tenant")

    def is_valid(self) -> bool:
        """Also refuse a tenant filter that names no tenant and no project of the caller's peerings."""
        valid = super().is_valid()
        for name in self.TENANT_FILTERS if valid else ():
            value = self.form.cleaned_data.get(name)
            if value and not self._tenant_known(value):
                self.form.add_error(name, _unknown_tenant(value))
                valid = False
        return valid

    def _tenant_known(self, value: str) -> bool:
        if Tenant.objects.filter(_tenant_q((("project_id", "pk"),), value)).exists():
            return True
        sides = (
            ("requester_project_id", "requester_tenant_id"),
            ("accepter_project_id", "accepter_tenant_id"),
        )
        return self.queryset.filter(_tenant_q(sides, value)).exists()

    def filter_tenant(self, queryset: QuerySet[Peering], name: str, value: str) -> QuerySet[Peering]:
        return queryset.filter(
            _tenant_q(
                (
                    ("requester_project_id", "requester_tenant_id"),
                    ("accepter_project_id", "accepter_tenant_id"),
                ),
                value,
            )
        )

    def filter_peer_tenant(self, queryset: QuerySet[Peering], name: str, value: str) -> QuerySet[Peering]:
        """One side is the caller's tenant, the other the one named."""
        mine = selectors.user_tenant_ids(self.request.user)
        requester = _tenant_q((("requester_project_id", "requester_tenant_id"),), value)
        accepter = _tenant_q((("accepter_project_id", "accepter_tenant_id"),), value)
        return queryset.filter(
            (access.on_side(RouteSide.REQUESTER, mine) & accepter)
            | (access.on_side(RouteSide.ACCEPTER, mine) & requester)
        )

    def filter_requester_tenant(
        self, queryset: QuerySet[Peering], name: str, value: str
    ) -> QuerySet[Peering]:
        return queryset.filter(_tenant_q((("requester_project_id", "requester_tenant_id"),), value))

    def filter_accepter_tenant(self, queryset: QuerySet[Peering], name: str, value: str) -> QuerySet[Peering]:
        return queryset.filter(_tenant_q((("accepter_project_id", "accepter_tenant_id"),), value))

    def filter_search(self, queryset: QuerySet[Peering], name: str, value: str) -> QuerySet[Peering]:
        return queryset.filter(Q(name__icontains=value) | Q(description__icontains=value))

    def filter_direction(self, queryset: QuerySet[Peering], name: str, value: str) -> QuerySet[Peering]:
        mine = selectors.user_tenant_ids(self.request.user)
        side = RouteSide.REQUESTER if value == "outgoing" else RouteSide.ACCEPTER
        return queryset.filter(access.on_side(side, mine))

    def filter_vpc(self, queryset: QuerySet[Peering], name: str, value: uuid.UUID) -> QuerySet[Peering]:
        return queryset.filter(Q(requester_vpc_id=value) | Q(accepter_vpc_id=value))


class UpstreamCallFilterSet(filters.FilterSet):
    peering = filters.NumberFilter(field_name="peering_id", min_value=1, help_text="A peering's portal id.")
    tenant = filters.CharFilter(
        method="filter_tenant",
        max_length=CLOUD_ID_MAX_LENGTH,
        help_text="The signing tenant: its portal id or project id.",
    )
    operation = filters.MultipleChoiceFilter(choices=CallOperation.choices, distinct=False)
    failed = filters.BooleanFilter(method="filter_failed", help_text="true: calls that failed.")
    created_after = UtcDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = UtcDateTimeFilter(field_name="created_at", lookup_expr="lt")
    ordering = StableOrderingFilter(
        fields=(("created_at", "created_at"), ("duration_ms", "duration_ms")),
        help_text="created_at or duration_ms; prefix - for descending. Ties go by id.",
    )

    class Meta:
        model = UpstreamCall
        fields = ["peering", "tenant", "operation", "failed", "created_after", "created_before"]

    def is_valid(self) -> bool:
        """Also refuse a ``tenant`` that names no tenant of the portal."""
        valid = super().is_valid()
        value = self.form.cleaned_data.get("tenant") if valid else None
        if value and not Tenant.objects.filter(_tenant_q((("project_id", "pk"),), value)).exists():
            self.form.add_error("tenant", _unknown_tenant(value))
            return False
        return valid

    def filter_tenant(
        self, queryset: QuerySet[UpstreamCall], name: str, value: str
    ) -> QuerySet[UpstreamCall]:
        return queryset.filter(_tenant_q((("tenant__project_id", "tenant_id"),), value))

    def filter_failed(
        self, queryset: QuerySet[UpstreamCall], name: str, value: bool
    ) -> QuerySet[UpstreamCall]:
        failed = Q(status_code__isnull=True) | Q(status_code__gte=400)
        return queryset.filter(failed) if value else queryset.exclude(failed)


class StatusChangeFilterSet(filters.FilterSet):
    peering = filters.NumberFilter(field_name="peering_id", min_value=1, help_text="A peering's portal id.")
    tenant = filters.CharFilter(
        method="filter_tenant",
        max_length=CLOUD_ID_MAX_LENGTH,
        help_text="Either side of the peering: a tenant's portal id or project id.",
    )
    new_status = filters.MultipleChoiceFilter(choices=PeeringStatus.choices)
    source = filters.MultipleChoiceFilter(
        choices=[
            *ChangeSource.choices,
            *((old, f"{new} (deprecated name)") for old, new in LEGACY_CHANGE_SOURCES.items()),
        ],
        method="filter_source",
        help_text="browser, api, admin, sync or job (user, the old name of browser, until 0.3.0).",
    )
    created_after = UtcDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = UtcDateTimeFilter(field_name="created_at", lookup_expr="lt")
    ordering = StableOrderingFilter(
        fields=(("created_at", "created_at"),),
        help_text="created_at; prefix - for descending. Ties go by id.",
    )

    class Meta:
        model = StatusChange
        fields = ["peering", "tenant", "new_status", "source", "created_after", "created_before"]

    def filter_source(
        self, queryset: QuerySet[StatusChange], name: str, value: list[str]
    ) -> QuerySet[StatusChange]:
        if not value:
            return queryset
        return queryset.filter(source__in={LEGACY_CHANGE_SOURCES.get(v, v) for v in value})

    def filter_tenant(
        self, queryset: QuerySet[StatusChange], name: str, value: str
    ) -> QuerySet[StatusChange]:
        return queryset.filter(
            _tenant_q(
                (
                    ("peering__requester_project_id", "peering__requester_tenant_id"),
                    ("peering__accepter_project_id", "peering__accepter_tenant_id"),
                ),
                value,
            )
        )
