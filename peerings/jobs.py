"""The background jobs' work, shared by the Celery tasks and ``manage.py sync_peerings``.

Both jobs change peerings only through :func:`peerings.workflow.peering_refresh` (as the
sync, ``acting_user=None``); neither talks to the cloud itself. Both are idempotent: running
one twice re-reads the same peerings and changes nothing more. Locking (one run at a time)
is the caller's business (:mod:`peerings.tasks` and the command take the same lease).
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db.models import Q, QuerySet
from django.utils import timezone

from peerings import access, leases
from peerings.choices import OPEN_STATUSES, TERMINAL_STATUSES, ChangeSource, PeeringStatus, RouteSide
from peerings.exceptions import CloudUnavailable, InvalidState, PortalError
from peerings.history import settle_lost_calls
from peerings.models import IdempotencyKey, Peering, Tenant
from peerings.routes.workflow import routes_sync
from peerings.rules import expiry
from peerings.rules.limits import IDEMPOTENCY_STALE_AFTER
from peerings.signals import pending_expiring
from peerings.workflow import peering_refresh

__all__ = [
    "JobReport",
    "expire_and_report_pending",
    "notify_pending_expiring",
    "peerings_to_sync",
    "pending_expiring",
    "purge_idempotency_keys",
    "sync_open_peerings",
]

logger = logging.getLogger("peerings.jobs")

OUTCOMES = ("changed", "unchanged", "failed")


@dataclass
class JobReport:
    """What one run did: counts per outcome and a line per change or failure."""

    job: str
    counts: Counter = field(default_factory=Counter)
    changes: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    unavailable: int = 0

    @property
    def total(self) -> int:
        return sum(self.counts[k] for k in ("changed", "unchanged", "failed"))

    def summary(self) -> str:
        skipped = self.counts["skipped"]
        routes = self.counts["routes_changed"], self.counts["routes_failed"]
        return (
            (
                f"Refreshed {self.total} peering(s): {self.counts['changed']} changed, "
                f"{self.counts['unchanged']} unchanged, {self.counts['failed']} failed."
            )
            + (f" {skipped} skipped: an operation was in flight." if skipped else "")
            + (
                f" {self.counts['calls_lost']} call(s) whose outcome was never recorded."
                if self.counts["calls_lost"]
                else ""
            )
            + (
                f" Routes: {routes[0]} changed outside the portal, {routes[1]} peering(s) not read."
                if any(routes)
                else ""
            )
        )


def _refresh_each(
    job: str, peerings: Iterable[Peering], *, on_each: Callable[[], object] | None = None
) -> tuple[JobReport, list[Peering]]:
    """Refresh every peering through the workflow; one failure never stops the others."""
    report = JobReport(job)
    refreshed: list[Peering] = []
    for peering in peerings:
        if on_each is not None:
            on_each()  # the lease's heartbeat: raises if this run lost its lease
        before = peering.status
        label = f"{peering.name} ({peering.upstream_id or 'no cloud id'})"
        try:
            peering = peering_refresh(peering=peering, acting_user=None, source=ChangeSource.SYNC)
        except CloudUnavailable as exc:
            report.counts["failed"] += 1
            report.unavailable += 1
            report.failures.append(f"{label}: {exc}")
            continue
        except InvalidState as exc:  # an operation is in flight, or it closed meanwhile: the next run
            report.counts["skipped"] += 1
            report.changes.append(f"{peering.name}: skipped, {exc}")
            continue
        except PortalError as exc:
            report.counts["failed"] += 1
            report.failures.append(f"{label}: {exc}")
            continue
        except Exception as exc:  # one broken peering must not stop the others
            report.counts["failed"] += 1
            logger.exception("refreshing peering %s failed", peering.pk, extra={"job": job})
            report.failures.append(f"{label}: {exc!r}")
            continue
        refreshed.append(peering)
        if peering.status != before:
            report.counts["changed"] += 1
            report.changes.append(f"{peering.name}: {before} -> {peering.status}")
        else:
            report.counts["unchanged"] += 1
    return report, refreshed


def _log(report: JobReport, **extra: object) -> None:
    level = logging.WARNING if report.counts["failed"] else logging.INFO
    logger.log(
        level,
        "%s: %s",
        report.job,
        report.summary(),
        extra={"job": report.job, **{k: report.counts[k] for k in OUTCOMES}, **extra},
    )


def _on_either_side(tenant: Tenant) -> Q:
    """The tenant's peerings, whichever side it is on (the sync's scope, not what anyone sees)."""
    return access.on_side(RouteSide.REQUESTER, [tenant.pk]) | access.on_side(RouteSide.ACCEPTER, [tenant.pk])


def open_peerings(tenant: Tenant | None = None) -> QuerySet[Peering]:
    """The peerings the cloud may change: open ones, except those held for approval (not sent yet)."""
    peerings = (
        Peering.objects.open()
        .exclude(status=PeeringStatus.AWAITING_APPROVAL)
        .select_related("requester_tenant", "accepter_tenant")
        .order_by("pk")
    )
    if tenant is not None:
        peerings = peerings.filter(_on_either_side(tenant))
    return peerings


def peerings_to_sync(tenant: Tenant | None = None) -> QuerySet[Peering]:
    """What the sync re-reads: the open peerings (:func:`open_peerings`) and every peering, open or
    closed, whose last operation's outcome is unknown: its lease ran out without being given
    back (an answer lost, or one the database could not take), e.g. a delete of a ``REJECTED``
    or ``EXPIRED`` peering whose answer was lost. Terminal peerings are left: nothing follows."""
    unsettled = Q(inflight_until__lte=timezone.now()) & ~Q(inflight_token="")
    unsettled &= ~Q(status__in=TERMINAL_STATUSES)
    peerings = (
        Peering.objects.filter(Q(status__in=OPEN_STATUSES) | unsettled)
        .exclude(status=PeeringStatus.AWAITING_APPROVAL)
        .select_related("requester_tenant", "accepter_tenant")
        .order_by("pk")
    )
    if tenant is not None:
        peerings = peerings.filter(_on_either_side(tenant))
    return peerings


def sync_open_peerings(
    *, tenant: Tenant | None = None, on_each: Callable[[], object] | None = None
) -> JobReport:
    """Re-read every open peering (or one tenant's), and every one whose last operation's outcome
    is unknown (:func:`peerings_to_sync`), from the cloud through the workflow, and the routes of
    the active ones (:func:`sync_routes`).

    First, call rows still ``sending`` after the longest a call can take are marked ``lost``
    (:func:`peerings.history.settle_lost_calls`): their outcome could not be written. Their
    peering's lease was not given back either, so it is among those re-read.
    """
    before = timezone.now() - timedelta(seconds=leases.call_bound())
    lost = settle_lost_calls(before)
    report, refreshed = _refresh_each("sync_peerings", peerings_to_sync(tenant), on_each=on_each)
    report.counts["calls_lost"] = lost
    sync_routes(report, [p for p in refreshed if p.status == PeeringStatus.ACTIVE], on_each=on_each)
    _log(report)
    return report


def sync_routes(
    report: JobReport, peerings: Iterable[Peering], *, on_each: Callable[[], object] | None = None
) -> None:
    """Re-read each active peering's routes on both sides and record those added or removed outside
    the portal (:func:`peerings.routes.workflow.routes_sync`); one failure never stops the others."""
    for peering in peerings:
        if on_each is not None:
            on_each()
        try:
            lines = routes_sync(peering=peering)
        except PortalError as exc:
            report.counts["routes_failed"] += 1
            report.unavailable += isinstance(exc, CloudUnavailable)
            report.failures.append(f"{peering.name} ({peering.upstream_id}) routes: {exc}")
            continue
        except Exception as exc:
            report.counts["routes_failed"] += 1
            logger.exception("reading the routes of peering %s failed", peering.pk, extra={"job": report.job})
            report.failures.append(f"{peering.name} ({peering.upstream_id}) routes: {exc!r}")
            continue
        report.counts["routes_changed"] += len(lines)
        report.changes += lines


def notify_pending_expiring(*, peerings: list[Peering], expired: list[Peering]) -> None:
    """The notification hook: today it logs and sends :data:`pending_expiring`.

    A later issue connects e-mail (or chat) notifications to that signal; nothing here
    needs to change for it.
    """
    for peering in peerings:
        logger.info(
            "peering %s (%s) expires soon without a decision",
            peering.name,
            peering.upstream_id,
            extra={"job": "expire_pending", "peering_id": peering.pk, "tenant": peering.accepter_tenant_id},
        )
    pending_expiring.send(sender=Peering, peerings=peerings, expired=expired)


def pending_near_expiry(now=None) -> QuerySet[Peering]:
    """Pending peerings whose cloud expiry is past or within ``PENDING_EXPIRY_WARNING_SECONDS``."""
    now = now or timezone.now()
    horizon = expiry.warned_if_created_before(now)  # created before this -> expires before now + warning
    return (
        Peering.objects.filter(status=PeeringStatus.PENDING_ACCEPTANCE)
        .filter(
            Q(upstream_created_at__lte=horizon) | Q(upstream_created_at__isnull=True, created_at__lte=horizon)
        )
        .select_related("requester_tenant", "accepter_tenant")
        .order_by("pk")
    )


def expire_and_report_pending(*, on_each: Callable[[], object] | None = None) -> JobReport:
    """Re-read pending peerings past or near their cloud expiry; log the counts; call the hook."""
    report, refreshed = _refresh_each("expire_pending", pending_near_expiry(), on_each=on_each)
    expired = [p for p in refreshed if p.status == PeeringStatus.EXPIRED]
    expiring = [p for p in refreshed if p.status == PeeringStatus.PENDING_ACCEPTANCE]
    report.counts["expired"] = len(expired)
    report.counts["expiring"] = len(expiring)
    _log(report, expired=len(expired), expiring=len(expiring))
    if expired or expiring:
        notify_pending_expiring(peerings=expiring, expired=expired)
    return report


def purge_idempotency_keys(*, now: Any = None, retention: timedelta | None = None) -> int:
    """Delete the stored ``Idempotency-Key`` answers older than the retention (never one younger
    than :data:`~peerings.rules.limits.IDEMPOTENCY_STALE_AFTER`: its request may still run); how many."""
    retention = max(retention or settings.IDEMPOTENCY_RETENTION, IDEMPOTENCY_STALE_AFTER)
    cutoff = (now or timezone.now()) - retention
    deleted, _ = IdempotencyKey.objects.filter(created_at__lt=cutoff).delete()
    return deleted
