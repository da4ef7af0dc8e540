"""Lost answers on closed peerings are settled: the sync re-reads every peering whose last
operation's outcome is unknown, open or not, once that operation can no longer land."""

from __future__ import annotations

import datetime as dt

import pytest

from peerings.choices import PeeringStatus
from peerings.exceptions import CloudUnavailable
from peerings.jobs import peerings_to_sync, sync_open_peerings
from peerings.models import Peering
from peerings.workflow import peering_delete, peering_refresh, peering_reject
from vpcsim import clock
from vpcsim.models import Peering as SimPeering

S = PeeringStatus

pytestmark = pytest.mark.usefixtures("cloud")


def _cloud_status(peering: Peering) -> str | None:
    return SimPeering.objects.filter(peering_id=peering.upstream_id).values_list("status", flat=True).first()


def test_a_lost_delete_on_a_rejected_peering_is_settled_by_the_sync(
    pending, globex_approver, acme_member, sim_faults, expire_leases, settings
):
    rejected = peering_reject(peering=pending, acting_user=globex_approver, reason="no")
    settings.VPC_API_RETRIES = 0  # a retry would find it gone at once: the answer stays lost
    sim_faults.inject("delete", kind="applied_then_dropped", times=1)

    with pytest.raises(CloudUnavailable) as lost:
        peering_delete(peering=rejected, acting_user=acme_member)

    assert lost.value.outcome_unknown
    assert _cloud_status(rejected) in (None, S.DELETED)  # the cloud deleted it
    assert Peering.objects.get(pk=rejected.pk).status == S.REJECTED
    # While the delete may still land nothing concludes; then the sync re-reads the closed peering.
    assert not peerings_to_sync().filter(pk=rejected.pk).exists()
    expire_leases()
    assert peerings_to_sync().filter(pk=rejected.pk).exists()

    report = sync_open_peerings()

    settled = Peering.objects.get(pk=rejected.pk)
    assert settled.status == S.DELETED
    assert f"{rejected.name}: {S.REJECTED} -> {S.DELETED}" in report.changes
    assert settled.status_changes.order_by("-id").first().source == "sync"


def test_a_lost_delete_on_an_expired_peering_that_never_landed_is_settled_and_left(
    pending, settings, acme_member, cloud_proxy, expire_leases
):
    clock.advance(dt.timedelta(seconds=settings.VPCSIM_PENDING_EXPIRY_SECONDS + 60))
    expired = peering_refresh(peering=pending)
    assert expired.status == S.EXPIRED
    settings.VPC_API_ENDPOINT = cloud_proxy.url
    cloud_proxy.modes["DELETE"] = "drop"  # no answer, and nothing reached the cloud

    with pytest.raises(CloudUnavailable):
        peering_delete(peering=expired, acting_user=acme_member)
    cloud_proxy.modes.clear()
    expire_leases()
    reads = len(cloud_proxy.seen)

    sync_open_peerings()

    expired.refresh_from_db()
    assert expired.status == S.EXPIRED == _cloud_status(expired)
    assert expired.inflight_token == ""  # settled: the cloud said what became of it
    assert len(cloud_proxy.seen) == reads + 1  # one show
    sync_open_peerings()
    assert len(cloud_proxy.seen) == reads + 1  # a closed, settled peering is not read again


def test_the_sync_leaves_closed_peerings_whose_outcome_is_known(
    pending, globex_approver, cloud_proxy, settings
):
    rejected = peering_reject(peering=pending, acting_user=globex_approver, reason="no")
    settings.VPC_API_ENDPOINT = cloud_proxy.url

    report = sync_open_peerings()

    assert report.total == 0
    assert cloud_proxy.seen == []
    assert not peerings_to_sync().filter(pk=rejected.pk).exists()
