"""``manage.py sync_peerings``: refresh every open peering from the cloud.

The same work as the ``peerings.sync_peerings`` Celery task (:func:`peerings.jobs.sync_open_peerings`),
under the same lease: it refuses to run while the task (or another sync) is running.
``--enqueue`` hands the run to the Celery workers instead.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from ops.locks import job_lock
from peerings.jobs import sync_open_peerings
from peerings.models import Tenant
from peerings.tasks import SYNC_LOCK, enqueue, lease_ttl
from peerings.tasks import sync_peerings as sync_task


class Command(BaseCommand):
    help = (
        "Refresh every open peering (submitting, pending acceptance, active) from the cloud. "
        "A peering that fails is reported and skipped; the command then exits with an error."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--tenant", help="Only peerings requested by, or addressed to, this tenant (name)."
        )
        parser.add_argument(
            "--enqueue", action="store_true", help="Queue the sync for the Celery workers and return."
        )

    def handle(self, *args: Any, tenant: str | None = None, **options: Any) -> None:
        if options.get("enqueue"):
            if tenant is not None:
                raise CommandError("--enqueue syncs every tenant; drop --tenant.")
            enqueue(sync_task)
            self.stdout.write("Sync queued.")
            return
        found = None
        if tenant is not None:
            found = Tenant.objects.filter(name=tenant).first()
            if found is None:
                raise CommandError(f"No tenant is called {tenant!r}.")

        with job_lock(SYNC_LOCK, ttl=lease_ttl()) as lease:
            if lease is None:
                raise CommandError("Another sync is running (its lease is held); try again later.")
            report = sync_open_peerings(tenant=found, on_each=lease.heartbeat)

        for line in report.changes:
            self.stdout.write(line)
        for line in report.failures:
            self.stderr.write(line)
        if report.counts["failed"] or report.counts["routes_failed"]:
            self.stderr.write(report.summary())
            raise CommandError(
                f"{report.counts['failed']} peering(s) could not be refreshed, "
                f"the routes of {report.counts['routes_failed']} could not be read."
            )
        self.stdout.write(self.style.SUCCESS(report.summary()))
