"""The portal's approval policy: held requests, approve / decline / withdraw, auto-approval rules,
against the simulator, through the workflow and the three fronts."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse
from huaweicloudsdkcore.auth.credentials import BasicCredentials
from huaweicloudsdkvpc.v2 import ListVpcPeeringsRequest, VpcClient

from peerings import jobs
from peerings.choices import ApprovalPolicy, CallOperation
from peerings.choices import PeeringStatus as S
from peerings.exceptions import CloudUnavailable, InvalidState, NotPermitted, RequestInvalid
from peerings.models import AutoApprovedVpc, Peering, StatusChange, UpstreamCall
from peerings.rules.messages import DECLINE_REASON_REQUIRED, PAIR_ALREADY_OPEN
from peerings.workflow import (
    peering_approve,
    peering_decline,
    peering_delete,
    peering_refresh,
    peering_request,
)
from tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def holding(acme_prod):
    """acme-prod holds its new requests for approval in the portal."""
    acme_prod.approval_policy = ApprovalPolicy.HOLD
    acme_prod.save()
    return acme_prod


@pytest.fixture
def held(holding, request_to_globex) -> Peering:
    return request_to_globex()


def _creates() -> int:
    return UpstreamCall.objects.filter(operation=CallOperation.CREATE).count()


def _history(peering: Peering) -> list[tuple[str, str, str | None]]:
    changes = StatusChange.objects.filter(peering=peering).order_by("created_at", "id")
    return [(c.old_status, c.new_status, c.actor.username if c.actor else None) for c in changes]


def _cloud_peerings(tenant) -> list:
    """The requester's peerings as the official SDK reads them from the simulator."""
    tenant = type(tenant).objects.get(pk=tenant.pk)  # its keys as stored (Secret values)
    credentials = BasicCredentials(tenant.access_key.reveal(), tenant.secret_key.reveal(), tenant.project_id)
    client = VpcClient.new_builder().with_credentials(credentials).with_endpoint(tenant.api_endpoint).build()
    return client.list_vpc_peerings(ListVpcPeeringsRequest()).peerings or []


# --- Held, then approved, declined or withdrawn -----------------------------------------------------


def test_a_request_of_a_holding_tenant_waits_and_nothing_reaches_the_cloud(held, holding):
    assert held.status == S.AWAITING_APPROVAL
    assert held.upstream_id is None
    assert not held.inflight_token  # no lease: nothing in flight
    assert _creates() == 0
    assert _cloud_peerings(holding) == []
    assert _history(held) == [("", S.AWAITING_APPROVAL, "alice")]
    assert "held for approval by acme-prod's approvers" in StatusChange.objects.get(peering=held).reason


def test_approving_sends_it_with_the_requesters_keys_and_records_who(held, holding, acme_approver):
    peering = peering_approve(peering=held, acting_user=acme_approver, reason="CHG-7")
    assert peering.status == S.PENDING_ACCEPTANCE
    assert peering.approved_by == acme_approver
    assert peering.approved_at
    assert peering.approval_reason == "CHG-7"
    assert _history(peering) == [
        ("", S.AWAITING_APPROVAL, "alice"),
        (S.AWAITING_APPROVAL, S.SUBMITTING, "anna"),
        (S.SUBMITTING, S.PENDING_ACCEPTANCE, "anna"),
    ]
    create = UpstreamCall.objects.get(operation=CallOperation.CREATE)
    assert (create.tenant, create.acting_user) == (holding, acme_approver)
    assert [p.id for p in _cloud_peerings(holding)] == [peering.upstream_id]


def test_declining_needs_a_reason_and_closes_it_without_a_call(held, acme_approver):
    with pytest.raises(RequestInvalid) as refused:
        peering_decline(peering=held, acting_user=acme_approver, reason="  ")
    assert refused.value.errors == {"reason": [DECLINE_REASON_REQUIRED]}
    held.refresh_from_db()
    assert held.status == S.AWAITING_APPROVAL  # nothing half-saved

    peering = peering_decline(peering=held, acting_user=acme_approver, reason="Use the transit hub")
    assert peering.status == S.DECLINED
    assert (peering.decided_by, peering.decision_reason) == (acme_approver, "Use the transit hub")
    assert _history(peering)[-1] == (S.AWAITING_APPROVAL, S.DECLINED, "anna")
    assert UpstreamCall.objects.filter(peering=peering).count() == 0
    with pytest.raises(InvalidState):
        peering_approve(peering=peering, acting_user=acme_approver)


def test_the_requester_withdraws_a_held_request_without_a_call(held, acme_member, request_to_globex):
    peering = peering_delete(peering=held, acting_user=acme_member)
    assert peering.status == S.DELETED
    assert "nothing was sent" in StatusChange.objects.filter(peering=peering).latest("id").reason
    assert UpstreamCall.objects.filter(peering=peering).count() == 0
    assert request_to_globex(name="again").status == S.AWAITING_APPROVAL  # the pair is free again


def test_a_held_request_takes_its_pair(held, request_to_globex):
    with pytest.raises(RequestInvalid) as refused:
        request_to_globex(name="twice")
    assert refused.value.errors == {"accept_vpc_id": [PAIR_ALREADY_OPEN]}


def test_who_may_approve(held, acme_member, globex_approver, acme_prod):
    for user in (acme_member, globex_approver):  # a plain member; the peer's approver
        with pytest.raises(NotPermitted):
            peering_approve(peering=held, acting_user=user)
    # The requester, even as an approver of the tenant, when it separates duties (the default).
    acme_member.memberships.update(role="approver")
    with pytest.raises(NotPermitted, match="another approver"):
        peering_approve(peering=held, acting_user=acme_member)
    acme_prod.separate_duties = False
    acme_prod.save()
    assert peering_approve(peering=held, acting_user=acme_member).status == S.PENDING_ACCEPTANCE


def test_a_portal_admin_approves_without_being_a_member(held):
    admin = UserFactory(is_superuser=True, is_staff=True)
    assert peering_approve(peering=held, acting_user=admin).status == S.PENDING_ACCEPTANCE


def test_a_held_request_is_neither_refreshed_nor_synced(held, acme_member):
    with pytest.raises(InvalidState, match="nothing has been sent"):
        peering_refresh(peering=held, acting_user=acme_member)
    report = jobs.sync_open_peerings()
    assert report.total == 0
    held.refresh_from_db()
    assert held.status == S.AWAITING_APPROVAL
    assert UpstreamCall.objects.count() == UpstreamCall.objects.filter(operation="list_vpcs").count()


def test_an_approval_the_cloud_did_not_carry_out_stays_approved_and_is_sent_again(
    held, acme_approver, acme_member, sim_faults, holding
):
    sim_faults.inject("create", kind="503", times=1)
    with pytest.raises(CloudUnavailable):
        peering_approve(peering=held, acting_user=acme_approver)
    held.refresh_from_db()
    assert held.status == S.SUBMITTING
    assert held.approved_by == acme_approver
    assert _cloud_peerings(holding) == []
    peering = peering_refresh(peering=held, acting_user=acme_member)  # or the sync job
    assert peering.status == S.PENDING_ACCEPTANCE
    assert [p.id for p in _cloud_peerings(holding)] == [peering.upstream_id]


# --- Rules that approve at once ---------------------------------------------------------------------


def test_same_organisation_unit_is_approved_at_once(cloud, holding, acme_dev, acme_member, prod_web, dev_app):
    holding.org_unit = acme_dev.org_unit = "Acme"
    holding.auto_approve_same_org_unit = True
    holding.save()
    acme_dev.save()
    MembershipFactory(user=acme_member, tenant=acme_dev)
    peering = peering_request(
        tenant=holding,
        acting_user=acme_member,
        name="prod-to-dev",
        request_vpc_id=prod_web.vpc_id,
        accept_vpc_id=dev_app.vpc_id,
        accept_project_id=acme_dev.project_id,
    )
    assert peering.status == S.ACTIVE
    assert peering.approved_by is None
    assert peering.approved_at
    assert (
        peering.approval_reason == "Approved automatically: both tenants are in the organisation unit Acme."
    )
    assert _history(peering)[0][1] == S.SUBMITTING


def test_an_empty_or_different_unit_does_not_approve(holding, globex_main, request_to_globex):
    holding.auto_approve_same_org_unit = True
    holding.save()  # both units empty: no match
    assert request_to_globex(name="empty").status == S.AWAITING_APPROVAL
    holding.org_unit, globex_main.org_unit = "Acme", "Globex"
    holding.save()
    globex_main.save()
    first = Peering.objects.get(name="empty")
    peering_delete(peering=first, acting_user=first.requested_by)  # frees the pair
    assert request_to_globex(name="different").status == S.AWAITING_APPROVAL


def test_an_allow_listed_peer_vpc_is_approved_at_once(holding, globex_app, request_to_globex):
    AutoApprovedVpc.objects.create(tenant=holding, vpc_id=globex_app.vpc_id, note="shared services")
    peering = request_to_globex()
    assert peering.status == S.PENDING_ACCEPTANCE
    assert "allow-list (shared services)" in peering.approval_reason


def test_the_forward_policy_sends_at_once(request_to_globex):
    peering = request_to_globex()
    assert peering.status == S.PENDING_ACCEPTANCE
    assert (peering.approved_at, peering.approval_reason) == (None, "")


# --- The three fronts -----------------------------------------------------------------------------


def test_api_lists_approves_and_declines(
    held, request_to_globex, acme_approver_api, acme_api, globex_api, prod_db
):
    listed = acme_approver_api.get(reverse("api:peering-list"), {"status": "AWAITING_APPROVAL"}).json()
    assert [p["id"] for p in listed["results"]] == [held.pk]
    assert set(listed["results"][0]["allowed_actions"]) == {"approve", "decline", "delete"}
    assert set(acme_api.get(reverse("api:peering-detail", args=[held.pk])).json()["allowed_actions"]) == {
        "delete"
    }

    assert acme_api.post(reverse("api:peering-approve", args=[held.pk])).status_code == 403
    # The peer side does not see a held request at all.
    assert globex_api.post(reverse("api:peering-approve", args=[held.pk])).status_code == 404
    answer = acme_approver_api.post(reverse("api:peering-decline", args=[held.pk]), {}, format="json")
    assert answer.status_code == 400
    assert answer.json()["error"]["fields"]["reason"] == [DECLINE_REASON_REQUIRED]

    answer = acme_approver_api.post(
        reverse("api:peering-approve", args=[held.pk]), {"reason": "ok"}, format="json"
    )
    assert answer.status_code == 200
    body = answer.json()
    assert (body["status"], body["approved_by"], body["approval_reason"]) == (
        "PENDING_ACCEPTANCE",
        "anna",
        "ok",
    )
    assert acme_approver_api.post(reverse("api:peering-approve", args=[held.pk])).status_code == 409


def test_api_create_answers_the_held_request(cloud, holding, acme_api, prod_web, globex_app, globex_main):
    answer = acme_api.post(
        reverse("api:peering-list"),
        {
            "name": "via-api",
            "request_vpc_info": {"tenant_id": holding.project_id, "vpc_id": str(prod_web.vpc_id)},
            "accept_vpc_info": {"tenant_id": globex_main.project_id, "vpc_id": str(globex_app.vpc_id)},
        },
        format="json",
    )
    assert answer.status_code == 201, answer.json()
    assert answer.json()["status"] == "AWAITING_APPROVAL"
    assert answer.json()["peering_id"] is None


def test_pages_queue_and_detail(held, client, acme_approver, acme_member):
    client.force_login(acme_approver)
    queue = client.get(reverse("peerings:queue"))
    (row,) = queue.context["rows"]
    assert row["peering"] == held
    assert row["held"]
    assert row["can_decide"]
    assert "approval in the portal" in queue.content.decode()
    detail = client.get(reverse("peerings:detail", args=[held.pk])).content.decode()
    assert "Held for approval in the portal" in detail
    assert f'action="/peerings/{held.pk}/approve/"' in detail

    refused = client.post(reverse("peerings:decline", args=[held.pk]), {"decline-reason": ""}, follow=True)
    assert DECLINE_REASON_REQUIRED in refused.content.decode()
    response = client.post(
        reverse("peerings:queue"), {"action": "accept", "peerings": [held.pk]}, follow=True
    )
    assert "Approved 1 peering(s)" in response.content.decode()
    held.refresh_from_db()
    assert (held.status, held.approved_by) == (S.PENDING_ACCEPTANCE, acme_approver)

    client.force_login(acme_member)
    assert client.get(reverse("peerings:queue")).context["rows"] == []


def test_bulk_reject_declines_held_requests(held, client, acme_approver):
    client.force_login(acme_approver)
    client.post(reverse("peerings:queue"), {"action": "reject", "reason": "No", "peerings": [held.pk]})
    held.refresh_from_db()
    assert (held.status, held.decision_reason) == (S.DECLINED, "No")


def test_admin_approve_and_decline_actions(held, request_to_globex, client, prod_db, globex_app, globex_main):
    admin = UserFactory(is_superuser=True, is_staff=True)
    client.force_login(admin)
    page = client.get(reverse("admin:peerings_peering_change", args=[held.pk])).content.decode()
    assert 'value="approve_selected"' in page
    assert 'value="decline_selected"' in page
    changelist = reverse("admin:peerings_peering_changelist")
    client.post(changelist, {"action": "approve_selected", "_selected_action": [held.pk], "post": "yes"})
    held.refresh_from_db()
    assert (held.status, held.approved_by) == (S.PENDING_ACCEPTANCE, admin)
    second = peering_request(
        tenant=held.requester_tenant,
        acting_user=held.requested_by,
        name="second",
        request_vpc_id=prod_db.vpc_id,
        accept_vpc_id=globex_app.vpc_id,
        accept_project_id=globex_main.project_id,
    )
    confirm = client.post(changelist, {"action": "decline_selected", "_selected_action": [second.pk]})
    assert "Reason" in confirm.content.decode()
    client.post(
        changelist,
        {"action": "decline_selected", "_selected_action": [second.pk], "post": "yes", "reason": "dup"},
    )
    second.refresh_from_db()
    assert (second.status, second.decision_reason) == (S.DECLINED, "dup")


def test_staff_without_rights_on_the_tenant_are_refused_in_the_admin(held, client, globex_approver):
    globex_approver.is_staff = True
    globex_approver.save()
    globex_approver.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_peering", "change_peering"])
    )
    client.force_login(globex_approver)
    changelist = reverse("admin:peerings_peering_changelist")
    client.post(changelist, {"action": "approve_selected", "_selected_action": [held.pk], "post": "yes"})
    held.refresh_from_db()
    assert held.status == S.AWAITING_APPROVAL
