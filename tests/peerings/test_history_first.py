"""No cloud request without a history row: the row is committed first, the outcome written after.

Against the live simulator. "The database is unreachable" is an ``OperationalError`` from the
history writer (both databases), and on PostgreSQL also a real one: the portal's connection is
terminated by the server while the cloud answers.
"""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from django.db import DatabaseError, OperationalError, connection, connections, models
from django.utils import timezone

from peerings import cloud, history, upstream, workflow
from peerings.choices import CallOperation, CallOutcome, PeeringStatus
from peerings.jobs import peerings_to_sync, sync_open_peerings
from peerings.models import Peering, UpstreamCall
from peerings.route_workflow import routes_apply
from peerings.vpcs import tenant_vpcs
from peerings.workflow import peering_accept, peering_delete, peering_reject
from vpcsim.models import Peering as SimPeering

S = PeeringStatus

pytestmark = pytest.mark.usefixtures("cloud")


@pytest.fixture
def sends(monkeypatch) -> list[tuple[str, str, bool, bool]]:
    """Every attempt the client puts on the wire: (operation, its row's outcome then, whether the
    row existed, whether a transaction was open)."""
    seen: list[tuple[str, str, bool, bool]] = []
    real = cloud.VpcApiClient._send

    def send(self, call):
        row = UpstreamCall.objects.filter(pk=call.record.row_id).first()
        seen.append((call.operation, row.outcome if row else "", row is not None, connection.in_atomic_block))
        return real(self, call)

    monkeypatch.setattr(cloud.VpcApiClient, "_send", send)
    return seen


def _age(row: UpstreamCall, seconds: float = 3600) -> None:
    """As if the row had been opened ``seconds`` ago (the history refuses updates: a test's clock)."""
    models.QuerySet.update(
        UpstreamCall.objects.filter(pk=row.pk), created_at=timezone.now() - timedelta(seconds=seconds)
    )


def _reject(pending: Peering, globex_approver) -> Peering:
    return peering_reject(peering=pending, acting_user=globex_approver, reason="not now")


def test_every_request_finds_its_row_committed_before_it_is_sent(
    sends, request_to_globex, globex_approver, acme_prod, acme_member
):
    peering = request_to_globex()
    peering = peering_accept(peering=peering, acting_user=globex_approver, reason="ok")
    tenant_vpcs(tenant=acme_prod, acting_user=acme_member)
    routes_apply(peering=peering, acting_user=acme_member, side="requester")
    peering_delete(peering=peering, acting_user=acme_member)

    operations = {operation for operation, *_ in sends}
    assert {"list_vpcs", "create", "accept", "list_routes", "create_route", "delete"} <= operations
    assert all(found and outcome == CallOutcome.SENDING for _, outcome, found, _ in sends), sends
    assert not any(in_transaction for *_, in_transaction in sends)  # the row was committed
    # One request, one row: each row now holds its outcome.
    rows = UpstreamCall.objects.all()
    assert rows.count() == len(sends)
    assert set(rows.values_list("outcome", flat=True)) == {CallOutcome.RECORDED}
    assert not rows.filter(status_code=None).exists()


def test_a_new_requests_create_row_is_committed_with_the_peering(sends, request_to_globex, monkeypatch):
    """One commit, not two: the create's row is written in the transaction that saves the request."""
    opened: list[tuple[str, bool, bool]] = []
    real = upstream.open_call

    def open_call(record, **kwargs):
        peering = kwargs.get("peering")
        saved = peering is not None and Peering.objects.filter(pk=peering.pk).exists()
        opened.append((record.operation, connection.in_atomic_block, saved))
        return real(record, **kwargs)

    monkeypatch.setattr(upstream, "open_call", open_call)
    peering = request_to_globex()

    assert (CallOperation.CREATE, True, True) in opened
    create = UpstreamCall.objects.get(peering=peering, operation=CallOperation.CREATE)
    assert create.outcome == CallOutcome.RECORDED
    assert [s[:4] for s in sends if s[0] == CallOperation.CREATE] == [
        (CallOperation.CREATE, CallOutcome.SENDING, True, False)  # committed before it was sent
    ]


def test_no_request_is_sent_when_its_row_cannot_be_written(sends, pending, acme_member, monkeypatch):
    sends.clear()  # the request's own calls
    before = UpstreamCall.objects.count()

    def unreachable(*args, **kwargs):
        raise OperationalError("the database is unreachable")

    monkeypatch.setattr(upstream, "open_call", unreachable)
    with pytest.raises(OperationalError):
        peering_delete(peering=pending, acting_user=acme_member)

    assert sends == []
    assert UpstreamCall.objects.count() == before
    assert SimPeering.objects.get(peering_id=pending.upstream_id).status == S.PENDING_ACCEPTANCE


def test_an_answer_the_database_cannot_take_leaves_a_sending_row_the_sync_settles(
    pending, globex_approver, acme_member, monkeypatch, expire_leases
):
    rejected = _reject(pending, globex_approver)
    real = history.record_call

    def unreachable_for_the_delete(record, **kwargs):
        if record.operation == CallOperation.DELETE:
            raise OperationalError("the database is unreachable")
        return real(record, **kwargs)

    monkeypatch.setattr(workflow, "record_call", unreachable_for_the_delete)
    with pytest.raises(OperationalError):
        peering_delete(peering=rejected, acting_user=acme_member)
    monkeypatch.undo()

    # The cloud carried it out; the portal kept its row, with no outcome, and the lease.
    assert not SimPeering.objects.filter(peering_id=rejected.upstream_id).exclude(status=S.DELETED).exists()
    row = UpstreamCall.objects.get(peering=rejected, operation=CallOperation.DELETE)
    assert (row.outcome, row.status_code) == (CallOutcome.SENDING, None)
    rejected.refresh_from_db()
    assert rejected.status == S.REJECTED
    assert rejected.inflight_token

    report = sync_open_peerings()  # the call may still be running: nothing concluded
    row.refresh_from_db()
    rejected.refresh_from_db()
    assert (row.outcome, rejected.status, report.counts["calls_lost"]) == (CallOutcome.SENDING, S.REJECTED, 0)

    expire_leases()
    _age(row)
    report = sync_open_peerings()

    row.refresh_from_db()
    rejected.refresh_from_db()
    assert report.counts["calls_lost"] == 1
    assert (row.outcome, row.error_code) == (CallOutcome.LOST, history.LOST_CODE)
    assert rejected.status == S.DELETED
    assert rejected.inflight_token == ""
    assert not peerings_to_sync().filter(pk=rejected.pk).exists()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="terminates a PostgreSQL connection")
def test_a_real_database_failure_while_the_cloud_answers_is_settled_by_the_sync(
    pending, globex_approver, acme_member, sim_faults, expire_leases
):
    rejected = _reject(pending, globex_approver)
    sim_faults.inject("delete", kind="latency", latency_ms=1500, times=1)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        [pid] = cursor.fetchone()
    killed = threading.Event()

    def terminate_once_sent() -> None:
        """Wait (bounded) for the delete's row, then cut the portal's connection mid-call."""
        try:
            deadline = time.monotonic() + 30
            with connections["default"].cursor() as cursor:  # this thread's own connection
                while time.monotonic() < deadline:
                    cursor.execute(
                        "SELECT 1 FROM peerings_upstreamcall WHERE operation = %s AND outcome = %s",
                        [CallOperation.DELETE, CallOutcome.SENDING],
                    )
                    if cursor.fetchone():
                        cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
                        killed.set()
                        return
                    time.sleep(0.05)
        finally:
            connections.close_all()

    thread = threading.Thread(target=terminate_once_sent)
    thread.start()
    try:
        with pytest.raises(DatabaseError):
            peering_delete(peering=rejected, acting_user=acme_member)
    finally:
        thread.join(timeout=60)
        connection.close()  # the terminated connection; the next query opens a new one
    assert killed.is_set()

    row = UpstreamCall.objects.get(peering=rejected, operation=CallOperation.DELETE)
    assert row.outcome == CallOutcome.SENDING
    assert Peering.objects.get(pk=rejected.pk).status == S.REJECTED
    expire_leases()
    _age(row)
    report = sync_open_peerings()

    row.refresh_from_db()
    assert report.counts["calls_lost"] == 1
    assert row.outcome == CallOutcome.LOST
    assert Peering.objects.get(pk=rejected.pk).status == S.DELETED


def test_a_call_row_takes_its_outcome_once(acme_prod):
    record = cloud.CallRecord(operation=CallOperation.SHOW, method="GET", url="http://cloud/v2.0/x")
    row = history.open_call(record, tenant=acme_prod)
    # The sync's verdict on a row whose outcome never came; a late answer still replaces it.
    _age(row)
    assert history.settle_lost_calls(timezone.now()) == 1
    record.status_code, record.attempts = 200, 2
    history.record_call(record, tenant=acme_prod)
    row.refresh_from_db()
    assert (row.outcome, row.status_code, row.attempts, row.error_code) == (CallOutcome.RECORDED, 200, 2, "")

    # Then never again: neither the writer nor the sync changes it, and updates stay refused.
    record.status_code = 500
    history.record_call(record, tenant=acme_prod)
    assert history.settle_lost_calls(timezone.now()) == 0
    row.refresh_from_db()
    assert row.status_code == 200
    with pytest.raises(TypeError):
        UpstreamCall.objects.filter(pk=row.pk).update(status_code=500)
