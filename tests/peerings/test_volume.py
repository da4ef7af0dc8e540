"""Volume: a thousand mixed operations from concurrent clients against a cloud that fails 20% of calls.

Eight client threads drive the REST API over HTTP (creates, accepts, rejects, renames, deletes,
refreshes) while a worker thread runs the sync job, against the simulator with every kind of
fault injected at random (500, 503, 429, latency past the client's read timeout, applied then
dropped, applied then 500, malformed JSON, NUL bytes). Clients retry as a careful tool would:
the same ``Idempotency-Key``, on 503/504/429 and on ``operation_in_flight``. Then the cloud
heals, the leases run out, the sync runs, and portal and cloud are reconciled:

* no 500 from the portal;
* every peering in the cloud is mirrored by exactly one portal peering, with the same status,
  and no portal peering the cloud no longer has is left open;
* no create reached the cloud twice for one request; nothing is left ``SUBMITTING``;
* every attempt the simulator received is accounted for in the portal's history (per
  correlation id: the attempts of the calls recorded equal the requests received).

PostgreSQL only (threads on one database); it prints its figures.
"""

from __future__ import annotations

import random
import threading
import time
import uuid
from collections import Counter
from datetime import timedelta

import pytest
import requests
from django.db import connection, connections
from django.db.models import Sum
from django.utils import timezone

from accounts.models import ApiToken
from peerings.choices import OPEN_STATUSES, PeeringStatus
from peerings.jobs import sync_open_peerings
from peerings.models import Peering, UpstreamCall
from tests.factories import SimVpcFactory
from tests.waiting import wait_for
from vpcsim.models import FaultKind, RequestLog
from vpcsim.models import Peering as SimPeering
from vpcsim.models import Project as SimProject

S = PeeringStatus

pytestmark = [
    pytest.mark.usefixtures("cloud"),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="concurrent clients need PostgreSQL"),
]

CLIENTS = 8
OPERATIONS = 1040  # across all clients
FAULT_RATE = 0.20
KINDS = [kind.value for kind in FaultKind]
WEIGHTS = {"create": 30, "accept": 13, "reject": 7, "update": 10, "delete": 12, "refresh": 16, "sync": 2}
RETRIED = {429, 503, 504}
AFTER_KINDS = {"applied_then_dropped", "applied_then_500", "malformed_json", "nul_bytes"}


class Clients:
    """The API as the load's tools see it: one session per user, retries with the same key."""

    def __init__(self, base: str, users: dict[str, object]) -> None:
        self.base = f"{base}/api/v1"
        self.keys = {
            name: ApiToken.objects.create_token(user, name="volume")[1] for name, user in users.items()
        }
        self.statuses: Counter[int] = Counter()
        self.outcomes: Counter[str] = Counter()
        self.lock = threading.Lock()

    def call(self, user: str, method: str, path: str, body: dict | None = None) -> requests.Response:
        headers = {"Authorization": f"Token {self.keys[user]}", "Idempotency-Key": uuid.uuid4().hex}
        for attempt in range(6):
            response = requests.request(method, f"{self.base}/{path}", json=body, headers=headers, timeout=60)
            with self.lock:
                self.statuses[response.status_code] += 1
            code = _code(response)
            transient = response.status_code in RETRIED or code == "operation_in_flight"
            if not transient or attempt == 5:
                return response
            time.sleep(0.05 + 0.1 * attempt)  # kept: the load's own client backoff, not a wait on a state
        raise AssertionError("unreachable")

    def note(self, operation: str, response: requests.Response | None) -> None:
        outcome = "done" if response is None or response.status_code < 300 else "refused"
        with self.lock:
            self.outcomes[f"{operation} {outcome}"] += 1


def _code(response: requests.Response) -> str:
    try:
        data = response.json()
    except ValueError:
        return ""
    error = data.get("error") if isinstance(data, dict) else None
    return str(error.get("code", "")) if isinstance(error, dict) else ""


def _attempts_recorded() -> int:
    """The attempts the portal's history says it sent to the cloud."""
    return UpstreamCall.objects.aggregate(n=Sum("attempts"))["n"] or 0


def _pick(statuses, *, confirmed: bool = True) -> Peering | None:
    rows = Peering.objects.filter(status__in=statuses)
    if confirmed:
        rows = rows.exclude(upstream_id=None)
    ids = list(rows.values_list("pk", flat=True)[:200])
    return Peering.objects.get(pk=random.choice(ids)) if ids else None


def test_a_thousand_operations_at_twenty_percent_faults_end_reconciled(
    cloud,
    settings,
    sim_faults,
    capsys,
    acme_prod,
    globex_main,
    acme_member,
    globex_approver,
    prod_web,
    globex_app,
):
    settings.VPC_API_READ_TIMEOUT = 1.0  # latency faults of 1.5 s lose their answers
    settings.VPCSIM_REQUEST_LOG = True
    acme_vpcs = [prod_web] + [
        SimVpcFactory(
            project=SimProject.objects.get(name="acme-prod"), name=f"acme-{i}", cidr=f"10.{100 + i}.0.0/16"
        )
        for i in range(6)
    ]
    globex_vpcs = [globex_app] + [
        SimVpcFactory(
            project=SimProject.objects.get(name="globex-main"), name=f"gx-{i}", cidr=f"10.{120 + i}.0.0/16"
        )
        for i in range(6)
    ]
    clients = Clients(cloud.url, {"alice": acme_member, "grace": globex_approver})
    per_kind = 1 - (1 - FAULT_RATE) ** (1 / len(KINDS))  # the first rule that fires wins
    for kind in KINDS:
        sim_faults.inject("*", kind=kind, rate=per_kind, latency_ms=1500, retry_after=0)
    errors: list[BaseException] = []

    def run(share: int, seed: int) -> None:
        rng = random.Random(seed)
        random.seed(seed)
        done = 0
        try:
            while done < share:
                operation = rng.choices(list(WEIGHTS), weights=list(WEIGHTS.values()))[0]
                response = None
                if operation == "create":
                    local = rng.choice(acme_vpcs)
                    peer = rng.choice(globex_vpcs + acme_vpcs)
                    if peer == local:
                        continue
                    body = {
                        "name": f"load-{uuid.uuid4().hex[:8]}",
                        "request_vpc_info": {"vpc_id": str(local.vpc_id)},
                        "accept_vpc_info": {"vpc_id": str(peer.vpc_id), "tenant_id": peer.project.project_id},
                        "confirm_overlap": True,
                    }
                    response = clients.call("alice", "POST", "peerings/", body)
                elif operation == "sync":
                    sync_open_peerings()
                    clients.note("sync", None)
                    done += 1
                    continue
                else:
                    statuses = [S.PENDING_ACCEPTANCE] if operation in ("accept", "reject") else OPEN_STATUSES
                    peering = _pick(statuses)
                    if peering is None:
                        continue
                    path = f"peerings/{peering.pk}/"
                    if operation in ("accept", "reject"):
                        response = clients.call("grace", "POST", f"{path}{operation}/", {"reason": "load"})
                    elif operation == "update":
                        response = clients.call(
                            "alice", "PATCH", path, {"description": f"v{rng.random():.6f}"}
                        )
                    elif operation == "delete":
                        response = clients.call("alice", "DELETE", path)
                    else:
                        response = clients.call("alice", "POST", f"{path}refresh/")
                clients.note(operation, response)
                done += 1
        except BaseException as exc:  # reported by the test
            errors.append(exc)
        finally:
            connections.close_all()

    started = time.monotonic()
    threads = [threading.Thread(target=run, args=(OPERATIONS // CLIENTS, i)) for i in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=900)
    load_seconds = time.monotonic() - started
    assert not errors, errors
    assert sum(clients.outcomes.values()) >= 1000

    # The cloud heals; what is still on its way lands; the leases of lost answers run out.
    injected = Counter({kind: sim_faults.injected(kind=kind) for kind in KINDS})
    sim_faults.clear()
    # Calls whose answers were lost (latency past the read timeout) still run in the simulator,
    # which logs each request when it has answered: wait until it has logged every attempt sent.
    wait_for(
        lambda: RequestLog.objects.count() >= _attempts_recorded(),
        timeout=30,
        what=lambda: f"{_attempts_recorded()} attempts sent, {RequestLog.objects.count()} answered",
    )
    wait_for(
        lambda: not Peering.objects.filter(inflight_until__gt=timezone.now()).exists(),
        timeout=130,
        interval=0.2,
        what="every in-flight lease run out",
    )
    for _ in range(3):  # complete unconfirmed requests, then confirm what they became
        sync_open_peerings()

    # --- Reconciled -------------------------------------------------------------------------------
    assert clients.statuses[500] == 0
    cloud_peerings = {str(p.peering_id): p.status for p in SimPeering.objects.all()}
    mirrored = dict(Peering.objects.exclude(upstream_id=None).values_list("upstream_id", "status"))
    unknown = set(cloud_peerings) - set(mirrored)
    assert not unknown, f"cloud peerings the portal does not know: {unknown}"
    differ = {
        pid: (mirrored[pid], status) for pid, status in cloud_peerings.items() if mirrored[pid] != status
    }
    assert not differ, f"portal vs cloud statuses: {differ}"
    gone = {pid: status for pid, status in mirrored.items() if pid not in cloud_peerings}
    assert set(gone.values()) <= {S.DELETED}, gone
    never_confirmed = Counter(Peering.objects.filter(upstream_id=None).values_list("status", flat=True))
    assert set(never_confirmed) <= {S.FAILED, S.DELETED}, never_confirmed
    assert not Peering.objects.filter(error_code="VpcPeeringExists").exists()  # no second create of a pair

    applied_creates = RequestLog.objects.filter(operation="create").filter(status__in=(200, 201)).count()
    applied_creates += (
        RequestLog.objects.filter(operation="create", fault__in=AFTER_KINDS)
        .exclude(status__in=(200, 201))
        .count()
    )
    assert applied_creates == len(mirrored), "a create reached the cloud twice (or went unrecorded)"

    received = Counter(RequestLog.objects.values_list("correlation_id", flat=True))
    recorded = Counter(
        dict(
            UpstreamCall.objects.values("correlation_id")
            .annotate(n=Sum("attempts"))
            .values_list("correlation_id", "n")
        )
    )
    assert received == recorded, "attempts received by the cloud and recorded by the portal differ"

    figures = (
        f"\nvolume: {sum(clients.outcomes.values())} operations, {CLIENTS} clients, {load_seconds:.1f} s; "
        f"faults injected {sum(injected.values())} ({dict(injected)})\n"
        f"  outcomes {dict(sorted(clients.outcomes.items()))}\n"
        f"  portal answers {dict(sorted(clients.statuses.items()))}\n"
        f"  cloud requests {sum(received.values())}, recorded attempts {sum(recorded.values())}, "
        f"calls {UpstreamCall.objects.count()}\n"
        f"  peerings: cloud {len(cloud_peerings)}, portal {Peering.objects.count()} "
        f"({dict(Counter(Peering.objects.values_list('status', flat=True)))})"
    )
    with capsys.disabled():
        print(figures)
    assert timedelta(seconds=load_seconds) < timedelta(minutes=15)
