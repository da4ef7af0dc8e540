"""A slow cloud cannot take the server: list reads while 24 writers wait on a cloud answering in 6 s.

The portal is served by gunicorn, 2 workers x 8 threads (threads waiting on the cloud cost little
memory and no CPU; the bulkhead keeps half of them for everything else). Every
cloud call is slowed to 6 s by the simulator's latency fault. Four readers list peerings
(``GET /api/v1/peerings/``) for a while with no writers, then again while 24 writers rename
peerings (``PATCH``, each its own peering, one cloud call each), honouring ``Retry-After`` when
told ``cloud_busy``; ``/healthz/`` is sampled alongside. Measured with the bulkhead at its
default (``CLOUD_MAX_CONCURRENT_CALLS`` = half the threads) and, for comparison, as wide as the
threads (no bulkhead in effect). Goal: reads keep at least 80% of their throughput.
"""

from __future__ import annotations

import contextlib
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field

import requests

from bench import servers
from bench.report import Table, median

__all__ = ["bench_slow_cloud"]

WRITERS = 24
READERS = 4
LATENCY_MS = 6000
WORKERS, THREADS = 2, 8
#: The longest a writer honours ``Retry-After`` for, in seconds: the load keeps pressing, and
#: comes back before gunicorn closes its idle keep-alive connection (5 s).
RETRY_AFTER_CAP = 4.0
#: Alternating blocks (normal, slow): the machine's noise falls on both alike.
BLOCKS = 3
#: The slow cloud's threads: it answers every call late, never one after another.
CLOUD_THREADS = 48


@dataclass
class Load:
    """What the readers, the health probe and the writers saw."""

    reads: int = 0
    read_errors: int = 0
    seconds: float = 0.0
    healthz_ms: list[float] = field(default_factory=list)
    writes: Counter = field(default_factory=Counter)

    @property
    def rate(self) -> float:
        return self.reads / self.seconds if self.seconds else 0.0

    def add(self, other: Load) -> None:
        self.reads += other.reads
        self.read_errors += other.read_errors
        self.seconds += other.seconds
        self.healthz_ms += other.healthz_ms
        self.writes += other.writes


def _peerings(count: int) -> list[int]:
    """``count`` active peerings of Acme Production (prod-web to a VPC of its own, one each)."""
    from django.contrib.auth import get_user_model

    from peerings.choices import ChangeSource
    from peerings.models import Peering, Tenant
    from peerings.workflow import peering_request
    from vpcsim import provision
    from vpcsim.models import Project, Vpc

    acme = Tenant.objects.get(name="Acme Production")
    alice = get_user_model().objects.get(username="alice")
    project = Project.objects.get(project_id=acme.project_id)
    web = Vpc.objects.get(project=project, name="prod-web")
    ids = []
    for i in range(count):
        name = f"slow-{i}"
        found = Peering.objects.filter(name=name, status="ACTIVE").first()
        if found is None:
            vpc = provision.create_vpc(project=project, name=name, cidr=f"172.20.{i}.0/24")
            found = peering_request(
                tenant=acme,
                acting_user=alice,
                name=name,
                request_vpc_id=web.vpc_id,
                accept_vpc_id=vpc.vpc_id,
                source=ChangeSource.API,
            )
        ids.append(found.pk)
    return ids


def _read(url: str, headers: dict[str, str], stop: threading.Event, load: Load, lock: threading.Lock) -> None:
    """List peerings until told to stop, counting answers (an error or a timeout is not one)."""
    session = requests.Session()
    session.headers.update(headers)
    while not stop.is_set():
        try:
            ok = session.get(url, timeout=10).status_code == 200
        except requests.RequestException:
            ok = False
        with lock:
            load.reads += ok
            load.read_errors += not ok


def _probe(url: str, stop: threading.Event, load: Load) -> None:
    session = requests.Session()
    while not stop.is_set():
        started = time.perf_counter()
        with contextlib.suppress(requests.RequestException):
            session.get(url, timeout=10)
        load.healthz_ms.append((time.perf_counter() - started) * 1000)
        stop.wait(0.1)


def _write(url: str, auth: dict[str, str], stop: threading.Event, load: Load, lock: threading.Lock) -> None:
    """Rename one peering until told to stop, honouring ``Retry-After`` (capped) as a careful tool does."""
    session = requests.Session()
    session.headers.update(auth)
    while not stop.is_set():
        try:
            response = session.patch(url, json={"description": f"slow {uuid.uuid4().hex[:8]}"}, timeout=60)
        except requests.RequestException:
            outcome, wait = "no answer", 0.5
        else:
            try:
                code = response.json().get("error", {}).get("code") if response.status_code >= 400 else None
            except ValueError:
                code = None
            outcome = str(code or response.status_code)
            wait = min(float(response.headers.get("Retry-After") or 0), RETRY_AFTER_CAP)
        with lock:
            load.writes[outcome] += 1
        stop.wait(wait)


def _measure(portal_url: str, token: str, peerings: list[int], *, writers: int, seconds: float) -> Load:
    """Reads (and ``/healthz/`` samples) for ``seconds``, with ``writers`` writing meanwhile."""
    auth = {"Authorization": f"Token {token}"}
    load, lock = Load(), threading.Lock()
    stop_writers, stop_reads = threading.Event(), threading.Event()
    urls = [f"{portal_url}/api/v1/peerings/{peerings[i % len(peerings)]}/" for i in range(writers)]
    writing = [threading.Thread(target=_write, args=(url, auth, stop_writers, load, lock)) for url in urls]
    for thread in writing:
        thread.start()
    if writers:
        time.sleep(1.5)  # the writers fill what they can before the reads are timed
    reading = [
        threading.Thread(target=_read, args=(f"{portal_url}/api/v1/peerings/", auth, stop_reads, load, lock))
        for _ in range(READERS)
    ]
    reading.append(threading.Thread(target=_probe, args=(f"{portal_url}/healthz/", stop_reads, load)))
    started = time.monotonic()
    for thread in reading:
        thread.start()
    time.sleep(seconds)
    stop_reads.set()
    for thread in reading:
        thread.join(timeout=30)
    load.seconds = time.monotonic() - started
    stop_writers.set()
    for thread in writing:
        thread.join(timeout=90)
    return load


def bench_slow_cloud(table: Table, portal_env: dict[str, str], seconds: float = 8) -> None:
    """``portal_env``: the portal's environment (its database). The slow cloud is a simulator of its
    own with enough threads to keep every call in flight (the faults live in the shared store)."""
    from demo.seed import demo_token_key
    from vpcsim import faults

    token = demo_token_key("alice")
    peerings = _peerings(WRITERS)
    default = max(1, THREADS // 2)
    for label, limit in (("bulkhead", default), ("no bulkhead", THREADS)):
        normal, slow = Load(), Load()
        with (
            servers.gunicorn("portal.simulator_wsgi", workers=1, threads=CLOUD_THREADS) as cloud_url,
            servers.gunicorn(
                "portal.wsgi",
                workers=WORKERS,
                threads=THREADS,
                env={**portal_env, "VPC_API_ENDPOINT": cloud_url, "CLOUD_MAX_CONCURRENT_CALLS": str(limit)},
            ) as portal_url,
        ):
            _measure(portal_url, token, peerings, writers=0, seconds=1)  # warm up
            for _ in range(BLOCKS if label == "bulkhead" else 1):
                normal.add(_measure(portal_url, token, peerings, writers=0, seconds=seconds))
                faults.inject("*", kind="latency", latency_ms=LATENCY_MS)
                try:
                    slow.add(_measure(portal_url, token, peerings, writers=WRITERS, seconds=seconds))
                finally:
                    faults.clear()
        ratio = slow.rate / normal.rate if normal.rate else 0.0
        writes = ", ".join(f"{n} {outcome}" for outcome, n in sorted(slow.writes.items()))
        figures = (
            f"{slow.rate:5.0f} of {normal.rate:5.0f} req/s ({slow.read_errors} failed); /healthz/ median "
            f"{median(slow.healthz_ms or [0]):.0f} ms (normal {median(normal.healthz_ms or [0]):.0f}); "
            f"writes: {writes}"
        )
        table.row(
            f"list reads, cloud calls 6 s, {WRITERS} writers, {label} ({limit}/process of {THREADS} threads)",
            figures,
            f"{ratio:.2f}x",
            ">= 0.8x" if label == "bulkhead" else "(comparison)",
            ("holds" if ratio >= 0.8 else "FAILS") if label == "bulkhead" else "",
        )
