"""``manage.py load_group_mappings FILE``: replace the group mappings with a JSON or TOML file's."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from sso.mapping_file import MappingFileError, load_mappings


class Command(BaseCommand):
    help = "Replace the identity-provider group mappings with a JSON or TOML file's (sso/mapping_file.py)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", type=Path)

    def handle(self, *args, path: Path, **options) -> None:
        try:
            written, deleted = load_mappings(path)
        except (OSError, MappingFileError) as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"{written} group mapping(s) loaded, {deleted} removed.")
