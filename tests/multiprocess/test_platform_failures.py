"""The platform underneath failing, with real processes: Redis killed, two app servers on one host,
a job's worker killed while it holds its lease.

Two app servers are started the production way (``bin/release`` once, then ``bin/start-web``
twice at the same moment, on one host, with one static folder) on a SQLite file and a Redis of
the test's own (the shared cache and the Celery broker). Then that Redis is killed: every read
still answers 200, ``/readyz/`` stays "degraded" (not 503) and names the cache and the broker to
an operator, and ``/metrics`` counts the throttle's fail-opens per server, added up over its
gunicorn workers.
"""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.multiprocess.services import (
    METRICS_TOKEN,
    PYTHON,
    READYZ_TOKEN,
    ROOT,
    Processes,
    api_user,
    bin_release,
    free_port,
    manage,
    portal_env,
    redis_server,
    stub_cloud,
    wait_for,
)

pytestmark = pytest.mark.multiprocess

START_TIMEOUT = 90


@dataclass
class Site:
    tmp: Path
    env: dict[str, str]
    processes: Processes
    key: str = ""
    redis_port: int = 0
    servers: list[str] = field(default_factory=list)

    def api(self, server: str, method: str, path: str, **kwargs: Any) -> requests.Response:
        headers = {"Authorization": f"Token {self.key}", **kwargs.pop("headers", {})}
        return requests.request(method, f"{server}/api/v1/{path}", headers=headers, timeout=30, **kwargs)


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Iterator[Site]:
    tmp = tmp_path_factory.mktemp("platform")
    processes = Processes(tmp)
    with stub_cloud() as cloud:
        try:
            redis_port = redis_server(processes)
            redis_url = f"redis://127.0.0.1:{redis_port}/0"
            env = portal_env(tmp, cloud, REDIS_URL=redis_url, CELERY_BROKER_URL=redis_url)
            bin_release(env)  # once per deploy: migrations, cache table, static files
            site = Site(tmp=tmp, env=env, processes=processes, key=api_user(env), redis_port=redis_port)
            manifest = tmp / "static" / "staticfiles.json"
            collected = manifest.stat().st_mtime_ns
            ports = [free_port(), free_port()]
            for i, port in enumerate(ports):  # both at once, on one host, one static folder
                processes.start(f"web-{i}", ["bin/start-web"], {**env, "GUNICORN_BIND": f"127.0.0.1:{port}"})
            site.servers = [f"http://127.0.0.1:{port}" for port in ports]
            for server in site.servers:
                wait_for(
                    lambda server=server: requests.get(f"{server}/healthz/", timeout=2).status_code == 200,
                    timeout=START_TIMEOUT,
                    what=f"{server} up\n{processes.logs()}",
                )
            assert manifest.stat().st_mtime_ns == collected  # no server wrote the static files
            yield site
        finally:
            processes.stop()


def _static_url(site: Site) -> str:
    manifest = json.loads((site.tmp / "static" / "staticfiles.json").read_text())
    return "/static/" + manifest["paths"]["css/portal.css"]


def test_two_app_servers_start_at_once_on_one_host_and_both_serve(site: Site):
    css = _static_url(site)
    for name, server in zip(("web-0", "web-1"), site.servers, strict=True):
        assert site.processes.running[name].poll() is None, site.processes.logs()
        assert requests.get(f"{server}{css}", timeout=10).status_code == 200
        assert site.api(server, "GET", "peerings/").status_code == 200
        ready = requests.get(f"{server}/readyz/", timeout=10)
        assert (ready.status_code, ready.json()) == (200, {"status": "ok"})


def test_an_app_server_without_collected_static_files_refuses_to_start(site: Site, tmp_path):
    result = subprocess.run(
        ["bin/start-web"],
        cwd=ROOT,
        env={**site.env, "DJANGO_STATIC_ROOT": str(tmp_path), "GUNICORN_BIND": f"127.0.0.1:{free_port()}"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert "run the release step (bin/release) first" in result.stderr
    assert list(tmp_path.iterdir()) == []  # and collected nothing itself


def _metric(server: str, name: str, labels: dict[str, str]) -> float:
    from prometheus_client.parser import text_string_to_metric_families

    response = requests.get(
        f"{server}/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"}, timeout=10
    )
    assert response.status_code == 200, response.text
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            if sample.name == name and sample.labels == labels:
                return sample.value
    return 0.0


def test_reads_keep_working_with_redis_killed_and_readyz_names_it(site: Site):
    assert requests.get(f"{site.servers[0]}/metrics", timeout=10).status_code == 401  # anonymous
    site.processes.kill("redis")  # the test's own Redis, not the shared one

    for server in site.servers:
        reads = [site.api(server, "GET", "peerings/").status_code for _ in range(5)]
        write = site.api(server, "POST", "peerings/", json={})
        page = requests.get(f"{server}/accounts/login/", timeout=10)
        assert reads == [200] * 5, site.processes.logs()
        assert write.status_code == 400, write.text  # the request's fault, answered in full
        assert page.status_code == 200

        anonymous = requests.get(f"{server}/readyz/", timeout=30)
        operator = requests.get(
            f"{server}/readyz/", headers={"Authorization": f"Bearer {READYZ_TOKEN}"}, timeout=30
        )
        assert (anonymous.status_code, anonymous.json()) == (200, {"status": "degraded"})
        assert operator.status_code == 200
        assert operator.json()["failed"] == ["cache", "broker"]
        assert str(site.redis_port) not in anonymous.text

        # 5 reads (the user throttle each) and a write (the user and the write throttles): counted
        # in this server's two worker processes, added up at the scrape, not mixed with the other's.
        assert _metric(server, "portal_cache_errors_total", {"use": "throttle"}) == 7
        requests_200 = _metric(
            server,
            "portal_http_request_duration_seconds_count",
            {"route": "api:peering-list", "method": "GET", "status": "200"},
        )
        assert requests_200 >= 5


# --- A job's worker killed while it holds the lease --------------------------------------------------

HOLD_LEASE = """
import time
from datetime import timedelta
from ops.locks import job_lock
with job_lock("sync_peerings", ttl=timedelta(seconds={ttl})) as lease:
    assert lease is not None
    print("holding", flush=True)
    time.sleep(600)  # the behaviour under test: a run that hangs while it holds the lease
"""


def _lease(db: Path) -> tuple[datetime, datetime] | None:
    with sqlite3.connect(db) as conn:
        row = conn.execute(
            "SELECT acquired_at, expires_at FROM ops_joblock WHERE name = 'sync_peerings'"
        ).fetchone()
    if row is None:
        return None
    acquired, expires = (datetime.fromisoformat(v).replace(tzinfo=UTC) for v in row)
    return acquired, expires


def test_a_killed_jobs_lease_is_renewed_while_it_lives_and_frees_within_its_length(site: Site):
    ttl = 3
    db = site.tmp / "portal.sqlite3"
    holder = site.processes.start(
        "lease-holder", [PYTHON, "manage.py", "shell", "-c", HOLD_LEASE.format(ttl=ttl)], site.env
    )
    acquired, _ = wait_for(lambda: _lease(db), timeout=60, what="the lease taken")
    # Alive, it is renewed by its keep-alive thread: still held well past its first expiry.
    wait_for(
        lambda: _lease(db)[1] > acquired + timedelta(seconds=ttl * 2),
        timeout=30,
        what=f"the lease renewed\n{site.processes.log('lease-holder')}",
    )
    assert holder.poll() is None

    site.processes.kill("lease-holder", signal.SIGKILL)  # as a worker killed mid-job
    killed = time.monotonic()
    wait_for(lambda: _lease(db)[1] <= datetime.now(UTC), timeout=ttl + 10, what="the lease expired")
    freed_after = time.monotonic() - killed
    taken = manage(
        site.env,
        "shell",
        "-c",
        "from datetime import timedelta; from ops.locks import acquire; "
        "print(acquire('sync_peerings', ttl=timedelta(seconds=30)) is not None)",
    )
    assert taken.strip().splitlines()[-1] == "True"
    assert freed_after < ttl + 2  # within one lease length of the kill (its last renewal)
