"""History exports are bounded: a row cap stated in the response, and one running export per user.

Security review, finding 9: one member stalled the server with exports (400,000 rows, 372 MB,
16.5 s each; eight at once took every thread). The user's slot is a lease in the database, so
the limit holds across app servers.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta

import pytest
from django.http import StreamingHttpResponse
from django.urls import reverse
from django.utils import timezone

from ops.models import JobLock
from peerings import export_limits
from peerings.choices import CallOperation
from peerings.models import UpstreamCall
from tests.factories import MembershipFactory, PeeringFactory, StatusChangeFactory, UpstreamCallFactory

pytestmark = pytest.mark.django_db

EXPORTS = ["/api/v1/calls/export/?format=csv", "/api/v1/status-changes/export/?format=jsonl"]


@pytest.fixture
def alice():
    membership = MembershipFactory(user__username="alice")
    peering = PeeringFactory(requester_tenant=membership.tenant)
    for _ in range(5):
        UpstreamCallFactory(tenant=membership.tenant, peering=peering)
        StatusChangeFactory(peering=peering)
    return membership.user


def read(response) -> str:
    return b"".join(response.streaming_content).decode()


def first_piece(response) -> bytes:
    """Start reading ``response`` (the export is running), without finishing it."""
    return next(iter(response.streaming_content))


@pytest.mark.parametrize("path", EXPORTS)
def test_a_second_export_while_the_first_streams_is_refused(alice, client_for, path):
    api = client_for(alice)
    first = api.get(path)
    assert first.status_code == 200
    assert first_piece(first)

    second = api.get(path)
    assert second.status_code == 429
    assert second["Content-Type"] == "application/json"
    error = second.json()["error"]
    assert error["code"] == "export_in_progress"
    assert "already have an export running" in error["message"]
    assert 1 <= int(second["Retry-After"]) <= export_limits.RETRY_AFTER_MAX
    # the other history's export is the same user's too
    other = EXPORTS[1] if path == EXPORTS[0] else EXPORTS[0]
    assert api.get(other).status_code == 429

    read(first)  # the first finishes: its slot is free again
    third = api.get(path)
    assert third.status_code == 200
    assert read(third)


def test_closing_an_unread_export_frees_the_slot(alice, client_for):
    """A client that went away before reading: the server closes the response, which closes its
    stream (a response's closers include its iterator's close()), which gives the slot back."""
    stream = export_limits.HeldStream(iter(["never read"]), export_limits.take_slot(alice))
    assert stream.close in StreamingHttpResponse(stream)._resource_closers
    api = client_for(alice)
    assert api.get(EXPORTS[0]).status_code == 429
    stream.close()
    response = api.get(EXPORTS[0])
    assert response.status_code == 200
    read(response)


def test_other_users_are_not_held_up(alice, client_for):
    bob = MembershipFactory(user__username="bob").user
    running = client_for(alice).get(EXPORTS[0])
    first_piece(running)
    response = client_for(bob).get(EXPORTS[0])
    assert response.status_code == 200
    read(response)
    read(running)


def test_the_slot_of_a_server_that_died_frees_itself(alice, client_for):
    api = client_for(alice)
    dead = api.get(EXPORTS[0])  # held: dropped, it would be closed (and free its slot) when collected
    try:
        first_piece(dead)  # never finished nor closed: its server died
        assert api.get(EXPORTS[0]).status_code == 429
        JobLock.objects.filter(name__startswith="history-export:").update(
            expires_at=timezone.now() - timedelta(seconds=1)
        )  # HISTORY_EXPORT_LEASE_SECONDS later
        response = api.get(EXPORTS[0])
        assert response.status_code == 200
        read(response)
    finally:
        # Closed here, not by the garbage collector: collected later, its close would write to the
        # database in the middle of whatever statement the next test is running on this connection.
        dead.close()


def test_a_streaming_export_keeps_its_slot(alice, client_for, settings):
    """While it streams it extends its lease, so a long export is not overtaken by the next one."""
    settings.HISTORY_EXPORT_LEASE_SECONDS = 30
    lease = export_limits.take_slot(alice)
    stream = export_limits.HeldStream(iter(["a", "b"]), lease)
    assert next(stream) == "a"
    soon = timezone.now() + timedelta(seconds=5)
    JobLock.objects.filter(name=lease.name).update(expires_at=soon)
    lease._extended -= 11  # a third of the lease's time has passed since it was last extended
    assert next(stream) == "b"
    assert JobLock.objects.get(name=lease.name).expires_at > timezone.now() + timedelta(seconds=25)
    assert client_for(alice).get(EXPORTS[0]).status_code == 429
    with pytest.raises(StopIteration):
        next(stream)
    assert JobLock.objects.get(name=lease.name).expires_at <= timezone.now()  # given back at the end


def test_two_at_once_when_the_setting_allows(alice, client_for, settings):
    settings.HISTORY_EXPORT_PER_USER = 2
    api = client_for(alice)
    first, second = api.get(EXPORTS[0]), api.get(EXPORTS[1])
    assert (first.status_code, second.status_code) == (200, 200)
    first_piece(first)
    first_piece(second)
    third = api.get(EXPORTS[0])
    assert third.status_code == 429
    assert "2 exports" in third.json()["error"]["message"]
    read(first)
    read(second)


def test_exports_stop_at_the_cap_and_say_so(alice, client_for, settings):
    settings.HISTORY_EXPORT_MAX_ROWS = 3
    api = client_for(alice)
    response = api.get("/api/v1/calls/export/?format=csv")
    assert response["X-Export-Row-Limit"] == "3"
    assert response["X-Export-Truncated"] == "true"
    rows = list(csv.DictReader(io.StringIO(read(response))))
    newest = UpstreamCall.objects.order_by("-created_at", "-id").values_list("id", flat=True)[:3]
    assert [int(r["id"]) for r in rows] == list(newest)  # the first rows of the export's order

    response = api.get("/api/v1/status-changes/export/?format=jsonl&ordering=created_at")
    lines = read(response).splitlines()
    assert len(lines) == 3
    assert response["X-Export-Truncated"] == "true"

    settings.HISTORY_EXPORT_MAX_ROWS = 5  # exactly every row: nothing left out
    response = api.get("/api/v1/calls/export/?format=jsonl")
    assert len(read(response).splitlines()) == 5
    assert (response["X-Export-Row-Limit"], response["X-Export-Truncated"]) == ("5", "false")


def test_the_admins_exports_are_bounded_too(alice, admin_client, admin_user, settings):
    settings.HISTORY_EXPORT_MAX_ROWS = 2
    url = reverse("admin:peerings_upstreamcall_changelist")
    every = list(UpstreamCall.objects.values_list("pk", flat=True))
    running = admin_client.post(url, {"action": "export_jsonl", "_selected_action": every})
    assert running["X-Export-Truncated"] == "true"
    started = first_piece(running).decode()
    refused = admin_client.post(url, {"action": "export_csv", "_selected_action": every}, follow=True)
    assert refused.status_code == 200
    assert not refused.streaming
    assert any("already have an export running" in str(m) for m in refused.context["messages"])
    assert len([json.loads(line) for line in (started + read(running)).splitlines()]) == 2


def test_the_calls_csv_defuses_formulas_in_every_locale(alice, client_for):
    tenant = alice.memberships.get().tenant
    UpstreamCallFactory(
        tenant=tenant, operation=CallOperation.CREATE, status_code=400, error_message='ok;=HYPERLINK("x")'
    )
    UpstreamCallFactory(tenant=tenant, status_code=400, error_message="\tTAB")
    rows = list(csv.DictReader(io.StringIO(read(client_for(alice).get("/api/v1/calls/export/?failed=true")))))
    assert sorted(r["error_message"] for r in rows) == ["'\tTAB", '\'ok;=HYPERLINK("x")']
