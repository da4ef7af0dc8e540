"""The per-request hot path: few hand-written statements, the expiry check, fault rules read only when any."""

from __future__ import annotations

import datetime as dt
import threading
import time

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.vpcsim.support import PEERINGS, neutron_error, peering_body, pending_peering
from tests.vpcsim.test_faults import call
from vpcsim import auth, clock, store
from vpcsim.expiry import expire_due
from vpcsim.models import Peering, PeeringStatus, Route

pytestmark = pytest.mark.django_db


def _statements(ctx: CaptureQueriesContext) -> list[str]:
    """The statements run, without the test transaction's savepoints."""
    return [q["sql"] for q in ctx.captured_queries if "SAVEPOINT" not in q["sql"].upper()]


def _cycle(api, alpha, beta) -> dict[str, list[str]]:
    """Create (alpha), accept (beta), delete (alpha): the statements each request ran."""
    seen = {}
    with CaptureQueriesContext(store.connection()) as ctx:
        made = api(alpha).post(PEERINGS, peering_body(alpha.vpc_ids[0], beta.vpc_ids[0], beta.project_id))
    assert made.status_code == 201, made.content
    seen["create"] = _statements(ctx)
    peering = made.json()["peering"]["id"]
    with CaptureQueriesContext(store.connection()) as ctx:
        accepted = api(beta).put(f"{PEERINGS}/{peering}/accept")
    assert accepted.status_code == 200, accepted.content
    assert accepted.json()["status"] == "ACTIVE"
    seen["accept"] = _statements(ctx)
    with CaptureQueriesContext(store.connection()) as ctx:
        assert api(alpha).delete(f"{PEERINGS}/{peering}").status_code == 204
    seen["delete"] = _statements(ctx)
    return seen


def test_a_cycle_runs_a_handful_of_statements_and_no_fault_read(api, alpha, beta, sim_faults, monkeypatch):
    monkeypatch.setattr(auth, "_last_purge", time.monotonic())  # no purge of old signatures due
    seen = _cycle(api, alpha, beta)

    # key + clock/expiry + (VPCs, duplicate, insert | peering, update | routes, peering); no replay
    # check by default (as the cloud)
    assert {op: len(sql) for op, sql in seen.items()} == {"create": 5, "accept": 4, "delete": 4}
    for statements in seen.values():
        reads = [s for s in statements if "vpcsim_faultrule" in s]
        assert len(reads) == 1  # inside the key lookup only
        assert "EXISTS" in reads[0]
    assert not Peering.objects.exists()


def test_a_rule_is_read_and_fires_once_it_exists_and_not_after_it_is_used_up(api, alpha, sim_faults):
    assert api(alpha).get(PEERINGS).status_code == 200  # no rule yet
    sim_faults.inject("list_peerings", kind="503", times=1)

    assert api(alpha).get(PEERINGS).status_code == 503  # seen by the very next request
    with CaptureQueriesContext(store.connection()) as ctx:
        assert api(alpha).get(PEERINGS).status_code == 200
    assert sum("vpcsim_faultrule" in s for s in _statements(ctx)) == 1  # used up: not read again
    assert sim_faults.injected("list_peerings") == 1


def test_expire_due_is_one_statement_until_a_pending_peering_is_overdue(alpha, beta):
    older = pending_peering(alpha, beta, created_at=clock.now() - dt.timedelta(days=6))
    newer = pending_peering(alpha, beta, created_at=clock.now() - dt.timedelta(days=1))

    with CaptureQueriesContext(store.connection()) as ctx:
        now = expire_due()
    assert len(_statements(ctx)) == 1
    assert abs(now - timezone.now()) < dt.timedelta(seconds=5)
    assert Peering.objects.filter(status=PeeringStatus.PENDING_ACCEPTANCE).count() == 2

    clock.advance(dt.timedelta(days=1, seconds=1))  # the older one is now past 7 days
    now = expire_due()

    assert now - timezone.now() > dt.timedelta(days=1)  # the moved clock
    older.refresh_from_db()
    newer.refresh_from_db()
    assert older.status == PeeringStatus.EXPIRED
    assert older.updated_at == older.created_at + dt.timedelta(days=7)
    assert newer.status == PeeringStatus.PENDING_ACCEPTANCE


def test_an_overdue_peering_is_expired_before_a_delete_and_reads_expired_before(
    api, make_peering, alpha, beta
):
    peering = make_peering(alpha, beta)
    clock.advance(dt.timedelta(days=7, seconds=1))

    assert api(beta).get(f"{PEERINGS}/{peering['id']}").json()["peering"]["status"] == "EXPIRED"
    assert api(alpha).delete(f"{PEERINGS}/{peering['id']}").status_code == 204
    assert api(alpha).delete(f"{PEERINGS}/{peering['id']}").status_code == 404


def test_delete_takes_the_routes_and_is_404_for_an_outsider(api, make_peering, alpha, alpha_dev, beta):
    peering = make_peering(alpha, beta)
    assert api(beta).put(f"{PEERINGS}/{peering['id']}/accept").status_code == 200
    route = {"route": {"type": "peering", "nexthop": peering["id"], "destination": "192.168.0.0/24"}}
    route["route"]["vpc_id"] = alpha.vpc_ids[0]
    assert api(alpha).post("/v2.0/vpc/routes", route).status_code == 201

    assert api(alpha_dev).delete(f"{PEERINGS}/{peering['id']}").status_code == 404  # not a side
    assert (Peering.objects.count(), Route.objects.count()) == (1, 1)
    assert api(beta).delete(f"{PEERINGS}/{peering['id']}").status_code == 204  # the accepter may
    assert (Peering.objects.count(), Route.objects.count()) == (0, 0)
    unknown = api(alpha).delete(f"{PEERINGS}/not-a-uuid")
    assert (unknown.status_code, neutron_error(unknown)["type"]) == (404, "VpcPeeringNotFound")


def test_routes_are_the_only_rows_that_point_at_a_peering():
    """The hand-written delete removes a peering's routes, then the peering (no ORM cascade): a new
    table pointing at peerings must be deleted there too (``vpcsim.services.peering_delete``)."""
    pointing = {(f.related_model, f.field.name) for f in Peering._meta.related_objects}
    assert pointing == {(Route, "nexthop")}


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="concurrent requests on SQLite's shared in-memory test database fail on its table lock",
)
def test_concurrent_creates_of_one_pair_make_one_peering(live_server, alpha, beta):
    """The hand-written create locks both VPC rows: of 6 racing creates (either way round) one wins."""
    statuses: list[int] = []
    barrier = threading.Barrier(6)

    def worker(n: int) -> None:
        requester, accepter = (alpha, beta) if n % 2 == 0 else (beta, alpha)
        body = peering_body(requester.vpc_ids[0], accepter.vpc_ids[0], accepter.project_id, name=f"race-{n}")
        barrier.wait(10)
        statuses.append(call(live_server.url, requester, "POST", PEERINGS, body).status_code)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    assert sorted(statuses) == [201] + [409] * 5
    assert Peering.objects.count() == 1
