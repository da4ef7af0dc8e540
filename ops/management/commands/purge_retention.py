"""``manage.py purge_retention [--hours N]``: expired sessions and old simulator request-log rows."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from ops import retention, runs


class Command(BaseCommand):
    help = (
        "Delete expired sessions (as clearsessions) and simulator request-log rows older than "
        "VPCSIM_REQUEST_LOG_RETENTION_HOURS (24). The beat schedule runs the same job."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--hours", type=int, help="Keep this many hours of request log instead.")

    def handle(self, *args: Any, **options: Any) -> None:
        hours = options.get("hours")
        with runs.track("purge_retention"):
            deleted = retention.purge(
                request_log_retention=timedelta(hours=hours) if hours is not None else None
            )
        self.stdout.write(
            f"{deleted['sessions']} expired session(s), "
            f"{deleted['simulator_requests']} simulator request(s) deleted."
        )
