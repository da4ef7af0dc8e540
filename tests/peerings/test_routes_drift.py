"""Routes changed outside the portal: the sync re-reads both sides of active peerings and records it;
and the routes asked for at the request, added on acceptance by a job with each side's keys."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.urls import reverse
from huaweicloudsdkvpc.v2 import (
    CreateVpcRouteOption,
    CreateVpcRouteRequest,
    CreateVpcRouteRequestBody,
    DeleteVpcRouteRequest,
)

from peerings.choices import CallOperation, ChangeSource, RouteEvent, RouteState
from peerings.jobs import sync_open_peerings
from peerings.models import PeeringRoute, RouteChange, UpstreamCall
from peerings.routes.workflow import routes_apply
from peerings.workflow import peering_accept
from tests.peerings.routes_support import sdk_for, sdk_routes

pytestmark = pytest.mark.django_db


def client_for_page(user):
    from django.test import Client

    client = Client()
    client.force_login(user)
    return client


def test_the_sync_records_routes_added_and_removed_outside_the_portal(
    cloud, accepted, acme_member, globex_main, globex_app, acme_prod
):
    applied = routes_apply(peering=accepted, acting_user=acme_member, side="requester").applied[0]
    sdk_for(acme_prod, cloud.url).delete_vpc_route(DeleteVpcRouteRequest(route_id=applied.upstream_id))
    option = CreateVpcRouteOption(
        type="peering", nexthop=accepted.upstream_id, destination="10.1.0.0/16", vpc_id=str(globex_app.vpc_id)
    )
    added = (
        sdk_for(globex_main, cloud.url)
        .create_vpc_route(CreateVpcRouteRequest(body=CreateVpcRouteRequestBody(route=option)))
        .route
    )

    report = sync_open_peerings()

    applied.refresh_from_db()
    assert applied.state == RouteState.MISSING
    external = PeeringRoute.objects.get(upstream_id=added.id)
    assert (external.side, external.state, external.tenant) == ("accepter", RouteState.EXTERNAL, globex_main)
    assert report.counts["routes_changed"] == 2
    assert "Routes: 2 changed outside the portal" in report.summary()
    assert any("10.20.0.0/16 in prod-web removed outside the portal" in line for line in report.changes)
    events = RouteChange.objects.filter(peering=accepted, source="sync").values_list("event", "actor")
    assert sorted(events) == [(RouteEvent.ADDED_OUTSIDE, None), (RouteEvent.REMOVED_OUTSIDE, None)]
    # Each side was read with its own keys.
    lists = UpstreamCall.objects.filter(
        peering=accepted, operation=CallOperation.LIST_ROUTES, acting_user=None
    )
    assert sorted(c.tenant.name for c in lists) == ["acme-prod", "globex-main"]

    again = sync_open_peerings()
    assert again.counts["routes_changed"] == 0  # idempotent


def test_the_command_reports_route_drift(cloud, accepted, acme_member, acme_prod, capsys):
    applied = routes_apply(peering=accepted, acting_user=acme_member, side="requester").applied[0]
    sdk_for(acme_prod, cloud.url).delete_vpc_route(DeleteVpcRouteRequest(route_id=applied.upstream_id))

    call_command("sync_peerings")

    out = capsys.readouterr().out
    assert "removed outside the portal" in out
    assert "Routes: 1 changed outside the portal, 0 peering(s) not read." in out


def test_a_route_read_that_fails_is_reported_and_the_others_go_on(cloud, accepted, sim_faults):
    sim_faults.inject("list_routes", kind="503")
    report = sync_open_peerings()
    assert report.counts["routes_failed"] == 1
    assert report.unavailable == 1
    assert "routes:" in report.failures[0]


def test_routes_asked_for_at_the_request_are_added_on_acceptance_with_each_sides_keys(
    cloud,
    request_to_globex,
    globex_approver,
    acme_prod,
    globex_main,
    prod_web,
    globex_app,
    django_capture_on_commit_callbacks,
):
    peering = request_to_globex(routes_on_accept=True)
    assert not PeeringRoute.objects.exists()

    with django_capture_on_commit_callbacks(execute=True):
        peering = peering_accept(peering=peering, acting_user=globex_approver)

    assert sdk_routes(acme_prod, cloud.url, prod_web.vpc_id) == {
        ("10.20.0.0/16", peering.upstream_id, str(prod_web.vpc_id), acme_prod.project_id)
    }
    assert sdk_routes(globex_main, cloud.url, globex_app.vpc_id) == {
        ("10.1.0.0/16", peering.upstream_id, str(globex_app.vpc_id), globex_main.project_id)
    }
    creates = UpstreamCall.objects.filter(peering=peering, operation=CallOperation.CREATE_ROUTE)
    assert sorted((c.tenant.name, c.acting_user) for c in creates) == [
        ("acme-prod", None),
        ("globex-main", None),
    ]
    assert set(PeeringRoute.objects.values_list("state", "created_by")) == {(RouteState.APPLIED, None)}
    # the on-accept job says so in the routes' history (before 0.2.0 it recorded "sync")
    assert set(RouteChange.objects.filter(peering=peering).values_list("source", flat=True)) == {
        ChangeSource.JOB
    }
    # and the peering's page credits the person who asked for them, not "Sync from the cloud"
    page = client_for_page(peering.requested_by).get(reverse("peerings:detail", args=[peering.pk]))
    html = page.content.decode()
    assert "by the portal on acceptance, as alice asked" in html
    assert "the portal, as alice asked" in html  # the route history's "By"
    assert "Sync from the cloud" not in html


def test_routes_on_acceptance_are_not_added_unless_asked(
    cloud, request_to_globex, globex_approver, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        peering_accept(peering=request_to_globex(), acting_user=globex_approver)
    assert not UpstreamCall.objects.filter(operation__in=["list_routes", "create_route"]).exists()


def test_the_job_is_idempotent(cloud, request_to_globex, globex_approver):
    from peerings.tasks import apply_routes_on_accept

    peering = peering_accept(peering=request_to_globex(routes_on_accept=True), acting_user=globex_approver)
    apply_routes_on_accept(peering.pk, "requester")  # queued on the accept's commit, or not: either way
    assert apply_routes_on_accept(peering.pk, "requester") == {"applied": 0, "existing": 1}
    creates = UpstreamCall.objects.filter(peering=peering, operation=CallOperation.CREATE_ROUTE)
    assert [c.tenant.name for c in creates.filter(tenant__name="acme-prod")] == ["acme-prod"]
