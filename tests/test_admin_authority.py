"""The admin's authority model, finding by finding (issue 19): tokens and preferences are their
owner's, a tenant's cloud settings and approval rules are the superusers', and separation of duties
binds superusers too, on every front."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import Permission
from django.contrib.messages import get_messages
from django.urls import reverse

from accounts.models import ApiToken, Preferences
from peerings.choices import ApprovalPolicy, PeeringStatus, Role
from peerings.exceptions import CloudUnavailable
from peerings.models import AutoApprovedVpc, Tenant
from peerings.rules.messages import NOT_THE_REQUESTER_TO_APPROVE
from tests.factories import MembershipFactory, PeeringFactory, TenantFactory, UserFactory, tenant_admin_form

pytestmark = pytest.mark.django_db


def staff_with(*codenames: str, **user: Any):
    staff = UserFactory(is_staff=True, **user)
    staff.user_permissions.set(Permission.objects.filter(codename__in=codenames))
    return staff


# --- Finding 1: tokens and preferences -----------------------------------------------------------------


@pytest.fixture
def root():
    return UserFactory(username="root", is_staff=True, is_superuser=True)


@pytest.fixture
def token_manager():
    """Staff with only the token admin's permissions, and no tenant."""
    return staff_with("add_apitoken", "view_apitoken", "change_apitoken", username="tim")


def test_a_staff_token_manager_mints_tokens_for_himself_only(client, root, token_manager):
    tenant = TenantFactory(name="rootco")
    MembershipFactory(user=root, tenant=tenant, role=Role.APPROVER)
    client.force_login(token_manager)
    form = client.get(reverse("admin:accounts_apitoken_add")).context["adminform"].form
    assert "user" not in form.fields  # the token is his own: nobody to choose

    response = client.post(
        reverse("admin:accounts_apitoken_add"),
        {"user": root.pk, "name": "forged", "expires_at_0": "", "expires_at_1": ""},
    )

    assert response.status_code == 200
    token = ApiToken.objects.get(name="forged")
    assert token.user == token_manager  # the posted user is ignored
    assert not ApiToken.objects.filter(user=root).exists()
    api = client_with_key(response.context["key"])
    assert api.get(reverse("api:tenant-list")).json()["results"] == []  # nothing of root's tenant


def client_with_key(key: str):
    from rest_framework.test import APIClient

    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return api


def test_a_staff_token_manager_sees_and_revokes_only_his_own_tokens(client, root, token_manager):
    roots, _ = ApiToken.objects.create_token(root, name="root-ci")
    mine, _ = ApiToken.objects.create_token(token_manager, name="tim-ci")
    client.force_login(token_manager)

    listing = client.get(reverse("admin:accounts_apitoken_changelist"))
    assert [t.pk for t in listing.context["cl"].result_list] == [mine.pk]
    assert "root-ci" not in listing.content.decode()
    assert client.get(reverse("admin:accounts_apitoken_change", args=[roots.pk])).status_code == 302
    client.post(
        reverse("admin:accounts_apitoken_changelist"),
        {"action": "revoke_tokens", "_selected_action": [roots.pk, mine.pk]},
    )

    roots.refresh_from_db()
    mine.refresh_from_db()
    assert (roots.revoked_at, mine.revoked_at is not None) == (None, True)


def test_a_superuser_still_makes_a_token_for_anyone(client, root, token_manager):
    client.force_login(root)
    client.post(
        reverse("admin:accounts_apitoken_add"),
        {"user": token_manager.pk, "name": "for-tim", "expires_at_0": "", "expires_at_1": ""},
    )
    assert ApiToken.objects.get(name="for-tim").user == token_manager


def test_preferences_of_others_are_invisible_to_staff(client, root):
    staff = staff_with("view_preferences", "change_preferences", "add_preferences")
    theirs = Preferences.objects.create(user=root, time_zone="Asia/Kathmandu")
    client.force_login(staff)
    listing = client.get(reverse("admin:accounts_preferences_changelist"))
    assert list(listing.context["cl"].result_list) == []
    assert client.get(reverse("admin:accounts_preferences_change", args=[theirs.pk])).status_code == 302

    client.post(reverse("admin:accounts_preferences_add"), {"user": root.pk, "time_zone": "Europe/Paris"})

    assert Preferences.objects.get(user=staff).time_zone == "Europe/Paris"  # his own, whatever was posted
    assert Preferences.objects.get(user=root).time_zone == "Asia/Kathmandu"


# --- Finding 6: a tenant's global settings ---------------------------------------------------------------

GLOBAL = {
    "project_id": "feedfacefeedfacefeedfacefeedface",
    "region": "eu-west-0",
    "endpoint": "https://attacker.example",
    "approval_policy": ApprovalPolicy.FORWARD,
    "org_unit": "anything",
    "auto_approve_same_org_unit": "on",
    "access_key": "AKFORGED000000000000",
    "secret_key": "forged-secret-key",
}


@pytest.fixture
def strict() -> Tenant:
    return TenantFactory(
        name="strict",
        region="cn-north-4",
        endpoint="",
        separate_duties=True,
        approval_policy=ApprovalPolicy.HOLD,
        org_unit="ou-1",
        access_key="AKORIGINAL0000000000",
        secret_key="original-secret-key",
    )


def settings_of(tenant: Tenant) -> dict:
    tenant = Tenant.objects.get(pk=tenant.pk)
    fields = ["project_id", "region", "endpoint", "separate_duties", "approval_policy", "org_unit"]
    return {
        **{name: getattr(tenant, name) for name in fields},
        "auto": tenant.auto_approve_same_org_unit,
        "keys": (tenant.access_key.reveal(), tenant.secret_key.reveal()),
        "allow-list": list(tenant.auto_approved_vpcs.values_list("vpc_id", flat=True)),
    }


def tenant_staff(tenant: Tenant, role: Role):
    verbs, models = ("view", "change", "add", "delete"), ("tenant", "membership", "autoapprovedvpc")
    staff = staff_with(*(f"{verb}_{model}" for verb in verbs for model in models))
    MembershipFactory(user=staff, tenant=tenant, role=role)
    return staff


def test_a_staff_approver_sees_her_tenants_global_settings_read_only_and_not_its_keys(client, strict):
    client.force_login(tenant_staff(strict, Role.APPROVER))
    response = client.get(reverse("admin:peerings_tenant_change", args=[strict.pk]))
    form = response.context["adminform"].form
    assert set(form.fields) == {"name"}
    page = response.content.decode()
    for hidden in (
        "AKORIGINAL0000000000",
        "original-secret-key",
        'name="access_key"',
        'name="separate_duties"',
    ):
        assert hidden not in page
    assert "cn-north-4" in page  # shown, read-only


def test_a_forged_post_changes_only_what_a_staff_approver_may_change(client, strict):
    before = settings_of(strict)
    client.force_login(tenant_staff(strict, Role.APPROVER))
    vpc = "6f1d0c1e-0000-4000-8000-000000000001"
    data = tenant_admin_form(
        name="renamed",
        **GLOBAL,
        **{"auto_approved_vpcs-TOTAL_FORMS": "1", "auto_approved_vpcs-0-vpc_id": vpc},
    )
    data.pop("separate_duties", None)  # an unticked box: off

    response = client.post(reverse("admin:peerings_tenant_change", args=[strict.pk]), data)

    assert response.status_code == 302, response.context and response.context["adminform"].form.errors
    assert Tenant.objects.get(pk=strict.pk).name == "renamed"  # the form was taken
    assert settings_of(strict) == before  # and nothing global moved
    assert not AutoApprovedVpc.objects.exists()


def test_a_staff_member_changes_nothing_of_her_tenant(client, strict):
    before = settings_of(strict)
    client.force_login(tenant_staff(strict, Role.MEMBER))
    response = client.post(
        reverse("admin:peerings_tenant_change", args=[strict.pk]), tenant_admin_form(name="renamed", **GLOBAL)
    )
    assert response.status_code == 403
    assert (Tenant.objects.get(pk=strict.pk).name, settings_of(strict)) == ("strict", before)


def test_a_superuser_changes_the_global_settings(admin_client, strict):
    data = tenant_admin_form(name="strict", **GLOBAL)
    response = admin_client.post(reverse("admin:peerings_tenant_change", args=[strict.pk]), data)
    assert response.status_code == 302
    after = settings_of(strict)
    assert (after["separate_duties"], after["region"], after["keys"][0]) == (
        False,
        "eu-west-0",
        "AKFORGED000000000000",
    )


# --- Finding 5: separation of duties binds a superuser who made the request ----------------------------


@pytest.fixture
def no_cloud(settings) -> list[str]:
    """Nothing reaches the cloud: a call is recorded (the tenant's name) and fails as unavailable."""
    sent: list[str] = []

    def client(tenant: Tenant, **kwargs: Any) -> Any:
        sent.append(tenant.name)
        raise CloudUnavailable()

    settings.VPC_CLIENT_FACTORY = client
    return sent


@pytest.fixture
def own_held(strict, root):
    """A request the superuser made for ``strict`` (he is one of its approvers), held for approval."""
    MembershipFactory(user=root, tenant=strict, role=Role.APPROVER)
    return PeeringFactory(
        name="roots-own",
        status=PeeringStatus.AWAITING_APPROVAL,
        upstream_id=None,
        requester_tenant=strict,
        requested_by=root,
    )


def _still_held(peering) -> bool:
    peering.refresh_from_db()
    return peering.status == PeeringStatus.AWAITING_APPROVAL and peering.approved_by is None


def approve_in_the_admin(client, peering) -> None:
    client.post(
        reverse("admin:peerings_peering_changelist"),
        {"action": "approve_selected", "_selected_action": [peering.pk], "post": "yes"},
    )


def test_a_superuser_cannot_approve_his_own_held_request_in_the_api(client_for, no_cloud, own_held, root):
    api = client_for(root)
    offered = api.get(reverse("api:peering-detail", args=[own_held.pk])).json()["allowed_actions"]
    assert "approve" not in offered
    response = api.post(reverse("api:peering-approve", args=[own_held.pk]), {}, format="json")
    assert (response.status_code, response.json()["error"]["message"]) == (403, NOT_THE_REQUESTER_TO_APPROVE)
    assert _still_held(own_held)
    assert no_cloud == []


def test_a_superuser_cannot_approve_his_own_held_request_on_the_page(client, no_cloud, own_held, root):
    client.force_login(root)
    page = client.get(reverse("peerings:detail", args=[own_held.pk])).content.decode()
    assert f"/peerings/{own_held.pk}/approve/" not in page
    response = client.post(reverse("peerings:approve", args=[own_held.pk]), {"approve-reason": ""})
    assert [m.message for m in get_messages(response.wsgi_request)] == [NOT_THE_REQUESTER_TO_APPROVE]
    assert _still_held(own_held)
    assert no_cloud == []


def test_a_superuser_cannot_approve_his_own_held_request_in_the_admin(client, no_cloud, own_held, root):
    client.force_login(root)
    page = client.get(reverse("admin:peerings_peering_change", args=[own_held.pk])).content.decode()
    assert 'value="approve_selected"' not in page
    approve_in_the_admin(client, own_held)
    assert _still_held(own_held)
    assert no_cloud == []


def test_without_separation_of_duties_the_superuser_approves_his_own(client, no_cloud, own_held, root):
    Tenant.objects.filter(pk=own_held.requester_tenant_id).update(separate_duties=False)
    client.force_login(root)
    approve_in_the_admin(client, own_held)
    assert no_cloud == ["strict"]  # approved, and sent with the requester's keys


def test_another_superuser_approves_it(client, no_cloud, own_held):
    client.force_login(UserFactory(username="root2", is_staff=True, is_superuser=True))
    approve_in_the_admin(client, own_held)
    assert no_cloud == ["strict"]  # a portal admin who did not request it


def test_a_staff_approver_adds_a_member_by_user_name_without_a_directory_of_users(client, strict):
    approver = tenant_staff(strict, Role.APPROVER)
    newcomer = UserFactory(username="newcomer")
    other = TenantFactory(name="other")
    client.force_login(approver)
    assert client.get(reverse("admin:auth_user_changelist")).status_code == 403  # no directory

    page = client.get(reverse("admin:peerings_tenant_change", args=[strict.pk])).content.decode()
    assert f'value="{approver.username}"' in page  # her own membership, by name
    data = tenant_admin_form(
        name="strict",
        **{
            "memberships-TOTAL_FORMS": "2",
            "memberships-INITIAL_FORMS": "1",
            "memberships-0-id": str(approver.memberships.get().pk),
            "memberships-0-tenant": str(strict.pk),
            "memberships-0-user": approver.username,
            "memberships-0-role": Role.APPROVER,
            "memberships-1-tenant": str(strict.pk),
            "memberships-1-user": "newcomer",
            "memberships-1-role": Role.MEMBER,
        },
    )
    response = client.post(reverse("admin:peerings_tenant_change", args=[strict.pk]), data)
    assert response.status_code == 302
    assert newcomer.memberships.get().tenant == strict

    client.post(
        reverse("admin:peerings_membership_add"),
        {"user": "newcomer", "tenant": other.pk, "role": Role.APPROVER},
    )
    assert list(newcomer.memberships.values_list("tenant__name", flat=True)) == ["strict"]
