"""Background jobs on Celery: sync open peerings, expire and report pending ones.

Each task takes the job's database lease (:mod:`ops.locks`) so two runs never overlap, on
any number of workers or beside ``manage.py sync_peerings``; a run that finds it taken ends
at once (the run holding it does the work). Tasks are idempotent; when the cloud was
unavailable for some peering they are retried with exponential backoff (the peerings that
did refresh are simply re-read next time). Code that queues a task uses :func:`enqueue`,
which sends it only after the current transaction commits.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from celery import shared_task
from django.conf import settings
from django.db import transaction

from ops import after_response, correlation, runs
from ops.locks import job_lock
from peerings import jobs
from peerings.choices import ChangeSource
from peerings.exceptions import CloudUnavailable, OperationInFlight, PortalError
from peerings.jobs import JobReport, expire_and_report_pending, sync_open_peerings
from peerings.models import Peering
from peerings.routes.workflow import routes_apply

__all__ = [
    "EXPIRE_LOCK",
    "SYNC_LOCK",
    "apply_routes_on_accept",
    "enqueue",
    "expire_pending",
    "lease_ttl",
    "purge_idempotency_keys",
    "sync_peerings",
]

logger = logging.getLogger("peerings.tasks")

SYNC_LOCK = "sync_peerings"
EXPIRE_LOCK = "expire_pending"

RETRY = {
    "autoretry_for": (CloudUnavailable,),
    "retry_backoff": True,  # 1 s, 2 s, 4 s ... with jitter
    "retry_backoff_max": 600,
    "retry_jitter": True,
    "max_retries": 5,
    "acks_late": True,  # a worker lost mid-run leaves the task to another (it is idempotent)
}


def enqueue(task: Any, *args: Any, **kwargs: Any) -> None:
    """Queue ``task`` once the current transaction commits (at once outside of one).

    The task runs under the current request's correlation id; without a broker (tasks run
    eagerly, in-process) a request's tasks run after its response is sent.
    """
    headers = {correlation.TASK_HEADER: correlation.current()} if correlation.current() else {}

    def send() -> None:
        task.apply_async(args=args, kwargs=kwargs, headers=headers)

    def queue() -> None:
        # Without a broker the task runs in this process: after the response, within a request.
        if not (settings.CELERY_TASK_ALWAYS_EAGER and after_response.defer(send)):
            send()

    # robust: a broker that is down is logged, never turned into an error of the committed request.
    transaction.on_commit(queue, robust=True)


def lease_ttl() -> timedelta:
    return timedelta(seconds=settings.JOB_LOCK_TTL_SECONDS)


def _run(name: str, work: Any) -> dict[str, Any]:
    with job_lock(name, ttl=lease_ttl()) as lease:
        if lease is None:
            return {"skipped": "another run holds the lease"}
        report: JobReport = work(on_each=lease.heartbeat)
        if report.unavailable:  # inside the lease's block: the run is recorded as failed
            raise CloudUnavailable(f"{name}: the cloud was unavailable for {report.unavailable} peering(s)")
    return dict(report.counts)


@shared_task(name="peerings.sync_peerings", **RETRY)
def sync_peerings() -> dict[str, Any]:
    """Re-read every open peering from the cloud (see :func:`peerings.jobs.sync_open_peerings`)."""
    return _run(SYNC_LOCK, sync_open_peerings)


@shared_task(name="peerings.expire_pending", **RETRY)
def expire_pending() -> dict[str, Any]:
    """Re-read pending peerings near or past expiry; report (see :func:`expire_and_report_pending`)."""
    return _run(EXPIRE_LOCK, expire_and_report_pending)


@shared_task(name="peerings.purge_idempotency_keys")
def purge_idempotency_keys() -> dict[str, Any]:
    """Delete stored ``Idempotency-Key`` answers past their retention (idempotent: a DELETE by age)."""
    with runs.track("purge_idempotency_keys"):
        return {"deleted": jobs.purge_idempotency_keys()}


@shared_task(
    name="peerings.apply_routes_on_accept",
    **{**RETRY, "autoretry_for": (CloudUnavailable, OperationInFlight)},
)
def apply_routes_on_accept(peering_id: int, side: str) -> dict[str, Any]:
    """Add one side's routes to an accepted peering whose request asked for them, with that side's keys.

    Idempotent: routes already there are not sent again. A peering no longer active, or a plan
    with conflicts, is reported and left to its members (nothing is retried).
    """
    peering = Peering.objects.select_related("requester_tenant", "accepter_tenant").get(pk=peering_id)
    try:
        outcome = routes_apply(peering=peering, acting_user=None, side=side, source=ChangeSource.JOB)
    except (CloudUnavailable, OperationInFlight):
        raise
    except PortalError as exc:
        logger.warning(
            "routes on acceptance of peering %s (%s side) not applied: %s",
            peering_id,
            side,
            exc,
            extra={"job": "apply_routes_on_accept", "peering_id": peering_id},
        )
        return {"applied": 0, "refused": str(exc)}
    return {"applied": len(outcome.applied), "existing": len(outcome.existing)}
