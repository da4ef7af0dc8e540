"""Measure the portal end to end on this machine and print the figures.

``python -m bench`` (or ``make bench``) builds a throw-away SQLite database (or uses
``BENCH_DATABASE_URL``), seeds the demo, serves the portal and its simulator from a
threaded WSGI server on 127.0.0.1, and measures:

* the signer alone (sign + verify);
* one signed call through the cloud client to the simulator (GET show);
* the workflow's cross-account cycle (request, accept, delete), with the portal's
  own database queries per step;
* the REST API's peering list over HTTP, with its queries per page at two table sizes.

Loopback only; every loop is bounded.
"""

from __future__ import annotations

import logging
import os
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from contextlib import contextmanager
from functools import partial
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
_db_dir = tempfile.mkdtemp(prefix="portal-bench-")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.test_settings")
os.environ["DATABASE_URL"] = os.environ.get("BENCH_DATABASE_URL", f"sqlite:///{_db_dir}/bench.sqlite3")

import django  # noqa: E402

django.setup()

import requests  # noqa: E402
from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.core.servers.basehttp import WSGIRequestHandler  # noqa: E402
from django.core.wsgi import get_wsgi_application  # noqa: E402
from django.db import connection  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

import aksk  # noqa: E402
from peerings import workflow  # noqa: E402
from peerings.choices import ChangeSource, PeeringStatus  # noqa: E402
from peerings.models import Peering, Tenant  # noqa: E402
from peerings.upstream import tenant_client  # noqa: E402
from portal.devserver import NoDelayWSGIServer  # noqa: E402


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


@contextmanager
def serve():
    server = NoDelayWSGIServer(("127.0.0.1", 0), _QuietHandler)
    server.set_app(get_wsgi_application())
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def timed(fn: Callable[[], object], repeat: int) -> list[float]:
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def row(label: str, samples: list[float], extra: str = "") -> None:
    p95 = sorted(samples)[max(0, int(len(samples) * 0.95) - 1)]
    print(
        f"{label:<52} n={len(samples):<4} median {statistics.median(samples):8.2f} ms"
        f"   p95 {p95:8.2f} ms   {extra}"
    )


def bench_signer(repeat: int = 2000) -> None:
    body = b'{"peering":{"name":"bench","request_vpc_info":{"vpc_id":"x"},"accept_vpc_info":{"vpc_id":"y"}}}'

    def once() -> None:
        headers = aksk.sign(
            method="POST",
            url="http://127.0.0.1/v2.0/vpc/peerings",
            headers={"X-Project-Id": "p"},
            body=body,
            access_key="AK",
            secret_key="SK",
        )
        aksk.verify(
            method="POST",
            path="/v2.0/vpc/peerings",
            query=[],
            headers=headers,
            body=body,
            secret_key="SK",
            authorization=aksk.parse_authorization(headers["Authorization"]),
        )

    row("aksk sign + verify", timed(once, repeat))


def _queries(fn: Callable[[], object]) -> int:
    with CaptureQueriesContext(connection) as ctx:
        fn()
    return len(ctx.captured_queries)


def bench_workflow(cycles: int = 20) -> None:
    from django.contrib.auth import get_user_model

    users = get_user_model().objects
    alice, carol = users.get(username="alice"), users.get(username="carol")
    acme, globex = Tenant.objects.get(name="Acme Production"), Tenant.objects.get(name="Globex")
    acme_vpc = tenant_client(acme).list_vpcs().data[0]["id"]
    globex_vpc = tenant_client(globex).list_vpcs().data[0]["id"]
    steps: dict[str, list[float]] = {"request": [], "accept": [], "delete": []}
    queries: dict[str, int] = {}
    show_samples: list[float] = []

    def measure(step: str, fn: Callable[..., Peering], **kwargs: object) -> Peering:
        with CaptureQueriesContext(connection) as ctx:
            started = time.perf_counter()
            result = fn(**kwargs)
            steps[step].append((time.perf_counter() - started) * 1000)
        queries[step] = len(ctx.captured_queries)
        return result

    client = tenant_client(acme)
    for i in range(cycles):
        peering = measure(
            "request",
            workflow.peering_request,
            tenant=acme,
            acting_user=alice,
            name=f"bench-{i}",
            request_vpc_id=acme_vpc,
            accept_vpc_id=globex_vpc,
            accept_project_id=globex.project_id,
            source=ChangeSource.API,
        )
        measure("accept", workflow.peering_accept, peering=peering, acting_user=carol, reason="bench")
        show_samples += timed(partial(client.show_peering, peering.upstream_id), 10)
        measure("delete", workflow.peering_delete, peering=peering, acting_user=alice)
        assert peering.status == PeeringStatus.DELETED
    row("cloud client: signed GET show via the simulator", show_samples)
    for step, samples in steps.items():
        row(f"workflow {step} (cross-account, incl. cloud calls)", samples, f"{queries[step]} portal queries")


def bench_api(base_url: str, repeat: int = 50) -> None:
    from demo.seed import demo_token_key

    token = demo_token_key("alice")  # seed_demo made it
    acme = Tenant.objects.get(name="Acme Production")
    session = requests.Session()
    session.headers["Authorization"] = f"Token {token}"
    for total in (50, 1000):
        missing = total - Peering.objects.filter(requester_tenant=acme).count()
        Peering.objects.bulk_create(
            Peering(
                upstream_id=str(uuid.uuid4()),
                name=f"mirror-{n}",
                status=PeeringStatus.ACTIVE,
                requester_tenant=acme,
                requester_project_id=acme.project_id,
                requester_vpc_id=uuid.uuid4(),
                accepter_project_id=uuid.uuid4().hex,
                accepter_vpc_id=uuid.uuid4(),
            )
            for n in range(max(0, missing))
        )
        url = f"{base_url}/api/v1/peerings/"
        assert session.get(url, timeout=10).status_code == 200
        from django.test import Client

        client = Client()
        client.defaults["HTTP_AUTHORIZATION"] = f"Token {token}"
        count = _queries(partial(client.get, "/api/v1/peerings/"))
        row(
            f"REST GET /api/v1/peerings/ ({total} rows, page of 50)",
            timed(partial(session.get, url, timeout=10), repeat),
            f"{count} queries per page",
        )


def main() -> None:
    engine = settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]
    print(f"python {sys.version.split()[0]}, database {engine}, {os.cpu_count()} cores")
    logging.getLogger("peerings.cloud").setLevel(logging.WARNING)
    call_command("migrate", verbosity=0)
    call_command("seed_demo", verbosity=0, stdout=open(os.devnull, "w"))  # noqa: SIM115
    bench_signer()
    with serve() as base_url:
        settings.VPC_API_ENDPOINT = base_url
        bench_workflow()
        bench_api(base_url)


if __name__ == "__main__":
    main()
