"""Forwarding overhead and REST throughput, against gunicorn-served portal and simulator.

* A cross-account create through ``POST /api/v1/peerings/`` against the same create sent
  straight to the simulator with the SDK (each peering deleted again, untimed), alternating.
* Requests per second of REST reads against ``/healthz/`` on the same server, from a small
  loopback load generator (a few threads with keep-alive sessions, bounded in time).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import requests

from bench.report import Table, median
from bench.simulator import sdk_client, sdk_create

__all__ = ["bench_forwarding", "bench_throughput"]

#: Untimed pause after each step's clean-up: the portal sends the notifications of a change
#: after its answer (in-process without a broker); each create is timed on a settled server.
SETTLE = 0.2


def bench_forwarding(
    table: Table,
    portal_url: str,
    simulator_url: str,
    rounds: int = 30,
    call_ms: Callable[[list[str]], list[float]] | None = None,
) -> None:
    """``call_ms(names)``: the durations the portal logged for the creates of these peerings."""
    from huaweicloudsdkvpc.v2 import DeleteVpcPeeringRequest, ListVpcsRequest

    from demo.seed import demo_token_key
    from peerings.models import Tenant

    acme, globex = Tenant.objects.get(name="Acme Production"), Tenant.objects.get(name="Globex")
    a, b = sdk_client(simulator_url, acme), sdk_client(simulator_url, globex)
    vpc_a = a.list_vpcs(ListVpcsRequest()).vpcs[0].id
    vpc_b = b.list_vpcs(ListVpcsRequest()).vpcs[0].id
    api = requests.Session()
    api.headers["Authorization"] = f"Token {demo_token_key('alice')}"
    url = f"{portal_url}/api/v1/peerings/"
    body = {
        "request_vpc_info": {"vpc_id": vpc_a, "tenant_id": acme.project_id},
        "accept_vpc_info": {"vpc_id": vpc_b, "tenant_id": globex.project_id},
    }
    portal_ms, direct_ms = [], []

    def through_portal(n: int) -> None:
        started = time.perf_counter()
        response = api.post(url, json={"name": f"fwd-{n}", **body}, timeout=30)
        portal_ms.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 201, response.text
        assert api.delete(f"{url}{response.json()['id']}/", timeout=30).status_code in (200, 202, 204)
        time.sleep(SETTLE)

    def direct(n: int) -> None:
        started = time.perf_counter()
        peering = sdk_create(a, vpc_a, vpc_b, globex.project_id, f"direct-{n}")
        direct_ms.append((time.perf_counter() - started) * 1000)
        a.delete_vpc_peering(DeleteVpcPeeringRequest(peering_id=peering))
        time.sleep(SETTLE)

    for n in range(3):  # warm up (and fill the VPC cache once)
        through_portal(-n - 1)
        direct(-n - 1)
    portal_ms.clear()
    direct_ms.clear()
    for n in range(rounds):
        for step in (through_portal, direct) if n % 2 == 0 else (direct, through_portal):
            step(n)
    ratio = median(portal_ms) / median(direct_ms)
    table.row(
        "create via POST /api/v1/peerings/ vs SDK direct (median)",
        f"{median(portal_ms):6.1f} ms / {median(direct_ms):6.1f} ms",
        f"{ratio:.2f}",
        "<= 1.3",
        "holds" if ratio <= 1.3 else "FAILS",
    )
    if call_ms:
        forwarded = call_ms([f"fwd-{n}" for n in range(rounds)])
        table.row(
            "  of which the portal's own create call (its call log, median)",
            f"{median(forwarded):6.1f} ms of {median(portal_ms):6.1f} ms",
        )


def _load(url: str, headers: dict[str, str], seconds: float, threads: int) -> float:
    done = [0] * threads
    errors = [0] * threads
    stop = time.monotonic() + seconds

    def worker(i: int) -> None:
        session = requests.Session()
        session.headers.update(headers)
        while time.monotonic() < stop:
            if session.get(url, timeout=10).status_code == 200:
                done[i] += 1
            else:
                errors[i] += 1

    started = time.monotonic()
    pool = [threading.Thread(target=worker, args=(i,)) for i in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    if sum(errors):
        raise RuntimeError(f"{sum(errors)} failed requests to {url}")
    return sum(done) / (time.monotonic() - started)


def bench_throughput(
    table: Table, portal_url: str, seconds: float = 6, blocks: int = 2, threads: int = 4
) -> None:
    from demo.seed import demo_token_key

    auth = {"Authorization": f"Token {demo_token_key('alice')}"}
    targets = {
        "/healthz/": ({}, "/healthz/"),
        "REST first page": (auth, "/api/v1/peerings/"),
        "REST one-row page": (auth, "/api/v1/peerings/?page_size=1"),
        "REST calls": (auth, "/api/v1/calls/"),
    }
    rates: dict[str, list[float]] = {name: [] for name in targets}
    for headers, path in targets.values():
        _load(portal_url + path, headers, 1, threads)  # warm up
    for block in range(blocks):
        for name, (headers, path) in targets.items() if block % 2 == 0 else reversed(targets.items()):
            rates[name].append(_load(portal_url + path, headers, seconds, threads))
    base = median(rates["/healthz/"])
    table.row("throughput /healthz/ (gunicorn, loopback)", f"{base:7.0f} req/s")
    for name in list(targets)[1:]:
        rate = median(rates[name])
        ratio = rate / base
        table.row(
            f"throughput {name} / healthz",
            f"{rate:7.0f} req/s",
            f"{ratio:.2f}x",
            ">= 0.25x",
            "holds" if ratio >= 0.25 else "FAILS",
        )
