"""The Celery app: configured from Django's settings (``CELERY_*``), tasks found in the apps.

``celery -A portal worker`` runs the jobs, ``celery -A portal beat`` queues the periodic ones.
Without ``CELERY_BROKER_URL`` tasks run in-process at once (eager), after the transaction
that queued them commits (see :func:`peerings.tasks.enqueue`).
"""

from __future__ import annotations

import contextlib
import os

from celery import Celery
from celery.signals import task_postrun, task_prerun

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

app = Celery("portal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

_tokens: dict[str, object] = {}


@task_prerun.connect
def _set_correlation_id(task_id: str | None = None, task=None, **kwargs) -> None:
    """A task runs under the correlation id of the request that queued it, else its own id."""
    from ops import correlation

    queued_by = getattr(task.request, correlation.TASK_HEADER, None) if task is not None else None
    if correlation.is_sane(queued_by):
        cid = queued_by
    else:  # an eager run keeps the id of the request it runs in
        cid = correlation.current() or (task_id or correlation.new()).replace("-", "")
    _tokens[task_id or ""] = correlation.set_current(cid)


@task_postrun.connect
def _reset_correlation_id(task_id: str | None = None, **kwargs) -> None:
    from ops import correlation

    token = _tokens.pop(task_id or "", None)
    if token is not None:
        with contextlib.suppress(ValueError):  # set in another context (an eager run in a request)
            correlation.reset(token)
