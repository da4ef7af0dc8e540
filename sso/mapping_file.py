"""Group mappings as code: a JSON or TOML file replacing the mapping table.

JSON::

    {"mappings": [{"group": "cloud-globex-approvers", "tenant": "Globex", "role": "approver"}]}

TOML::

    [[mappings]]
    group = "cloud-globex-approvers"
    tenant = "Globex"          # the tenant's name, or its project id
    role = "approver"          # member | approver

The file is the whole truth: rows it does not list are deleted. Memberships change at each
user's next sign-in, not when the file is loaded.
"""

from __future__ import annotations

import json
import tomllib
from dataclasses import dataclass
from pathlib import Path

from django.db import transaction
from django.db.models import Q

from peerings.choices import Role
from peerings.models import Tenant
from sso.models import GroupMapping

__all__ = ["MappingFileError", "load_mappings", "parse_mappings"]


class MappingFileError(ValueError):
    """The file cannot be loaded; the message names the entry."""


@dataclass(frozen=True)
class Entry:
    group: str
    tenant: Tenant
    role: str


def parse_mappings(path: Path) -> list[Entry]:
    """The file's entries, each with its tenant found; any problem raises MappingFileError."""
    text = path.read_text(encoding="utf-8")
    try:
        document = tomllib.loads(text) if path.suffix == ".toml" else json.loads(text)
    except (tomllib.TOMLDecodeError, json.JSONDecodeError) as exc:
        raise MappingFileError(
            f"{path.name} is not valid {path.suffix.lstrip('.') or 'JSON'}: {exc}"
        ) from exc
    rows = document.get("mappings") if isinstance(document, dict) else None
    if not isinstance(rows, list):
        raise MappingFileError(f"{path.name} must hold a list named 'mappings'")
    entries = []
    for number, row in enumerate(rows, start=1):
        if not isinstance(row, dict) or not {"group", "tenant"} <= row.keys():
            raise MappingFileError(f"mapping {number} needs a group and a tenant")
        role = row.get("role", Role.MEMBER)
        if role not in Role.values:
            raise MappingFileError(f"mapping {number}: role {role!r} is not one of {', '.join(Role.values)}")
        tenants = list(Tenant.objects.filter(Q(name=row["tenant"]) | Q(project_id=row["tenant"]))[:2])
        if len(tenants) != 1:
            found = "no tenant" if not tenants else "several tenants"
            raise MappingFileError(f"mapping {number}: {found} named {row['tenant']!r}")
        entries.append(Entry(group=str(row["group"]), tenant=tenants[0], role=role))
    return entries


def load_mappings(path: Path) -> tuple[int, int]:
    """Replace every mapping with the file's; returns (rows written, rows deleted)."""
    entries = parse_mappings(path)
    with transaction.atomic():
        kept = []
        for entry in entries:
            mapping, _ = GroupMapping.objects.update_or_create(
                group=entry.group, tenant=entry.tenant, defaults={"role": entry.role}
            )
            kept.append(mapping.pk)
        deleted, _ = GroupMapping.objects.exclude(pk__in=kept).delete()
    return len(kept), deleted
