"""Reads without the cloud: tenants, tenant walls, filters, ordering and stable pages."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from django.utils import timezone

from peerings.choices import CallOperation, ChangeSource, PeeringStatus, Role
from peerings.models import Peering, StatusChange, Tenant, UpstreamCall
from tests.factories import MembershipFactory, PeeringFactory, TenantFactory
from tests.peerings.api.errors import api_error

URL = "/api/v1/peerings/"


def _ids(response) -> list[int]:
    assert response.status_code == 200, response.json()
    return [row["id"] for row in response.json()["results"]]


def _call(tenant, peering=None, **kwargs) -> UpstreamCall:
    defaults = {
        "operation": CallOperation.SHOW,
        "method": "GET",
        "url": "http://cloud/v2.0/vpc/peerings",
        "status_code": 200,
        "correlation_id": uuid.uuid4().hex,
    }
    return UpstreamCall.objects.create(tenant=tenant, peering=peering, **{**defaults, **kwargs})


# --- Tenants ---------------------------------------------------------------------------------


def test_tenants_are_mine_with_my_role_and_never_keys(api, me, home):
    other = MembershipFactory(user=me, role=Role.MEMBER).tenant
    stranger = TenantFactory()

    response = api.get("/api/v1/tenants/")

    assert response.status_code == 200
    rows = {row["id"]: row for row in response.json()["results"]}
    assert set(rows) == {home.pk, other.pk}
    assert rows[home.pk]["role"] == Role.APPROVER
    assert rows[other.pk]["role"] == Role.MEMBER
    assert rows[home.pk]["project_id"] == home.project_id
    text = response.content.decode()
    for tenant in Tenant.objects.filter(pk__in=[home.pk, other.pk]):
        assert tenant.access_key.reveal() not in text
        assert tenant.secret_key.reveal() not in text
    assert "access_key" not in text
    assert "secret_key" not in text
    assert api.get(f"/api/v1/tenants/{home.pk}/").json()["role"] == Role.APPROVER
    assert api_error(api.get(f"/api/v1/tenants/{stranger.pk}/")) == (404, "not_found", [])


# --- Tenant walls ------------------------------------------------------------------------------


def test_peerings_of_both_sides_are_visible_and_others_are_not_found(api, home):
    outgoing = PeeringFactory(requester_tenant=home)
    incoming = PeeringFactory(accepter_tenant=home)
    theirs = PeeringFactory()

    assert sorted(_ids(api.get(URL))) == sorted([outgoing.pk, incoming.pk])
    assert api.get(f"{URL}{incoming.pk}/").status_code == 200
    for path in ("", "calls/", "status-changes/"):
        response = api.get(f"{URL}{theirs.pk}/{path}")
        assert response.status_code == 404
        assert response.json() == {"error": {"code": "not_found", "message": "Not found."}}


@pytest.mark.parametrize(
    ("method", "action", "body"),
    [
        ("patch", "", {"name": "mine now"}),
        ("delete", "", None),
        ("post", "accept/", {}),
        ("post", "reject/", {"reason": "x"}),
        ("post", "refresh/", None),
    ],
)
def test_writes_to_another_tenants_peering_are_not_found(api, home, method, action, body):
    theirs = PeeringFactory()

    response = getattr(api, method)(f"{URL}{theirs.pk}/{action}", body, format="json")

    assert api_error(response) == (404, "not_found", [])
    theirs.refresh_from_db()
    assert theirs.name.startswith("peering-")
    assert theirs.status == PeeringStatus.PENDING_ACCEPTANCE


def test_history_shows_calls_of_my_tenants_and_of_peerings_i_can_see(api, home):
    peer = TenantFactory()
    mine = _call(home, operation=CallOperation.LIST_VPCS)
    shared = PeeringFactory(requester_tenant=peer, accepter_tenant=home)
    signed_by_peer = _call(peer, shared, operation=CallOperation.CREATE)
    hidden = _call(peer, PeeringFactory(requester_tenant=peer))

    assert sorted(_ids(api.get("/api/v1/calls/"))) == sorted([mine.pk, signed_by_peer.pk])
    assert api.get(f"/api/v1/calls/{signed_by_peer.pk}/").json()["tenant"]["project_id"] == peer.project_id
    assert api_error(api.get(f"/api/v1/calls/{hidden.pk}/")) == (404, "not_found", [])
    assert _ids(api.get(f"{URL}{shared.pk}/calls/")) == [signed_by_peer.pk]


def test_status_changes_of_a_peering(api, home, me):
    peering = PeeringFactory(requester_tenant=home)
    first = StatusChange.objects.create(
        peering=peering, old_status="", new_status="SUBMITTING", actor=me, source=ChangeSource.API
    )
    second = StatusChange.objects.create(
        peering=peering, old_status="SUBMITTING", new_status="PENDING_ACCEPTANCE", source=ChangeSource.SYNC
    )

    response = api.get(f"{URL}{peering.pk}/status-changes/")

    assert _ids(response) == [second.pk, first.pk]
    assert response.json()["results"][1] | {"created_at": None} == {
        "id": first.pk,
        "created_at": None,
        "peering": peering.pk,
        "peering_url": f"http://testserver{URL}{peering.pk}/",
        "old_status": "",
        "new_status": "SUBMITTING",
        "actor": "me",
        "reason": "",
        "source": "api",
    }


# --- Filters ---------------------------------------------------------------------------------------


def test_filter_by_status(api, home):
    active = PeeringFactory(requester_tenant=home, status=PeeringStatus.ACTIVE)
    rejected = PeeringFactory(requester_tenant=home, status=PeeringStatus.REJECTED)
    PeeringFactory(requester_tenant=home)

    assert _ids(api.get(URL, {"status": "ACTIVE"})) == [active.pk]
    assert sorted(_ids(api.get(f"{URL}?status=ACTIVE&status=REJECTED"))) == sorted([active.pk, rejected.pk])
    bad = api.get(URL, {"status": "BOGUS"})
    assert bad.status_code == 400
    assert list(bad.json()["error"]["fields"]) == ["status"]


def test_filter_by_tenant_id_or_project_id_on_either_side(api, home, me):
    peer = MembershipFactory(user=me).tenant
    stranger = TenantFactory()
    to_peer = PeeringFactory(requester_tenant=home, accepter_tenant=peer)
    to_stranger = PeeringFactory(requester_tenant=home, accepter_tenant=stranger)

    assert _ids(api.get(URL, {"tenant": peer.pk})) == [to_peer.pk]
    assert _ids(api.get(URL, {"tenant": peer.project_id})) == [to_peer.pk]
    assert _ids(api.get(URL, {"tenant": stranger.project_id})) == [to_stranger.pk]
    # An unknown tenant is a 400 naming the field, not an empty list (the issue "What a new user tripped on").
    unknown = api.get(URL, {"tenant": "9" * 30})
    assert unknown.status_code == 400
    assert list(unknown.json()["error"]["fields"]) == ["tenant"]


def test_filter_by_direction_relative_to_my_tenants(api, home):
    outgoing = PeeringFactory(requester_tenant=home)
    incoming = PeeringFactory(accepter_tenant=home)

    assert _ids(api.get(URL, {"direction": "outgoing"})) == [outgoing.pk]
    assert _ids(api.get(URL, {"direction": "incoming"})) == [incoming.pk]
    assert api_error(api.get(URL, {"direction": "sideways"})) == (400, "invalid", ["direction"])


def test_filter_by_vpc_on_either_side_and_by_name(api, home):
    vpc = uuid.uuid4()
    as_requester = PeeringFactory(requester_tenant=home, requester_vpc_id=vpc, name="Web-to-DB")
    as_accepter = PeeringFactory(accepter_tenant=home, accepter_vpc_id=vpc, name="backup")
    PeeringFactory(requester_tenant=home, name="web-other")

    assert sorted(_ids(api.get(URL, {"vpc_id": str(vpc)}))) == sorted([as_requester.pk, as_accepter.pk])
    assert len(_ids(api.get(URL, {"name": "WEB"}))) == 2
    assert _ids(api.get(URL, {"name": "to-db"})) == [as_requester.pk]
    assert api_error(api.get(URL, {"vpc_id": "not-a-uuid"})) == (400, "invalid", ["vpc_id"])


def test_filter_by_created_range_uses_the_clouds_time_when_known(api, home):
    now = timezone.now()
    old = PeeringFactory(requester_tenant=home, upstream_created_at=now - dt.timedelta(days=10))
    new = PeeringFactory(requester_tenant=home, upstream_created_at=now - dt.timedelta(days=1))
    submitting = PeeringFactory(requester_tenant=home, upstream_id=None, status=PeeringStatus.SUBMITTING)
    cut = (now - dt.timedelta(days=5)).isoformat()

    assert sorted(_ids(api.get(URL, {"created_after": cut}))) == sorted([new.pk, submitting.pk])
    assert _ids(api.get(URL, {"created_before": cut})) == [old.pk]
    assert api_error(api.get(URL, {"created_after": "yesterday"})) == (400, "invalid", ["created_after"])


@pytest.mark.parametrize(
    ("value", "before_all"),
    [
        ("0978-03-11T14:54:41+16:40", False),  # an offset PostgreSQL refuses
        ("0001-01-01T00:00:00+05:00", False),  # before year 1 in UTC
        ("9999-12-31T23:59:59-05:00", True),  # after year 9999 in UTC
    ],
)
def test_created_range_accepts_any_iso_offset(api, home, value, before_all):
    peering = PeeringFactory(requester_tenant=home)

    assert _ids(api.get(URL, {"created_before": value})) == ([peering.pk] if before_all else [])
    assert _ids(api.get(URL, {"created_after": value})) == ([] if before_all else [peering.pk])
    assert api.get("/api/v1/calls/", {"created_before": value}).status_code == 200


def test_ordering_by_name_status_and_created_at_with_ties_on_id(api, home):
    now = timezone.now()
    b = PeeringFactory(requester_tenant=home, name="b", upstream_created_at=now, status=PeeringStatus.ACTIVE)
    a1 = PeeringFactory(requester_tenant=home, name="a", upstream_created_at=now - dt.timedelta(hours=1))
    a2 = PeeringFactory(requester_tenant=home, name="a", upstream_created_at=now - dt.timedelta(hours=2))

    assert _ids(api.get(URL, {"ordering": "name"})) == [a1.pk, a2.pk, b.pk]
    assert _ids(api.get(URL, {"ordering": "-name"})) == [b.pk, a2.pk, a1.pk]
    assert _ids(api.get(URL, {"ordering": "created_at"})) == [a2.pk, a1.pk, b.pk]
    assert _ids(api.get(URL, {"ordering": "-created_at"})) == [b.pk, a1.pk, a2.pk]
    assert _ids(api.get(URL, {"ordering": "status,-name"})) == [b.pk, a2.pk, a1.pk]
    assert _ids(api.get(URL, {"ordering": ",name,"})) == [a1.pk, a2.pk, b.pk]
    assert len(_ids(api.get(URL, {"ordering": ","}))) == 3
    assert api_error(api.get(URL, {"ordering": "secret_key"})) == (400, "invalid", ["ordering"])


def test_pages_are_stable_when_sort_keys_tie(api, home):
    same_time = timezone.now()
    ids = {PeeringFactory(requester_tenant=home, name="same").pk for _ in range(7)}
    Peering.objects.update(created_at=same_time, upstream_created_at=same_time)

    for ordering in (None, "name", "-created_at", "status"):
        seen: list[int] = []
        for page in (1, 2, 3):
            params = {"page": page, "page_size": 3, **({"ordering": ordering} if ordering else {})}
            seen += _ids(api.get(URL, params))
        assert sorted(seen) == sorted(ids), ordering
        assert len(seen) == len(ids)
    assert api_error(api.get(URL, {"page": 9})) == (404, "not_found", [])


def test_calls_filters(api, home):
    peering = PeeringFactory(requester_tenant=home)
    listed = _call(home, operation=CallOperation.LIST_VPCS)
    failed = _call(home, peering, operation=CallOperation.CREATE, status_code=None, error_code="timeout")
    refused = _call(home, peering, operation=CallOperation.ACCEPT, status_code=409)

    assert sorted(_ids(api.get("/api/v1/calls/", {"peering": peering.pk}))) == sorted([failed.pk, refused.pk])
    assert _ids(api.get("/api/v1/calls/", {"operation": "list_vpcs"})) == [listed.pk]
    assert sorted(_ids(api.get("/api/v1/calls/", {"failed": "true"}))) == sorted([failed.pk, refused.pk])
    assert _ids(api.get("/api/v1/calls/", {"failed": "false"})) == [listed.pk]
    assert len(_ids(api.get("/api/v1/calls/", {"tenant": home.project_id}))) == 3
    assert _ids(api.get("/api/v1/calls/", {"tenant": home.pk, "ordering": "created_at"})) == [
        listed.pk,
        failed.pk,
        refused.pk,
    ]


def test_the_error_is_shown_for_a_failed_peering_only(api, home):
    failed = PeeringFactory(
        requester_tenant=home,
        upstream_id=None,
        status=PeeringStatus.FAILED,
        error_code="InvalidInput",
        error_message="Accept VPC id or tenant id is incorrect.",
    )
    active = PeeringFactory(requester_tenant=home, status=PeeringStatus.ACTIVE, error_code="STATUS_CONFLICT")

    assert api.get(f"{URL}{failed.pk}/").json()["error"] == {
        "code": "InvalidInput",
        "message": "Accept VPC id or tenant id is incorrect.",
    }
    assert api.get(f"{URL}{failed.pk}/").json()["peering_id"] is None
    assert api.get(f"{URL}{active.pk}/").json()["error"] is None
