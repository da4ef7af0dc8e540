"""Several app servers on one PostgreSQL, with a real Celery worker on Redis.

Starts, as separate processes: the simulator (``gunicorn portal.simulator_wsgi``), two portal
app servers (``gunicorn portal.wsgi``, 2 workers x 4 threads each) and a Celery worker with
its beat scheduler, all on one dedicated PostgreSQL database (``service_mp``, created and
migrated here, dropped afterwards) and Redis (broker, shared cache/throttles). The demo is
seeded with ``seed_demo --json``; everything else goes over HTTP with API tokens, as clients
and load balancers would. Then:

* concurrent accepts and rejects of one pending peering through both servers: exactly one
  decision is applied by the simulated cloud, and the others are refused with 409;
* a peering accepted in the cloud directly (the accepter's keys, not the portal) is brought
  up to date by the worker's periodic sync;
* a user's history export streaming from one server holds their one export slot: another on the
  other server is refused at once (429), until the first ends.

Run with ``-m multiprocess`` on PostgreSQL (``DATABASE_URL=postgres://...``) with Redis on
127.0.0.1:6379; skipped (with the reason) on SQLite or without Redis, unless
``MULTIPROCESS_REQUIRED=1`` (CI), which turns a missing Redis into a failure. Every
subprocess is killed when the module ends; every wait is bounded.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests
from django.db import connection

from peerings.cloud import Credentials, VpcApiClient
from tests.waiting import wait_for

pytestmark = pytest.mark.multiprocess

ROOT = Path(__file__).resolve().parents[2]
PYTHON = sys.executable
DATABASE = os.environ.get("MULTIPROCESS_DATABASE", "service_mp")
REDIS_URL = os.environ.get("MULTIPROCESS_REDIS_URL", "redis://127.0.0.1:6379/0")
START_TIMEOUT = 90  # seconds for every server to answer
SYNC_TIMEOUT = 60  # seconds for the worker's periodic sync to pick a change up
SYNC_INTERVAL = 2  # the beat schedule's sync interval in this test, seconds
RACERS = 8


def _skip_or_fail(reason: str) -> None:
    if os.environ.get("MULTIPROCESS_REQUIRED") == "1":
        pytest.fail(f"{reason} (MULTIPROCESS_REQUIRED=1)")
    pytest.skip(reason)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _pg_params(dbname: str) -> dict[str, Any]:
    s = connection.settings_dict
    params = {"host": s["HOST"], "port": s["PORT"], "user": s["USER"], "password": s["PASSWORD"]}
    return {**{k: v for k, v in params.items() if v}, "dbname": dbname}


def _database_url() -> str:
    s = connection.settings_dict
    auth = s["USER"] + (f":{s['PASSWORD']}" if s["PASSWORD"] else "")
    return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{DATABASE}"


def _sql(query: str, params: tuple = ()) -> list[tuple]:
    """Read the shared database directly (outside the test's own Django connection)."""
    import psycopg

    with psycopg.connect(**_pg_params(DATABASE)) as conn:
        return conn.execute(query, params).fetchall()


def _recreate_database(drop_only: bool = False) -> None:
    import psycopg

    with psycopg.connect(**_pg_params("postgres"), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
        if not drop_only:
            conn.execute(f'CREATE DATABASE "{DATABASE}"')


@dataclass
class Stack:
    tmp: Path
    env: dict[str, str]
    simulator: str = ""
    servers: list[str] = field(default_factory=list)
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)
    world: dict[str, Any] = field(default_factory=dict)

    def start(self, name: str, *args: str, **env: str) -> None:
        log = open(self.tmp / f"{name}.log", "wb")  # noqa: SIM115 - closed with the process
        self.processes[name] = subprocess.Popen(
            [PYTHON, *args],
            cwd=ROOT,
            env={**self.env, **env},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: stopped with all its children
        )
        log.close()

    def run(self, *args: str, **env: str) -> str:
        result = subprocess.run(
            [PYTHON, "manage.py", *args],
            cwd=ROOT,
            env={**self.env, **env},
            capture_output=True,
            text=True,
            timeout=180,
        )
        assert result.returncode == 0, f"manage.py {' '.join(args)}:\n{result.stdout}\n{result.stderr}"
        return result.stdout

    def logs(self, tail: int = 40) -> str:
        parts = []
        for name in self.processes:
            lines = (self.tmp / f"{name}.log").read_text(errors="replace").splitlines()
            parts.append(f"--- {name} (last {tail} lines)\n" + "\n".join(lines[-tail:]))
        return "\n".join(parts)

    def stop(self) -> None:
        for proc in self.processes.values():
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        deadline = time.monotonic() + 15
        for proc in self.processes.values():
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)

    def wait_until_up(self, url: str, name: str) -> None:
        def answers() -> bool:
            if self.processes[name].poll() is not None:
                pytest.fail(f"{name} exited with {self.processes[name].returncode}\n{self.logs()}")
            return requests.get(url, timeout=2).status_code == 200  # refused: not listening yet

        wait_for(
            answers, timeout=START_TIMEOUT, interval=0.3, what=lambda: f"{name} answers {url}\n{self.logs()}"
        )

    def token(self, username: str) -> str:
        return next(u["token"] for u in self.world["users"] if u["username"] == username)

    def project(self, name: str) -> dict[str, Any]:
        return next(p for a in self.world["accounts"] for p in a["projects"] if p["name"] == name)

    def account_of(self, project: str) -> dict[str, Any]:
        return next(a for a in self.world["accounts"] if any(p["name"] == project for p in a["projects"]))

    def vpc(self, name: str) -> str:
        return next(
            v["id"]
            for a in self.world["accounts"]
            for p in a["projects"]
            for v in p["vpcs"]
            if v["name"] == name
        )


@pytest.fixture(scope="module")
def stack(tmp_path_factory) -> Iterator[Stack]:
    if connection.vendor != "postgresql":
        pytest.skip(
            "needs PostgreSQL (DATABASE_URL=postgres://...): several app servers share one database "
            "server, which SQLite is not"
        )
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        _skip_or_fail(f"needs Redis at {REDIS_URL} for the Celery broker and the shared cache: {exc}")

    tmp = tmp_path_factory.mktemp("multiprocess")
    run_id = uuid.uuid4().hex[:8]
    sim_port, *web_ports = (_free_port() for _ in range(3))
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": os.environ.get("HOME", str(tmp)),
        "LANG": "C.UTF-8",
        "DJANGO_SETTINGS_MODULE": "portal.settings",
        "DJANGO_SECRET_KEY": "multiprocess-test-secret-key-" + "x" * 40,
        "PORTAL_ENCRYPTION_KEYS": "dGVzdC1vbmx5LWZpZWxkLWVuY3J5cHRpb24ta2V5LTE=",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "PORTAL_BASE_URL": "http://127.0.0.1",
        "DJANGO_SECURE_SSL_REDIRECT": "false",  # plain HTTP on loopback
        "DATABASE_URL": _database_url(),
        "DJANGO_CONN_MAX_AGE": "60",
        "DJANGO_STATIC_ROOT": str(tmp / "static"),
        "REDIS_URL": REDIS_URL,
        "CACHE_KEY_PREFIX": f"service-mp-{run_id}",
        "CELERY_BROKER_URL": REDIS_URL,
        "CELERY_TASK_DEFAULT_QUEUE": f"service-mp-{run_id}",
        "SYNC_PEERINGS_INTERVAL": str(SYNC_INTERVAL),
        "EXPIRE_PENDING_INTERVAL": "3600",
        "VPC_API_ENDPOINT": f"http://127.0.0.1:{sim_port}",
        "VPC_API_BACKOFF": "0.1",
        "VPC_SIMULATOR_ENABLED": "false",
        "LOG_FORMAT": "json",
        "WEB_CONCURRENCY": "2",
        "GUNICORN_THREADS": "4",
    }
    s = Stack(tmp=tmp, env=env)
    _recreate_database()
    try:
        # Schema (the simulator's tables too), the cache table, the demo world, static files.
        s.run("migrate", "--no-input", VPC_SIMULATOR_ENABLED="true")
        s.run("createcachetable")
        s.world = json.loads(s.run("seed_demo", "--json", VPC_SIMULATOR_ENABLED="true"))
        s.run("collectstatic", "--no-input", "-v", "0")

        s.start(
            "simulator",
            "-m",
            "gunicorn",
            "portal.simulator_wsgi",
            VPC_SIMULATOR_ENABLED="true",
            GUNICORN_BIND=f"127.0.0.1:{sim_port}",
            GUNICORN_ACCESS_LOG=str(tmp / "simulator-access.log"),
            GUNICORN_ACCESS_LOG_FORMAT="%(m)s %(U)s %(s)s",
        )
        for i, port in enumerate(web_ports):
            s.start(f"web-{i}", "-m", "gunicorn", "portal.wsgi", GUNICORN_BIND=f"127.0.0.1:{port}")
        s.start(
            "worker",
            "-m",
            "celery",
            "-A",
            "portal",
            "worker",
            "--beat",
            "--schedule",
            str(tmp / "beat-schedule"),
            "--pool",
            "threads",
            "--concurrency",
            "2",
            "--without-mingle",
            "--without-gossip",
            "--loglevel",
            "INFO",
        )
        s.simulator = f"http://127.0.0.1:{sim_port}"
        s.servers = [f"http://127.0.0.1:{port}" for port in web_ports]
        s.wait_until_up(f"{s.simulator}/healthz/", "simulator")
        for i, server in enumerate(s.servers):
            s.wait_until_up(f"{server}/readyz/", f"web-{i}")
        yield s
    finally:
        s.stop()
        _recreate_database(drop_only=True)


def _api(stack: Stack, user: str, server: int = 0) -> Callable[..., requests.Response]:
    session = requests.Session()
    session.headers["Authorization"] = f"Token {stack.token(user)}"

    def call(method: str, path: str, **kwargs: Any) -> requests.Response:
        return session.request(method, f"{stack.servers[server]}/api/v1/{path}", timeout=60, **kwargs)

    return call


def _request_peering(
    stack: Stack, name: str, request_project: str, request_vpc: str, accept_vpc: str
) -> dict:
    body = {
        "name": name,
        "request_vpc_info": {
            "vpc_id": stack.vpc(request_vpc),
            "tenant_id": stack.project(request_project)["project_id"],
        },
        "accept_vpc_info": {
            "vpc_id": stack.vpc(accept_vpc),
            "tenant_id": stack.project("globex-main")["project_id"],
        },
    }
    response = _api(stack, "alice", server=1)("POST", "peerings/", json=body)
    assert response.status_code == 201, response.text
    assert response.json()["status"] == "PENDING_ACCEPTANCE"
    return response.json()


def _decision_requests(stack: Stack, upstream_id: str) -> Counter:
    """(verb, status) of every accept/reject request the simulator served for this peering."""
    seen: Counter = Counter()
    log = stack.tmp / "simulator-access.log"
    for line in log.read_text().splitlines() if log.exists() else []:
        method, path, status = line.split()
        if method == "PUT" and path.startswith(f"/v2.0/vpc/peerings/{upstream_id}/"):
            seen[(path.rsplit("/", 1)[1], int(status))] += 1
    return seen


@pytest.fixture(scope="module")
def race(stack: Stack) -> dict[str, Any]:
    """Accepts and rejects of one pending peering, all at once, through both app servers."""
    peering = _request_peering(stack, "race-web-to-core", "acme-prod", "prod-web", "globex-core")
    barrier = threading.Barrier(RACERS)
    results: list[tuple[str, int, dict]] = [("", 0, {})] * RACERS

    def racer(i: int) -> None:
        verb = "accept" if i % 2 == 0 else "reject"
        call = _api(stack, "carol" if i % 4 < 2 else "admin", server=i % 2)
        # Warm up (connection open, token checked once) so the decisions leave together.
        assert call("GET", f"peerings/{peering['id']}/").status_code == 200
        barrier.wait(timeout=30)
        response = call("POST", f"peerings/{peering['id']}/{verb}/", json={"reason": f"racer {i}"})
        try:
            body = response.json()
        except ValueError:
            body = {"raw": response.text[:500]}
        results[i] = (verb, response.status_code, body)

    threads = [threading.Thread(target=racer, args=(i,)) for i in range(RACERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "a racer did not finish within 120s"
    # The simulator writes its access log after each answer: wait until it holds every decision
    # call the portal recorded for this peering (at least the winner's).
    [(recorded,)] = _sql(
        "SELECT coalesce(sum(attempts), 0) FROM peerings_upstreamcall "
        "WHERE peering_id = %s AND operation IN ('accept', 'reject')",
        (peering["id"],),
    )
    wait_for(
        lambda: sum(_decision_requests(stack, peering["peering_id"]).values()) >= max(recorded, 1),
        timeout=10,
        what=lambda: f"{recorded} decision calls in the simulator's access log\n{stack.logs()}",
    )
    return {"peering": peering, "results": results}


def test_concurrent_decisions_reach_the_cloud_once(stack: Stack, race: dict[str, Any]):
    peering, results = race["peering"], race["results"]
    winners = [(verb, body) for verb, status, body in results if status == 200]
    statuses = Counter(status for _, status, _ in results)
    assert len(winners) == 1, f"{statuses}\n{results}\n{stack.logs()}"
    verb, body = winners[0]
    expected = "ACTIVE" if verb == "accept" else "REJECTED"
    assert body["status"] == expected
    assert all(status in (409, 422) for _, status, _ in results if status != 200), results

    upstream_id = peering["peering_id"]
    # The simulated cloud applied exactly one decision: its row moved once, to the winner's status.
    [(sim_status,)] = _sql("SELECT status FROM vpcsim_peering WHERE peering_id = %s", (upstream_id,))
    assert sim_status == expected
    applied = {k: n for k, n in _decision_requests(stack, upstream_id).items() if k[1] < 300}
    assert applied == {(verb, 200): 1}, _decision_requests(stack, upstream_id)
    # The portal recorded one successful decision call, and its mirror agrees with the cloud.
    [(ok_calls,)] = _sql(
        "SELECT count(*) FROM peerings_upstreamcall WHERE peering_id = %s "
        "AND operation IN ('accept', 'reject') AND status_code < 300",
        (peering["id"],),
    )
    assert ok_calls == 1
    [(portal_status,)] = _sql("SELECT status FROM peerings_peering WHERE id = %s", (peering["id"],))
    assert portal_status == expected
    # One status change out of PENDING_ACCEPTANCE, whatever the number of racers.
    [(moves,)] = _sql(
        "SELECT count(*) FROM peerings_statuschange "
        "WHERE peering_id = %s AND old_status = 'PENDING_ACCEPTANCE'",
        (peering["id"],),
    )
    assert moves == 1


def test_the_losers_get_409_and_never_reach_the_cloud(stack: Stack, race: dict[str, Any]):
    losers = [
        (verb, status, body.get("error", {}).get("code"))
        for verb, status, body in race["results"]
        if status != 200
    ]
    assert len(losers) == RACERS - 1
    assert {status for _, status, _ in losers} == {409}, losers
    sent = _decision_requests(stack, race["peering"]["peering_id"])
    assert sum(sent.values()) == 1, sent


def test_the_worker_syncs_a_peering_accepted_in_the_cloud(stack: Stack):
    peering = _request_peering(stack, "sync-tools-to-core", "acme-dev", "dev-tools", "globex-core")
    globex = stack.account_of("globex-main")
    accepter = VpcApiClient(
        endpoint=stack.simulator,
        credentials=Credentials(
            access_key=globex["access_key"],
            secret_key=globex["secret_key"],
            project_id=stack.project("globex-main")["project_id"],
        ),
    )
    # Accepted in the cloud, behind the portal's back.
    assert accepter.accept_peering(peering["peering_id"]).data["status"] == "ACTIVE"

    read = _api(stack, "alice", server=0)
    wait_for(
        lambda: read("GET", f"peerings/{peering['id']}/").json()["status"] == "ACTIVE",
        timeout=SYNC_TIMEOUT,
        interval=0.5,
        what=lambda: f"the peering synced to ACTIVE\n{stack.logs()}",
    )
    changes = read("GET", f"peerings/{peering['id']}/status-changes/").json()
    rows = changes["results"] if isinstance(changes, dict) else changes
    synced = [c for c in rows if c["new_status"] == "ACTIVE"]
    assert synced
    assert synced[0]["source"] == "sync"
    assert synced[0].get("actor") in (None, "")
    # The worker ran it: the job logs its run (JSON) in the worker's output once every open
    # peering (and the active ones' routes) has been read, so after this one's commit.
    worker_log = stack.tmp / "worker.log"
    wait_for(
        lambda: '"job": "sync_peerings"' in worker_log.read_text(errors="replace"),
        timeout=SYNC_TIMEOUT,
        interval=0.5,
        what=lambda: (
            "the worker's sync_peerings run logged\n" + worker_log.read_text(errors="replace")[-2000:]
        ),
    )


# --- The defects of "never lose track of a cloud peering", across two app servers ------------------


def _inject(operation: str, kind: str, *, times: int = 1, latency_ms: int = 0) -> None:
    """A fault rule in the shared simulator's table (see vpcsim/faults.py): every process obeys it."""
    _sql(
        "INSERT INTO vpcsim_faultrule (operation, kind, rate, times, remaining, latency_ms, retry_after, "
        "injected, env_key, created_at) VALUES (%s, %s, NULL, %s, %s, %s, 0, 0, NULL, now()) RETURNING id",
        (operation, kind, times, times, latency_ms),
    )


def _body(stack: Stack, name: str, request_project: str, request_vpc: str, accept_vpc: str) -> dict:
    return {
        "name": name,
        "request_vpc_info": {
            "vpc_id": stack.vpc(request_vpc),
            "tenant_id": stack.project(request_project)["project_id"],
        },
        "accept_vpc_info": {
            "vpc_id": stack.vpc(accept_vpc),
            "tenant_id": stack.project("globex-main")["project_id"],
        },
    }


def _sim_peerings(name: str) -> list[tuple[str, str]]:
    return _sql("SELECT peering_id::text, status FROM vpcsim_peering WHERE name = %s", (name,))


def test_a_create_on_its_way_is_never_concluded_absent_by_the_other_server(stack: Stack):
    """Defect 1: while server 1's create is in flight, server 0 refuses to delete or refresh it."""
    _inject("create", "latency", latency_ms=2500)
    body = _body(stack, "in-flight", "acme-prod", "prod-data", "globex-core")
    created: dict[str, Any] = {}
    creator = threading.Thread(
        target=lambda: created.update(response=_api(stack, "alice", server=1)("POST", "peerings/", json=body))
    )
    creator.start()
    other = _api(stack, "alice", server=0)
    [(kept,)] = wait_for(
        lambda: _sql("SELECT id FROM peerings_peering WHERE name = 'in-flight'"),
        timeout=20,
        what=lambda: f"server 1's peering row saved before its create is sent\n{stack.logs()}",
    )
    refused = [other("DELETE", f"peerings/{kept}/"), other("POST", f"peerings/{kept}/refresh/")]
    creator.join(timeout=60)

    assert [(r.status_code, r.json()["error"]["code"]) for r in refused] == [(409, "operation_in_flight")] * 2
    assert created["response"].status_code == 201, created["response"].text
    assert created["response"].json()["status"] == "PENDING_ACCEPTANCE"
    assert [status for _, status in _sim_peerings("in-flight")] == ["PENDING_ACCEPTANCE"]


def test_a_decision_that_landed_behind_a_500_is_credited_to_its_maker(stack: Stack):
    """Defect 2: carol's accept lands behind a 500; admin's accept on the other server is refused."""
    peering = _request_peering(stack, "credit", "acme-dev", "dev-apps", "globex-core")
    _inject("accept", "applied_then_500")

    first = _api(stack, "carol", server=0)(
        "POST", f"peerings/{peering['id']}/accept/", json={"reason": "first"}
    )
    second = _api(stack, "admin", server=1)(
        "POST", f"peerings/{peering['id']}/accept/", json={"reason": "second"}
    )

    assert first.status_code == 200, first.text
    assert (first.json()["decided_by"], first.json()["decision_reason"]) == ("carol", "first")
    assert second.status_code == 409
    [(actor, reason)] = _sql(
        "SELECT u.username, c.reason FROM peerings_statuschange c JOIN auth_user u ON u.id = c.actor_id "
        "WHERE c.peering_id = %s AND c.new_status = 'ACTIVE'",
        (peering["id"],),
    )
    assert (actor, reason) == ("carol", "first")


def test_a_create_the_cloud_failed_is_kept_and_a_retry_on_the_other_server_finds_it(stack: Stack):
    """Defect 4: a 503 names the SUBMITTING peering; the same Idempotency-Key on server 1 answers with it."""
    _inject("create", "503")
    body = _body(stack, "kept", "acme-prod", "prod-web", "globex-lab")
    key = {"Idempotency-Key": uuid.uuid4().hex}

    down = _api(stack, "alice", server=0)("POST", "peerings/", json=body, headers=key)
    assert down.status_code == 503, down.text
    kept = down.json()["error"]["peering"]
    assert (kept["status"], "saved as SUBMITTING" in down.json()["error"]["message"]) == ("SUBMITTING", True)

    retry = _api(stack, "alice", server=1)
    answers: list[int] = []

    def completed() -> bool:  # by the worker's periodic sync; until then 202, the same peering
        again = retry("POST", "peerings/", json=body, headers=key)
        answers.append(again.status_code)
        if again.status_code not in (201, 202) or again.json()["id"] != kept["id"]:
            pytest.fail(f"the retry answered another peering or an error: {again.text}")
        return again.status_code == 201

    wait_for(completed, timeout=SYNC_TIMEOUT, interval=0.5, what=lambda: f"a 201 for the retry: {answers}")
    assert len(_sim_peerings("kept")) == 1


def test_an_answer_with_a_nul_byte_is_recorded_and_never_a_500(stack: Stack):
    """Defect 3: the cloud's answer to a refresh holds NUL bytes: a 503, the call kept in the history."""
    peering = _request_peering(stack, "nul-answer", "acme-dev", "dev-tools", "globex-lab")
    _inject("show", "nul_bytes")

    response = _api(stack, "alice", server=1)("POST", f"peerings/{peering['id']}/refresh/")

    assert response.status_code == 503, response.text
    assert response.json()["error"]["cloud"]["code"] == "InvalidResponse"
    [(status_code, error_code)] = _sql(
        "SELECT status_code, error_code FROM peerings_upstreamcall "
        "WHERE peering_id = %s AND operation = 'show'",
        (peering["id"],),
    )
    assert (status_code, error_code) == (200, "InvalidResponse")


def test_one_export_per_user_across_app_servers(stack: Stack):
    """A user's export streaming from one server holds their slot: an export on the other server is
    refused at once (429), the servers stay healthy, and the slot returns when the first ends."""
    import psycopg

    with psycopg.connect(**_pg_params(DATABASE)) as conn:  # enough rows to outgrow the socket buffers
        conn.execute(
            "INSERT INTO peerings_upstreamcall (created_at, tenant_id, operation, method, url, "
            "status_code, response_body, error_code, error_message, duration_ms, attempts, correlation_id, "
            "cloud_request_id, outcome) SELECT now() - make_interval(secs => g), t.id, 'list_routes', 'GET', "
            "'http://cloud/v2.0/vpc/routes', 200, jsonb_build_object('pad', repeat('x', 4000)), '', '', "
            "1, 1, md5(g::text), '', 'recorded' FROM generate_series(1, 30000) g, peerings_tenant t "
            "WHERE t.name = 'Acme Production'"
        )
    alice = {"Authorization": f"Token {stack.token('alice')}"}
    path = "/api/v1/calls/export/?format=jsonl"
    with requests.get(f"{stack.servers[0]}{path}", headers=alice, stream=True, timeout=60) as first:
        assert first.status_code == 200
        chunks = first.iter_content(64 * 1024)  # kept: a dropped iterator closes the connection
        assert next(chunks)  # then stops reading: server 0's thread waits on it
        started = time.monotonic()
        second = requests.get(f"{stack.servers[1]}{path}", headers=alice, timeout=60)
        assert second.status_code == 429, second.text
        assert second.json()["error"]["code"] == "export_in_progress"
        assert 1 <= int(second.headers["Retry-After"]) <= 10
        assert time.monotonic() - started < 10  # refused, not queued behind the first
        assert requests.get(f"{stack.servers[1]}/healthz/", timeout=10).status_code == 200
        carol = {"Authorization": f"Token {stack.token('carol')}"}
        other_user = requests.get(f"{stack.servers[1]}{path}", headers=carol, timeout=60)
        assert other_user.status_code == 200
    # Closing the first ends it on server 0, which gives the slot back.
    statuses: list[int] = []

    def slot_back() -> requests.Response | None:
        with requests.get(f"{stack.servers[1]}{path}", headers=alice, stream=True, timeout=60) as again:
            statuses.append(again.status_code)
            return again if again.status_code == 200 else None

    again = wait_for(slot_back, timeout=30, interval=0.2, what="the slot came back")
    assert set(statuses[:-1]) <= {429}, statuses
    assert again.headers["X-Export-Row-Limit"] == "100000"
