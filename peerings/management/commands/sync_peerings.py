"""``manage.py sync_peerings``: refresh every open peering from the cloud."""

from __future__ import annotations

import logging
from collections import Counter
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db.models import Q

from peerings.choices import ChangeSource
from peerings.exceptions import InvalidState, PortalError
from peerings.models import Peering, Tenant
from peerings.workflow import peering_refresh

logger = logging.getLogger("peerings.sync")


class Command(BaseCommand):
    help = (
        "Refresh every open peering (submitting, pending acceptance, active) from the cloud. "
        "A peering that fails is reported and skipped; the command then exits with an error."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--tenant", help="Only peerings requested by, or addressed to, this tenant (name)."
        )

    def handle(self, *args: Any, tenant: str | None = None, **options: Any) -> None:
        peerings = Peering.objects.open().select_related("requester_tenant", "accepter_tenant").order_by("pk")
        if tenant is not None:
            found = Tenant.objects.filter(name=tenant).first()
            if found is None:
                raise CommandError(f"No tenant is called {tenant!r}.")
            peerings = peerings.filter(Q(requester_tenant=found) | Q(accepter_tenant=found))

        counts: Counter[str] = Counter()
        for peering in peerings:
            before = peering.status
            try:
                peering = peering_refresh(peering=peering, acting_user=None, source=ChangeSource.SYNC)
            except InvalidState as exc:  # an operation is in flight, or it closed meanwhile: next run
                counts["skipped"] += 1
                self.stdout.write(f"{peering.name}: skipped, {exc}")
                continue
            except PortalError as exc:
                counts["failed"] += 1
                self.stderr.write(f"{peering.name} ({peering.upstream_id or 'no cloud id'}): {exc}")
                continue
            except Exception as exc:  # one broken peering must not stop the others
                counts["failed"] += 1
                logger.exception("refreshing peering %s failed", peering.pk)
                self.stderr.write(f"{peering.name} ({peering.upstream_id or 'no cloud id'}): {exc!r}")
                continue
            if peering.status != before:
                counts["changed"] += 1
                self.stdout.write(f"{peering.name}: {before} -> {peering.status}")
            else:
                counts["unchanged"] += 1

        total = sum(counts.values())
        skipped = f" {counts['skipped']} skipped: an operation was in flight." if counts["skipped"] else ""
        summary = (
            f"Refreshed {total} peering(s): {counts['changed']} changed, "
            f"{counts['unchanged']} unchanged, {counts['failed']} failed."
        )
        summary += skipped
        if counts["failed"]:
            self.stderr.write(summary)
            raise CommandError(f"{counts['failed']} peering(s) could not be refreshed.")
        self.stdout.write(self.style.SUCCESS(summary))
