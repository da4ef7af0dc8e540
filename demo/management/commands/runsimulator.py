"""``manage.py runsimulator [addr:port]``: the VPC API simulator alone, on its own port (development).

Production-like serving of the simulator is ``gunicorn portal.simulator_wsgi``; both need
``VPC_SIMULATOR_ENABLED=true``. Point the portal at it with ``VPC_API_ENDPOINT``.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.core.servers.basehttp import run

from portal.devserver import NoDelayWSGIServerBase
from portal.simulator import SimulatorWSGIHandler


class Command(BaseCommand):
    help = "Serve the VPC API simulator alone (needs VPC_SIMULATOR_ENABLED=true)."
    requires_system_checks = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("addrport", nargs="?", default="127.0.0.1:8001", help="host:port")

    def handle(self, *args: Any, addrport: str, **options: Any) -> None:
        host, _, port = addrport.rpartition(":")
        if not port.isdigit():
            raise CommandError(f"{addrport!r} is not host:port")
        try:
            handler = SimulatorWSGIHandler()
        except ImproperlyConfigured as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"VPC API simulator on http://{host or '127.0.0.1'}:{port}/ (Ctrl-C stops it)")
        run(host or "127.0.0.1", int(port), handler, threading=True, server_cls=NoDelayWSGIServerBase)
