"""The workflow against the live simulator over HTTP (no mocks of the cloud).

Failures the simulator cannot produce (outage, no answer) come from a closed loopback
port or the ``cloud_proxy`` in front of the simulator.
"""

from __future__ import annotations

import datetime as dt
from io import StringIO

import pytest
from django.core.exceptions import NON_FIELD_ERRORS
from django.core.management import CommandError, call_command
from django.utils import timezone

from peerings import workflow
from peerings.choices import ChangeSource, PeeringStatus, Role
from peerings.exceptions import CloudRefused, CloudUnavailable, InvalidState, NotPermitted, RequestInvalid
from peerings.models import Peering, StatusChange, Tenant, UpstreamCall
from peerings.rules.messages import (
    ALREADY_DECIDED,
    DESCRIPTION_FORBIDDEN_CHARACTERS,
    REASON_REQUIRED,
    UPDATE_NOTHING,
)
from peerings.upstream import tenant_client
from peerings.workflow import (
    STATUS_CONFLICT,
    peering_accept,
    peering_delete,
    peering_refresh,
    peering_reject,
    peering_request,
    peering_update,
)
from tests.factories import MembershipFactory, PeeringFactory, SimVpcFactory, UserFactory
from vpcsim import clock
from vpcsim.models import Peering as SimPeering

S = PeeringStatus


# --- Helpers ---------------------------------------------------------------------------------------


def calls(peering: Peering | None = None) -> list[tuple[str, str, int | None]]:
    """(operation, name of the tenant whose keys signed it, HTTP status) of each recorded call."""
    rows = UpstreamCall.objects.select_related("tenant").order_by("id")
    if peering is not None:
        rows = rows.filter(peering=peering)
    return [(c.operation, c.tenant.name, c.status_code) for c in rows]


def history(peering: Peering) -> list[tuple[str, str]]:
    return [(c.old_status, c.new_status) for c in peering.status_changes.order_by("id")]


def last_change(peering: Peering) -> StatusChange:
    return peering.status_changes.order_by("-id").first()


def sim_peerings() -> list[tuple[str, str, str, str]]:
    """The simulated cloud's peerings (id, name, description, status)."""
    return [
        (str(p.peering_id), p.name, p.description, p.status)
        for p in SimPeering.objects.order_by("peering_id")
    ]


def sim_status(peering: Peering) -> str | None:
    row = SimPeering.objects.filter(peering_id=peering.upstream_id).first()
    return row.status if row else None


def point_at(tenant: Tenant, url: str) -> None:
    tenant.endpoint = url
    tenant.save()


# --- Requesting ------------------------------------------------------------------------------------


def test_request_same_account_is_active(cloud, acme_prod, acme_dev, acme_member, prod_web, dev_app):
    peering = peering_request(
        tenant=acme_prod,
        acting_user=acme_member,
        name="prod-to-dev",
        description="shared tooling",
        request_vpc_id=str(prod_web.vpc_id),
        accept_vpc_id=str(dev_app.vpc_id),
        accept_project_id=acme_dev.project_id,
        source=ChangeSource.API,
    )

    assert peering.status == S.ACTIVE
    assert sim_status(peering) == S.ACTIVE
    sim = SimPeering.objects.get(peering_id=peering.upstream_id)
    assert peering.upstream_created_at == sim.created_at.replace(microsecond=0)
    assert peering.upstream_created_at.utcoffset() == dt.timedelta(0)
    assert (peering.requester_tenant, peering.requester_project_id) == (acme_prod, acme_prod.project_id)
    assert (peering.accepter_tenant, peering.accepter_project_id) == (acme_dev, acme_dev.project_id)
    assert (peering.requester_vpc_id, peering.accepter_vpc_id) == (prod_web.vpc_id, dev_app.vpc_id)
    assert (peering.requested_by, peering.last_synced_at is not None) == (acme_member, True)
    # Reads of both projects' VPCs (each with its own keys), then the create with the requester's.
    assert calls() == [
        ("list_vpcs", "acme-prod", 200),
        ("list_vpcs", "acme-dev", 200),
        ("create", "acme-prod", 201),
    ]
    create = UpstreamCall.objects.get(operation="create")
    assert (create.peering, create.acting_user) == (peering, acme_member)
    assert create.request_body["peering"]["accept_vpc_info"]["tenant_id"] == acme_dev.project_id
    assert history(peering) == [("", S.SUBMITTING), (S.SUBMITTING, S.ACTIVE)]
    assert {(c.actor, c.source) for c in peering.status_changes.all()} == {(acme_member, ChangeSource.API)}


def test_request_between_own_vpcs_needs_no_project(active, acme_prod):
    assert active.status == S.ACTIVE
    assert (active.accepter_tenant, active.accepter_project_id) == (acme_prod, acme_prod.project_id)
    assert calls() == [("list_vpcs", "acme-prod", 200), ("create", "acme-prod", 201)]


def test_request_cross_account_is_pending(pending, globex_main):
    assert pending.status == S.PENDING_ACCEPTANCE
    assert sim_status(pending) == S.PENDING_ACCEPTANCE
    assert pending.accepter_tenant == globex_main
    assert (pending.name, pending.description) == ("web-to-globex", "web to globex")
    assert calls() == [
        ("list_vpcs", "acme-prod", 200),
        ("list_vpcs", "globex-main", 200),
        ("create", "acme-prod", 201),
    ]
    assert history(pending) == [("", S.SUBMITTING), (S.SUBMITTING, S.PENDING_ACCEPTANCE)]


def test_request_to_a_project_outside_the_portal(cloud, acme_prod, acme_member, prod_web):
    from tests.factories import SimProjectFactory, SimVpcFactory

    outside = SimProjectFactory(name="initech-main")
    # Same range as prod-web: not checked, since the portal cannot read that project's VPCs.
    vpc = SimVpcFactory(project=outside, name="initech-app", cidr="10.1.0.0/16")

    peering = peering_request(
        tenant=acme_prod,
        acting_user=acme_member,
        name="to-initech",
        request_vpc_id=prod_web.vpc_id,
        accept_vpc_id=vpc.vpc_id,
        accept_project_id=outside.project_id,
    )

    assert peering.status == S.PENDING_ACCEPTANCE
    assert (peering.accepter_tenant, peering.accepter_project_id) == (None, outside.project_id)
    assert calls() == [("list_vpcs", "acme-prod", 200), ("create", "acme-prod", 201)]


@pytest.fixture
def superuser(db):
    return UserFactory(username="root", is_superuser=True, is_staff=True)


@pytest.mark.parametrize("user", ["outsider", "globex_approver", "superuser"])
def test_request_refused_to_non_members_with_nothing_sent(
    request, user, cloud, acme_prod, globex_main, prod_web, globex_app
):
    with pytest.raises(NotPermitted):
        peering_request(
            tenant=acme_prod,
            acting_user=request.getfixturevalue(user),
            name="sneaky",
            request_vpc_id=prod_web.vpc_id,
            accept_vpc_id=globex_app.vpc_id,
            accept_project_id=globex_main.project_id,
        )
    assert not UpstreamCall.objects.exists()
    assert not Peering.objects.exists()
    assert sim_peerings() == []


def test_request_of_an_open_pair_is_refused_before_anything_is_sent(pending, globex_main, acme_member):
    before = (calls(), sim_peerings())
    with pytest.raises(RequestInvalid) as caught:
        peering_request(
            tenant=pending.requester_tenant,
            acting_user=acme_member,
            name="again",
            request_vpc_id=pending.requester_vpc_id,
            accept_vpc_id=pending.accepter_vpc_id,
            accept_project_id=globex_main.project_id,
        )
    assert set(caught.value.errors) == {"accept_vpc_id"}
    assert (calls(), sim_peerings()) == before
    assert Peering.objects.count() == 1


# --- Accepting and rejecting -----------------------------------------------------------------------


def test_accept_by_the_accepters_approver(pending, globex_approver):
    peering = peering_accept(peering=pending, acting_user=globex_approver, reason="looks right")

    assert peering is pending
    assert peering.status == S.ACTIVE
    assert sim_status(peering) == S.ACTIVE
    assert (peering.decided_by, peering.decision_reason) == (globex_approver, "looks right")
    assert peering.decided_at is not None
    assert calls(peering)[-1] == ("accept", "globex-main", 200)
    assert UpstreamCall.objects.order_by("-id").first().acting_user == globex_approver
    change = last_change(peering)
    assert (change.old_status, change.new_status) == (S.PENDING_ACCEPTANCE, S.ACTIVE)
    assert (change.actor, change.reason, change.source) == (globex_approver, "looks right", ChangeSource.USER)


def test_reject_records_the_reason_and_who_decided(pending, globex_approver):
    peering = peering_reject(
        peering=pending, acting_user=globex_approver, reason="not our VPC", source=ChangeSource.ADMIN
    )

    assert peering.status == S.REJECTED
    assert sim_status(peering) == S.REJECTED
    assert (peering.decided_by, peering.decision_reason) == (globex_approver, "not our VPC")
    assert calls(peering)[-1] == ("reject", "globex-main", 200)
    change = last_change(peering)
    assert (change.old_status, change.new_status, change.source) == (
        S.PENDING_ACCEPTANCE,
        S.REJECTED,
        ChangeSource.ADMIN,
    )
    assert change.reason == "not our VPC"


@pytest.mark.parametrize("decide", [peering_accept, peering_reject])
@pytest.mark.parametrize("user", ["acme_member", "acme_approver", "globex_member", "outsider", "superuser"])
def test_decision_refused_to_anyone_but_the_accepters_approver(request, decide, user, pending):
    before = (calls(), sim_peerings(), history(pending))
    with pytest.raises(NotPermitted):
        decide(peering=pending, acting_user=request.getfixturevalue(user))
    assert (calls(), sim_peerings(), history(pending)) == before
    pending.refresh_from_db()
    assert (pending.status, pending.decided_by) == (S.PENDING_ACCEPTANCE, None)


def test_decision_on_an_external_accepter_is_refused(cloud, acme_approver):
    peering = PeeringFactory(accepter_tenant=None, accepter_project_id="0" * 32)
    MembershipFactory(user=acme_approver, tenant=peering.requester_tenant, role=Role.APPROVER)
    with pytest.raises(NotPermitted):
        peering_accept(peering=peering, acting_user=acme_approver)
    assert not UpstreamCall.objects.exists()


# --- Updating ----------------------------------------------------------------------------------------


def test_update_by_the_requester(pending, acme_member):
    peering = peering_update(peering=pending, acting_user=acme_member, name="renamed")

    assert (peering.name, peering.description) == ("renamed", "web to globex")
    assert sim_peerings()[0][1:3] == ("renamed", "web to globex")
    assert calls(peering)[-1] == ("update", "acme-prod", 200)
    assert peering.status == S.PENDING_ACCEPTANCE
    assert history(peering)[-1] == (S.SUBMITTING, S.PENDING_ACCEPTANCE)


def test_update_by_the_accepter_uses_the_accepters_keys(pending, globex_member):
    peering = peering_update(peering=pending, acting_user=globex_member, description="seen by globex")

    assert peering.description == "seen by globex"
    assert sim_peerings()[0][2] == "seen by globex"
    assert calls(peering)[-1] == ("update", "globex-main", 200)


def test_update_refusals_send_nothing(pending, acme_member, outsider):
    before = (calls(), sim_peerings())
    with pytest.raises(NotPermitted):
        peering_update(peering=pending, acting_user=outsider, name="x")
    with pytest.raises(RequestInvalid) as nothing:
        peering_update(peering=pending, acting_user=acme_member)
    with pytest.raises(RequestInvalid) as bad:
        peering_update(peering=pending, acting_user=acme_member, name="", description="<b>")
    assert nothing.value.errors == {NON_FIELD_ERRORS: [UPDATE_NOTHING]}
    assert set(bad.value.errors) == {"name", "description"}
    assert bad.value.errors["description"] == [DESCRIPTION_FORBIDDEN_CHARACTERS]
    assert (calls(), sim_peerings()) == before


# --- Deleting ----------------------------------------------------------------------------------------


def test_delete_by_the_requester(active, acme_member):
    peering = peering_delete(peering=active, acting_user=acme_member)

    assert peering.status == S.DELETED
    assert sim_peerings() == []
    assert calls(peering)[-1] == ("delete", "acme-prod", 204)
    change = last_change(peering)
    assert (change.old_status, change.new_status, change.actor) == (S.ACTIVE, S.DELETED, acme_member)


def test_delete_by_the_accepter_uses_the_accepters_keys(pending, globex_approver):
    peering = peering_delete(peering=pending, acting_user=globex_approver, source=ChangeSource.API)

    assert peering.status == S.DELETED
    assert sim_peerings() == []
    assert calls(peering)[-1] == ("delete", "globex-main", 204)
    assert last_change(peering).source == ChangeSource.API


@pytest.mark.parametrize("reason", ["", "  \n "])
def test_a_rejection_needs_a_reason_whichever_front_sends_it(pending, globex_approver, reason):
    sent_before = calls()
    with pytest.raises(RequestInvalid) as refused:
        peering_reject(peering=pending, acting_user=globex_approver, reason=reason)

    assert refused.value.errors == {"reason": [REASON_REQUIRED]}
    pending.refresh_from_db()
    assert (pending.status, pending.inflight_token) == (S.PENDING_ACCEPTANCE, "")
    assert sim_status(pending) == S.PENDING_ACCEPTANCE
    assert calls() == sent_before  # nothing was sent


def test_an_outsider_without_a_reason_is_refused_for_who_they_are_not_for_the_reason(pending, acme_member):
    with pytest.raises(NotPermitted):
        peering_reject(peering=pending, acting_user=acme_member, reason="")


def test_delete_of_a_rejected_peering(pending, globex_approver, acme_member):
    peering_reject(peering=pending, acting_user=globex_approver, reason="not ours")
    peering = peering_delete(peering=pending, acting_user=acme_member)
    assert history(peering)[-2:] == [(S.PENDING_ACCEPTANCE, S.REJECTED), (S.REJECTED, S.DELETED)]


def test_delete_of_a_peering_already_gone_from_the_cloud(active, acme_member):
    SimPeering.objects.all().delete()

    peering = peering_delete(peering=active, acting_user=acme_member)

    assert peering.status == S.DELETED
    assert calls(peering)[-1] == ("delete", "acme-prod", 404)
    assert last_change(peering).reason == "Already gone from the cloud."


def test_delete_refused_to_outsiders(active, outsider):
    before = (calls(), sim_peerings())
    with pytest.raises(NotPermitted):
        peering_delete(peering=active, acting_user=outsider)
    assert (calls(), sim_peerings()) == before


def test_a_plain_member_of_the_accepter_may_not_delete_a_pending_request(pending, globex_member):
    """Deleting a request addressed to the tenant would reject it without a reason: approvers only."""
    with pytest.raises(NotPermitted):
        peering_delete(peering=pending, acting_user=globex_member)
    assert calls(pending)[-1][0] == "create"  # nothing sent
    assert sim_status(pending) == S.PENDING_ACCEPTANCE


def test_the_requester_may_not_accept_their_own_request_where_duties_are_separated(
    cloud, acme_prod, globex_main, prod_web, globex_app
):
    both = MembershipFactory(tenant=acme_prod).user
    MembershipFactory(user=both, tenant=globex_main, role=Role.APPROVER)
    peering = peering_request(
        tenant=acme_prod,
        acting_user=both,
        name="mine",
        request_vpc_id=prod_web.vpc_id,
        accept_vpc_id=globex_app.vpc_id,
        accept_project_id=globex_main.project_id,
    )
    with pytest.raises(NotPermitted):
        peering_accept(peering=peering, acting_user=both)
    assert sim_status(peering) == S.PENDING_ACCEPTANCE

    globex_main.separate_duties = False
    globex_main.save()
    assert peering_accept(peering=Peering.objects.get(pk=peering.pk), acting_user=both).status == S.ACTIVE


def test_delete_refused_by_the_cloud_keeps_the_peering(pending, globex_approver, acme_member):
    # Any refusal but 404 leaves the peering as it was; here the accepter's keys were revoked.
    from vpcsim.models import AccessKey

    AccessKey.objects.filter(account__name="globex").delete()
    with pytest.raises(CloudRefused) as caught:
        peering_delete(peering=pending, acting_user=globex_approver)
    pending.refresh_from_db()
    assert caught.value.status == 401
    assert pending.status == S.PENDING_ACCEPTANCE
    assert pending.error_code == caught.value.code
    assert calls(pending)[-1] == ("delete", "globex-main", 401)
    assert sim_status(pending) == S.PENDING_ACCEPTANCE


# --- Refreshing --------------------------------------------------------------------------------------


def test_refresh_without_change(active):
    changes = history(active)
    peering = peering_refresh(peering=active)

    assert peering.status == S.ACTIVE
    assert history(peering) == changes
    assert calls(peering)[-1] == ("show", "acme-prod", 200)
    assert UpstreamCall.objects.order_by("-id").first().acting_user is None


def test_refresh_sees_expiry(pending, settings):
    clock.advance(dt.timedelta(seconds=settings.VPCSIM_PENDING_EXPIRY_SECONDS + 60))

    peering = peering_refresh(peering=pending)

    assert peering.status == S.EXPIRED
    change = last_change(peering)
    assert (change.old_status, change.new_status) == (S.PENDING_ACCEPTANCE, S.EXPIRED)
    assert (change.actor, change.source) == (None, ChangeSource.SYNC)
    assert peering.upstream_updated_at > peering.upstream_created_at


def test_refresh_sees_a_decision_made_outside_the_portal(pending, globex_main):
    tenant_client(globex_main).accept_peering(pending.upstream_id)

    peering = peering_refresh(peering=pending)

    assert peering.status == S.ACTIVE
    assert peering.decided_by is None
    assert history(peering)[-1] == (S.PENDING_ACCEPTANCE, S.ACTIVE)


def test_refresh_of_a_peering_the_cloud_no_longer_has(pending):
    SimPeering.objects.all().delete()

    peering = peering_refresh(peering=pending)

    assert peering.status == S.DELETED
    assert calls(peering)[-1] == ("show", "acme-prod", 404)
    assert last_change(peering).reason == "The cloud no longer has this peering."


def test_refresh_never_moves_the_status_backwards(pending):
    Peering.objects.filter(pk=pending.pk).update(status=S.ACTIVE)
    changes = StatusChange.objects.count()

    peering = peering_refresh(peering=pending)

    assert peering.status == S.ACTIVE
    assert peering.error_code == STATUS_CONFLICT
    assert S.PENDING_ACCEPTANCE in peering.error_message
    assert StatusChange.objects.count() == changes
    assert calls(peering)[-1] == ("show", "acme-prod", 200)


def test_refresh_by_a_user_uses_their_sides_keys(pending, globex_member, outsider):
    peering_refresh(peering=pending, acting_user=globex_member, source=ChangeSource.USER)
    assert calls(pending)[-1] == ("show", "globex-main", 200)
    with pytest.raises(NotPermitted):
        peering_refresh(peering=pending, acting_user=outsider)


# --- Refused transitions (nothing is sent) ------------------------------------------------------


def _act(action: str, peering: Peering, user):
    if action == "accept":
        return peering_accept(peering=peering, acting_user=user)
    if action == "reject":
        return peering_reject(peering=peering, acting_user=user, reason="not ours")
    if action == "update":
        return peering_update(peering=peering, acting_user=user, name="new")
    if action == "delete":
        return peering_delete(peering=peering, acting_user=user)
    return peering_refresh(peering=peering, acting_user=None)


REFUSED = [(a, s) for a in ("accept", "reject") for s in S.values if s != S.PENDING_ACCEPTANCE] + [
    (a, s) for a in ("update", "delete", "refresh") for s in (S.DELETED, S.FAILED)
]


@pytest.mark.parametrize(("action", "status"), REFUSED)
def test_refused_transitions(db, action, status):
    peering = PeeringFactory(status=status)
    user = UserFactory()
    MembershipFactory(user=user, tenant=peering.requester_tenant, role=Role.APPROVER)
    MembershipFactory(user=user, tenant=peering.accepter_tenant, role=Role.APPROVER)

    with pytest.raises(InvalidState):
        _act(action, peering, user)

    peering.refresh_from_db()
    assert peering.status == status
    assert not UpstreamCall.objects.exists()
    assert not StatusChange.objects.exists()


def test_update_before_the_cloud_knows_the_peering_is_refused(db):
    peering = PeeringFactory(status=S.SUBMITTING, upstream_id=None)
    user = MembershipFactory(tenant=peering.requester_tenant).user
    with pytest.raises(InvalidState):
        peering_update(peering=peering, acting_user=user, name="new")
    assert not UpstreamCall.objects.exists()


# --- Failures ------------------------------------------------------------------------------------------


def test_create_refused_by_the_cloud_fails_the_peering(
    cloud, acme_prod, globex_main, acme_member, prod_web, globex_app
):
    # The same pair, requested directly in the cloud: the mirror does not know it.
    tenant_client(acme_prod).create_peering(
        name="made-outside",
        request_vpc_id=str(prod_web.vpc_id),
        accept_vpc_id=str(globex_app.vpc_id),
        accept_project_id=globex_main.project_id,
    )

    with pytest.raises(CloudRefused) as caught:
        peering_request(
            tenant=acme_prod,
            acting_user=acme_member,
            name="duplicate",
            request_vpc_id=prod_web.vpc_id,
            accept_vpc_id=globex_app.vpc_id,
            accept_project_id=globex_main.project_id,
        )

    peering = Peering.objects.get()
    assert (caught.value.status, caught.value.code) == (409, "VpcPeeringExists")
    assert peering.status == S.FAILED
    assert peering.upstream_id is None
    assert (peering.error_code, peering.error_message) == ("VpcPeeringExists", caught.value.message)
    assert history(peering) == [("", S.SUBMITTING), (S.SUBMITTING, S.FAILED)]
    assert caught.value.message in last_change(peering).reason
    assert calls(peering) == [("create", "acme-prod", 409)]
    row = UpstreamCall.objects.get(peering=peering)
    assert row.correlation_id == caught.value.record.correlation_id
    assert row.error_code == "VpcPeeringExists"
    assert len(sim_peerings()) == 1


def test_request_with_the_cloud_down_saves_nothing_but_the_call(
    cloud, closed_port, acme_prod, globex_main, acme_member, prod_web, globex_app
):
    point_at(acme_prod, f"http://127.0.0.1:{closed_port}")

    with pytest.raises(CloudUnavailable) as caught:
        peering_request(
            tenant=acme_prod,
            acting_user=acme_member,
            name="offline",
            request_vpc_id=prod_web.vpc_id,
            accept_vpc_id=globex_app.vpc_id,
            accept_project_id=globex_main.project_id,
        )

    assert caught.value.outcome_unknown is False
    assert not Peering.objects.exists()
    row = UpstreamCall.objects.get()
    assert (row.operation, row.tenant, row.status_code, row.acting_user) == (
        "list_vpcs",
        acme_prod,
        None,
        acme_member,
    )
    assert row.error_code == caught.value.code


def _request_through(proxy, acme_prod, globex_main, acme_member, prod_web, globex_app) -> Peering | None:
    point_at(acme_prod, proxy.url)
    return peering_request(
        tenant=acme_prod,
        acting_user=acme_member,
        name="through-proxy",
        request_vpc_id=prod_web.vpc_id,
        accept_vpc_id=globex_app.vpc_id,
        accept_project_id=globex_main.project_id,
    )


def test_create_with_the_cloud_unavailable_stays_submitting_until_refreshed(
    cloud_proxy, acme_prod, globex_main, acme_member, prod_web, globex_app
):
    cloud_proxy.modes["POST"] = "503"
    with pytest.raises(CloudUnavailable) as caught:
        _request_through(cloud_proxy, acme_prod, globex_main, acme_member, prod_web, globex_app)

    peering = Peering.objects.get()
    assert caught.value.outcome_unknown is False
    assert (peering.status, peering.upstream_id) == (S.SUBMITTING, None)
    assert peering.error_code == "VPC.0500"
    assert calls(peering) == [("create", "acme-prod", 503)]
    assert sim_peerings() == []

    # Later the cloud is back: the refresh looks first, finds nothing, and only then sends the create.
    cloud_proxy.modes.clear()
    peering = peering_refresh(peering=peering)

    assert peering.status == S.PENDING_ACCEPTANCE
    assert (peering.error_code, peering.error_message) == ("", "")
    assert calls(peering)[1:] == [("list_peerings", "acme-prod", 200), ("create", "acme-prod", 201)]
    assert len(sim_peerings()) == 1


def test_create_with_unknown_outcome_is_reconciled_at_once(
    cloud_proxy, acme_prod, globex_main, acme_member, prod_web, globex_app
):
    cloud_proxy.modes["POST"] = "forward-then-drop"  # the cloud creates it; the answer is lost

    peering = _request_through(cloud_proxy, acme_prod, globex_main, acme_member, prod_web, globex_app)

    assert peering.status == S.PENDING_ACCEPTANCE
    (sim_id, *_), *others = sim_peerings()
    assert others == []
    assert peering.upstream_id == sim_id
    assert calls(peering) == [("create", "acme-prod", None), ("list_peerings", "acme-prod", 200)]
    assert history(peering) == [("", S.SUBMITTING), (S.SUBMITTING, S.PENDING_ACCEPTANCE)]
    assert "outcome was unknown" in last_change(peering).reason
    assert [m for m, _, _ in cloud_proxy.seen].count("POST") == 1


def test_unknown_outcome_with_a_failed_lookup_stays_submitting_and_is_not_sent_twice(
    cloud_proxy, acme_prod, globex_main, acme_member, prod_web, globex_app, expire_leases
):
    cloud_proxy.modes["POST"] = "forward-then-drop"
    cloud_proxy.modes["GET /v2.0/vpc/peerings"] = "503"

    with pytest.raises(CloudUnavailable) as caught:
        _request_through(cloud_proxy, acme_prod, globex_main, acme_member, prod_web, globex_app)

    peering = Peering.objects.get()
    assert caught.value.outcome_unknown is True
    assert caught.value.record.operation == "create"
    assert (peering.status, peering.upstream_id) == (S.SUBMITTING, None)
    assert (peering.error_code, peering.error_message) == (caught.value.code, caught.value.message)
    assert calls(peering) == [("create", "acme-prod", None), ("list_peerings", "acme-prod", 503)]

    # While the create could still land, nothing concludes anything about it: not even a refresh.
    cloud_proxy.modes.clear()
    with pytest.raises(InvalidState):
        peering_refresh(peering=peering)
    assert len(calls(peering)) == 2

    expire_leases()
    peering = peering_refresh(peering=peering)

    assert peering.status == S.PENDING_ACCEPTANCE
    assert calls(peering)[2:] == [("list_peerings", "acme-prod", 200)]  # adopted, no second create
    assert len(sim_peerings()) == 1
    assert peering.upstream_id == sim_peerings()[0][0]


def test_unknown_outcome_when_the_create_never_arrived(
    cloud_proxy, acme_prod, globex_main, acme_member, prod_web, globex_app
):
    cloud_proxy.modes["POST"] = "drop"

    with pytest.raises(CloudUnavailable) as caught:
        _request_through(cloud_proxy, acme_prod, globex_main, acme_member, prod_web, globex_app)

    peering = Peering.objects.get()
    assert caught.value.outcome_unknown is True
    assert peering.status == S.SUBMITTING
    assert calls(peering) == [("create", "acme-prod", None), ("list_peerings", "acme-prod", 200)]
    assert sim_peerings() == []


def test_deleting_a_submitting_peering_the_cloud_never_got_withdraws_it(
    cloud_proxy, acme_prod, globex_main, acme_member, prod_web, globex_app
):
    cloud_proxy.modes["POST"] = "503"
    with pytest.raises(CloudUnavailable):
        _request_through(cloud_proxy, acme_prod, globex_main, acme_member, prod_web, globex_app)
    peering = Peering.objects.get()

    peering = peering_delete(peering=peering, acting_user=acme_member)

    assert peering.status == S.DELETED
    assert calls(peering)[-1] == ("list_peerings", "acme-prod", 200)
    assert last_change(peering).reason.startswith("Withdrawn")
    assert sim_peerings() == []


def test_deleting_a_submitting_peering_the_cloud_did_create_deletes_it_there(
    cloud_proxy, acme_prod, globex_main, acme_member, prod_web, globex_app, expire_leases
):
    cloud_proxy.modes["POST"] = "forward-then-drop"
    cloud_proxy.modes["GET /v2.0/vpc/peerings"] = "503"
    with pytest.raises(CloudUnavailable):
        _request_through(cloud_proxy, acme_prod, globex_main, acme_member, prod_web, globex_app)
    cloud_proxy.modes.clear()
    peering = Peering.objects.get()
    with pytest.raises(InvalidState):  # the create's answer was lost: it may still land
        peering_delete(peering=peering, acting_user=acme_member)
    expire_leases()

    peering = peering_delete(peering=peering, acting_user=acme_member)

    assert peering.status == S.DELETED
    assert sim_peerings() == []
    assert calls(peering)[-2:] == [("list_peerings", "acme-prod", 200), ("delete", "acme-prod", 204)]
    assert history(peering)[-2:] == [(S.SUBMITTING, S.PENDING_ACCEPTANCE), (S.PENDING_ACCEPTANCE, S.DELETED)]


def test_accept_with_the_cloud_down_records_the_failed_call(
    pending, globex_approver, globex_main, closed_port
):
    point_at(globex_main, f"http://127.0.0.1:{closed_port}")
    changes = history(pending)

    with pytest.raises(CloudUnavailable) as caught:
        peering_accept(peering=pending, acting_user=globex_approver)

    pending.refresh_from_db()
    assert pending.status == S.PENDING_ACCEPTANCE
    assert pending.decided_by is None
    assert pending.error_code == caught.value.code
    assert history(pending) == changes
    row = UpstreamCall.objects.order_by("-id").first()
    assert (row.operation, row.tenant, row.status_code, row.peering) == ("accept", globex_main, None, pending)
    assert row.attempts > 1  # accept is idempotent, so it was retried
    assert sim_status(pending) == S.PENDING_ACCEPTANCE


def test_accept_refused_because_the_cloud_shows_another_decision(pending, globex_main, globex_approver):
    # Rejected in the cloud behind the portal's back: the mirror still says pending.
    tenant_client(globex_main).reject_peering(pending.upstream_id)

    with pytest.raises(InvalidState) as caught:
        peering_accept(peering=pending, acting_user=globex_approver)

    pending.refresh_from_db()
    assert caught.value.peering == pending
    assert caught.value.message == ALREADY_DECIDED.format(status="Rejected")
    # The decision that won is mirrored, credited to nobody; the loser's refusal is not an error.
    assert (pending.status, pending.error_code, pending.decided_by) == (S.REJECTED, "", None)
    assert last_change(pending).actor is None
    assert calls(pending)[-2:] == [("accept", "globex-main", 409), ("show", "globex-main", 200)]


def test_accepter_cannot_complete_the_requesters_unconfirmed_request(
    cloud_proxy, acme_prod, globex_main, acme_member, globex_member, prod_web, globex_app
):
    cloud_proxy.modes["POST"] = "503"
    with pytest.raises(CloudUnavailable):
        _request_through(cloud_proxy, acme_prod, globex_main, acme_member, prod_web, globex_app)
    peering = Peering.objects.get()
    sent = len(cloud_proxy.seen)

    with pytest.raises(NotPermitted):
        peering_refresh(peering=peering, acting_user=globex_member)

    assert len(cloud_proxy.seen) == sent
    assert Peering.objects.get().status == S.SUBMITTING


@pytest.mark.parametrize(("decide", "expected"), [(peering_accept, S.ACTIVE), (peering_reject, S.REJECTED)])
def test_decision_whose_answer_was_lost_is_confirmed_from_the_cloud(
    decide, expected, pending, globex_main, globex_approver, cloud_proxy
):
    """The first attempt is carried out but its answer lost; the retry is refused (not pending)."""
    point_at(globex_main, cloud_proxy.url)
    cloud_proxy.modes["PUT"] = "forward-then-drop"
    cloud_proxy.once.add("PUT")

    peering = decide(peering=pending, acting_user=globex_approver, reason="ticket 7")

    assert (peering.status, peering.decided_by, peering.error_code) == (expected, globex_approver, "")
    assert sim_status(peering) == expected
    operation = "accept" if expected == S.ACTIVE else "reject"
    assert calls(peering)[-2:] == [(operation, "globex-main", 409), ("show", "globex-main", 200)]
    assert history(peering)[-1] == (S.PENDING_ACCEPTANCE, expected)


def test_refused_retry_of_a_decision_on_a_peering_gone_from_the_cloud(
    pending, globex_main, globex_approver, acme_prod, cloud_proxy
):
    """The cloud refuses a retried accept and shows the peering was not accepted: the refusal stands."""
    tenant_client(acme_prod).delete_peering(pending.upstream_id)  # gone behind the portal's back
    point_at(globex_main, cloud_proxy.url)
    cloud_proxy.modes["PUT"] = "503"
    cloud_proxy.once.add("PUT")

    with pytest.raises(InvalidState) as caught:
        peering_accept(peering=pending, acting_user=globex_approver)

    assert caught.value.message == ALREADY_DECIDED.format(status="Deleted")
    pending.refresh_from_db()
    assert (pending.status, pending.decided_by, pending.error_code) == (S.DELETED, None, "")
    assert calls(pending)[-2:] == [("accept", "globex-main", 404), ("show", "globex-main", 404)]


def test_refresh_with_the_cloud_down_records_the_failed_call(active, acme_prod, closed_port):
    point_at(acme_prod, f"http://127.0.0.1:{closed_port}")
    with pytest.raises(CloudUnavailable):
        peering_refresh(peering=active)
    active.refresh_from_db()
    assert active.status == S.ACTIVE
    assert calls(active)[-1] == ("show", "acme-prod", None)


# --- sync_peerings -----------------------------------------------------------------------------------


@pytest.fixture
def dev_pending(cloud, acme_dev, globex_main, dev_app, globex_app) -> Peering:
    user = MembershipFactory(tenant=acme_dev).user
    return peering_request(
        tenant=acme_dev,
        acting_user=user,
        name="dev-to-globex",
        request_vpc_id=dev_app.vpc_id,
        accept_vpc_id=globex_app.vpc_id,
        accept_project_id=globex_main.project_id,
    )


def test_sync_refreshes_every_open_peering_despite_failures(
    pending, dev_pending, active, acme_dev, closed_port, settings
):
    point_at(acme_dev, f"http://127.0.0.1:{closed_port}")
    clock.advance(dt.timedelta(seconds=settings.VPCSIM_PENDING_EXPIRY_SECONDS + 60))
    out, err = StringIO(), StringIO()

    with pytest.raises(CommandError, match="1 peering"):
        call_command("sync_peerings", stdout=out, stderr=err)

    pending.refresh_from_db()
    dev_pending.refresh_from_db()
    active.refresh_from_db()
    assert pending.status == S.EXPIRED
    assert last_change(pending).source == ChangeSource.SYNC
    assert dev_pending.status == S.PENDING_ACCEPTANCE
    assert dev_pending.error_code != ""
    assert active.status == S.ACTIVE
    assert "web-to-globex: PENDING_ACCEPTANCE -> EXPIRED" in out.getvalue()
    assert "Refreshed 3 peering(s): 1 changed, 1 unchanged, 1 failed." in err.getvalue()


def test_sync_of_one_tenant(pending, dev_pending, settings):
    clock.advance(dt.timedelta(seconds=settings.VPCSIM_PENDING_EXPIRY_SECONDS + 60))
    out = StringIO()

    call_command("sync_peerings", "--tenant", "acme-dev", stdout=out)

    pending.refresh_from_db()
    dev_pending.refresh_from_db()
    assert (pending.status, dev_pending.status) == (S.PENDING_ACCEPTANCE, S.EXPIRED)
    assert "Refreshed 1 peering(s): 1 changed, 0 unchanged, 0 failed." in out.getvalue()
    with pytest.raises(CommandError, match="No tenant"):
        call_command("sync_peerings", "--tenant", "nobody")


def test_an_answer_with_text_the_database_cannot_hold_is_recorded_not_trusted(
    pending, acme_prod, acme_member, cloud_proxy
):
    """Defect 3: a NUL byte in the cloud's answer is a corrupt answer: recorded (escaped), never a 500."""
    point_at(acme_prod, cloud_proxy.url)
    cloud_proxy.modes["GET"] = "nul"

    with pytest.raises(CloudUnavailable) as caught:
        peering_refresh(peering=pending, acting_user=acme_member)

    assert caught.value.code == "InvalidResponse"
    peering = Peering.objects.get(pk=pending.pk)
    assert (peering.name, peering.status, peering.error_code) == (
        "web-to-globex",
        S.PENDING_ACCEPTANCE,
        "InvalidResponse",
    )
    row = UpstreamCall.objects.filter(peering=peering).order_by("-id").first()
    assert (row.operation, row.status_code, row.error_code) == ("show", 200, "InvalidResponse")
    assert row.response_body["peering"]["description"] == "\\u0000web to globex"


def test_a_retried_decision_is_never_taken_for_a_replay(pending, globex_approver, sim_faults):
    """Each attempt is signed anew (its own X-Attempt-Id): the gateway's replay check lets a retry in."""
    sim_faults.inject("accept", kind="503", times=2)  # retried at once: backoff is 0 in tests

    peering = peering_accept(peering=pending, acting_user=globex_approver)

    assert peering.status == S.ACTIVE
    row = UpstreamCall.objects.filter(peering=peering, operation="accept").get()
    assert (row.status_code, row.attempts) == (200, 3)
    assert sim_faults.injected("accept") == 2


def test_a_lost_create_is_looked_up_through_every_page(
    cloud_proxy, monkeypatch, acme_prod, globex_main, acme_member, prod_web, globex_app
):
    """Reconciling reads the requester's whole list (its ``marker`` pages), not only the first page."""
    from vpcsim.models import Project as SimProject

    monkeypatch.setattr(workflow, "LOOKUP_PAGE_SIZE", 2)
    globex = SimProject.objects.get(name="globex-main")
    now = timezone.now()
    for i in range(5):  # five more peerings of prod-web with the same name, to other VPCs
        vpc = SimVpcFactory(project=globex, cidr=f"10.{150 + i}.0.0/16")
        SimPeering.objects.create(
            name="through-proxy",
            status=S.PENDING_ACCEPTANCE,
            request_vpc=prod_web,
            request_project=prod_web.project,
            accept_vpc=vpc,
            accept_project=globex,
            created_at=now,
            updated_at=now,
        )
    cloud_proxy.modes["POST"] = "forward-then-drop"

    peering = _request_through(cloud_proxy, acme_prod, globex_main, acme_member, prod_web, globex_app)

    assert peering.status == S.PENDING_ACCEPTANCE
    created = SimPeering.objects.get(accept_vpc=globex_app)
    assert peering.upstream_id == str(created.peering_id)
    pages = [c for c in calls(peering) if c[0] == "list_peerings"]
    assert len(pages) >= 3  # six peerings, two a page (a full last page is followed by one more read)
    assert set(pages) == {("list_peerings", "acme-prod", 200)}
