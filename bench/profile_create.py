"""Where a create through ``POST /api/v1/peerings/`` spends its time, in process (issue 26).

``python -m bench.profile_create [N]`` drops and re-creates ``BENCH_DATABASE_URL`` (as ``make bench``
does), seeds the demo, serves the simulator with gunicorn, then sends N cross-account creates
(alice, Acme Production to Globex, as ``bench/forward.py``) through Django's test client: the
whole middleware stack, DRF and the workflow in this process, the simulator over HTTP. Each
peering is deleted again, untimed. It prints the median create, its statements, and a table of
where the time goes: each phase's own time (its sub-phases taken out) and statements, per create.
``PROFILE_HTML=file.html`` also writes a pyinstrument profile of another N creates.
"""

from __future__ import annotations

import functools
import importlib
import os
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

__all__ = ["PHASES", "Phases", "main"]

WRITES = frozenset({"INSERT", "UPDATE", "DELETE"})

#: (dotted owner, attribute, phase): every function timed, the owner being where callers look it up.
PHASES: list[tuple[str, str, str]] = [
    ("django.test.client.Client", "post", "request (middleware, routing, DRF, rest)"),
    ("accounts.authentication.ApiTokenAuthentication", "authenticate", "token auth"),
    ("rest_framework.views.APIView", "check_throttles", "throttles"),
    ("peerings.api.idempotency", "begin", "idempotency"),
    ("peerings.api.views.PeeringViewSet", "_input", "parse + validate input"),
    ("peerings.workflow", "peering_request", "begin: approval, lease, open pair, row + status change"),
    ("peerings.selectors", "user_roles", "roles (membership)"),
    ("peerings.workflow", "gather_request_facts", "request facts (open requests, accepter tenant)"),
    ("peerings.workflow", "plan_request", "request rules (pure)"),
    ("peerings.workflow", "request_vpcs", "VPC lists: cache read"),
    ("peerings.vpcs", "fetch_tenant_vpcs", "VPC lists: cache miss (cloud read)"),
    ("peerings.workflow", "_create", "create: the rest (run, lease extension)"),
    ("peerings.upstream", "tenant_client", "client: build"),
    ("peerings.upstream", "open_call", "history: sending row (open_call)"),
    ("peerings.cloud.VpcApiClient", "_sign", "client: signing"),
    ("peerings.cloud.VpcApiClient", "_send", "client: HTTP to the simulator"),
    ("peerings.cloud.VpcApiClient", "_record_response", "client: reading the answer"),
    ("peerings.operations.Operation", "commit", "commit: lock, lease release, save"),
    ("peerings.operations", "record_call", "commit: record_call"),
    ("peerings.mirror", "apply", "commit: mirror + status change"),
    ("notifications.outbox", "event_for_change", "commit: outbox event"),
    ("peerings.api.views.PeeringViewSet", "_answer", "answer: serialize"),
    ("rest_framework.renderers.JSONRenderer", "render", "answer: JSON render"),
    ("ops.after_response", "_run", "after the answer (notifications, not in the create's time)"),
]


class Phases:
    """Own time and statements per phase: a call's time minus that of the phases it calls."""

    def __init__(self) -> None:
        self.ms: dict[str, float] = defaultdict(float)
        self.queries: dict[str, int] = defaultdict(int)
        self.calls: dict[str, int] = defaultdict(int)
        self._stack: list[list[Any]] = []  # [phase, started, time spent in sub-phases]
        self.active = False  # timing only the creates, not the deletes between them
        self.statements: list[tuple[str, str]] = []  # (phase, SQL) of every statement timed
        #: Commits that wait for the WAL to reach the disk (4-5 ms each on the bench's machine).
        self.flushes: dict[str, int] = defaultdict(int)
        self._wrote = False

    def wrap(self, owner: Any, attribute: str, phase: str) -> None:
        original = owner.__dict__[attribute] if isinstance(owner, type) else getattr(owner, attribute)

        @functools.wraps(original)
        def timed(*args: Any, **kwargs: Any) -> Any:
            if not self.active:
                return original(*args, **kwargs)
            frame = [phase, time.perf_counter(), 0.0]
            self._stack.append(frame)
            self.calls[phase] += 1
            try:
                return original(*args, **kwargs)
            finally:
                self._stack.pop()
                spent = time.perf_counter() - frame[1]
                self.ms[phase] += (spent - frame[2]) * 1000
                if self._stack:
                    self._stack[-1][2] += spent

        setattr(owner, attribute, timed)

    def count_query(self, execute: Callable, sql: str, params: Any, many: bool, context: Any) -> Any:
        if self.active:
            phase = self._stack[-1][0] if self._stack else "outside"
            self.queries[phase] += 1
            self.statements.append((phase, sql))
            if sql.lstrip().split(" ", 1)[0].upper() in WRITES and "synchronous_commit" not in sql:
                if context["connection"].in_atomic_block:
                    self._wrote = True  # its transaction's commit waits for the WAL flush
                else:
                    self.flushes[phase] += 1  # a write in autocommit: its own durable commit
        return execute(sql, params, many, context)

    def count_commits(self, connection: Any) -> None:
        """Count each durable commit of a transaction that wrote (``connection.commit`` wrapped)."""
        commit = connection.commit

        def counted() -> None:
            if self.active and self._wrote:
                self.flushes[self._stack[-1][0] if self._stack else "outside"] += 1
            self._wrote = False
            commit()

        connection.commit = counted


def _resolve(dotted: str) -> Any:
    try:
        return importlib.import_module(dotted)
    except ImportError:
        module, _, name = dotted.rpartition(".")
        return getattr(_resolve(module), name)


def _setup() -> None:
    os.environ["BENCH_ONLY"] = "none"
    os.environ.setdefault("EMAIL_URL", "dummymail://")  # the e-mails are sent, to nowhere
    import bench.__main__  # noqa: F401, I001  (the bench's environment, a fresh database, django.setup())
    from django.conf import settings
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    if "vpcsim" in settings.DATABASES:
        call_command("migrate", database="vpcsim", verbosity=0)
    call_command("createcachetable", verbosity=0)
    call_command("seed_demo", verbosity=0, stdout=open(os.devnull, "w"))  # noqa: SIM115


@contextmanager
def _simulator() -> Iterator[str]:
    from django.conf import settings

    from bench import servers

    with servers.gunicorn("portal.simulator_wsgi", workers=1, threads=4) as url:
        settings.VPC_API_ENDPOINT = url
        yield url


def _creates(count: int, first: int, phases: Phases | None = None) -> Callable[[], list[float]]:
    """A function sending ``count`` creates (each deleted again, untimed); their durations in ms."""
    from django.test import Client

    from demo.seed import demo_token_key
    from ops import after_response
    from peerings.models import Tenant
    from peerings.upstream import tenant_client

    acme, globex = Tenant.objects.get(name="Acme Production"), Tenant.objects.get(name="Globex")
    body = {
        "request_vpc_info": {
            "vpc_id": tenant_client(acme).list_vpcs().data[0]["id"],
            "tenant_id": acme.project_id,
        },
        "accept_vpc_info": {
            "vpc_id": tenant_client(globex).list_vpcs().data[0]["id"],
            "tenant_id": globex.project_id,
        },
    }
    client = Client(HTTP_AUTHORIZATION=f"Token {demo_token_key('alice')}")
    numbers = iter(range(first, 10**9))
    run_after = after_response._run
    deferred: list[tuple[Any, ...]] = []

    def run() -> list[float]:
        samples = []
        for _ in range(count):
            if phases is not None:
                phases.active = True
            after_response._run = lambda *args: deferred.append(args)  # a server answers first
            started = time.perf_counter()
            response = client.post(
                "/api/v1/peerings/", {"name": f"prof-{next(numbers)}", **body}, "application/json"
            )
            samples.append((time.perf_counter() - started) * 1000)
            after_response._run = run_after
            while deferred:  # the notifications, after the answer: timed apart
                run_after(*deferred.pop())
            if phases is not None:
                phases.active = False
            assert response.status_code == 201, response.content
            assert client.delete(f"/api/v1/peerings/{response.json()['id']}/").status_code in (200, 202, 204)
        return samples

    return run


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 30
    _setup()
    from django.db import connection

    from bench.report import median

    with _simulator():
        _creates(5, first=-5)()  # warm up: imports, connections, the VPC list cache
        plain = _creates(count, first=0)()
        phases = Phases()
        for owner, attribute, phase in PHASES:
            phases.wrap(_resolve(owner), attribute, phase)
        phases.count_commits(connection)
        with connection.execute_wrapper(phases.count_query):
            measured = _creates(count, first=count, phases=phases)()
        answered = len(phases.statements) - phases.queries.get(PHASES[-1][2], 0)
        flushed = sum(phases.flushes.values()) - phases.flushes.get(PHASES[-1][2], 0)
        print(
            f"create (in process): median {median(plain):.1f} ms over {count}; with the phase timers "
            f"{median(measured):.1f} ms; before the answer {answered / count:.1f} statements, "
            f"{flushed / count:.1f} durable commits"
        )
        print("\n| phase (own time, per create) | ms | statements | durable commits | calls |")
        print("| --- | ---: | ---: | ---: | ---: |")
        for _, _, phase in PHASES:
            ms, queries = phases.ms.get(phase, 0) / count, phases.queries.get(phase, 0) / count
            flushes, calls = phases.flushes.get(phase, 0) / count, phases.calls.get(phase, 0) / count
            print(f"| {phase} | {ms:.2f} | {queries:.1f} | {flushes:.1f} | {calls:.1f} |")
        if os.environ.get("PROFILE_SQL"):
            for phase, sql in phases.statements[: len(phases.statements) // count]:
                print(f"  {phase}: {sql[:160]}")
        if html := os.environ.get("PROFILE_HTML"):
            from pyinstrument import Profiler

            with Profiler(interval=0.0005) as profiler:
                _creates(count, first=2 * count)()
            Path(html).write_text(profiler.output_html())
            print(profiler.output_text(unicode=True, color=False, show_all=False))


if __name__ == "__main__":
    main()
