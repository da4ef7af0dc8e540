"""Every length, count and size limit of the portal, defined once.

The simulator (``vpcsim``) keeps its own: it mirrors the cloud, not the portal.
"""

from __future__ import annotations

from datetime import timedelta

__all__ = [
    "API_MAX_PAGE_SIZE",
    "CLOUD_ID_MAX_LENGTH",
    "COUNT_LIMIT",
    "DESCRIPTION_MAX_LENGTH",
    "MAX_DESTINATIONS",
    "NAME_MAX_LENGTH",
    "NAV_COUNT_LIMIT",
    "PAGE_SIZE",
    "QUEUE_PAGE_SIZE",
    "REASON_MAX_LENGTH",
    "VPC_LABEL_MAX_LENGTH",
]

#: A peering's name, as the cloud allows it.
NAME_MAX_LENGTH = 64
#: A peering's description, as the cloud allows it.
DESCRIPTION_MAX_LENGTH = 255
#: The reason given with a decision (kept in the status history, read by the requester).
REASON_MAX_LENGTH = 1000
#: A cloud id (project, peering, route) as stored, and as a form or filter accepts one.
CLOUD_ID_MAX_LENGTH = 64
#: The copy of a VPC's name or CIDR block kept on a peering.
VPC_LABEL_MAX_LENGTH = 64
#: Lists count at most this many rows (then ``capped`` / ``count_capped`` says so).
COUNT_LIMIT = 1000
#: The navigation's count of requests waiting for a decision ("99+" beyond).
NAV_COUNT_LIMIT = 99
#: Rows per page of the peering list.
PAGE_SIZE = 25
#: Rows per page of the decision queue.
QUEUE_PAGE_SIZE = 50
#: The largest ``page_size`` the API serves.
API_MAX_PAGE_SIZE = 200
#: Route destinations in one request.
MAX_DESTINATIONS = 20

#: An ``Idempotency-Key`` reservation older than this belongs to a request that died: a retry may
#: take it over, and no purge removes a younger one.
IDEMPOTENCY_STALE_AFTER = timedelta(minutes=5)
