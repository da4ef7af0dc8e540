"""``seed_demo``: idempotent, complete, and its keys really work against the simulator."""

import json
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from accounts.models import ApiToken
from peerings.models import Membership, Tenant
from peerings.upstream import tenant_client

pytestmark = pytest.mark.django_db


def _seed_json() -> dict:
    out = StringIO()
    call_command("seed_demo", "--json", stdout=out)
    return json.loads(out.getvalue())


def test_seed_twice_creates_nothing_new_and_reports_the_same_world():
    first = _seed_json()
    counts = (Tenant.objects.count(), Membership.objects.count(), get_user_model().objects.count())
    second = _seed_json()
    assert (Tenant.objects.count(), Membership.objects.count(), get_user_model().objects.count()) == counts
    assert first == second
    assert counts == (4, 11, 5)


def test_json_describes_accounts_keys_vpcs_users_and_tokens():
    world = _seed_json()
    assert {a["name"] for a in world["accounts"]} == {"acme", "globex"}
    acme = next(a for a in world["accounts"] if a["name"] == "acme")
    assert acme["access_key"]
    assert len(acme["secret_key"]) == 40
    cidrs = [v["cidr"] for a in world["accounts"] for p in a["projects"] for v in p["vpcs"]]
    assert cidrs.count("10.10.0.0/16") == 2, "the demo carries one identical-CIDR pair on purpose"
    alice = next(u for u in world["users"] if u["username"] == "alice")
    assert ApiToken.objects.find(alice["token"]).user.username == "alice"
    assert get_user_model().objects.get(username="alice").check_password(alice["password"])
    assert {r["tenant"] for r in alice["roles"]} == {"Acme Production", "Acme Development", "Acme Staging"}
    policies = {t["name"]: (t["approval_policy"], t["org_unit"]) for t in world["tenants"]}
    assert policies["Acme Staging"] == ("hold", "Acme")
    assert policies["Globex"] == ("forward", "")
    assert Tenant.objects.get(name="Acme Staging").auto_approve_same_org_unit
    # bob is the demo's staff approver: the "Approvers" group opens the admin for him
    staff = {u["username"] for u in world["users"] if u["is_staff"] and not u["is_superuser"]}
    assert staff == {"bob"}
    assert get_user_model().objects.get(username="bob").groups.filter(name="Approvers").exists()


def test_tenant_keys_are_the_accounts_keys():
    world = _seed_json()
    globex = next(a for a in world["accounts"] if a["name"] == "globex")
    tenant = Tenant.objects.get(name="Globex")
    assert tenant.access_key.reveal() == globex["access_key"]
    assert tenant.secret_key.reveal() == globex["secret_key"]
    assert tenant.project_id == globex["projects"][0]["project_id"]


@pytest.mark.django_db(transaction=True)
def test_seeded_tenants_can_call_the_simulator(live_server, settings):
    settings.VPC_API_ENDPOINT = live_server.url
    world = _seed_json()
    for tenant in Tenant.objects.all():
        project = next(
            p for a in world["accounts"] for p in a["projects"] if p["project_id"] == tenant.project_id
        )
        vpcs = tenant_client(tenant).list_vpcs().data
        assert {v["id"] for v in vpcs} == {v["id"] for v in project["vpcs"]}


def test_json_gives_tenant_ids_and_vpc_names_and_keeps_every_earlier_key():
    world = _seed_json()
    assert set(world) >= {"accounts", "tenants", "users"}
    for tenant in world["tenants"]:
        assert set(tenant) >= {"name", "project_id", "account", "id", "vpcs"}  # scripts read the first three
        assert Tenant.objects.get(pk=tenant["id"]).project_id == tenant["project_id"]
    acme_prod = next(t for t in world["tenants"] if t["name"] == "Acme Production")
    assert [v["name"] for v in acme_prod["vpcs"]] == ["prod-web", "prod-data"]
    assert {"id", "cidr"} <= set(acme_prod["vpcs"][0])


def test_demo_users_have_email_addresses_in_the_json():
    world = _seed_json()
    emails = {u["username"]: u["email"] for u in world["users"]}
    assert emails["bob"] == "bob@example.com"
    assert all(emails.values())
    assert get_user_model().objects.get(username="carol").email == emails["carol"]
