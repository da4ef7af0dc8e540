"""Template context for every page: how many peerings wait for the user's decision (the nav's count)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from peerings import selectors

#: The navigation counts up to this many ("99+" beyond): a count of every waiting row grew with them.
COUNT_LIMIT = 99


def _count(request: HttpRequest) -> int | str:
    waiting = selectors.awaiting_decision(request.user, roles=selectors.request_roles(request))
    counted = waiting.order_by()[: COUNT_LIMIT + 1].count()
    return f"{COUNT_LIMIT}+" if counted > COUNT_LIMIT else counted


def decision_queue(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if not getattr(user, "is_authenticated", False):
        return {}
    # Lazy: counted only by a page that shows the navigation.
    return {"decision_queue_count": SimpleLazyObject(lambda: _count(request))}
