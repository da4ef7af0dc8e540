"""History exports against a gunicorn-served portal: what one costs, and the server's health meanwhile.

Security review, finding 9: one member's exports of a large history took every thread of the
server (``/healthz/`` 65 s). With the bounds of ``peerings/export_limits.py``:

* one export of alice's calls (at least ``BENCH_EXPORT_ROWS`` rows visible to her; the demo's
  history is topped up when smaller): time, size and whether the row cap cut it;
* while that export streams, more exports by alice at once: each should be refused (429) at
  once, not queued behind it;
* ``/healthz/`` probed before and during the export: its latency must stay low.
"""

from __future__ import annotations

import json
import os
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import requests
from django.db import connection

from bench.report import Table, median, p95

__all__ = ["bench_exports"]

#: The calls alice should see, at least, before the export is measured.
ROWS = int(os.environ.get("BENCH_EXPORT_ROWS", "150000"))
#: Exports alice tries while one runs (the review's: eight at once).
PARALLEL = 7
#: /healthz/ latency during an export, at most (p95).
HEALTH_GOAL_MS = 250.0


@contextmanager
def _database(name: str) -> Iterator[None]:
    """This process's connection pointed at ``name`` (the database the portal serves) for a while."""
    base = connection.settings_dict["NAME"]
    if name == base:
        yield
        return
    connection.close()
    connection.settings_dict["NAME"] = name
    try:
        yield
    finally:
        connection.close()
        connection.settings_dict["NAME"] = base


def _top_up(database: str) -> int:
    """At least :data:`ROWS` calls signed for alice's tenant in ``database``; returns how many."""
    from peerings.choices import CallOperation
    from peerings.models import Tenant, UpstreamCall

    with _database(database):
        tenant = Tenant.objects.get(name="Acme Production")
        have = UpstreamCall.objects.filter(tenant=tenant).count()
        body = {"routes": [{"id": str(uuid.uuid4()), "destination": f"10.{i}.0.0/16"} for i in range(12)]}
        missing = max(0, ROWS - have)
        for start in range(0, missing, 5000):
            UpstreamCall.objects.bulk_create(
                UpstreamCall(
                    tenant=tenant,
                    operation=CallOperation.LIST_ROUTES,
                    method="GET",
                    url="http://cloud/v2.0/vpc/routes?vpc_id=x",
                    status_code=200,
                    response_body=body,
                    correlation_id=uuid.uuid4().hex,
                )
                for _ in range(min(5000, missing - start))
            )
        if missing and connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(f"ANALYZE {UpstreamCall._meta.db_table}")
        return have + missing


def _probe(url: str) -> float:
    started = time.perf_counter()
    assert requests.get(url, timeout=120).status_code == 200
    return (time.perf_counter() - started) * 1000


def bench_exports(table: Table, portal_url: str, database: str) -> None:
    from demo.seed import demo_token_key

    rows = _top_up(database)
    auth = {"Authorization": f"Token {demo_token_key('alice')}"}
    export_url = f"{portal_url}/api/v1/calls/export/?format=jsonl"
    health_url = f"{portal_url}/healthz/"
    idle = [_probe(health_url) for _ in range(40)]

    result: dict[str, object] = {}
    started_streaming = threading.Event()

    def export() -> None:
        started = time.perf_counter()
        with requests.get(export_url, headers=auth, stream=True, timeout=600) as response:
            result["status"] = response.status_code
            result["truncated"] = response.headers.get("X-Export-Truncated")
            result["limit"] = response.headers.get("X-Export-Row-Limit")
            size = lines = 0
            for chunk in response.iter_content(64 * 1024):
                if not started_streaming.is_set():
                    started_streaming.set()
                size += len(chunk)
                lines += chunk.count(b"\n")
        result["seconds"] = time.perf_counter() - started
        result["bytes"], result["lines"] = size, lines
        started_streaming.set()

    runner = threading.Thread(target=export)
    runner.start()
    started_streaming.wait(timeout=120)

    refused: list[tuple[int, float, str]] = []

    def another() -> None:
        started = time.perf_counter()
        response = requests.get(export_url, headers=auth, timeout=600)
        code = ""
        if response.status_code == 429:
            code = (
                json.loads(response.content)["error"]["code"]
                + f", Retry-After {response.headers['Retry-After']}"
            )
        refused.append((response.status_code, (time.perf_counter() - started) * 1000, code))

    others = [threading.Thread(target=another) for _ in range(PARALLEL)]
    for thread in others:
        thread.start()
    busy: list[float] = []
    while runner.is_alive():
        busy.append(_probe(health_url))
        time.sleep(0.05)
    for thread in others:
        thread.join()

    megabytes = int(result.get("bytes", 0)) / 1e6
    table.row(
        f"export calls/export/ jsonl of {rows} visible calls (gunicorn, loopback)",
        f"{result.get('seconds', 0):.1f} s, {megabytes:.0f} MB, {result.get('lines')} rows "
        f"(cap {result.get('limit')}, truncated {result.get('truncated')})",
    )
    statuses = sorted({status for status, _, _ in refused})
    refused_ms = [ms for status, ms, _ in refused if status == 429]
    verdict = statuses == [429]
    table.row(
        f"export: {PARALLEL} more by the same user while it streams",
        f"{len(refused_ms)}/{PARALLEL} refused 429 "
        f"(median {median(refused_ms) if refused_ms else 0:.0f} ms; {refused[0][2] if refused else ''})",
        "",
        "all 429, at once",
        "holds" if verdict else f"FAILS {statuses}",
    )
    during = p95(busy) if busy else 0.0
    table.row(
        "/healthz/ during the export (p95, max)",
        f"{during:.1f} ms, {max(busy, default=0):.1f} ms ({len(busy)} probes; idle p95 {p95(idle):.1f} ms)",
        f"{during / max(p95(idle), 0.1):.1f}x",
        f"< {HEALTH_GOAL_MS:.0f} ms",
        "holds" if during < HEALTH_GOAL_MS else "FAILS",
    )
