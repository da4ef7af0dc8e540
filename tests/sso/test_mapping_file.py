"""Group mappings as code: ``manage.py load_group_mappings`` with a JSON or TOML file."""

from __future__ import annotations

import json

import pytest
from django.core.management import CommandError, call_command

from peerings.choices import Role
from sso.models import GroupMapping
from tests.factories import TenantFactory

pytestmark = pytest.mark.django_db


def mappings() -> set[tuple[str, str, str]]:
    return {(m.group, m.tenant.name, m.role) for m in GroupMapping.objects.select_related("tenant")}


def test_a_toml_file_replaces_every_mapping(tmp_path):
    acme = TenantFactory(name="Acme")
    TenantFactory(name="Globex", project_id="globex-main")
    GroupMapping.objects.create(group="old-group", tenant=acme, role=Role.MEMBER)
    path = tmp_path / "groups.toml"
    path.write_text(
        '[[mappings]]\ngroup = "acme-devs"\ntenant = "Acme"\n\n'
        '[[mappings]]\ngroup = "globex-approvers"\ntenant = "globex-main"\nrole = "approver"\n'
    )
    call_command("load_group_mappings", str(path))
    assert mappings() == {("acme-devs", "Acme", "member"), ("globex-approvers", "Globex", "approver")}


def test_a_json_file_with_an_unknown_tenant_changes_nothing(tmp_path):
    acme = TenantFactory(name="Acme")
    GroupMapping.objects.create(group="acme-devs", tenant=acme, role=Role.MEMBER)
    path = tmp_path / "groups.json"
    path.write_text(json.dumps({"mappings": [{"group": "x", "tenant": "Nobody", "role": "approver"}]}))
    with pytest.raises(CommandError, match="mapping 1: no tenant named 'Nobody'"):
        call_command("load_group_mappings", str(path))
    assert mappings() == {("acme-devs", "Acme", "member")}


def test_an_unknown_role_is_refused(tmp_path):
    TenantFactory(name="Acme")
    path = tmp_path / "groups.json"
    path.write_text(json.dumps({"mappings": [{"group": "x", "tenant": "Acme", "role": "owner"}]}))
    with pytest.raises(CommandError, match="role 'owner' is not one of member, approver"):
        call_command("load_group_mappings", str(path))
