"""Neutron-style ``limit``/``marker`` pagination.

* Items are ordered by ID, ascending. ``marker`` is the ID of the last item of
  the previous page; results start after it. A marker that is not a visible
  item of the collection is refused (400 ``BadRequest``).
* ``limit`` is 0-2000; 0 or absent means the default page of 2000 and no links.
  Anything else is refused (400 ``BadRequest``) rather than clamped.
* ``page_reverse=True`` pages backwards: the ``limit`` items *before* the
  marker, still returned in ascending order.
* ``<collection>_links`` holds one link, only when ``limit`` was given and more
  items remain in the paging direction: ``rel: next`` (marker = last ID) going
  forward, ``rel: previous`` (marker = first ID, ``page_reverse=True``) going
  backward. The ``href`` is absolute and keeps the request's other parameters.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from django.db.models import Model, QuerySet
from django.http import HttpRequest

from vpcsim.errors import bad_request
from vpcsim.validation import parse_uuid

__all__ = ["MAX_LIMIT", "Page", "paginate"]

MAX_LIMIT = 2000
_TRUE = {"true", "1"}
_FALSE = {"false", "0", ""}


@dataclass(frozen=True)
class Page:
    items: list[Any]
    links: list[dict[str, str]]


def _limit(request: HttpRequest) -> int | None:
    raw = request.GET.get("limit")
    if raw is None or raw == "":
        return None
    try:
        limit = int(raw)
    except ValueError:
        limit = -1
    if not 0 <= limit <= MAX_LIMIT:
        raise bad_request("limit", f"Limit must be an integer between 0 and {MAX_LIMIT}, not '{raw}'")
    return limit or None


def _reverse(request: HttpRequest) -> bool:
    raw = request.GET.get("page_reverse", "").lower()
    if raw not in _TRUE | _FALSE:
        raise bad_request("page_reverse", f"'{raw}' is not a boolean")
    return raw in _TRUE


def _href(request: HttpRequest, *, limit: int, marker: str, reverse: bool) -> str:
    params = [(k, v) for k in request.GET for v in request.GET.getlist(k) if k not in ("limit", "marker")]
    params = [(k, v) for k, v in params if k != "page_reverse"]
    params += [("limit", str(limit)), ("marker", marker)]
    if reverse:
        params.append(("page_reverse", "True"))
    return f"{request.build_absolute_uri(request.path)}?{urlencode(params)}"


def paginate(
    request: HttpRequest, *, visible: QuerySet, filtered: QuerySet, key: str, collection: str
) -> Page:
    """One page of ``filtered`` (a subset of ``visible``, where markers are looked up) by ``key``."""
    limit = _limit(request)
    reverse = _reverse(request)
    queryset = filtered.order_by(f"-{key}" if reverse else key)
    raw_marker = request.GET.get("marker")
    if raw_marker:
        marker = parse_uuid(raw_marker)
        if marker is None or not visible.filter(**{key: marker}).exists():
            raise bad_request(collection, f"marker '{raw_marker}' does not refer to an item of the list")
        queryset = queryset.filter(**{f"{key}__lt" if reverse else f"{key}__gt": marker})
    size = limit or MAX_LIMIT
    items: list[Model] = list(queryset[: size + 1])
    more = len(items) > size
    items = items[:size]
    if reverse:
        items.reverse()
    links = []
    if limit and more:
        edge = items[0] if reverse else items[-1]
        links.append(
            {
                "rel": "previous" if reverse else "next",
                "href": _href(request, limit=limit, marker=str(getattr(edge, key)), reverse=reverse),
            }
        )
    return Page(items=items, links=links)
