"""A page-number paginator that counts only as far as it needs, for the pages, the admin and the API.

Counting every row of a large table on each page was most of a list page's time. The count stops
at ``COUNT_LIMIT`` (``capped`` says so; templates show "1000+", the API ``count_capped``); a page
at or beyond it counts to the end of that page and one row more (so it exists, and a next one shows
when there are more rows), never the whole table: a deep page costs its depth, not the table's size.
"""

from __future__ import annotations

from functools import cached_property
from typing import Any

from django.core.paginator import Paginator

from peerings.rules.limits import COUNT_LIMIT

__all__ = ["COUNT_LIMIT", "CappedCountPaginator"]


class CappedCountPaginator(Paginator):
    count_limit = COUNT_LIMIT

    @cached_property
    def count(self) -> int:
        counted = self._count(self.count_limit + 1)
        self.capped = counted > self.count_limit
        return min(counted, self.count_limit)

    capped = False

    def _count(self, limit: int | None) -> int:
        rows = self.object_list
        if not hasattr(rows, "query"):
            return len(rows) if limit is None else min(len(rows), limit)
        rows = rows.order_by().values("pk")
        return rows.count() if limit is None else rows[:limit].count()

    def validate_number(self, number: Any) -> int:
        """A page at or beyond the cap counts to its end and one row more, so the page exists and a
        next one shows when there are more rows (``page`` and ``get_page`` both ask here)."""
        self.count  # noqa: B018 - sets ``capped``
        if self.capped:
            try:
                wanted = max(1, int(number))
            except (TypeError, ValueError):
                wanted = 1
            reach = wanted * self.per_page
            if reach >= self.count_limit:
                limit = reach + 1
                counted = self._count(limit + 1)
                self.__dict__["count"] = min(counted, limit)
                self.__dict__.pop("num_pages", None)
                self.capped = counted > limit
        return super().validate_number(number)
