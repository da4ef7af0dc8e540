"""``manage.py seed_demo [--json]``: the demo accounts, tenants, users and tokens."""

from __future__ import annotations

import json
from typing import Any

from django.apps import apps
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Create the demo cloud accounts (in the simulator) and the matching portal tenants and users."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--json", action="store_true", help="Print everything made as one JSON document.")

    def handle(self, *args: Any, **options: Any) -> None:
        if not apps.is_installed("vpcsim"):
            raise CommandError("seed_demo needs the embedded simulator: set VPC_SIMULATOR_ENABLED=true.")
        from demo.seed import seed

        world = seed()
        if options["json"]:
            self.stdout.write(json.dumps(world, indent=2))
            return
        for account in world["accounts"]:
            for project in account["projects"]:
                vpcs = ", ".join(f"{v['name']} {v['cidr']}" for v in project["vpcs"])
                self.stdout.write(f"project {project['name']} ({account['name']}): {vpcs}")
        for user in world["users"]:
            roles = ", ".join(f"{r['role']} of {r['tenant']}" for r in user["roles"])
            self.stdout.write(f"user {user['username']} / {user['password']}: {roles}")
        self.stdout.write(self.style.SUCCESS("Demo data ready (seed_demo --json prints keys and tokens)."))
