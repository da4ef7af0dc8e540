"""Template context for every page: whether the user approves for any tenant (the nav's queue link) and
how many peerings wait for their decision (its count)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from peerings import selectors
from peerings.choices import Role
from peerings.rules.limits import NAV_COUNT_LIMIT

#: The navigation counts up to this many ("99+" beyond): a count of every waiting row grew with them.
COUNT_LIMIT = NAV_COUNT_LIMIT


def _count(request: HttpRequest) -> int | str:
    waiting = selectors.awaiting_decision(request.user, roles=selectors.request_roles(request))
    counted = waiting.order_by()[: COUNT_LIMIT + 1].count()
    return f"{COUNT_LIMIT}+" if counted > COUNT_LIMIT else counted


def decision_queue(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if not getattr(user, "is_authenticated", False):
        return {}
    # Lazy: read only by a page that shows the navigation (the roles once per request).
    return {
        "approves_for_a_tenant": SimpleLazyObject(
            lambda: Role.APPROVER in selectors.request_roles(request).values()
        ),
        "decision_queue_count": SimpleLazyObject(lambda: _count(request)),
    }
