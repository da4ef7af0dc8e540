"""The admin: pages render, secrets stay write-only, history is read-only, actions go through the workflow."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.models import Permission
from django.contrib.messages import get_messages
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils.html import escape

from peerings import workflow
from peerings.choices import CallOperation, ChangeSource, PeeringStatus, Role
from peerings.exceptions import CloudRefused, InvalidState, NotPermitted
from peerings.models import Membership, Peering, StatusChange, Tenant, UpstreamCall
from peerings.rules.messages import ALREADY_DECIDED, PROJECT_ID_INVALID
from peerings.secrets import fernet
from tests.factories import (
    MembershipFactory,
    PeeringFactory,
    StatusChangeFactory,
    TenantFactory,
    UpstreamCallFactory,
    UserFactory,
    tenant_admin_form,
)

pytestmark = pytest.mark.django_db

ACTION_CHECKBOX = "_selected_action"


# --- helpers --------------------------------------------------------------------------------------------


def make_call(peering: Peering, **kwargs: Any) -> UpstreamCall:
    """A call of the peering's requester tenant that answered with the peering."""
    kwargs.setdefault("response_body", {"peering": {"id": peering.upstream_id, "status": peering.status}})
    return UpstreamCallFactory(peering=peering, tenant=peering.requester_tenant, **kwargs)


def make_change(peering: Peering, **kwargs: Any) -> StatusChange:
    return StatusChangeFactory(peering=peering, **{"reason": "requested", **kwargs})


def messages_of(response) -> list[tuple[str, str]]:
    return [(m.level_tag, str(m)) for m in get_messages(response.wsgi_request)]


def changelist(model: str) -> str:
    return reverse(f"admin:peerings_{model}_changelist")


def run_action(client, action: str, peerings: list[Peering], **extra: str):
    """Post an admin action as the changelist does; follows the redirect back to it."""
    data = {"action": action, ACTION_CHECKBOX: [str(p.pk) for p in peerings], **extra}
    return client.post(changelist("peering"), data, follow=True)


@pytest.fixture
def populated() -> dict[str, Any]:
    """One of each row the admin shows."""
    membership = MembershipFactory(role=Role.APPROVER)
    peering = PeeringFactory(requester_tenant=membership.tenant, requested_by=membership.user)
    return {
        "tenant": membership.tenant,
        "membership": membership,
        "peering": peering,
        "call": make_call(peering),
        "change": make_change(peering, actor=membership.user),
    }


# --- every page renders ---------------------------------------------------------------------------------


def test_site_header(admin_client):
    response = admin_client.get(reverse("admin:index"))
    assert response.status_code == 200
    assert b"VPC peering portal" in response.content


@pytest.mark.parametrize("model", ["tenant", "membership", "peering", "upstreamcall", "statuschange"])
def test_changelist_and_change_page_render(admin_client, populated, model):
    obj = {
        "tenant": populated["tenant"],
        "membership": populated["membership"],
        "peering": populated["peering"],
        "upstreamcall": populated["call"],
        "statuschange": populated["change"],
    }[model]
    assert admin_client.get(changelist(model)).status_code == 200
    response = admin_client.get(reverse(f"admin:peerings_{model}_change", args=[obj.pk]))
    assert response.status_code == 200
    assert escape(str(obj)) in response.content.decode()


@pytest.mark.parametrize("model", ["tenant", "membership"])
def test_add_pages_render(admin_client, model):
    assert admin_client.get(reverse(f"admin:peerings_{model}_add")).status_code == 200


def test_peering_change_page_shows_its_history(admin_client, populated):
    response = admin_client.get(reverse("admin:peerings_peering_change", args=[populated["peering"].pk]))
    html = response.content.decode()
    assert populated["call"].correlation_id in html
    assert "requested" in html  # the status change's reason
    assert 'name="_save"' not in html  # the mirror is read-only


def page_buttons(client, peering: Peering) -> list[str]:
    html = client.get(reverse("admin:peerings_peering_change", args=[peering.pk])).content.decode()
    return re.findall(
        r'<form method="post" action="[^"]+" class="peering-operation">.*?name="action" value="(\w+)"',
        html,
        re.S,
    )


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (
            PeeringStatus.PENDING_ACCEPTANCE,
            ["accept_selected", "reject_selected", "refresh_selected", "delete_selected_in_cloud"],
        ),
        (
            PeeringStatus.ACTIVE,
            [
                "refresh_selected",
                "delete_selected_in_cloud",
                "apply_routes_selected",
                "remove_routes_selected",
            ],
        ),
        (PeeringStatus.SUBMITTING, ["refresh_selected", "delete_selected_in_cloud"]),
        (PeeringStatus.DELETED, []),
        (PeeringStatus.FAILED, []),
    ],
)
def test_peering_page_offers_the_actions_its_status_allows(admin_client, admin_user, status, expected):
    peering = PeeringFactory(status=status)
    MembershipFactory(user=admin_user, tenant=peering.accepter_tenant, role=Role.APPROVER)
    assert page_buttons(admin_client, peering) == expected


def test_peering_page_offers_a_superuser_only_what_their_roles_allow(admin_client, admin_user):
    peering = PeeringFactory(status=PeeringStatus.PENDING_ACCEPTANCE)
    assert page_buttons(admin_client, peering) == []
    MembershipFactory(user=admin_user, tenant=peering.requester_tenant, role=Role.APPROVER)
    assert page_buttons(admin_client, peering) == ["refresh_selected", "delete_selected_in_cloud"]


def test_peering_page_offers_no_actions_without_the_change_permission(client):
    viewer = UserFactory(is_staff=True)
    viewer.user_permissions.add(
        Permission.objects.get(codename="view_peering", content_type__app_label="peerings")
    )
    client.force_login(viewer)
    assert page_buttons(client, PeeringFactory()) == []


def test_upstream_call_page_shows_bodies(admin_client, populated):
    call = populated["call"]
    response = admin_client.get(reverse("admin:peerings_upstreamcall_change", args=[call.pk]))
    assert f"&quot;id&quot;: &quot;{populated['peering'].upstream_id}&quot;" in response.content.decode()


def test_token_admin_is_registered(admin_client, admin_user):
    from accounts.models import ApiToken

    ApiToken.objects.create_token(admin_user, name="ci")
    response = admin_client.get(reverse("admin:accounts_apitoken_changelist"))
    assert response.status_code == 200
    assert admin_user.username.encode() in response.content


# --- search and filters ---------------------------------------------------------------------------------


def test_peering_search(admin_client):
    wanted = PeeringFactory(name="alpha-to-beta")
    other = PeeringFactory(name="gamma-to-delta")
    url = changelist("peering")
    for term in [
        "alpha",
        wanted.upstream_id,
        str(wanted.requester_vpc_id),
        str(wanted.accepter_vpc_id),
        str(wanted.accepter_vpc_id)[:8],
    ]:
        response = admin_client.get(url, {"q": term})
        assert response.status_code == 200
        assert list(response.context["cl"].result_list) == [wanted], term
    response = admin_client.get(url, {"q": "no-such-peering"})
    assert list(response.context["cl"].result_list) == []
    assert other.name not in response.content.decode()


def test_peering_filters(admin_client):
    pending = PeeringFactory()
    active = PeeringFactory(status=PeeringStatus.ACTIVE)
    url = changelist("peering")
    response = admin_client.get(url, {"status__exact": PeeringStatus.ACTIVE})
    assert list(response.context["cl"].result_list) == [active]
    response = admin_client.get(url, {"accepter_tenant__id__exact": pending.accepter_tenant_id})
    assert list(response.context["cl"].result_list) == [pending]


def test_tenant_search_and_member_count(admin_client):
    tenant = TenantFactory(name="acme-prod")
    TenantFactory(name="other")
    MembershipFactory.create_batch(3, tenant=tenant)
    response = admin_client.get(changelist("tenant"), {"q": "acme"})
    result = list(response.context["cl"].result_list)
    assert result == [tenant]
    assert result[0].member_count == 3
    response = admin_client.get(changelist("tenant"), {"q": tenant.project_id})
    assert list(response.context["cl"].result_list) == [tenant]


def test_membership_filters_and_search(admin_client):
    approver = MembershipFactory(role=Role.APPROVER)
    member = MembershipFactory(role=Role.MEMBER)
    url = changelist("membership")
    response = admin_client.get(url, {"role__exact": Role.APPROVER})
    assert list(response.context["cl"].result_list) == [approver]
    response = admin_client.get(url, {"tenant__id__exact": member.tenant_id})
    assert list(response.context["cl"].result_list) == [member]
    response = admin_client.get(url, {"q": approver.user.username})
    assert list(response.context["cl"].result_list) == [approver]


def test_history_search_and_filters(admin_client, populated):
    peering = populated["peering"]
    failed = make_call(
        peering, operation=CallOperation.ACCEPT, method="PUT", status_code=409, error_code="VPC.0101"
    )
    lost = make_call(peering, operation=CallOperation.DELETE, method="DELETE", status_code=None)
    url = changelist("upstreamcall")
    response = admin_client.get(url, {"q": failed.correlation_id})
    assert list(response.context["cl"].result_list) == [failed]
    response = admin_client.get(url, {"operation__exact": CallOperation.DELETE})
    assert list(response.context["cl"].result_list) == [lost]
    response = admin_client.get(url, {"outcome": "refused"})
    assert list(response.context["cl"].result_list) == [failed]
    response = admin_client.get(url, {"outcome": "no_response"})
    assert list(response.context["cl"].result_list) == [lost]
    response = admin_client.get(url, {"status_code": "409"})
    assert list(response.context["cl"].result_list) == [failed]
    response = admin_client.get(url, {"tenant__id__exact": peering.requester_tenant_id})
    assert set(response.context["cl"].result_list) == {populated["call"], failed, lost}

    url = changelist("statuschange")
    sync = make_change(
        peering, old_status=PeeringStatus.PENDING_ACCEPTANCE, new_status="EXPIRED", source="sync"
    )
    response = admin_client.get(url, {"source__exact": ChangeSource.SYNC})
    assert list(response.context["cl"].result_list) == [sync]
    response = admin_client.get(url, {"q": peering.name})
    assert set(response.context["cl"].result_list) == {populated["change"], sync}
    response = admin_client.get(url, {"q": "nothing-like-this"})
    assert list(response.context["cl"].result_list) == []


# --- tenant keys are write-only ---------------------------------------------------------------------------

TENANT_ADD_BASE = tenant_admin_form()


def raw_column(tenant: Tenant, column: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM peerings_tenant WHERE id = %s", [tenant.pk])
        return cursor.fetchone()[0]


def tenant_change_data(tenant: Tenant, **overrides: str) -> dict[str, str]:
    return {
        **TENANT_ADD_BASE,
        "name": tenant.name,
        "project_id": tenant.project_id,
        "region": tenant.region,
        "endpoint": tenant.endpoint,
        "access_key": "",
        "secret_key": "",
        **overrides,
    }


def test_tenant_change_page_never_shows_the_keys(admin_client):
    tenant = TenantFactory(access_key="AKVISIBLEIFLEAKED001", secret_key="sk-very-secret-value-0001")
    for url in [
        reverse("admin:peerings_tenant_change", args=[tenant.pk]),
        changelist("tenant"),
        reverse("admin:peerings_tenant_history", args=[tenant.pk]),
    ]:
        html = admin_client.get(url).content.decode()
        assert "AKVISIBLEIFLEAKED001" not in html, url
        assert "sk-very-secret-value-0001" not in html, url
    html = admin_client.get(reverse("admin:peerings_tenant_change", args=[tenant.pk])).content.decode()
    assert 'type="password" name="access_key"' in html
    assert 'type="password" name="secret_key"' in html


def test_tenant_add_stores_the_keys_encrypted(admin_client):
    data = {**TENANT_ADD_BASE, "access_key": "AKNEWTENANT000000001", "secret_key": "sk-new-tenant-secret"}
    response = admin_client.post(reverse("admin:peerings_tenant_add"), data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    tenant = Tenant.objects.get(name="new-tenant")
    assert tenant.access_key.reveal() == "AKNEWTENANT000000001"
    assert tenant.secret_key.reveal() == "sk-new-tenant-secret"
    stored = raw_column(tenant, "secret_key")
    assert "sk-new-tenant-secret" not in stored
    assert fernet().decrypt(stored.encode()).decode() == "sk-new-tenant-secret"
    assert "AKNEWTENANT000000001" not in raw_column(tenant, "access_key")


def test_tenant_add_requires_the_keys(admin_client):
    response = admin_client.post(
        reverse("admin:peerings_tenant_add"), {**TENANT_ADD_BASE, "access_key": "AK1"}
    )
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert "secret_key" in errors
    assert "access_key" not in errors
    assert not Tenant.objects.filter(name="new-tenant").exists()
    assert b"AK1" not in response.content  # a rejected form does not echo the typed key either


def test_tenant_add_refuses_a_malformed_project_id(admin_client):
    data = {**TENANT_ADD_BASE, "project_id": "bad id!", "access_key": "AK1", "secret_key": "SK1"}
    response = admin_client.post(reverse("admin:peerings_tenant_add"), data)
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["project_id"] == [PROJECT_ID_INVALID]
    assert not Tenant.objects.filter(name="new-tenant").exists()


def test_tenant_change_with_blank_keys_keeps_them(admin_client):
    tenant = TenantFactory(access_key="AKKEEPME000000000001", secret_key="sk-keep-me")
    url = reverse("admin:peerings_tenant_change", args=[tenant.pk])
    response = admin_client.post(url, tenant_change_data(tenant, name="renamed"))
    assert response.status_code == 302
    tenant.refresh_from_db()
    assert tenant.name == "renamed"
    assert tenant.access_key.reveal() == "AKKEEPME000000000001"
    assert tenant.secret_key.reveal() == "sk-keep-me"
    # The change message names the fields that changed, never the keys when left blank, never values.
    from django.contrib.admin.models import LogEntry

    entry = LogEntry.objects.get(object_id=str(tenant.pk))
    assert "Name" in entry.get_change_message()
    assert "key" not in entry.get_change_message().lower()


def test_tenant_change_replaces_only_the_typed_key(admin_client):
    tenant = TenantFactory(access_key="AKKEEPME000000000001", secret_key="sk-old")
    url = reverse("admin:peerings_tenant_change", args=[tenant.pk])
    response = admin_client.post(url, tenant_change_data(tenant, secret_key="sk-rotated"))
    assert response.status_code == 302
    tenant.refresh_from_db()
    assert tenant.access_key.reveal() == "AKKEEPME000000000001"
    assert tenant.secret_key.reveal() == "sk-rotated"
    html = admin_client.get(url).content.decode()
    assert "sk-rotated" not in html


def test_tenant_memberships_inline(admin_client):
    tenant = TenantFactory()
    user = UserFactory()
    data = tenant_change_data(
        tenant,
        **{
            "memberships-TOTAL_FORMS": "1",
            "memberships-0-user": str(user.pk),
            "memberships-0-role": Role.APPROVER,
        },
    )
    response = admin_client.post(reverse("admin:peerings_tenant_change", args=[tenant.pk]), data)
    assert response.status_code == 302
    assert Membership.objects.get(tenant=tenant, user=user).role == Role.APPROVER


# --- history is read-only; peerings cannot be added or edited -------------------------------------------


@pytest.mark.parametrize("model", ["upstreamcall", "statuschange", "peering"])
def test_read_only_admins_refuse_writes(admin_client, populated, model):
    obj = {
        "upstreamcall": populated["call"],
        "statuschange": populated["change"],
        "peering": populated["peering"],
    }[model]
    assert admin_client.get(reverse(f"admin:peerings_{model}_add")).status_code == 403
    assert admin_client.get(reverse(f"admin:peerings_{model}_delete", args=[obj.pk])).status_code == 403
    assert (
        admin_client.post(
            reverse(f"admin:peerings_{model}_delete", args=[obj.pk]), {"post": "yes"}
        ).status_code
        == 403
    )
    change_url = reverse(f"admin:peerings_{model}_change", args=[obj.pk])
    assert admin_client.post(change_url, {"name": "hacked", "reason": "hacked"}).status_code == 403
    html = admin_client.get(change_url).content.decode()
    assert 'name="_save"' not in html
    assert "deletelink" not in html
    changelist_html = admin_client.get(changelist(model)).content.decode()
    assert reverse(f"admin:peerings_{model}_add") not in changelist_html
    assert 'value="delete_selected"' not in changelist_html
    assert type(obj).objects.filter(pk=obj.pk).exists()


def test_history_changelists_have_only_the_export_actions(admin_client, populated):
    # The history issue's export actions read; nothing else may act on the history.
    for model in ["upstreamcall", "statuschange"]:
        response = admin_client.get(changelist(model))
        choices = [name for name, _ in response.context["action_form"].fields["action"].choices if name]
        assert choices == ["export_csv", "export_jsonl"]


# --- no N+1 -------------------------------------------------------------------------------------------


def _populate(count: int) -> None:
    for _ in range(count):
        membership = MembershipFactory()
        peering = PeeringFactory(requester_tenant=membership.tenant, requested_by=membership.user)
        make_call(peering)
        make_change(peering, actor=membership.user)


def _count_queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.parametrize("model", ["tenant", "membership", "peering", "upstreamcall", "statuschange"])
def test_changelist_queries_do_not_grow_with_rows(admin_client, model):
    url = changelist(model)
    _populate(2)
    few = _count_queries(admin_client, url)
    _populate(18)
    many = _count_queries(admin_client, url)
    # The list filters of tenants list every tenant in one query; nothing runs per row.
    assert many == few, f"{model}: {few} queries for 2 rows, {many} for 20"


def test_peering_change_page_queries_do_not_grow_with_history(admin_client):
    peering = PeeringFactory(requested_by=UserFactory())
    actor = UserFactory()
    make_call(peering, acting_user=actor)
    make_change(peering, actor=actor)
    url = reverse("admin:peerings_peering_change", args=[peering.pk])
    few = _count_queries(admin_client, url)
    for _ in range(10):
        make_call(peering, acting_user=actor)
        make_change(peering, actor=actor, new_status=PeeringStatus.ACTIVE)
    assert _count_queries(admin_client, url) == few


# --- actions call the workflow (its functions replaced here; end to end below) ------------------------


class Recorder:
    """Stands in for one workflow function: records its calls, then returns or raises."""

    def __init__(self, outcome: Callable[[Peering], Any]) -> None:
        self.calls: list[dict[str, Any]] = []
        self.outcome = outcome

    def __call__(self, **kwargs: Any) -> Peering:
        self.calls.append(kwargs)
        return self.outcome(kwargs["peering"])


@pytest.fixture
def fake_workflow(monkeypatch) -> Callable[[str, Callable[[Peering], Any]], Recorder]:
    def install(name: str, outcome: Callable[[Peering], Any]) -> Recorder:
        recorder = Recorder(outcome)
        monkeypatch.setattr(workflow, name, recorder)
        return recorder

    return install


def becomes(status: str) -> Callable[[Peering], Peering]:
    def outcome(peering: Peering) -> Peering:
        peering.status = status  # what the workflow would return; nothing is saved here
        return peering

    return outcome


def raises(exc: Exception) -> Callable[[Peering], Any]:
    def outcome(peering: Peering) -> Any:
        raise exc

    return outcome


def test_accept_shows_a_confirmation_page_first(admin_client, fake_workflow):
    accept = fake_workflow("peering_accept", becomes(PeeringStatus.ACTIVE))
    peering = PeeringFactory(name="to-accept")
    response = admin_client.post(
        changelist("peering"), {"action": "accept_selected", ACTION_CHECKBOX: [peering.pk]}
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "to-accept" in html
    assert 'name="reason"' in html
    assert 'name="post" value="yes"' in html
    assert accept.calls == []


def test_accept_runs_the_workflow_as_the_admin(admin_client, admin_user, fake_workflow):
    accept = fake_workflow("peering_accept", becomes(PeeringStatus.ACTIVE))
    first, second = PeeringFactory(), PeeringFactory()
    response = run_action(
        admin_client, "accept_selected", [first, second], post="yes", reason="approved by ops"
    )
    assert response.status_code == 200
    assert [c["peering"] for c in accept.calls] == [first, second]
    for call in accept.calls:
        assert call["acting_user"] == admin_user
        assert call["source"] == ChangeSource.ADMIN
        assert call["reason"] == "approved by ops"
    assert messages_of(response) == [
        ("success", f"Accepted “{first}”: it is now Active."),
        ("success", f"Accepted “{second}”: it is now Active."),
    ]


def test_reject_requires_a_reason(admin_client, fake_workflow):
    reject = fake_workflow("peering_reject", becomes(PeeringStatus.REJECTED))
    peering = PeeringFactory()
    response = run_action(admin_client, "reject_selected", [peering], post="yes", reason="")
    assert response.status_code == 200
    assert response.context["form"].errors == {"reason": ["This field is required."]}
    assert reject.calls == []
    response = run_action(admin_client, "reject_selected", [peering], post="yes", reason="wrong VPC")
    assert reject.calls[0]["reason"] == "wrong VPC"
    assert reject.calls[0]["source"] == ChangeSource.ADMIN
    assert messages_of(response) == [("success", f"Rejected “{peering}”: it is now Rejected.")]


def test_delete_in_the_cloud_confirms_then_calls_the_workflow(admin_client, admin_user, fake_workflow):
    delete = fake_workflow("peering_delete", becomes(PeeringStatus.DELETED))
    peering = PeeringFactory(status=PeeringStatus.ACTIVE)
    response = admin_client.post(
        changelist("peering"), {"action": "delete_selected_in_cloud", ACTION_CHECKBOX: [peering.pk]}
    )
    assert response.status_code == 200
    assert 'name="reason"' not in response.content.decode()
    assert delete.calls == []
    response = run_action(admin_client, "delete_selected_in_cloud", [peering], post="yes")
    assert delete.calls == [{"peering": peering, "acting_user": admin_user, "source": ChangeSource.ADMIN}]
    assert messages_of(response) == [("success", f"Deleted “{peering}”: it is now Deleted.")]


def test_refresh_runs_at_once(admin_client, admin_user, fake_workflow):
    refresh = fake_workflow("peering_refresh", becomes(PeeringStatus.EXPIRED))
    peering = PeeringFactory()
    response = run_action(admin_client, "refresh_selected", [peering])
    assert refresh.calls == [{"peering": peering, "acting_user": admin_user, "source": ChangeSource.ADMIN}]
    assert messages_of(response) == [("success", f"Refreshed “{peering}”: it is now Expired.")]


def test_workflow_errors_become_messages(admin_client, fake_workflow):
    refused = PeeringFactory(name="refused-one")
    not_allowed = PeeringFactory(name="not-allowed")
    wrong_state = PeeringFactory(name="wrong-state")
    ok = PeeringFactory(name="fine")
    errors = {
        refused.pk: CloudRefused("Peering is not pending.", status=409, code="VPC.0101"),
        not_allowed.pk: NotPermitted("You are not an approver of the accepting tenant."),
        wrong_state.pk: InvalidState("Only pending peerings can be accepted."),
    }

    def outcome(peering: Peering) -> Peering:
        if peering.pk in errors:
            raise errors[peering.pk]
        return becomes(PeeringStatus.ACTIVE)(peering)

    fake_workflow("peering_accept", outcome)
    response = run_action(
        admin_client, "accept_selected", [refused, not_allowed, wrong_state, ok], post="yes", reason=""
    )
    assert response.status_code == 200
    got = messages_of(response)
    assert got[0] == ("error", "Could not accept “refused-one”: 409 VPC.0101: Peering is not pending.")
    assert got[1][0] == "error"
    assert got[1][1].startswith(
        "Could not accept “not-allowed”: You are not an approver of the accepting tenant."
    )
    assert "approver of the tenant it is addressed to" in got[1][1]
    assert got[2] == ("error", "Could not accept “wrong-state”: Only pending peerings can be accepted.")
    assert got[3] == ("success", "Accepted “fine”: it is now Active.")


def test_actions_need_the_change_permission(client, fake_workflow):
    accept = fake_workflow("peering_accept", becomes(PeeringStatus.ACTIVE))
    viewer = UserFactory(is_staff=True)
    viewer.user_permissions.add(
        Permission.objects.get(codename="view_peering", content_type__app_label="peerings")
    )
    client.force_login(viewer)
    peering = PeeringFactory()
    response = client.get(changelist("peering"))
    assert response.status_code == 200
    assert "accept_selected" not in response.content.decode()
    response = run_action(client, "accept_selected", [peering], post="yes", reason="")
    assert accept.calls == []
    # the viewer's only actions are the exports: Django says the posted one is not among them
    assert messages_of(response) == [("warning", "No action selected.")]


# --- end to end: the actions drive the workflow against the live simulator ------------------------------


@pytest.fixture
def pending(cloud, acme_prod, globex_main, acme_member, prod_web, globex_app, admin_user) -> Peering:
    """acme-prod asked globex-main (another account) to peer; the admin approves for globex-main."""
    MembershipFactory(tenant=globex_main, user=admin_user, role=Role.APPROVER)
    peering = workflow.peering_request(
        tenant=acme_prod,
        acting_user=acme_member,
        name="acme-to-globex",
        request_vpc_id=prod_web.vpc_id,
        accept_vpc_id=globex_app.vpc_id,
        accept_project_id=globex_main.project_id,
    )
    assert peering.status == PeeringStatus.PENDING_ACCEPTANCE
    return peering


def cloud_status(peering: Peering) -> str | None:
    from vpcsim.models import Peering as SimPeering

    row = SimPeering.objects.filter(peering_id=peering.upstream_id).first()
    return row.status if row else None


def last_change(peering: Peering) -> StatusChange:
    return StatusChange.objects.filter(peering=peering).order_by("-id").first()


@pytest.mark.django_db(transaction=True)
def test_e2e_accept(admin_client, admin_user, pending, globex_main):
    peering = pending
    assert "accept_selected" in page_buttons(admin_client, peering)
    confirmation = run_action(admin_client, "accept_selected", [peering])  # what the page's button posts
    assert confirmation.status_code == 200
    assert "Yes, accept 1 peering" in confirmation.content.decode()
    assert cloud_status(peering) == "PENDING_ACCEPTANCE"  # nothing is sent before confirming
    response = run_action(admin_client, "accept_selected", [peering], post="yes", reason="checked the CIDRs")
    assert messages_of(response) == [("success", "Accepted “acme-to-globex”: it is now Active.")]
    peering.refresh_from_db()
    assert peering.status == PeeringStatus.ACTIVE
    assert peering.decided_by == admin_user
    assert peering.decision_reason == "checked the CIDRs"
    assert cloud_status(peering) == "ACTIVE"
    change = last_change(peering)
    assert (change.new_status, change.source, change.actor) == ("ACTIVE", ChangeSource.ADMIN, admin_user)
    call = UpstreamCall.objects.filter(peering=peering, operation=CallOperation.ACCEPT).get()
    assert (call.tenant, call.acting_user, call.status_code) == (globex_main, admin_user, 200)
    # The approval screen now shows the decision and its history.
    html = admin_client.get(reverse("admin:peerings_peering_change", args=[peering.pk])).content.decode()
    assert "checked the CIDRs" in html
    assert call.correlation_id in html


@pytest.mark.django_db(transaction=True)
def test_e2e_reject(admin_client, admin_user, pending):
    peering = pending
    response = run_action(admin_client, "reject_selected", [peering], post="yes", reason="not approved")
    assert messages_of(response) == [("success", "Rejected “acme-to-globex”: it is now Rejected.")]
    peering.refresh_from_db()
    assert peering.status == PeeringStatus.REJECTED
    assert cloud_status(peering) == "REJECTED"
    change = last_change(peering)
    assert (change.new_status, change.reason, change.source) == (
        "REJECTED",
        "not approved",
        ChangeSource.ADMIN,
    )


@pytest.mark.django_db(transaction=True)
def test_e2e_refresh_sees_expiry(admin_client, admin_user, pending, settings):
    from vpcsim import clock

    peering = pending
    clock.advance(timedelta(seconds=settings.VPCSIM_PENDING_EXPIRY_SECONDS + 60))
    response = run_action(admin_client, "refresh_selected", [peering])
    assert messages_of(response) == [("success", "Refreshed “acme-to-globex”: it is now Expired.")]
    peering.refresh_from_db()
    assert peering.status == PeeringStatus.EXPIRED
    assert last_change(peering).source == ChangeSource.ADMIN
    assert UpstreamCall.objects.filter(
        peering=peering, operation=CallOperation.SHOW, acting_user=admin_user
    ).exists()


@pytest.mark.django_db(transaction=True)
def test_e2e_delete_in_the_cloud(admin_client, admin_user, pending):
    peering = pending
    response = run_action(admin_client, "delete_selected_in_cloud", [peering], post="yes")
    assert messages_of(response) == [("success", "Deleted “acme-to-globex”: it is now Deleted.")]
    peering.refresh_from_db()
    assert peering.status == PeeringStatus.DELETED
    assert cloud_status(peering) is None
    assert last_change(peering).actor == admin_user


@pytest.mark.django_db(transaction=True)
def test_e2e_accept_refused_when_not_pending(admin_client, pending):
    peering = pending
    run_action(admin_client, "accept_selected", [peering], post="yes", reason="")
    calls = UpstreamCall.objects.count()
    response = run_action(admin_client, "accept_selected", [peering], post="yes", reason="")
    assert response.status_code == 200
    [(level, text)] = messages_of(response)
    assert level == "error"
    assert text.startswith("Could not accept “acme-to-globex”: Only a peering pending acceptance")
    assert UpstreamCall.objects.count() == calls  # refused before anything was sent


@pytest.mark.django_db(transaction=True)
def test_e2e_accept_refused_to_a_non_approver(admin_client, admin_user, pending):
    Membership.objects.filter(user=admin_user).update(role=Role.MEMBER)
    peering = pending
    response = run_action(admin_client, "accept_selected", [peering], post="yes", reason="")
    [(level, text)] = messages_of(response)
    assert level == "error"
    assert "Only an approver of the accepter tenant" in text
    assert "Roles apply to superusers too" in text
    peering.refresh_from_db()
    assert peering.status == PeeringStatus.PENDING_ACCEPTANCE
    assert cloud_status(peering) == "PENDING_ACCEPTANCE"


@pytest.mark.django_db(transaction=True)
def test_e2e_cloud_refusal_is_reported(admin_client, admin_user, pending):
    from vpcsim.models import Peering as SimPeering

    peering = pending
    # Someone rejected it in the cloud behind the portal's back: the mirror still says pending.
    SimPeering.objects.filter(peering_id=peering.upstream_id).update(status="REJECTED")
    response = run_action(admin_client, "accept_selected", [peering], post="yes", reason="")
    [(level, text)] = messages_of(response)
    assert level == "error"
    # The cloud's decision won: the mirror now says so, and the refusal is not left as an error.
    assert text == "Could not accept “acme-to-globex”: " + ALREADY_DECIDED.format(status="Rejected")
    failed = UpstreamCall.objects.get(peering=peering, operation=CallOperation.ACCEPT)
    assert (failed.status_code, failed.acting_user) == (409, admin_user)
    peering.refresh_from_db()
    assert (peering.status, peering.error_code, peering.decided_by) == (PeeringStatus.REJECTED, "", None)
