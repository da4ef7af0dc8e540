"""Send the deliveries that are due again (the ``notifications.redeliver`` sweep, from cron)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from notifications.tasks import redeliver


class Command(BaseCommand):
    help = "Retry the e-mail and webhook deliveries that are due (or whose worker died)."

    def handle(self, *args: Any, **options: Any) -> None:
        result = redeliver.apply().get()
        self.stdout.write(f"Redelivered {result['events']} event(s).")
