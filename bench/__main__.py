"""Measure the portal on this machine and print one table of figures and ratios.

``python -m bench`` (or ``make bench``) drops and re-creates a PostgreSQL database
(``BENCH_DATABASE_URL``, default ``postgres://postgres@127.0.0.1:5432/portal_bench``), seeds
the demo, then measures, each goal as a ratio within this one run:

* scale: reads at 1k, 10k and 100k peerings (with their history), p95 and queries per request;
* the simulator with huaweicloudsdkvpc against moto_server with boto3 (cross-account cycles);
* forwarding: a create through the REST API against the same create sent to the simulator;
* throughput: REST reads under gunicorn against ``/healthz/`` on the same server;
* the network map's data for 300 VPCs and 1,000 peerings (``bench/network.py``);
* exports: one user's history export under gunicorn, more by the same user at once (refused),
  and ``/healthz/`` meanwhile;
* a slow cloud: REST list reads while 24 writers wait on cloud calls slowed to 6 s (the bulkhead);

and, for reference, the signer alone and the workflow's steps with their queries.
Loopback only; every loop is bounded; one run takes a few minutes.
"""

from __future__ import annotations

import logging
import os
import platform
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DATABASE_URL = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/portal_bench")
#: The simulator's own store (vpcsim.store): a local SQLite file, re-created each run, as moto
#: keeps its state in its own process. BENCH_VPCSIM_DATABASE_URL= (empty) keeps it in PostgreSQL.
VPCSIM_FILE = ROOT / "var" / "bench-vpcsim.sqlite3"
VPCSIM_DATABASE_URL = os.environ.get("BENCH_VPCSIM_DATABASE_URL", f"sqlite:///{VPCSIM_FILE}")


def _environment() -> dict[str, str]:
    """Production settings (no DEBUG) for this process and the servers it starts."""
    from cryptography.fernet import Fernet

    return {
        "DJANGO_SETTINGS_MODULE": "portal.settings",
        "DATABASE_URL": DATABASE_URL,
        "DJANGO_SECRET_KEY": "bench-" + "x" * 50,
        "PORTAL_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost,testserver",
        "PORTAL_BASE_URL": "http://127.0.0.1:8000",
        "DJANGO_SECURE_SSL_REDIRECT": "false",
        "DJANGO_SESSION_COOKIE_SECURE": "false",
        "DJANGO_CSRF_COOKIE_SECURE": "false",
        "VPC_SIMULATOR_ENABLED": "true",
        "VPC_API_RETRIES": "0",
        "API_THROTTLE_RATE": "100000000/minute",
        "API_THROTTLE_WRITE_RATE": "100000000/minute",
        "DJANGO_LOG_LEVEL": "WARNING",
        "LOG_FORMAT": "text",
        "VPCSIM_DATABASE_URL": VPCSIM_DATABASE_URL,
    }


def _fresh_database() -> None:
    import environ
    import psycopg

    cfg = environ.Env.db_url_config(DATABASE_URL)
    if not cfg["ENGINE"].endswith("postgresql"):
        raise SystemExit("The benchmark needs PostgreSQL: set BENCH_DATABASE_URL=postgres://...")
    params = {
        "host": cfg.get("HOST"),
        "port": cfg.get("PORT"),
        "user": cfg.get("USER"),
        "password": cfg.get("PASSWORD"),
        "dbname": "postgres",
    }
    with psycopg.connect(**{k: v for k, v in params.items() if v}, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{cfg["NAME"]}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{cfg["NAME"]}"')
    VPCSIM_FILE.parent.mkdir(exist_ok=True)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{VPCSIM_FILE}{suffix}").unlink(missing_ok=True)


os.environ.update(_environment())
_fresh_database()

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

import aksk  # noqa: E402
from bench import servers  # noqa: E402
from bench.exports import bench_exports  # noqa: E402
from bench.forward import bench_forwarding, bench_throughput  # noqa: E402
from bench.network import bench_map  # noqa: E402
from bench.report import Table, median, p95  # noqa: E402
from bench.scale import bench_scale, prepare  # noqa: E402
from bench.simulator import bench_simulator  # noqa: E402
from bench.slow_cloud import bench_slow_cloud  # noqa: E402


def timed(fn: Callable[[], object], repeat: int) -> list[float]:
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def bench_signer(table: Table, repeat: int = 2000) -> None:
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

    samples = timed(once, repeat)
    table.row("aksk sign + verify", f"median {median(samples):.3f} ms, p95 {p95(samples):.3f} ms")


def bench_workflow(table: Table, cycles: int = 10) -> None:
    from django.contrib.auth import get_user_model

    from peerings import workflow
    from peerings.choices import ChangeSource
    from peerings.models import Tenant
    from peerings.upstream import tenant_client

    users = get_user_model().objects
    alice, carol = users.get(username="alice"), users.get(username="carol")
    acme, globex = Tenant.objects.get(name="Acme Production"), Tenant.objects.get(name="Globex")
    acme_vpc = tenant_client(acme).list_vpcs().data[0]["id"]
    globex_vpc = tenant_client(globex).list_vpcs().data[0]["id"]
    steps: dict[str, list[float]] = {"request": [], "accept": [], "delete": []}
    queries: dict[str, int] = {}

    def measure(step: str, fn: Callable[..., object], **kwargs: object):
        with CaptureQueriesContext(connection) as ctx:
            started = time.perf_counter()
            result = fn(**kwargs)
            steps[step].append((time.perf_counter() - started) * 1000)
        queries[step] = len(ctx.captured_queries)
        return result

    for i in range(cycles):
        peering = measure(
            "request",
            workflow.peering_request,
            tenant=acme,
            acting_user=alice,
            name=f"wf-{i}",
            request_vpc_id=acme_vpc,
            accept_vpc_id=globex_vpc,
            accept_project_id=globex.project_id,
            source=ChangeSource.API,
        )
        measure("accept", workflow.peering_accept, peering=peering, acting_user=carol, reason="bench")
        measure("delete", workflow.peering_delete, peering=peering, acting_user=alice)
    for step, samples in steps.items():
        table.row(
            f"workflow {step} (cross-account, with cloud calls)",
            f"median {median(samples):.1f} ms, {queries[step]} portal queries",
        )


def _create_calls(database: str) -> Callable[[list[str]], list[float]]:
    """The durations of the create calls the portal (serving ``database``) logged for some peerings."""

    def durations(names: list[str]) -> list[float]:
        from peerings.choices import CallOperation
        from peerings.models import UpstreamCall

        base = connection.settings_dict["NAME"]
        connection.close()
        connection.settings_dict["NAME"] = database
        try:
            calls = UpstreamCall.objects.filter(operation=CallOperation.CREATE, peering__name__in=names)
            return [float(ms) for ms in calls.values_list("duration_ms", flat=True)]
        finally:
            connection.close()
            connection.settings_dict["NAME"] = base

    return durations


def main() -> None:
    started = time.monotonic()
    table = Table()
    cpu = (
        next(
            (
                line.split(":", 1)[1].strip()
                for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")
            ),
            platform.processor(),
        )
        if Path("/proc/cpuinfo").exists()
        else ""
    )
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        pg = cursor.fetchone()[0]
    print(
        f"python {sys.version.split()[0]}, PostgreSQL {pg.split()[0]}, {os.cpu_count()} cores ({cpu}); "
        f"simulator store: {settings.DATABASES.get('vpcsim', settings.DATABASES['default'])['ENGINE']}",
        flush=True,
    )
    logging.getLogger("peerings.cloud").setLevel(logging.WARNING)
    call_command("migrate", verbosity=0)
    if "vpcsim" in settings.DATABASES:
        call_command("migrate", database="vpcsim", verbosity=0)
    call_command("createcachetable", verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)
    call_command("seed_demo", verbosity=0, stdout=open(os.devnull, "w"))  # noqa: SIM115
    only = set(filter(None, os.environ.get("BENCH_ONLY", "").split(",")))  # e.g. BENCH_ONLY=scale

    def wanted(name: str) -> bool:
        return not only or name in only

    databases = prepare() if wanted("scale") else {}
    if wanted("signer"):
        bench_signer(table)
    if wanted("map"):
        bench_map(table)
    with servers.gunicorn("portal.simulator_wsgi", workers=1, threads=4) as simulator_url:
        if wanted("simulator"):
            with servers.moto_server() as moto_url:
                bench_simulator(table, simulator_url, moto_url)
        settings.VPC_API_ENDPOINT = simulator_url
        if wanted("workflow"):
            bench_workflow(table)
        if wanted("scale"):
            bench_scale(table, databases)
        # The portal served at the largest size (the simulator keeps its own tables in the first database).
        largest = databases[max(databases)] if databases else connection.settings_dict["NAME"]
        portal_url_env = DATABASE_URL.rsplit("/", 1)[0] + "/" + largest
        portal_env = {"VPC_API_ENDPOINT": simulator_url, "DATABASE_URL": portal_url_env}
        if wanted("forwarding") or wanted("throughput") or wanted("exports"):
            with servers.gunicorn("portal.wsgi", workers=2, threads=4, env=portal_env) as portal_url:
                if wanted("forwarding"):
                    bench_forwarding(table, portal_url, simulator_url, call_ms=_create_calls(largest))
                if wanted("throughput"):
                    bench_throughput(table, portal_url)
                if wanted("exports"):
                    bench_exports(table, portal_url, largest)
        if wanted("slow_cloud"):  # on the demo's database: the peerings it writes are made there
            bench_slow_cloud(table, {**portal_env, "DATABASE_URL": DATABASE_URL})
    table.print()
    print(f"one run: {time.monotonic() - started:.0f} s")


if __name__ == "__main__":
    main()
