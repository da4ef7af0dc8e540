"""What a tool needs to do what the form does: the directory, names, linked history, strict query
strings, one list envelope, one name per thing, and cursors that cannot be forged into a 500."""

from __future__ import annotations

import base64
import json

import pytest

from notifications.outbox import payload_for
from peerings.api.pagination import cursor_for
from peerings.choices import ChangeSource, PeeringStatus
from peerings.export import STATUS_CHANGE_COLUMNS
from peerings.models import StatusChange
from tests.factories import PeeringFactory, TenantFactory
from tests.peerings.api.errors import api_error

URL = "/api/v1/peerings/"


def _page(response) -> dict:
    assert response.status_code == 200, response.json()
    page = response.json()
    assert set(page) == {"count", "count_capped", "next", "previous", "results"}
    return page


# --- 1. The directory -------------------------------------------------------------------------


def test_the_directory_lists_every_tenant_by_name_and_ids_to_anyone_signed_in(
    client_for, outsider, acme_prod, globex_main
):
    page = _page(client_for(outsider).get("/api/v1/directory/"))

    assert [(row["name"], row["project_id"], row["member"]) for row in page["results"]] == [
        ("acme-prod", acme_prod.project_id, False),
        ("globex-main", globex_main.project_id, False),
    ]
    row = page["results"][0]
    assert set(row) == {"id", "url", "name", "project_id", "member", "vpcs"}
    assert row["vpcs"].endswith(f"/api/v1/directory/{acme_prod.pk}/vpcs/")


def test_the_directory_uses_the_forms_selector(client_for, outsider, monkeypatch, acme_prod, globex_main):
    """The form's selector decides who is listed: change it and the directory follows."""
    from peerings import selectors

    monkeypatch.setattr(
        selectors,
        "known_tenants",
        lambda: type(acme_prod).objects.filter(pk=globex_main.pk).order_by("name", "id"),
    )

    page = _page(client_for(outsider).get("/api/v1/directory/"))

    assert [row["id"] for row in page["results"]] == [globex_main.pk]


def test_a_peers_vpcs_are_names_and_ids_and_ranges_only_to_its_members(
    cloud, client_for, acme_api, acme_member, outsider, globex_main, globex_app, acme_prod, prod_web
):
    peer = _page(acme_api.get(f"/api/v1/directory/{globex_main.pk}/vpcs/"))["results"]
    own = _page(acme_api.get(f"/api/v1/directory/{acme_prod.pk}/vpcs/"))["results"]
    stranger = _page(client_for(outsider).get(f"/api/v1/directory/{acme_prod.pk}/vpcs/"))["results"]

    assert peer == [{"id": str(globex_app.vpc_id), "name": "globex-app", "cidr": None}]
    assert {"id": str(prod_web.vpc_id), "name": "prod-web", "cidr": "10.1.0.0/16"} in own
    assert {(v["name"], v["cidr"]) for v in stranger} == {("prod-web", None), ("prod-db", None)}
    assert "10.1.0.0" not in json.dumps(stranger)
    # tenants/ is still the caller's own: the peer's VPCs there stay a 404
    assert api_error(acme_api.get(f"/api/v1/tenants/{globex_main.pk}/vpcs/")) == (404, "not_found", [])


def test_the_directory_never_shows_keys(client_for, outsider, acme_prod):
    body = client_for(outsider).get(f"/api/v1/directory/{acme_prod.pk}/").content.decode()

    assert acme_prod.access_key not in body
    assert acme_prod.secret_key not in body
    assert api_error(client_for(outsider).get("/api/v1/directory/999999/")) == (404, "not_found", [])


# --- 2. Names in payloads ---------------------------------------------------------------------


def test_a_peering_names_both_sides_and_shows_the_accepters_range_to_its_members_only(
    pending, acme_api, globex_api, acme_prod, globex_main
):
    mine = acme_api.get(f"{URL}{pending.pk}/").json()
    theirs = globex_api.get(f"{URL}{pending.pk}/").json()

    assert mine["request_vpc_info"] | {"vpc_id": None, "tenant_id": None} == {
        "vpc_id": None,
        "tenant_id": None,
        "vpc_name": "prod-web",
        "cidr": "10.1.0.0/16",
        "tenant": {"id": acme_prod.pk, "name": "acme-prod"},
    }
    assert (mine["accept_vpc_info"]["vpc_name"], mine["accept_vpc_info"]["cidr"]) == ("globex-app", None)
    assert mine["accept_vpc_info"]["tenant"] == {"id": globex_main.pk, "name": "globex-main"}
    assert theirs["accept_vpc_info"]["cidr"] == "10.20.0.0/16"
    assert theirs["request_vpc_info"]["cidr"] == "10.1.0.0/16"  # the approvers judge a request by it
    listed = _page(acme_api.get(URL))["results"][0]
    assert listed["accept_vpc_info"] == mine["accept_vpc_info"]


# --- 3. Status changes name their peering -----------------------------------------------------


def test_status_change_rows_name_their_peering(pending, acme_api):
    rows = _page(acme_api.get("/api/v1/status-changes/"))["results"]

    assert rows
    for row in rows:
        assert row["peering"] == pending.pk
        assert row["peering_url"] == f"http://testserver{URL}{pending.pk}/"


# --- 4. Unknown query parameters, and the filters tools reached for ---------------------------


@pytest.mark.parametrize(
    ("path", "param", "listed"),
    [
        (URL, "accepter_tenants", ["accepter_tenant", "cursor", "ordering", "page", "page_size", "search"]),
        ("/api/v1/calls/", "search", ["failed", "operation", "peering", "tenant"]),
        ("/api/v1/status-changes/", "peer_tenant", ["new_status", "source", "tenant"]),
        ("/api/v1/tenants/", "limit", ["cursor", "format", "page", "page_size"]),
        ("/api/v1/status-changes/export/", "page", ["format", "new_status"]),
    ],
)
def test_an_unknown_query_parameter_is_a_400_listing_the_accepted_ones(api, home, path, param, listed):
    response = api.get(path, {param: "x"})

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert list(error["fields"]) == [param]
    accepted = error["message"].split("takes ")[1].rstrip(".").split(", ")
    assert set(listed) <= set(accepted)
    assert param not in accepted


def test_a_detail_takes_no_list_parameters(api, home):
    peering = PeeringFactory(requester_tenant=home)

    assert api.get(f"{URL}{peering.pk}/", {"format": "json"}).status_code == 200
    assert api_error(api.get(f"{URL}{peering.pk}/", {"page_size": "5"})) == (400, "invalid", ["page_size"])
    plan = api.get(f"{URL}{peering.pk}/routes/plan/", {"requesters": "10.0.0.0/8"})
    assert api_error(plan) == (400, "invalid", ["requesters"])


def test_search_finds_a_name_or_a_description(api, home):
    by_name = PeeringFactory(requester_tenant=home, name="blue-link")
    by_description = PeeringFactory(requester_tenant=home, description="the BLUE team's")
    PeeringFactory(requester_tenant=home, name="red-link")

    rows = _page(api.get(URL, {"search": "blue"}))["results"]

    assert {row["id"] for row in rows} == {by_name.pk, by_description.pk}


def test_peer_tenant_is_the_other_side_from_mine(api, home):
    peer = TenantFactory(name="peer")
    outgoing = PeeringFactory(requester_tenant=home, accepter_tenant=peer)
    incoming = PeeringFactory(requester_tenant=peer, accepter_tenant=home)
    PeeringFactory(requester_tenant=home)  # another peer

    by_id = _page(api.get(URL, {"peer_tenant": peer.pk}))["results"]
    by_project = _page(api.get(URL, {"peer_tenant": peer.project_id}))["results"]
    as_accepter = _page(api.get(URL, {"accepter_tenant": peer.pk}))["results"]

    assert {row["id"] for row in by_id} == {row["id"] for row in by_project} == {outgoing.pk, incoming.pk}
    assert [row["id"] for row in as_accepter] == [outgoing.pk]
    unknown = api.get(URL, {"peer_tenant": "no-such-tenant"})
    assert unknown.status_code == 400
    assert list(unknown.json()["error"]["fields"]) == ["peer_tenant"]


# --- 5. One envelope --------------------------------------------------------------------------


def test_routes_are_listed_in_the_envelope_and_the_bare_array_is_a_deprecated_opt_in(active, acme_api):
    applied = acme_api.post(f"{URL}{active.pk}/routes/", {"side": "requester"}, format="json")
    assert applied.status_code == 201, applied.json()

    page = _page(acme_api.get(f"{URL}{active.pk}/routes/"))
    bare = acme_api.get(f"{URL}{active.pk}/routes/", {"envelope": "false"})
    paged = _page(acme_api.get(f"{URL}{active.pk}/routes/", {"page_size": 1}))

    assert page["count"] == 1
    assert [r["destination"] for r in page["results"]] == ["10.2.0.0/16"]
    assert bare.json() == page["results"]
    assert bare["Deprecation"] == "true"
    assert "Deprecation" not in acme_api.get(f"{URL}{active.pk}/routes/")
    assert len(paged["results"]) == 1
    assert acme_api.get(f"{URL}{active.pk}/routes/", {"envelope": "true"}).status_code == 400


def test_a_tenants_vpcs_bare_array_is_the_deprecated_opt_in(cloud, acme_api, acme_prod):
    page = _page(acme_api.get(f"/api/v1/tenants/{acme_prod.pk}/vpcs/"))
    bare = acme_api.get(f"/api/v1/tenants/{acme_prod.pk}/vpcs/", {"envelope": "false"})
    first = _page(acme_api.get(f"/api/v1/tenants/{acme_prod.pk}/vpcs/", {"page_size": 1}))

    assert bare.json() == page["results"]
    assert bare["Deprecation"] == "true"
    assert (first["count"], len(first["results"])) == (2, 1)
    second = _page(acme_api.get(first["next"]))
    assert {v["id"] for v in first["results"] + second["results"]} == {v["id"] for v in page["results"]}


# --- 6. One name per thing --------------------------------------------------------------------


def test_the_clouds_id_is_peering_id_in_the_api_webhooks_and_export(api, home):
    peering = PeeringFactory(requester_tenant=home)
    StatusChange.objects.create(peering=peering, new_status="PENDING_ACCEPTANCE", source=ChangeSource.API)

    assert api.get(f"{URL}{peering.pk}/").json()["peering_id"] == peering.upstream_id
    event = payload_for(peering)["peering"]
    assert event["peering_id"] == event["upstream_id"] == peering.upstream_id  # upstream_id: deprecated
    columns = [name for name, _ in STATUS_CHANGE_COLUMNS]
    assert {"peering_id", "peering_upstream_id"} <= set(columns)  # peering_upstream_id: deprecated
    exported = api.get("/api/v1/status-changes/export/", {"format": "jsonl"})
    row = json.loads(b"".join(exported.streaming_content).decode().splitlines()[0])
    assert row["peering_id"] == row["peering_upstream_id"] == peering.upstream_id


def test_sources_read_as_what_they_are_and_the_old_name_still_filters(api, home):
    peering = PeeringFactory(requester_tenant=home)
    browser = StatusChange.objects.create(peering=peering, new_status="ACTIVE", source=ChangeSource.BROWSER)
    job = StatusChange.objects.create(peering=peering, new_status="DELETED", source=ChangeSource.JOB)

    rows = {row["id"]: row["source"] for row in _page(api.get("/api/v1/status-changes/"))["results"]}
    legacy = _page(api.get("/api/v1/status-changes/", {"source": "user"}))["results"]

    assert rows == {browser.pk: "browser", job.pk: "job"}
    assert [row["id"] for row in legacy] == [browser.pk]
    assert [value for value, _ in ChangeSource.choices] == ["browser", "api", "admin", "sync", "job"]


def test_the_migration_renames_stored_sources_and_back(home):
    """Rows stored as "user" before 0.2.0 read as "browser" after migration 0014 (and back when reversed)."""
    from importlib import import_module

    from django.db.migrations.loader import MigrationLoader

    migration = import_module("peerings.migrations.0014_change_source_names")
    apps = MigrationLoader(None).project_state(("peerings", "0014_change_source_names")).apps
    peering = PeeringFactory(requester_tenant=home)
    old = StatusChange.objects.create(peering=peering, new_status="ACTIVE", source="user")
    kept = StatusChange.objects.create(peering=peering, new_status="DELETED", source="api")

    migration.forwards(apps, None)
    assert dict(StatusChange.objects.values_list("pk", "source")) == {old.pk: "browser", kept.pk: "api"}
    migration.backwards(apps, None)
    assert dict(StatusChange.objects.values_list("pk", "source")) == {old.pk: "user", kept.pk: "api"}


# --- A forged cursor --------------------------------------------------------------------------


def _forged(ordering: list[str], values: list) -> str:
    raw = json.dumps({"o": ordering, "v": values}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


@pytest.mark.parametrize(
    ("path", "ordering"),
    [
        (URL, ["-created_sort", "-id"]),
        ("/api/v1/calls/", ["-created_at", "-id"]),
        ("/api/v1/status-changes/", ["-created_at", "-id"]),
    ],
)
@pytest.mark.parametrize(
    "values",
    [[12345, 1], ["not a date", 1], ["2026-01-01T00:00:00", 1], ["2026-01-01T00:00:00+00:00", 2**70]],
    ids=["number-for-date", "text-for-date", "naive-date", "huge-id"],
)
def test_a_forged_cursor_is_404(api, home, path, ordering, values):
    PeeringFactory(requester_tenant=home)

    response = api.get(path, {"cursor": _forged(ordering, values)})

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_a_genuine_cursor_still_pages(api, home):
    for _ in range(3):
        PeeringFactory(requester_tenant=home, status=PeeringStatus.ACTIVE)
    first = _page(api.get(URL, {"page_size": 2}))

    second = _page(api.get(first["next"]))

    assert len(first["results"]) == 2
    assert len(second["results"]) == 1
    forged_ordering = _forged(["-created_sort", "-id"], [cursor_for(["x"], [1]), 1])
    assert api.get(URL, {"cursor": forged_ordering}).status_code == 404
