"""``manage.py purge_idempotency_keys [--hours N]``: delete Idempotency-Key records past their retention."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand

from peerings.jobs import purge_idempotency_keys


class Command(BaseCommand):
    help = "Delete stored Idempotency-Key answers older than IDEMPOTENCY_RETENTION_HOURS (default 24)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--hours", type=int, help="Keep this many hours instead of the setting.")

    def handle(self, *args: Any, **options: Any) -> None:
        retention = timedelta(hours=options["hours"]) if options["hours"] is not None else None
        deleted = purge_idempotency_keys(retention=retention)
        self.stdout.write(f"{deleted} idempotency record(s) deleted.")
