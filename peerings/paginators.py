"""A page-number paginator that counts at most ``COUNT_LIMIT`` rows, for the HTML pages and admin.

Counting every row of a large table on each page was most of a list page's time. The count
stops at the limit (``capped`` says so; templates show "1000+"); a page beyond it counts
exactly, so every page stays reachable.
"""

from __future__ import annotations

from functools import cached_property
from typing import Any

from django.core.paginator import Paginator

__all__ = ["COUNT_LIMIT", "CappedCountPaginator"]

COUNT_LIMIT = 1000


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
        """A page beyond the cap counts every row first (``page`` and ``get_page`` both ask here)."""
        self.count  # noqa: B018 - sets ``capped``
        if self.capped:
            try:
                wanted = int(number)
            except (TypeError, ValueError):
                wanted = 1
            if wanted * self.per_page > self.count_limit:  # beyond the cap: count them all
                self.__dict__["count"] = self._count(None)
                self.__dict__.pop("num_pages", None)
                self.capped = False
        return super().validate_number(number)
