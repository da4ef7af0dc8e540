"""``manage.py backup_drill [--dump-file PATH] [--keep]``: back up, restore afresh, prove the copy works.

See :mod:`ops.backup`. Exits non-zero when the dump, the restore or any comparison fails.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from ops import runs
from ops.backup import DrillFailed, drill


class Command(BaseCommand):
    help = (
        "Dump the PostgreSQL database (pg_dump), restore it into a fresh database (pg_restore) and "
        "check the copy: row counts, history rows, encrypted keys, migrations. The live database "
        "is only read."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--dump-file", type=Path, help="Write the dump here and keep it (else a temp file)."
        )
        parser.add_argument("--keep", action="store_true", help="Keep the restored database for inspection.")

    def handle(self, *args: Any, dump_file: Path | None = None, keep: bool = False, **options: Any) -> None:
        try:
            with runs.track("backup_drill"):
                report = drill(dump_file=dump_file, keep=keep)
        except DrillFailed as exc:
            raise CommandError(f"Backup drill failed: {exc}") from exc
        self.stdout.write(self.style.SUCCESS(f"Backup drill passed. {report.summary()}"))
        if keep:
            self.stdout.write(f"The restored database {report.database} was kept.")
        if dump_file is not None:
            self.stdout.write(f"The dump is in {report.dump_file}.")
