"""Lists: keyset (cursor) pages by default, page numbers on request.

Without ``?page=``, a list is read by keyset: the first page, then ``next`` links carrying
``?cursor=`` (the last row's ordering values), so a page costs the same however deep it is
and however large the table. ``count`` is exact up to :data:`COUNT_LIMIT`; above it the
response says ``count_capped: true`` and ``count`` is the limit (counting every row of a
large table on each page is what made lists slow). ``?page=N`` gives numbered pages with
``page=`` links, counted the same way up to the limit and, for a deeper page, up to just past it
(:class:`~peerings.paginators.CappedCountPaginator`): a deep page costs its depth, not the table's
size. Orderings end on ``id``, so neither kind of page shifts or repeats a row.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
from collections.abc import Callable
from typing import Any, NamedTuple

from django.core.exceptions import FieldDoesNotExist
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import models
from django.db.models import F, IntegerField, Q, QuerySet
from django.db.models.expressions import Expression
from rest_framework.exceptions import NotFound
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param, replace_query_param

from peerings.paginators import CappedCountPaginator
from peerings.rules.limits import API_MAX_PAGE_SIZE, COUNT_LIMIT
from portal.prepared import PreparedRead

__all__ = ["COUNT_LIMIT", "PortalPagination", "PreparedList", "cursor_for", "keyset_page"]

CURSOR_PARAM = "cursor"
_KEY = "_cursor_key_"
_COUNTED = "_rows_counted_"


def _plain(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.isoformat()
    return value


def cursor_for(ordering: list[str], values: list[Any]) -> str:
    """The cursor of a row whose ``ordering`` values are ``values``: the next page starts after it."""
    raw = json.dumps({"o": list(ordering), "v": [_plain(v) for v in values]}, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


#: The range a database integer column holds (a larger number overflows in the driver).
_INT_RANGE = range(-(2**63), 2**63)


def _typed(queryset: QuerySet, name: str, value: Any) -> Any:
    """``value`` as the ordering column ``name`` holds it; ``ValueError`` when it cannot be one."""
    annotation = queryset.query.annotations.get(name)
    field = annotation.output_field if annotation is not None else queryset.model._meta.get_field(name)
    if isinstance(value, str) and "\x00" in value:
        raise ValueError(name)
    try:
        typed = field.to_python(value)
        if isinstance(typed, dt.datetime):
            if typed.tzinfo is None:
                raise ValueError(name)
            typed = typed.astimezone(dt.UTC)
    except (DjangoValidationError, TypeError, OverflowError) as exc:
        raise ValueError(name) from exc
    if typed is None or (isinstance(typed, int) and typed not in _INT_RANGE):
        raise ValueError(name)
    if isinstance(field, (models.DateTimeField, models.DateField)) and not isinstance(typed, dt.date):
        raise ValueError(name)
    return typed


def _decode(cursor: str, ordering: list[str], queryset: QuerySet) -> list[Any]:
    """The values of a cursor made by :func:`cursor_for` for ``ordering``, typed as ``queryset``'s
    columns; a forged or malformed one (a number where a date belongs, say) is a 404."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
        values = data["v"]
        if data["o"] != ordering or not isinstance(values, list) or len(values) != len(ordering):
            raise ValueError
        if not all(isinstance(v, str | int) and not isinstance(v, bool) for v in values):
            raise ValueError
        return [_typed(queryset, term.lstrip("-"), v) for term, v in zip(ordering, values, strict=True)]
    except (ValueError, KeyError, TypeError, UnicodeError, binascii.Error, FieldDoesNotExist):
        raise NotFound("Invalid cursor.") from None


def _attname(queryset: QuerySet, name: str) -> str | None:
    """The attribute a row of ``queryset`` holds column ``name`` in, or ``None`` for an annotation,
    a column left unread (deferred), or a name that is not a concrete column of the model."""
    names, defer = queryset.query.deferred_loading
    unread = name in names if defer else bool(names) and name not in names
    if unread or name in queryset.query.annotations:
        return None
    try:
        field = queryset.model._meta.get_field(name)
    except FieldDoesNotExist:
        return None
    return field.attname if field.concrete and not field.is_relation else None


class _CappedCount(Expression):
    """``(SELECT COUNT(*) FROM (<query>) counted)``: the capped count as a column of the page's
    statement, the same statement (and plan) the count ran alone."""

    template = "(SELECT COUNT(*) FROM (%(query)s) counted)"
    output_field = IntegerField()
    empty_result_set_value = 0

    def __init__(self, query: Any) -> None:
        super().__init__()
        self.query = query

    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, tuple[Any, ...]]:
        sql, params = self.query.get_compiler(connection=connection).as_sql()
        return self.template % {"query": sql}, tuple(params)


def _after(ordering: list[str], values: list[Any]) -> Q:
    """Rows after ``values`` in ``ordering``, with a range on the first term an index can start from."""
    terms = [(term.lstrip("-"), term.startswith("-")) for term in ordering]
    first, descending = terms[0]
    bound = Q(**{f"{first}__{'lte' if descending else 'gte'}": values[0]})
    after, equal = Q(), Q()
    for (name, desc), value in zip(terms, values, strict=True):
        after |= equal & Q(**{f"{name}__{'lt' if desc else 'gt'}": value})
        equal &= Q(**{name: value})
    return bound & after


def _counting(queryset: QuerySet, limit: int | None = None) -> QuerySet:
    """The ids of the list's rows, up to one past ``limit`` (:data:`COUNT_LIMIT`): the capped count's rows."""
    return queryset.order_by().values("pk")[: (COUNT_LIMIT if limit is None else limit) + 1]


def _attributes(queryset: QuerySet) -> list[str]:
    """Where a row of ``queryset`` holds each ordering value: its column as read, else the alias
    :func:`keyset_page` selects it under."""
    names = [str(term).lstrip("-") for term in queryset.query.order_by]
    return [_attname(queryset, name) or f"{_KEY}{i}" for i, name in enumerate(names)]


def keyset_page(
    queryset: QuerySet, page_size: int, *, after: list | None = None, count_limit: int | None = None
) -> tuple[QuerySet, list[str]]:
    """The statement of a keyset page of ``queryset`` (ordered): the rows after ``after`` (the
    previous page's last ordering values), one more than the page to tell whether a next page
    exists, with the capped count as a column (one round trip); and where each row holds its
    ordering values."""
    ordering = [str(term) for term in queryset.query.order_by]
    rows = queryset.filter(_after(ordering, after)) if after else queryset
    attributes = _attributes(queryset)
    keys: dict[str, Any] = {
        key: F(term.lstrip("-"))
        for key, term in zip(attributes, ordering, strict=True)
        if key.startswith(_KEY)
    }
    keys[_COUNTED] = _CappedCount(_counting(queryset, count_limit).query)
    return rows.annotate(**keys)[: page_size + 1], attributes


class _Structure(NamedTuple):
    ordering: list[str]
    attributes: list[str]
    typing: QuerySet  # its columns type a cursor's values (:func:`_decode`)


class PreparedList:
    """A list read by keyset pages (no filters, its own ordering) whose page statements are
    compiled once per shape: ``build(**values)`` is the list's queryset, ordered, as the ORM
    path reads it (the same function), values being what :class:`portal.prepared.PreparedRead`
    takes (ids, strings, times and lists of them)."""

    def __init__(self, build: Callable[..., QuerySet]) -> None:
        self.build = build
        self._statement = PreparedRead(self._page_statement)
        self._structure: _Structure | None = None

    def _page_statement(
        self, page_size: int, count_limit: int, *, after: list | None = None, **values: Any
    ) -> QuerySet:
        return keyset_page(self.build(**values), page_size, after=after, count_limit=count_limit)[0]

    def page(self, page_size: int, *, after: list | None = None, **values: Any) -> list:
        """The rows of a page, one more than ``page_size`` when there is a next."""
        return self._statement.rows(page_size, COUNT_LIMIT, after=after, **values)

    def structure(self, values: dict[str, Any]) -> _Structure:
        """The list's ordering, where rows hold its values and what types a cursor: they do not
        depend on the values, so they are read from one build."""
        if self._structure is None:
            queryset = self.build(**values)
            ordering = [str(term) for term in queryset.query.order_by]
            self._structure = _Structure(ordering, _attributes(queryset), queryset.none())
        return self._structure


class PortalPagination(PageNumberPagination):
    page_size_query_param = "page_size"
    max_page_size = API_MAX_PAGE_SIZE
    #: Numbered pages count only as far as the page asked for (``count_capped`` says when they stopped).
    django_paginator_class = CappedCountPaginator

    def paginate_queryset(self, queryset: QuerySet | list, request: Any, view: Any = None) -> list | None:
        self.cursor_mode = False
        # A list read from the cloud (a tenant's VPCs): numbered pages, in the same envelope.
        self.listed = not isinstance(queryset, QuerySet)
        if self.listed:
            return super().paginate_queryset(queryset, request, view)
        ordering = [str(term) for term in queryset.query.order_by]
        keyset = (
            self.page_query_param not in request.query_params
            and ordering
            and all(isinstance(term, str) and not term.startswith("?") for term in queryset.query.order_by)
        )
        if not keyset:
            return super().paginate_queryset(queryset, request, view)
        self.request = request
        page_size = self.get_page_size(request)
        if not page_size:
            return None
        self.cursor_mode = True
        self.ordering = ordering
        cursor = request.query_params.get(CURSOR_PARAM)
        after = _decode(cursor, ordering, queryset) if cursor else None
        statement, attributes = keyset_page(queryset, page_size, after=after)
        count_alone = lambda: _counting(queryset).count()  # noqa: E731  (built only when needed)
        return self._keyset_answer(list(statement), page_size, attributes, after, count_alone)

    def paginate_prepared(self, prepared: PreparedList, request: Any, **values: Any) -> list:
        """:meth:`paginate_queryset` of ``prepared.build(**values)`` read by keyset (no ``?page=``),
        with the page's statement compiled once per shape (:mod:`portal.prepared`)."""
        self.cursor_mode, self.listed, self.request = True, False, request
        page_size = self.get_page_size(request) or self.page_size
        structure = prepared.structure(values)
        self.ordering = structure.ordering
        cursor = request.query_params.get(CURSOR_PARAM)
        after = _decode(cursor, self.ordering, structure.typing) if cursor else None
        page = prepared.page(page_size, after=after, **values)
        count_alone = lambda: _counting(prepared.build(**values)).count()  # noqa: E731
        return self._keyset_answer(page, page_size, structure.attributes, after, count_alone)

    def _keyset_answer(
        self,
        page: list,
        page_size: int,
        attributes: list[str],
        after: list | None,
        count: Callable[[], int],
    ) -> list:
        """The page of ``page`` (its statement's rows), its next cursor's values and its count
        (``count()`` when the page cannot tell it)."""
        self.has_more = len(page) > page_size
        page = page[:page_size]
        self.last = [getattr(page[-1], attribute) for attribute in attributes] if page else None
        if not (after or self.has_more):  # the whole list is on this first page: its rows are the count
            counted = len(page)
        elif page and hasattr(page[0], _COUNTED):
            counted = getattr(page[0], _COUNTED)
        else:  # a cursor past the last row: the count alone
            counted = count()
        self.count, self.count_capped = min(counted, COUNT_LIMIT), counted > COUNT_LIMIT
        return page

    def get_next_link(self) -> str | None:
        if not self.cursor_mode:
            return super().get_next_link()
        if not self.has_more or self.last is None or None in self.last:
            return None
        url = remove_query_param(self.request.build_absolute_uri(), self.page_query_param)
        return replace_query_param(url, CURSOR_PARAM, cursor_for(self.ordering, self.last))

    def get_paginated_response(self, data: Any) -> Response:
        if self.listed:
            return Response(
                {
                    "count": self.page.paginator.count,
                    "count_capped": False,
                    "next": self.get_next_link(),
                    "previous": self.get_previous_link(),
                    "results": data,
                }
            )
        if not self.cursor_mode:
            paginator = self.page.paginator
            return Response(
                {
                    "count": paginator.count,
                    "count_capped": paginator.capped,
                    "next": self.get_next_link(),
                    "previous": self.get_previous_link(),
                    "results": data,
                }
            )
        return Response(
            {
                "count": self.count,
                "count_capped": self.count_capped,
                "next": self.get_next_link(),
                "previous": None,
                "results": data,
            }
        )

    def get_paginated_response_schema(self, schema: dict) -> dict:
        response = super().get_paginated_response_schema(schema)
        response["properties"]["count"]["description"] = (
            f"The rows, counted up to {COUNT_LIMIT} (with ?page=N beyond it, up to the end of page N); "
            "count_capped is true when there are more."
        )
        response["properties"]["count_capped"] = {
            "type": "boolean",
            "description": "True when there are more rows than count says (counting stopped).",
        }
        response["properties"]["next"]["example"] = "http://api.example.org/accounts/?cursor=eyJvIjpb..."
        response["properties"]["previous"]["description"] = "Only with ?page=; null when reading by cursor."
        return response

    def get_schema_operation_parameters(self, view: Any) -> list[dict]:
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_query_param:
                parameter["description"] = "A page number: exact count and page= links (offset paging)."
        parameters.append(
            {
                "name": CURSOR_PARAM,
                "required": False,
                "in": "query",
                "description": "Where the page starts: take it from the previous page's next link.",
                "schema": {"type": "string"},
            }
        )
        return parameters
