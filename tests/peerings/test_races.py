"""Races and lost answers, with real threads on one PostgreSQL database (the defects of issue 13).

Each test drives the workflow from several threads, each with its own database connection,
against the live simulator behind a loopback proxy that delays, drops or fails calls.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection, connections

from peerings.choices import PeeringStatus
from peerings.exceptions import CloudUnavailable, InvalidState, PortalError
from peerings.models import Peering, UpstreamCall
from peerings.workflow import (
    peering_accept,
    peering_delete,
    peering_refresh,
    peering_reject,
    peering_request,
)
from tests.factories import MembershipFactory
from tests.waiting import wait_for
from vpcsim.models import Peering as SimPeering

S = PeeringStatus

pytestmark = [
    pytest.mark.usefixtures("cloud"),
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="threads racing on one database need PostgreSQL"
    ),
]


def in_threads(*jobs: Callable[[], Any]) -> list[Any]:
    """Run each job in its own thread (and database connection); return results or exceptions."""
    results: list[Any] = [None] * len(jobs)
    start = threading.Barrier(len(jobs))

    def run(index: int, job: Callable[[], Any]) -> None:
        try:
            start.wait()
            results[index] = job()
        except Exception as exc:  # collected for the test to look at
            results[index] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i, job)) for i, job in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results


def request(tenant, user, request_vpc, accept_vpc, project_id: str) -> Callable[[], Peering]:
    return lambda: peering_request(
        tenant=tenant,
        acting_user=user,
        name="race",
        request_vpc_id=request_vpc.vpc_id,
        accept_vpc_id=accept_vpc.vpc_id,
        accept_project_id=project_id,
    )


def sent(proxy, method: str) -> int:
    """How many peering calls with ``method`` reached the proxy."""
    return sum(1 for m, path, _ in proxy.seen if m == method and path.startswith("/v2.0/vpc/peerings"))


def test_a_create_on_its_way_blocks_delete_and_refresh_until_it_lands(
    cloud_proxy, acme_prod, globex_main, acme_member, prod_web, globex_app
):
    """Defect 1: while the create is sent and not answered, nothing concludes it is absent."""
    acme_prod.endpoint = cloud_proxy.url
    acme_prod.save()
    cloud_proxy.modes["POST"] = "delay"
    cloud_proxy.delay = 1.5

    def meanwhile() -> list[Any]:
        wait_for(Peering.objects.exists)
        peering = Peering.objects.get()
        outcomes = []
        for action in (peering_refresh, peering_delete):
            try:
                outcomes.append(action(peering=Peering.objects.get(), acting_user=acme_member))
            except PortalError as exc:
                outcomes.append(exc)
        return [peering.status, *outcomes]

    created, (status, refreshed, deleted) = in_threads(
        request(acme_prod, acme_member, prod_web, globex_app, globex_main.project_id), meanwhile
    )

    assert status == S.SUBMITTING
    assert isinstance(refreshed, InvalidState)
    assert isinstance(deleted, InvalidState)
    assert created.status == S.PENDING_ACCEPTANCE
    assert sent(cloud_proxy, "POST") == 1
    assert sent(cloud_proxy, "GET") == sent(cloud_proxy, "DELETE") == 0
    assert SimPeering.objects.get().status == S.PENDING_ACCEPTANCE


def test_a_create_that_lands_after_its_answer_was_lost_is_adopted_never_withdrawn(
    cloud_proxy, settings, acme_prod, globex_main, acme_member, prod_web, globex_app, expire_leases
):
    """Defect 1: the create times out, the lookup finds nothing yet, then the create lands."""
    settings.VPC_API_READ_TIMEOUT = 0.5
    acme_prod.endpoint = cloud_proxy.url
    acme_prod.save()
    cloud_proxy.modes["POST"] = "delay"
    cloud_proxy.delay = 1.5

    with pytest.raises(CloudUnavailable) as caught:
        request(acme_prod, acme_member, prod_web, globex_app, globex_main.project_id)()
    peering = Peering.objects.get()
    assert caught.value.outcome_unknown
    assert caught.value.peering == peering
    assert peering.status == S.SUBMITTING
    assert not SimPeering.objects.exists()  # not landed yet

    for action in (peering_delete, peering_refresh):  # it may still land: nothing concludes
        with pytest.raises(InvalidState):
            action(peering=peering, acting_user=acme_member)
    wait_for(SimPeering.objects.exists)  # ... and it lands

    expire_leases()
    peering = peering_refresh(peering=Peering.objects.get(), acting_user=acme_member)

    assert peering.status == S.PENDING_ACCEPTANCE
    assert peering.upstream_id == str(SimPeering.objects.get().peering_id)
    assert sent(cloud_proxy, "POST") == 1


def test_concurrent_refreshes_of_an_unconfirmed_request_send_one_create(
    cloud_proxy, acme_prod, globex_main, acme_member, prod_web, globex_app, expire_leases
):
    """Defect 1: twenty refreshes of a SUBMITTING peering at once: one create at most."""
    acme_prod.endpoint = cloud_proxy.url
    acme_prod.save()
    cloud_proxy.modes["POST"] = "drop"  # sent, never carried out, no answer
    cloud_proxy.once.add("POST")
    with pytest.raises(CloudUnavailable):
        request(acme_prod, acme_member, prod_web, globex_app, globex_main.project_id)()
    expire_leases()
    peering_id = Peering.objects.get().pk

    results = in_threads(
        *[lambda: peering_refresh(peering=Peering.objects.get(pk=peering_id)) for _ in range(20)]
    )

    winners = [r for r in results if isinstance(r, Peering)]
    assert len(winners) == 1, results
    assert all(isinstance(r, InvalidState) for r in results if r not in winners)
    assert sent(cloud_proxy, "POST") == 2  # the dropped one, and the one the winner sent
    assert SimPeering.objects.count() == 1
    assert Peering.objects.get().status == S.PENDING_ACCEPTANCE


def test_racing_decisions_one_reaches_the_cloud_the_rest_are_refused_before_sending(
    pending, globex_main, globex_approver, cloud_proxy
):
    """Defect 5: twenty accepts and rejects at once: one decision is sent, the others get 409."""
    second = MembershipFactory(tenant=globex_main, role="approver").user
    globex_main.endpoint = cloud_proxy.url
    globex_main.save()
    cloud_proxy.modes["PUT"] = "delay"
    cloud_proxy.delay = 0.3
    jobs = []
    for i in range(20):
        decide, user = (peering_accept, globex_approver) if i % 2 else (peering_reject, second)
        jobs.append(
            lambda decide=decide, user=user: decide(
                peering=Peering.objects.get(pk=pending.pk), acting_user=user, reason=f"by {user}"
            )
        )

    results = in_threads(*jobs)

    winners = [r for r in results if isinstance(r, Peering)]
    assert len(winners) == 1, results
    assert all(isinstance(r, InvalidState) for r in results if r not in winners)
    assert sent(cloud_proxy, "PUT") == 1
    peering = Peering.objects.get(pk=pending.pk)
    change = peering.status_changes.order_by("-id").first()
    assert peering.status in (S.ACTIVE, S.REJECTED)
    assert peering.error_code == ""  # no loser's error left on the winner's page
    assert peering.decided_by == change.actor
    assert peering.decision_reason == change.reason == f"by {change.actor}"
    assert SimPeering.objects.get().status == peering.status


def test_a_decision_whose_failure_hid_that_it_landed_is_credited_to_its_maker(
    pending, globex_main, globex_approver, cloud_proxy
):
    """Defect 2: the first accept is carried out but answered 503; a second approver accepts."""
    second = MembershipFactory(tenant=globex_main, role="approver").user
    globex_main.endpoint = cloud_proxy.url
    globex_main.save()
    cloud_proxy.modes["PUT"] = "forward-then-503"
    cloud_proxy.once.add("PUT")

    first = peering_accept(peering=pending, acting_user=globex_approver, reason="first")
    with pytest.raises(InvalidState):
        peering_accept(peering=Peering.objects.get(pk=pending.pk), acting_user=second, reason="second")

    peering = Peering.objects.get(pk=pending.pk)
    change = peering.status_changes.order_by("-id").first()
    assert first.status == peering.status == S.ACTIVE
    assert (peering.decided_by, peering.decision_reason) == (globex_approver, "first")
    assert (change.actor, change.reason) == (globex_approver, "first")
    assert sent(cloud_proxy, "PUT") == 2  # the first attempt (carried out) and its retry (refused)
    assert UpstreamCall.objects.filter(peering=peering, acting_user=second).count() == 0
