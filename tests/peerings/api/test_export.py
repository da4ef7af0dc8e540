"""History export: CSV and JSON lines of the filtered history, streamed, behind the tenant walls."""

from __future__ import annotations

import csv
import io
import json
import tracemalloc

import pytest
from django.db.models import QuerySet
from django.urls import reverse

from peerings import export
from peerings.choices import CallOperation, ChangeSource, PeeringStatus
from peerings.models import StatusChange, UpstreamCall
from tests.factories import (
    MembershipFactory,
    PeeringFactory,
    StatusChangeFactory,
    TenantFactory,
    UpstreamCallFactory,
)
from tests.peerings.api.errors import api_error

pytestmark = pytest.mark.django_db

S = PeeringStatus


@pytest.fixture
def world():
    """Two tenants that never met, and one peering between acme and globex."""
    acme, globex, other = (
        TenantFactory(name="acme"),
        TenantFactory(name="globex"),
        TenantFactory(name="other"),
    )
    alice = MembershipFactory(user__username="alice", tenant=acme).user
    shared = PeeringFactory(requester_tenant=acme, accepter_tenant=globex, name="acme-globex")
    private = PeeringFactory(requester_tenant=other, accepter_tenant=globex, name="other-globex")
    calls = {
        "acme": UpstreamCallFactory(tenant=acme, operation=CallOperation.CREATE, peering=shared),
        # signed with globex's keys, for a peering alice sees: visible
        "globex_shared": UpstreamCallFactory(tenant=globex, operation=CallOperation.ACCEPT, peering=shared),
        "globex_private": UpstreamCallFactory(tenant=globex, operation=CallOperation.SHOW, peering=private),
        "failed": UpstreamCallFactory(tenant=acme, status_code=503, error_message='=HYPERLINK("x")'),
    }
    changes = {
        "shared": StatusChangeFactory(peering=shared, reason="Requested, see NET-1"),
        "shared_active": StatusChangeFactory(
            peering=shared, old_status=S.PENDING_ACCEPTANCE, new_status=S.ACTIVE, source=ChangeSource.API
        ),
        "private": StatusChangeFactory(peering=private),
    }
    return {"alice": alice, "calls": calls, "changes": changes, "acme": acme}


def body(response) -> str:
    assert response.streaming  # never built in memory
    return b"".join(response.streaming_content).decode()


def csv_rows(response) -> list[dict]:
    return list(csv.DictReader(io.StringIO(body(response))))


def test_calls_csv_behind_the_walls(world, client_for):
    response = client_for(world["alice"]).get("/api/v1/calls/export/?format=csv")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"].startswith('attachment; filename="calls-')
    rows = csv_rows(response)
    calls = world["calls"]
    assert {int(r["id"]) for r in rows} == {calls["acme"].pk, calls["globex_shared"].pk, calls["failed"].pk}
    assert list(rows[0]) == [name for name, _ in export.CALL_COLUMNS]
    created = next(r for r in rows if int(r["id"]) == calls["acme"].pk)
    assert created["operation"] == "create"
    assert created["tenant"] == "acme"
    assert created["peering"] == str(calls["acme"].peering_id)
    assert created["created_at"].endswith("Z")


def test_calls_filters_apply(world, client_for):
    api = client_for(world["alice"])
    rows = csv_rows(api.get("/api/v1/calls/export/?format=csv&failed=true"))
    assert [int(r["id"]) for r in rows] == [world["calls"]["failed"].pk]
    assert rows[0]["error_message"].startswith("'=")  # a formula is defused for spreadsheets
    rows = csv_rows(api.get("/api/v1/calls/export/?operation=accept"))  # csv by default
    assert [int(r["id"]) for r in rows] == [world["calls"]["globex_shared"].pk]


def test_calls_jsonl(world, client_for):
    project = world["acme"].project_id
    response = client_for(world["alice"]).get(f"/api/v1/calls/export/?format=jsonl&tenant={project}")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/x-ndjson"
    lines = [json.loads(line) for line in body(response).splitlines()]
    assert {line["id"] for line in lines} == {world["calls"]["acme"].pk, world["calls"]["failed"].pk}
    assert all(set(line) == {name for name, _ in export.CALL_COLUMNS} for line in lines)
    assert next(line for line in lines if line["id"] == world["calls"]["failed"].pk)["status_code"] == 503


def test_status_changes_export_behind_the_walls_and_filtered(world, client_for):
    api = client_for(world["alice"])
    rows = csv_rows(api.get("/api/v1/status-changes/export/?format=csv"))
    changes = world["changes"]
    assert {int(r["id"]) for r in rows} == {changes["shared"].pk, changes["shared_active"].pk}
    lines = [
        json.loads(line)
        for line in body(
            api.get("/api/v1/status-changes/export/?format=jsonl&new_status=ACTIVE")
        ).splitlines()
    ]
    assert [(line["id"], line["old_status"], line["new_status"], line["source"]) for line in lines] == [
        (changes["shared_active"].pk, "PENDING_ACCEPTANCE", "ACTIVE", "api")
    ]
    assert lines[0]["peering_name"] == "acme-globex"


def test_status_changes_list_is_walled_too(world, client_for):
    data = client_for(world["alice"]).get("/api/v1/status-changes/").json()
    assert {r["id"] for r in data["results"]} == {
        world["changes"]["shared"].pk,
        world["changes"]["shared_active"].pk,
    }
    other = world["changes"]["private"].pk
    hidden = client_for(world["alice"]).get(f"/api/v1/status-changes/{other}/")
    assert api_error(hidden) == (404, "not_found", [])


def test_an_outsider_exports_nothing(world, client_for):
    outsider = MembershipFactory(user__username="zed").user
    assert csv_rows(client_for(outsider).get("/api/v1/calls/export/")) == []
    assert body(client_for(outsider).get("/api/v1/status-changes/export/?format=jsonl")) == ""


def test_errors_keep_the_apis_shape(world, client_for, anon):
    response = anon.get("/api/v1/calls/export/?format=csv")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"
    response = client_for(world["alice"]).get("/api/v1/calls/export/?format=xml")
    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {"format": ["Choose csv or jsonl."]}
    response = client_for(world["alice"]).get("/api/v1/calls/export/?format=csv&created_after=yesterday")
    assert response.status_code == 400
    assert "created_after" in response.json()["error"]["fields"]


def test_rows_are_read_in_chunks(world, client_for, monkeypatch):
    seen = []
    real = QuerySet.iterator

    def spy(self, chunk_size=None):
        seen.append(chunk_size)
        return real(self, chunk_size=chunk_size)

    monkeypatch.setattr(QuerySet, "iterator", spy)
    body(client_for(world["alice"]).get("/api/v1/status-changes/export/?format=csv"))
    assert seen == [export.CHUNK_SIZE]


def test_a_large_export_streams_in_bounded_memory(world, client_for, monkeypatch):
    monkeypatch.setattr(export, "CHUNK_SIZE", 500)
    acme = world["acme"]
    payload = {"peering": {"name": "x" * 700, "description": "y" * 700}}
    UpstreamCall.objects.bulk_create(
        UpstreamCall(
            tenant=acme,
            operation=CallOperation.SHOW,
            method="GET",
            url="https://vpc.example.test/v2.0/vpc/peerings/x",
            status_code=200,
            response_body=payload,
            correlation_id=f"{i:032x}",
        )
        for i in range(6_000)
    )
    response = client_for(world["alice"]).get("/api/v1/calls/export/?format=jsonl")
    tracemalloc.start()
    size = lines = 0
    for chunk in response.streaming_content:
        size += len(chunk)
        lines += chunk.count(b"\n")
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert lines == 6_000 + 3
    assert size > 10_000_000
    # 500 rows at a time (~1 MB of them) whatever the export's size; building it would take > size
    assert peak < size / 3, (peak, size)  # a chunk at a time, never the whole export


def test_admin_export_actions(world, admin_client):
    response = admin_client.post(
        reverse("admin:peerings_statuschange_changelist"),
        {"action": "export_csv", "_selected_action": [c.pk for c in world["changes"].values()]},
    )
    assert response.status_code == 200
    assert {int(r["id"]) for r in csv_rows(response)} == {c.pk for c in world["changes"].values()}
    response = admin_client.post(
        reverse("admin:peerings_upstreamcall_changelist"),
        {"action": "export_jsonl", "_selected_action": [world["calls"]["acme"].pk]},
    )
    assert [json.loads(line)["id"] for line in body(response).splitlines()] == [world["calls"]["acme"].pk]
    assert StatusChange.objects.count() == 3  # nothing was touched
