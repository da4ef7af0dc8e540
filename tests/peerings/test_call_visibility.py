"""What the history shows each side of a peering: a call's details only to the tenant whose keys made it.

Security review, finding 4: once the accepter had opened the route plan of an active peering, the
requester's members read the accepter's whole route table (routes to unrelated peerings included)
through ``GET /api/v1/calls/?peering=…`` and the export. Now the other side sees that the call
happened (operation, status, time) and never its URL query, bodies, error message or cloud
request id, in the API (list, detail, a peering's calls), the exports, the pages and the admin
(staff walled by tenant too; superusers see every call in full).
"""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from peerings.choices import CallOperation, PeeringStatus, Role
from peerings.models import UpstreamCall
from tests.factories import MembershipFactory, PeeringFactory, TenantFactory, UpstreamCallFactory, UserFactory
from vpcsim import models as sim

SIDES = ("acme", "globex")


def secrets_of(side: str) -> list[str]:
    """Strings that only a call signed with ``side``'s keys carries, one per hidden field."""
    return [f"{side}-{field}-secret" for field in ("route", "marker", "error", "request-id", "sent")]


@pytest.fixture
def world(db) -> dict[str, Any]:
    """acme requested a peering globex accepted; each side made one call for it with its own keys."""
    acme, globex = TenantFactory(name="acme"), TenantFactory(name="globex")
    users = {
        "acme": MembershipFactory(user__username="alice", tenant=acme).user,
        "globex": MembershipFactory(user__username="gary", tenant=globex, role=Role.APPROVER).user,
    }
    peering = PeeringFactory(
        requester_tenant=acme, accepter_tenant=globex, status=PeeringStatus.ACTIVE, name="acme-globex"
    )
    calls = {}
    for side, tenant in (("acme", acme), ("globex", globex)):
        route, marker, error, request_id, sent = secrets_of(side)
        calls[side] = UpstreamCallFactory(
            tenant=tenant,
            peering=peering,
            operation=CallOperation.LIST_ROUTES,
            url=f"https://vpc.example.test/v2.0/vpc/routes?vpc_id={peering.pk}&marker={marker}",
            request_body={"probe": sent},
            response_body={"routes": [{"id": route, "destination": "10.99.0.0/16", "nexthop": "internal"}]},
            status_code=409,
            error_code="VPC.0601",
            error_message=f"conflicts with {error}",
            cloud_request_id=request_id,
        )
    return {"users": users, "peering": peering, "calls": calls, "tenants": {"acme": acme, "globex": globex}}


def other(side: str) -> str:
    return "globex" if side == "acme" else "acme"


def api(client_for, world, side: str):
    return client_for(world["users"][side])


def assert_sees_only_own(text: str, side: str, *, shows_own: bool = True) -> None:
    for secret in secrets_of(other(side)):
        assert secret not in text, f"{side} was shown {secret}"
    if shows_own:
        for secret in secrets_of(side):
            assert secret in text, f"{side} was not shown its own {secret}"


@pytest.mark.parametrize("side", SIDES)
def test_api_list_detail_and_peering_calls(world, client_for, side):
    client = api(client_for, world, side)
    peering = world["peering"]
    own, theirs = world["calls"][side], world["calls"][other(side)]
    for path in (
        "/api/v1/calls/",
        f"/api/v1/calls/?peering={peering.pk}",
        f"/api/v1/peerings/{peering.pk}/calls/",
    ):
        response = client.get(path)
        assert response.status_code == 200
        assert_sees_only_own(response.content.decode(), side)
        rows = {row["id"]: row for row in response.json()["results"]}
        assert set(rows) == {own.pk, theirs.pk}  # the call itself is listed on both sides
        seen = rows[theirs.pk]
        # ... with what it was, its outcome and when
        assert (seen["operation"], seen["status_code"], seen["error_code"]) == (
            "list_routes",
            409,
            "VPC.0601",
        )
        assert seen["created_at"]
        assert seen["correlation_id"] == theirs.correlation_id
        assert seen["tenant"]["name"] == other(side)
        # ... but none of its details
        assert seen["details_hidden"] is True
        assert (seen["request_body"], seen["response_body"]) == (None, None)
        assert (seen["error_message"], seen["cloud_request_id"]) == ("", "")
        assert seen["url"] == "https://vpc.example.test/v2.0/vpc/routes"
        mine = rows[own.pk]
        assert mine["details_hidden"] is False
        assert mine["response_body"] == own.response_body
        assert mine["request_body"] == own.request_body
        assert (mine["url"], mine["error_message"]) == (own.url, own.error_message)
        assert mine["cloud_request_id"] == own.cloud_request_id

    detail = client.get(f"/api/v1/calls/{theirs.pk}/")
    assert detail.status_code == 200
    assert detail.json()["operation"] == "list_routes"
    assert_sees_only_own(detail.content.decode(), side, shows_own=False)
    detail = client.get(f"/api/v1/calls/{own.pk}/").json()
    assert detail["response_body"] == own.response_body


@pytest.mark.parametrize("side", SIDES)
def test_exports(world, client_for, side):
    client = api(client_for, world, side)
    theirs = world["calls"][other(side)]
    csv_text = b"".join(client.get("/api/v1/calls/export/?format=csv").streaming_content).decode()
    assert_sees_only_own(csv_text, side)
    row = next(r for r in csv.DictReader(io.StringIO(csv_text)) if int(r["id"]) == theirs.pk)
    assert (row["operation"], row["status_code"], row["details_hidden"]) == ("list_routes", "409", "True")
    assert row["response_body"] == row["request_body"] == row["error_message"] == ""
    jsonl = b"".join(client.get("/api/v1/calls/export/?format=jsonl").streaming_content).decode()
    assert_sees_only_own(jsonl, side)
    lines = {line["id"]: line for line in map(json.loads, jsonl.splitlines())}
    assert lines[theirs.pk]["details_hidden"] is True
    assert lines[theirs.pk]["response_body"] is None
    assert lines[theirs.pk]["created_at"].endswith("Z")
    assert lines[world["calls"][side].pk]["response_body"] == world["calls"][side].response_body


@pytest.mark.parametrize("side", SIDES)
def test_the_peering_page(world, side):
    browser = Client()
    browser.force_login(world["users"][side])
    page = browser.get(reverse("peerings:detail", args=[world["peering"].pk])).content.decode()
    assert page.count("List routes") == 2  # both calls are listed
    assert_sees_only_own(page, side, shows_own=False)  # the page never showed bodies
    assert f"conflicts with {secrets_of(side)[2]}" in page  # its own call's error message


def test_admin_staff_see_their_side_superusers_everything(world, admin_client):
    staff = UserFactory(username="sam", is_staff=True)
    staff.user_permissions.set(Permission.objects.filter(content_type__app_label="peerings"))
    MembershipFactory(user=staff, tenant=world["tenants"]["acme"])
    sam = Client()
    sam.force_login(staff)
    calls = world["calls"]
    changelist = reverse("admin:peerings_upstreamcall_changelist")
    for pk in (calls["acme"].pk, calls["globex"].pk):
        page = sam.get(reverse("admin:peerings_upstreamcall_change", args=[pk]))
        assert page.status_code == 200
        assert_sees_only_own(page.content.decode(), "acme", shows_own=pk == calls["acme"].pk)
    # A search does not find the other side's call by what it hides (its URL's query).
    found = sam.get(changelist, {"q": secrets_of("globex")[1]}).context["cl"].result_count
    assert found == 0
    assert sam.get(changelist, {"q": secrets_of("acme")[1]}).context["cl"].result_count == 1
    exported = sam.post(changelist, {"action": "export_jsonl", "_selected_action": [calls["globex"].pk]})
    text = b"".join(exported.streaming_content).decode()
    assert json.loads(text)["details_hidden"] is True
    assert_sees_only_own(text, "acme", shows_own=False)
    for pk in (calls["acme"].pk, calls["globex"].pk):  # a superuser reads every call in full
        page = admin_client.get(reverse("admin:peerings_upstreamcall_change", args=[pk])).content.decode()
        side = "acme" if pk == calls["acme"].pk else "globex"
        assert all(secret in page for secret in secrets_of(side))


def test_a_member_of_both_sides_sees_both_in_full(world, client_for):
    alice = world["users"]["acme"]
    MembershipFactory(user=alice, tenant=world["tenants"]["globex"])
    text = client_for(alice).get("/api/v1/calls/").content.decode()
    assert all(secret in text for side in SIDES for secret in secrets_of(side))


# --- The review's reproduction, against the simulated cloud ------------------------------------------------


def test_the_requester_never_reads_the_accepters_route_table(
    accepted, acme_api, globex_api, globex_main, globex_app, globex
):
    """grace accepted alice's peering; gary opens its route plan, reading globex-app's route table
    (with a route over an unrelated internal peering) with globex's keys: alice sees the call, not
    the table."""
    now = timezone.now()
    project = sim.Project.objects.get(name="globex-main")
    internal_vpc = sim.Vpc.objects.create(
        project=project, name="globex-internal", cidr="10.77.0.0/16", created_at=now, updated_at=now
    )
    internal = sim.Peering.objects.create(
        name="globex-internal",
        status="ACTIVE",
        request_vpc=globex_app,
        request_project=project,
        accept_vpc=internal_vpc,
        accept_project=project,
        created_at=now,
        updated_at=now,
    )
    sim.Route.objects.create(nexthop=internal, destination="10.77.0.0/16", vpc=globex_app, project=project)

    plan = globex_api.get(f"/api/v1/peerings/{accepted.pk}/routes/plan/")
    assert plan.status_code == 200, plan.content
    assert "10.77.0.0/16" in plan.content.decode()  # globex's own members read its table
    read = UpstreamCall.objects.get(peering=accepted, operation=CallOperation.LIST_ROUTES)
    assert read.tenant == globex_main
    assert str(internal.peering_id) in json.dumps(read.response_body)

    secrets = [str(internal.peering_id), "10.77.0.0/16"]
    for path in (f"/api/v1/calls/?peering={accepted.pk}", f"/api/v1/calls/{read.pk}/"):
        response = acme_api.get(path)
        assert response.status_code == 200
        assert not [s for s in secrets if s in response.content.decode()], path
    row = next(
        r
        for r in acme_api.get(f"/api/v1/calls/?peering={accepted.pk}").json()["results"]
        if r["id"] == read.pk
    )
    assert (row["operation"], row["status_code"], row["response_body"]) == ("list_routes", 200, None)
    for fmt in ("csv", "jsonl"):
        exported = acme_api.get(f"/api/v1/calls/export/?format={fmt}&peering={accepted.pk}")
        text = b"".join(exported.streaming_content).decode()
        assert "list_routes" in text
        assert not [s for s in secrets if s in text], fmt
    mine = globex_api.get(f"/api/v1/calls/{read.pk}/").content.decode()
    assert all(s in mine for s in secrets)
