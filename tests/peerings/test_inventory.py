"""The inventory export: the peerings themselves as CSV or JSON lines, from the API, the list page and the
admin, with the list's filters and each viewer's walls, streamed in chunks."""

from __future__ import annotations

import csv
import io
import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from peerings import inventory
from peerings.choices import PeeringStatus, RouteSide, RouteState
from peerings.models import PeeringRoute
from tests.factories import PeeringFactory, TenantFactory

pytestmark = pytest.mark.django_db

S = PeeringStatus


@pytest.fixture
def world(acme_to_globex):
    active = acme_to_globex()
    acme, globex = active.requester_tenant, active.accepter_tenant
    alice, carol = (tenant.memberships.get().user for tenant in (acme, globex))
    active.requested_by, active.decided_by = alice, carol
    active.save(update_fields=["requested_by", "decided_by"])
    PeeringFactory(name="acme-rejected", status=S.REJECTED, requester_tenant=acme, accepter_tenant=globex)
    PeeringFactory(
        name="not-theirs", status=S.ACTIVE, requester_tenant=TenantFactory(), accepter_tenant=globex
    )
    for side, tenant, destination in (
        (RouteSide.REQUESTER, acme, "172.16.0.0/16"),
        (RouteSide.ACCEPTER, globex, "10.1.0.0/16"),
    ):
        vpc = active.requester_vpc_id if side == RouteSide.REQUESTER else active.accepter_vpc_id
        PeeringRoute.objects.create(
            peering=active,
            side=side,
            tenant=tenant,
            vpc_id=vpc,
            destination=destination,
            state=RouteState.APPLIED,
        )
    return {"alice": alice, "carol": carol, "active": active}


def _jsonl(response) -> list[dict]:
    body = b"".join(response.streaming_content).decode()
    return [json.loads(line) for line in body.splitlines()]


def _csv(response) -> list[dict]:
    return list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))


def test_the_api_exports_each_viewers_peerings_with_their_walls(client, world):
    client.force_login(world["alice"])
    response = client.get(reverse("api:peering-export"), {"format": "jsonl"})
    assert response.status_code == 200
    rows = {row["name"]: row for row in _jsonl(response)}
    assert set(rows) == {"acme-to-globex", "acme-rejected"}  # not another tenant's
    row = rows["acme-to-globex"]
    assert (row["requester_tenant"], row["accepter_tenant"]) == ("Acme", "Globex")
    assert (row["requester_vpc_name"], row["requester_vpc_cidr"]) == ("acme-web", "10.1.0.0/16")
    assert (row["accepter_vpc_name"], row["accepter_vpc_cidr"]) == ("globex-core", "")  # Globex's to see
    assert (row["requested_by"], row["decided_by"]) == ("alice", "carol")
    assert (row["requester_routes"], row["accepter_routes"]) == ("172.16.0.0/16", "10.1.0.0/16")
    assert row["peering_id"] == world["active"].upstream_id
    assert list(row) == inventory.COLUMNS

    client.force_login(world["carol"])
    carols = {
        row["name"]: row for row in _jsonl(client.get(reverse("api:peering-export"), {"format": "jsonl"}))
    }
    assert set(carols) == {"acme-to-globex", "acme-rejected", "not-theirs"}
    assert carols["acme-to-globex"]["accepter_vpc_cidr"] == "172.16.0.0/16"


def test_the_api_export_keeps_the_lists_filters_and_refuses_an_unknown_one(client, world):
    client.force_login(world["alice"])
    rows = _csv(client.get(reverse("api:peering-export"), {"status": "REJECTED"}))
    assert [row["name"] for row in rows] == ["acme-rejected"]
    assert client.get(reverse("api:peering-export"), {"colour": "red"}).status_code == 400


def test_the_list_page_links_its_filtered_export(client, world):
    client.force_login(world["alice"])
    page = client.get(reverse("peerings:list"), {"status": "ACTIVE"}).content.decode()
    assert f'href="{reverse("peerings:export")}?status=ACTIVE&amp;format=csv"' in page
    response = client.get(reverse("peerings:export"), {"status": "ACTIVE", "format": "csv"})
    assert response["Content-Type"].startswith("text/csv")
    assert [row["name"] for row in _csv(response)] == ["acme-to-globex"]


def test_the_admin_exports_the_selected_peerings(admin_client, world):
    changelist = reverse("admin:peerings_peering_changelist")
    chosen = [world["active"].pk]
    response = admin_client.post(changelist, {"action": "export_jsonl", "_selected_action": chosen})
    assert [row["name"] for row in _jsonl(response)] == ["acme-to-globex"]


def test_rows_are_read_in_chunks_with_one_read_of_routes_each(world, monkeypatch):
    monkeypatch.setattr(inventory, "CHUNK_SIZE", 2)
    from peerings.models import Peering

    with CaptureQueriesContext(connection) as queries:
        rows = list(inventory.inventory_rows(Peering.objects.order_by("pk"), set()))
    assert len(rows) == 3
    route_reads = [q for q in queries.captured_queries if "peeringroute" in q["sql"].lower()]
    assert len(route_reads) == 2  # one per chunk of two peerings, not one per peering
