"""The fixed cost of an authenticated REST read, in this process (issue 26's profile).

``python -m bench.profile_read`` re-creates a PostgreSQL database (``BENCH_DATABASE_URL``; production
settings, the cache from ``REDIS_URL`` when set), seeds the demo, then reads ``/healthz/`` and one-row
and default pages of ``/api/v1/peerings/`` with alice's token through Django's test client (the whole
middleware stack, no socket): the median ms per request and the statements each runs.
``SHOW_SQL=1`` prints a one-row page's statements; ``PROFILE=1`` (or ``PROFILE=tottime``) also
prints a cProfile of the one-row pages, in CPU time.
``PROFILE_PEERINGS=N`` first grows the bench peerings to N (``bench.seed``; default 10,000).
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# The bench's own environment and fresh database (bench/__main__.py), under a name of its own; the
# simulator's store in PostgreSQL beside it (the demo's seed writes its accounts; no call is made).
os.environ.setdefault("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/portal_profile")
os.environ.setdefault("BENCH_VPCSIM_DATABASE_URL", "")
os.environ["BENCH_ONLY"] = "none"
import bench.__main__  # noqa: E402, F401  (production settings, a fresh database, django.setup())

# isort: split
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from bench.report import median  # noqa: E402
from bench.seed import seed_to  # noqa: E402

__all__ = ["main"]

READS = {
    "/healthz/": ("", "/healthz/"),
    "one-row page": ("api", "/api/v1/peerings/?page_size=1"),
    "first page (50)": ("api", "/api/v1/peerings/"),
    "calls/ first page": ("api", "/api/v1/calls/"),
}


def _per_request(client: Client, path: str, repeat: int) -> tuple[float, float, int, int]:
    """The median ms (wall and this process's CPU) of ``repeat`` requests, and the statements and
    rows of one (the machine is shared: the CPU time is the steadier figure)."""
    for _ in range(20):
        assert client.get(path).status_code == 200, path
    samples, cpu = [], []
    for _ in range(repeat):
        started, started_cpu = time.perf_counter(), time.process_time()
        client.get(path)
        samples.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - started_cpu) * 1000)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path)
    rows = len(response.json().get("results", ())) if path.startswith("/api/") else 0
    return median(samples), median(cpu), len(queries), rows


def main(repeat: int = 300) -> None:
    from demo.seed import demo_token_key

    call_command("migrate", verbosity=0)
    call_command("createcachetable", verbosity=0)
    call_command("seed_demo", verbosity=0, stdout=open(os.devnull, "w"))  # noqa: SIM115
    seed_to(int(os.environ.get("PROFILE_PEERINGS", "10000")))
    clients = {"": Client(), "api": Client(HTTP_AUTHORIZATION=f"Token {demo_token_key('alice')}")}
    for name, (client, path) in READS.items():
        ms, cpu, statements, rows = _per_request(clients[client], path, repeat)
        figures = f"median {ms:6.2f} ms (CPU {cpu:5.2f} ms), {statements} statements, {rows} rows"
        print(f"{name:20} {figures}", flush=True)
    # Function calls per request: a figure the machine's load does not move.
    import cProfile
    import pstats

    for name in ("one-row page", "first page (50)"):
        counter = cProfile.Profile()
        counter.enable()
        for _ in range(20):
            clients["api"].get(READS[name][1])
        counter.disable()
        print(f"{name:20} {pstats.Stats(counter).total_calls // 20:,} Python function calls per request")
    if os.environ.get("SHOW_SQL"):
        with CaptureQueriesContext(connection) as queries:
            clients["api"].get(READS["one-row page"][1])
        for query in queries.captured_queries:
            print(f"{query['time']} s: {query['sql']}")
    if os.environ.get("PROFILE"):
        # This process's CPU time, not the wall clock: on a shared machine waits are other work.
        profiler = cProfile.Profile(time.process_time)
        profiler.enable()
        for _ in range(repeat):
            clients["api"].get(READS["one-row page"][1])
        profiler.disable()
        order = os.environ["PROFILE"] if os.environ["PROFILE"] != "1" else "cumulative"
        stats = pstats.Stats(profiler).sort_stats(order)
        stats.print_stats(int(os.environ.get("PROFILE_LINES", "60")))


if __name__ == "__main__":
    main()
