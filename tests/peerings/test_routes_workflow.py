"""Applying and removing an active peering's routes against the simulator, each side with its own keys;
the official SDK reads what the portal created."""

from __future__ import annotations

import pytest
from huaweicloudsdkvpc.v2 import (
    CreateVpcRouteOption,
    CreateVpcRouteRequest,
    CreateVpcRouteRequestBody,
    DeleteVpcRouteRequest,
)

from peerings.choices import CallOperation, PeeringStatus, RouteEvent, RouteState
from peerings.cloud import VpcApiClient
from peerings.exceptions import CloudUnavailable, InvalidState, NotPermitted, RequestInvalid
from peerings.models import PeeringRoute, RouteChange, UpstreamCall
from peerings.routes.messages import BLOCKED, NOT_ACTIVE, NOT_YOUR_SIDE
from peerings.routes.workflow import routes_apply, routes_plan, routes_remove
from peerings.rules.messages import NOT_A_MEMBER
from peerings.workflow import peering_delete
from tests.peerings.routes_support import sdk_for, sdk_routes
from vpcsim.models import Route

pytestmark = pytest.mark.django_db


def test_each_side_applies_its_routes_with_its_own_keys_and_the_sdk_sees_exactly_them(
    cloud, accepted, acme_prod, globex_main, acme_member, globex_member, prod_web, globex_app
):
    mine = routes_apply(peering=accepted, acting_user=acme_member, side="requester")
    theirs = routes_apply(peering=accepted, acting_user=globex_member, side="accepter")

    assert [r.destination for r in mine.applied] == ["10.20.0.0/16"]
    assert [r.destination for r in theirs.applied] == ["10.1.0.0/16"]
    peering_id = accepted.upstream_id
    # The SDK, with each tenant's keys, sees exactly those routes, each created in its own project.
    assert sdk_routes(acme_prod, cloud.url, prod_web.vpc_id) == {
        ("10.20.0.0/16", peering_id, str(prod_web.vpc_id), acme_prod.project_id)
    }
    assert sdk_routes(globex_main, cloud.url, globex_app.vpc_id) == {
        ("10.1.0.0/16", peering_id, str(globex_app.vpc_id), globex_main.project_id)
    }
    rows = {r.side: r for r in PeeringRoute.objects.filter(peering=accepted)}
    assert rows["requester"].state == rows["accepter"].state == RouteState.APPLIED
    assert rows["requester"].tenant == acme_prod
    assert rows["accepter"].tenant == globex_main
    assert rows["requester"].created_by == acme_member
    assert rows["accepter"].created_by == globex_member
    assert {r.upstream_id for r in rows.values()} == {
        str(i) for i in Route.objects.values_list("route_id", flat=True)
    }
    # Every call in the peering's history, signed by the side's tenant.
    creates = UpstreamCall.objects.filter(peering=accepted, operation=CallOperation.CREATE_ROUTE)
    assert sorted((c.tenant.name, c.acting_user.username, c.status_code) for c in creates) == [
        ("acme-prod", "alice", 201),
        ("globex-main", "gary", 201),
    ]
    lists = UpstreamCall.objects.filter(peering=accepted, operation=CallOperation.LIST_ROUTES)
    assert sorted(c.tenant.name for c in lists) == ["acme-prod", "globex-main"]
    assert sorted(RouteChange.objects.filter(peering=accepted).values_list("event", flat=True)) == [
        RouteEvent.APPLIED,
        RouteEvent.APPLIED,
    ]
    accepted.refresh_from_db()
    assert not accepted.inflight_token  # the lease is given back


def test_applying_again_sends_nothing(cloud, accepted, acme_member):
    routes_apply(peering=accepted, acting_user=acme_member, side="requester")
    again = routes_apply(peering=accepted, acting_user=acme_member, side="requester")

    assert again.applied == []
    assert again.existing == ["10.20.0.0/16"]
    assert UpstreamCall.objects.filter(operation=CallOperation.CREATE_ROUTE).count() == 1


def test_chosen_subnets(cloud, accepted, acme_prod, acme_member, prod_web):
    routes_apply(
        peering=accepted,
        acting_user=acme_member,
        side="requester",
        destinations=["10.20.1.0/24", "10.20.2.0/24"],
    )
    assert {d for d, *_ in sdk_routes(acme_prod, cloud.url, prod_web.vpc_id)} == {
        "10.20.1.0/24",
        "10.20.2.0/24",
    }


def test_a_member_of_one_side_never_changes_the_other_sides_routes(
    cloud, accepted, acme_member, acme_approver, globex_member, globex_approver, outsider
):
    for user, side in [
        (acme_member, "accepter"),
        (acme_approver, "accepter"),
        (globex_member, "requester"),
        (globex_approver, "requester"),
    ]:
        for operation in (routes_apply, routes_remove):
            with pytest.raises(NotPermitted, match=NOT_YOUR_SIDE):
                operation(peering=accepted, acting_user=user, side=side)
    with pytest.raises(NotPermitted, match=NOT_A_MEMBER):
        routes_apply(peering=accepted, acting_user=outsider, side="requester")
    assert not UpstreamCall.objects.filter(
        operation__in=["list_routes", "create_route", "delete_route"]
    ).exists()
    assert not Route.objects.exists()


def test_only_while_active(cloud, request_to_globex, acme_member):
    pending = request_to_globex()
    with pytest.raises(InvalidState, match=NOT_ACTIVE.format(status="pending acceptance")):
        routes_apply(peering=pending, acting_user=acme_member, side="requester")
    assert not UpstreamCall.objects.filter(operation="list_routes").exists()


def test_conflicts_send_nothing(cloud, accepted, acme_member, acme_prod, prod_web):
    with pytest.raises(RequestInvalid) as refused:
        routes_apply(
            peering=accepted,
            acting_user=acme_member,
            side="requester",
            destinations=["10.1.0.0/16", "10.20.0.0/16", "10.20.1.0/24", "10.30.0.0/16"],
        )
    messages = refused.value.errors["destinations"]
    assert messages[0] == BLOCKED
    assert any("overlaps this VPC's own range" in m for m in messages)
    assert any("not within the peer VPC's range" in m for m in messages)
    assert any("proposed twice, or overlaps" in m for m in messages)
    assert not UpstreamCall.objects.filter(operation=CallOperation.CREATE_ROUTE).exists()
    assert not PeeringRoute.objects.exists()
    accepted.refresh_from_db()
    assert not accepted.inflight_token


def test_a_destination_routed_over_another_peering_is_a_conflict(
    cloud, accepted, active, acme_prod, prod_web
):
    """prod-web routes 10.20.0.0/16 over its peering with prod-db (added outside the portal)."""
    sdk = sdk_for(acme_prod, cloud.url)
    option = CreateVpcRouteOption(
        type="peering", nexthop=active.upstream_id, destination="10.20.0.0/16", vpc_id=str(prod_web.vpc_id)
    )
    other = sdk.create_vpc_route(CreateVpcRouteRequest(body=CreateVpcRouteRequestBody(route=option))).route

    plan = {p.side: p for p in routes_plan(peering=accepted, acting_user=accepted.requested_by)}
    (proposed,) = plan["requester"].proposed
    assert [c.kind for c in proposed.conflicts] == ["routed_elsewhere"]
    assert proposed.conflicts[0].route_id == other.id
    assert list(plan) == ["requester"]  # alice is not a member of Globex: its routes are not read
    with pytest.raises(RequestInvalid) as refused:
        routes_apply(peering=accepted, acting_user=accepted.requested_by, side="requester")
    assert "10.20.0.0/16 is already routed to another next hop" in refused.value.errors["destinations"][1]
    assert not UpstreamCall.objects.filter(operation=CallOperation.CREATE_ROUTE).exists()


def _fail_create_number(monkeypatch, sim_faults, number: int, kind: str) -> None:
    """Make the simulator fail the ``number``-th route create the portal sends (and only that one)."""
    original = VpcApiClient.create_route
    sent = []

    def create_route(self, **kwargs):
        sent.append(kwargs)
        if len(sent) == number:
            sim_faults.inject("create_route", kind=kind, times=1)
        return original(self, **kwargs)

    monkeypatch.setattr(VpcApiClient, "create_route", create_route)


def test_a_partial_failure_leaves_a_clear_record_of_which_routes_exist(
    cloud, accepted, acme_member, acme_prod, prod_web, sim_faults, monkeypatch
):
    _fail_create_number(monkeypatch, sim_faults, 2, "500")
    with pytest.raises(CloudUnavailable) as failed:
        routes_apply(
            peering=accepted,
            acting_user=acme_member,
            side="requester",
            destinations=["10.20.1.0/24", "10.20.2.0/24", "10.20.3.0/24"],
        )
    assert failed.value.peering == accepted
    states = dict(PeeringRoute.objects.values_list("destination", "state"))
    assert states == {
        "10.20.1.0/24": RouteState.APPLIED,
        "10.20.2.0/24": RouteState.FAILED,
    }  # the third: not sent
    assert {d for d, *_ in sdk_routes(acme_prod, cloud.url, prod_web.vpc_id)} == {"10.20.1.0/24"}
    creates = UpstreamCall.objects.filter(operation=CallOperation.CREATE_ROUTE).order_by("id")
    assert [c.status_code for c in creates] == [201, 500]
    failed_row = PeeringRoute.objects.get(destination="10.20.2.0/24")
    assert failed_row.error_code
    assert failed_row.changes.get().event == RouteEvent.FAILED
    accepted.refresh_from_db()
    assert not accepted.inflight_token
    assert not accepted.error_code

    # Applying again sends only what is missing.
    monkeypatch.undo()
    again = routes_apply(
        peering=accepted,
        acting_user=acme_member,
        side="requester",
        destinations=["10.20.1.0/24", "10.20.2.0/24", "10.20.3.0/24"],
    )
    assert [r.destination for r in again.applied] == ["10.20.2.0/24", "10.20.3.0/24"]
    assert again.existing == ["10.20.1.0/24"]
    assert {d for d, *_ in sdk_routes(acme_prod, cloud.url, prod_web.vpc_id)} == {
        "10.20.1.0/24",
        "10.20.2.0/24",
        "10.20.3.0/24",
    }


def test_a_create_whose_answer_was_lost_is_settled_by_the_next_read(
    cloud, accepted, acme_member, sim_faults, expire_leases
):
    sim_faults.inject("create_route", kind="applied_then_dropped", times=1)
    with pytest.raises(CloudUnavailable):
        routes_apply(peering=accepted, acting_user=acme_member, side="requester")
    row = PeeringRoute.objects.get()
    assert row.state == RouteState.UNKNOWN
    assert not row.upstream_id
    accepted.refresh_from_db()
    assert accepted.inflight_token  # held while the create may still land
    expire_leases()

    outcome = routes_apply(peering=accepted, acting_user=acme_member, side="requester")

    row.refresh_from_db()
    assert row.state == RouteState.APPLIED
    assert row.upstream_id
    assert outcome.applied == []
    assert outcome.existing == ["10.20.0.0/16"]
    assert UpstreamCall.objects.filter(operation=CallOperation.CREATE_ROUTE).count() == 1
    assert list(row.changes.order_by("id").values_list("event", flat=True)) == [
        RouteEvent.UNKNOWN,
        RouteEvent.FOUND,
    ]


def test_remove_each_side_with_its_own_keys(
    cloud, accepted, acme_member, globex_member, acme_prod, globex_main, prod_web, globex_app
):
    routes_apply(peering=accepted, acting_user=acme_member, side="requester")
    routes_apply(peering=accepted, acting_user=globex_member, side="accepter")

    removed = routes_remove(peering=accepted, acting_user=acme_member, side="requester")

    assert [r.destination for r in removed.removed] == ["10.20.0.0/16"]
    assert sdk_routes(acme_prod, cloud.url, prod_web.vpc_id) == set()
    assert len(sdk_routes(globex_main, cloud.url, globex_app.vpc_id)) == 1  # the other side's stays
    row = PeeringRoute.objects.get(side="requester")
    assert (row.state, row.removed_by) == (RouteState.REMOVED, acme_member)
    delete = UpstreamCall.objects.get(operation=CallOperation.DELETE_ROUTE)
    assert (delete.tenant, delete.status_code) == (acme_prod, 204)


def test_removing_a_route_already_gone_counts_as_removed(cloud, accepted, acme_member, acme_prod):
    applied = routes_apply(peering=accepted, acting_user=acme_member, side="requester").applied[0]
    sdk_for(acme_prod, cloud.url).delete_vpc_route(DeleteVpcRouteRequest(route_id=applied.upstream_id))

    removed = routes_remove(peering=accepted, acting_user=acme_member, side="requester")

    assert removed.removed == []  # the read found it gone first
    applied.refresh_from_db()
    assert applied.state == RouteState.MISSING
    assert applied.changes.order_by("-id").first().event == RouteEvent.REMOVED_OUTSIDE


def test_deleting_the_peering_removes_its_routes_and_the_history_says_so(
    cloud, accepted, acme_member, globex_member
):
    routes_apply(peering=accepted, acting_user=acme_member, side="requester")
    routes_apply(peering=accepted, acting_user=globex_member, side="accepter")

    peering_delete(peering=accepted, acting_user=acme_member)

    assert accepted.status == PeeringStatus.DELETED
    assert set(PeeringRoute.objects.values_list("state", flat=True)) == {RouteState.REMOVED}
    assert not Route.objects.exists()  # the cloud removed them too
    change = accepted.status_changes.get(new_status=PeeringStatus.DELETED)
    assert "Its routes went with it: 10.20.0.0/16 in prod-web; 10.1.0.0/16 in globex-app." in change.reason
    events = set(RouteChange.objects.filter(peering=accepted).values_list("event", flat=True))
    assert RouteEvent.WITH_PEERING in events


def test_the_client_retries_route_reads_and_deletes_never_creates(
    cloud, accepted, acme_prod, prod_web, sim_faults
):
    from peerings.upstream import tenant_client

    client = tenant_client(acme_prod, backoff=0)
    sim_faults.inject("create_route", kind="503", times=1)
    with pytest.raises(CloudUnavailable) as failed:
        client.create_route(
            vpc_id=str(prod_web.vpc_id), destination="10.20.0.0/16", nexthop=accepted.upstream_id
        )
    assert failed.value.record.attempts == 1
    created = client.create_route(
        vpc_id=str(prod_web.vpc_id), destination="10.20.0.0/16", nexthop=accepted.upstream_id
    )
    assert created.record.status_code == 201

    sim_faults.inject("list_routes", kind="503", times=1)
    listed = client.list_routes(vpc_id=str(prod_web.vpc_id))
    assert (listed.record.attempts, [r["id"] for r in listed.data["routes"]]) == (2, [created.data["id"]])
    sim_faults.inject("show_route", kind="503", times=1)
    assert client.show_route(created.data["id"]).data["destination"] == "10.20.0.0/16"
    sim_faults.inject("delete_route", kind="503", times=1)
    assert client.delete_route(created.data["id"]).record.attempts == 2
    with pytest.raises(TypeError, match="unknown route filters: nexthop"):
        client.list_routes(nexthop=accepted.upstream_id)
