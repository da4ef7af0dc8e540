"""The bulkhead: when a process already waits on the cloud for ``CLOUD_MAX_CONCURRENT_CALLS``
threads, a request's cloud call is refused at once (503 ``cloud_busy``, ``Retry-After``) with
nothing sent or saved, reads keep being served, and jobs wait for a slot instead.

The slots are held by threads parked inside :func:`peerings.bulkhead.slot`, as threads waiting
on a slow cloud would be: no timing, only conditions.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from django.test import Client
from django.urls import reverse
from django.utils.html import escape

from peerings import bulkhead
from peerings.choices import PeeringStatus
from peerings.exceptions import CloudBusy
from peerings.jobs import sync_open_peerings
from peerings.models import IdempotencyKey, Peering, UpstreamCall
from tests.waiting import wait_for
from vpcsim.models import Peering as SimPeering

S = PeeringStatus

pytestmark = pytest.mark.usefixtures("cloud")

LIMIT = 2


class Holders:
    """Threads holding the process's slots until :meth:`free` (one, or all)."""

    def __init__(self, count: int) -> None:
        self.gates = [threading.Event() for _ in range(count)]
        self.threads = [threading.Thread(target=self._hold, args=(gate,)) for gate in self.gates]
        for thread in self.threads:
            thread.start()
        wait_for(lambda: bulkhead.in_use() == count, timeout=30, interval=0.01, what=f"{count} slots taken")

    @staticmethod
    def _hold(gate: threading.Event) -> None:
        with bulkhead.slot():
            gate.wait(timeout=120)

    def free(self, count: int | None = None) -> None:
        for gate in self.gates[:count]:
            gate.set()

    def join(self) -> None:
        self.free()
        for thread in self.threads:
            thread.join(timeout=30)


@pytest.fixture
def full(settings) -> Iterator[Holders]:
    """Every slot of this process taken (``CLOUD_MAX_CONCURRENT_CALLS = 2``)."""
    settings.CLOUD_MAX_CONCURRENT_CALLS = LIMIT
    settings.CLOUD_BUSY_RETRY_AFTER = 3
    holders = Holders(LIMIT)
    yield holders
    holders.join()
    wait_for(lambda: bulkhead.in_use() == 0, timeout=30, interval=0.01, what="the slots given back")


def _create_body(prod_web, globex_app, globex_main) -> dict:
    return {
        "name": "busy-web-to-globex",
        "request_vpc_info": {"vpc_id": str(prod_web.vpc_id)},
        "accept_vpc_info": {"vpc_id": str(globex_app.vpc_id), "tenant_id": globex_main.project_id},
    }


def _busy(response) -> None:
    assert response.status_code == 503, response.content
    assert response["Retry-After"] == "3"
    assert response.json() == {"error": {"code": "cloud_busy", "message": CloudBusy.default_message}}


def test_a_write_finding_the_bulkhead_full_is_refused_at_once_with_nothing_sent_or_saved(
    acme_api, prod_web, globex_app, globex_main, full
):
    body = _create_body(prod_web, globex_app, globex_main)
    calls, peerings = UpstreamCall.objects.count(), Peering.objects.count()

    response = acme_api.post("/api/v1/peerings/", body, format="json", HTTP_IDEMPOTENCY_KEY="busy-1")

    _busy(response)
    assert (UpstreamCall.objects.count(), Peering.objects.count()) == (calls, peerings)
    assert not SimPeering.objects.exists()
    assert not IdempotencyKey.objects.filter(key="busy-1").exists()  # not a final answer
    # A slot frees: the same request (same key) goes through.
    full.free(1)
    wait_for(lambda: bulkhead.in_use() == LIMIT - 1, timeout=30, interval=0.01, what="one slot free")
    response = acme_api.post("/api/v1/peerings/", body, format="json", HTTP_IDEMPOTENCY_KEY="busy-1")
    assert response.status_code == 201, response.content
    assert SimPeering.objects.count() == 1


def test_a_decision_finding_the_bulkhead_full_leaves_no_lease_and_no_row(pending, globex_approver_api, full):
    calls = UpstreamCall.objects.count()

    response = globex_approver_api.post(
        f"/api/v1/peerings/{pending.pk}/accept/", {"reason": "ok"}, format="json"
    )

    _busy(response)
    pending.refresh_from_db()
    assert (pending.status, pending.inflight_token) == (S.PENDING_ACCEPTANCE, "")
    assert UpstreamCall.objects.count() == calls
    assert SimPeering.objects.get().status == S.PENDING_ACCEPTANCE


def test_a_decision_on_a_peering_in_flight_is_still_a_conflict_not_busy(pending, globex_approver_api, full):
    Peering.objects.filter(pk=pending.pk).update(  # another operation is waiting on the cloud
        inflight_operation="delete", inflight_token="t" * 32, inflight_until="2999-01-01T00:00:00Z"
    )

    response = globex_approver_api.post(
        f"/api/v1/peerings/{pending.pk}/accept/", {"reason": "ok"}, format="json"
    )

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "operation_in_flight"


def test_reads_pages_and_healthz_are_served_while_the_bulkhead_is_full(pending, acme_api, acme_member, full):
    assert acme_api.get("/api/v1/peerings/").json()["count"] == 1
    assert acme_api.get(f"/api/v1/peerings/{pending.pk}/").status_code == 200
    assert acme_api.get("/api/v1/calls/").status_code == 200
    assert Client().get("/healthz/").status_code == 200
    page = Client()
    page.force_login(acme_member)
    assert page.get(reverse("peerings:list")).status_code == 200
    assert page.get(reverse("peerings:detail", args=[pending.pk])).status_code == 200
    assert bulkhead.in_use() == LIMIT


def test_a_page_finding_the_bulkhead_full_says_so_and_changes_nothing(pending, globex_approver, full):
    page = Client()
    page.force_login(globex_approver)

    response = page.post(reverse("peerings:accept", args=[pending.pk]), {"accept-reason": ""}, follow=True)

    assert response.status_code == 200
    assert escape(CloudBusy.default_message) in response.content.decode()
    pending.refresh_from_db()
    assert (pending.status, pending.inflight_token) == (S.PENDING_ACCEPTANCE, "")


def test_a_job_waits_for_a_slot_instead_of_refusing(pending, full):
    reports = []
    job = threading.Thread(target=lambda: reports.append(sync_open_peerings()))
    job.start()
    wait_for(lambda: bulkhead.waiting() == 1, timeout=30, interval=0.01, what="the job waiting for a slot")
    assert reports == []

    full.free(1)
    job.join(timeout=60)

    [report] = reports
    assert (report.counts["unchanged"], report.counts["failed"]) == (1, 0)
    assert UpstreamCall.objects.filter(peering=pending, operation="show").count() == 1


def test_withdrawing_a_held_request_needs_no_slot(
    acme_prod, acme_member, prod_web, globex_app, globex_main, full
):
    held = Peering.objects.create(
        name="held",
        status=S.AWAITING_APPROVAL,
        requester_tenant=acme_prod,
        requester_project_id=acme_prod.project_id,
        requester_vpc_id=prod_web.vpc_id,
        accepter_tenant=globex_main,
        accepter_project_id=globex_main.project_id,
        accepter_vpc_id=globex_app.vpc_id,
        requested_by=acme_member,
    )
    page = Client()
    page.force_login(acme_member)

    page.post(reverse("peerings:delete", args=[held.pk]))

    held.refresh_from_db()
    assert held.status == S.DELETED
