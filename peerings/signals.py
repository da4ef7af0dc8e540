"""The peerings app's hooks: what happened, for the work that follows it.

Sent inside the workflow's transaction, so a receiver's writes commit or roll back with the
change; work outside the database (jobs, e-mails, webhooks) is queued by the receivers to run
after the commit. Receivers: :mod:`peerings.receivers` (the routes a request asked for) and
:mod:`notifications.outbox` (events, e-mails, webhooks).
"""

from __future__ import annotations

from django.dispatch import Signal

__all__ = ["pending_expiring", "status_changed"]

#: A peering's status moved: ``change`` (the new :class:`~peerings.models.StatusChange`),
#: sent by :func:`peerings.history.record_status_change`.
status_changed = Signal()

#: The expire job's report: ``peerings`` pending near their deadline and ``expired`` ones
#: (:func:`peerings.jobs.notify_pending_expiring`).
pending_expiring = Signal()
