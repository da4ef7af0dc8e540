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

from django.conf import settings
from django.db.models import Q, QuerySet
from django.dispatch import Signal
from django.utils import timezone

from peerings.choices import ChangeSource, PeeringStatus
from peerings.exceptions import CloudUnavailable, InvalidState, PortalError
from peerings.models import Peering, Tenant
from peerings.workflow import peering_refresh

__all__ = [
    "JobReport",
    "expire_and_report_pending",
    "notify_pending_expiring",
    "pending_expiring",
    "sync_open_peerings",
]

logger = logging.getLogger("peerings.jobs")

OUTCOMES = ("changed", "unchanged", "failed")

#: Sent by :func:`expire_and_report_pending` with ``peerings`` (still pending, expiring within the
#: warning window) and ``expired`` (the ones that just expired). Notifications connect here.
pending_expiring = Signal()


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
        return (
            f"Refreshed {self.total} peering(s): {self.counts['changed']} changed, "
            f"{self.counts['unchanged']} unchanged, {self.counts['failed']} failed."
        ) + (f" {skipped} skipped: an operation was in flight." if skipped else "")


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


def open_peerings(tenant: Tenant | None = None) -> QuerySet[Peering]:
    """The peerings the cloud may change: open ones, except those held for approval (not sent yet)."""
    peerings = (
        Peering.objects.open()
        .exclude(status=PeeringStatus.AWAITING_APPROVAL)
        .select_related("requester_tenant", "accepter_tenant")
        .order_by("pk")
    )
    if tenant is not None:
        peerings = peerings.filter(Q(requester_tenant=tenant) | Q(accepter_tenant=tenant))
    return peerings


def sync_open_peerings(
    *, tenant: Tenant | None = None, on_each: Callable[[], object] | None = None
) -> JobReport:
    """Re-read every open peering (or one tenant's) from the cloud, through the workflow."""
    report, _ = _refresh_each("sync_peerings", open_peerings(tenant), on_each=on_each)
    _log(report)
    return report


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
    lifetime = timedelta(seconds=settings.PENDING_EXPIRY_SECONDS)
    warning = timedelta(seconds=settings.PENDING_EXPIRY_WARNING_SECONDS)
    horizon = now - lifetime + warning  # created before this -> expires before now + warning
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
