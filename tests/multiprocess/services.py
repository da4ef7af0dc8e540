"""Processes for the platform-failure tests: app servers, and a Redis or a PostgreSQL of their own.

A test that kills a service starts its own instance on a spare port (``redis-server``; ``initdb``
and ``pg_ctl`` into a temporary folder, as the ``postgres`` user when running as root) and kills
that one, never the shared services. Every process is stopped when its test module ends; every
wait is on a condition, bounded.
"""

from __future__ import annotations

import glob
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tests.waiting import wait_for

ROOT = Path(__file__).resolve().parents[2]
READYZ_TOKEN = "readyz-multiprocess-token-0123456789"
METRICS_TOKEN = "metrics-multiprocess-token-0123456789"
PYTHON = sys.executable


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Processes:
    """Named subprocesses, each in its own process group, with its output in a log file."""

    logs_dir: Path
    running: dict[str, subprocess.Popen] = field(default_factory=dict)

    def start(self, name: str, argv: list[str], env: dict[str, str]) -> subprocess.Popen:
        log = open(self.logs_dir / f"{name}.log", "wb")  # noqa: SIM115 - closed once handed over
        process = subprocess.Popen(
            argv, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        log.close()
        self.running[name] = process
        return process

    def log(self, name: str) -> str:
        return (self.logs_dir / f"{name}.log").read_text(errors="replace")

    def logs(self, tail: int = 30) -> str:
        return "\n".join(
            f"--- {name}\n" + "\n".join(self.log(name).splitlines()[-tail:]) for name in self.running
        )

    def kill(self, name: str, sig: int = signal.SIGKILL) -> None:
        process = self.running[name]
        if process.poll() is None:
            os.killpg(process.pid, sig)
        process.wait(timeout=30)

    def stop(self) -> None:
        for process in self.running.values():
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + 20
        for process in self.running.values():
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)


def manage(env: dict[str, str], *args: str, timeout: float = 300) -> str:
    result = subprocess.run(
        [PYTHON, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout
    )
    assert result.returncode == 0, f"manage.py {' '.join(args)}:\n{result.stdout}\n{result.stderr}"
    return result.stdout


@contextmanager
def stub_cloud() -> Iterator[str]:
    """An HTTP endpoint that answers anything (for /readyz/'s reachability probe of the cloud)."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def redis_server(processes: Processes, name: str = "redis") -> int:
    """A Redis of the test's own on a spare port (no persistence); returns its port."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server is not installed")
    port = free_port()
    processes.start(
        name,
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        dict(os.environ),
    )
    import redis

    wait_for(lambda: redis.Redis(port=port, socket_connect_timeout=1).ping(), timeout=30, what="redis up")
    return port


def _pg_bin(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), key=lambda p: int(p.split("/")[4]))
    return candidates[-1] if candidates else None


class PostgresCluster:
    """A throwaway PostgreSQL cluster in a temporary folder, on a spare port, trusted on loopback."""

    def __init__(self) -> None:
        self.initdb, self.pg_ctl = _pg_bin("initdb"), _pg_bin("pg_ctl")
        if not (self.initdb and self.pg_ctl):
            pytest.skip("initdb/pg_ctl are not installed")
        self.port = free_port()
        self.folder = Path(tempfile.mkdtemp(prefix="portal-pg-"))
        self.data = self.folder / "data"
        self.as_postgres: list[str] = []
        if os.geteuid() == 0:  # PostgreSQL refuses to run as root
            self.as_postgres = ["runuser", "-u", "postgres", "--"]
            shutil.chown(self.folder, "postgres", "postgres")
        os.chmod(self.folder, 0o700)

    def _run(self, *argv: str) -> None:
        result = subprocess.run(
            [*self.as_postgres, *argv], capture_output=True, text=True, timeout=120, cwd=self.folder
        )
        assert result.returncode == 0, f"{argv}:\n{result.stdout}\n{result.stderr}"

    def create(self) -> None:
        self._run(
            self.initdb, "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"
        )
        self.start()

    def start(self) -> None:
        options = f"-p {self.port} -h 127.0.0.1 -k {self.folder} -c fsync=off"
        self._run(
            self.pg_ctl, "-D", str(self.data), "-o", options, "-l", str(self.folder / "log"), "-w", "start"
        )

    def stop(self, mode: str = "immediate") -> None:
        self._run(self.pg_ctl, "-D", str(self.data), "-m", mode, "-w", "stop")

    def url(self, dbname: str) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{dbname}"

    def create_database(self, dbname: str) -> None:
        import psycopg

        with psycopg.connect(
            host="127.0.0.1", port=self.port, user="postgres", dbname="postgres", autocommit=True
        ) as c:
            c.execute(f'CREATE DATABASE "{dbname}"')

    def destroy(self) -> None:
        if (self.data / "postmaster.pid").exists():
            subprocess.run(
                [*self.as_postgres, self.pg_ctl, "-D", str(self.data), "-m", "immediate", "stop"],
                capture_output=True,
                timeout=60,
                check=False,
            )
        shutil.rmtree(self.folder, ignore_errors=True)


# --- The portal, the production way -----------------------------------------------------------


def portal_env(tmp: Path, cloud: str, **extra: str) -> dict[str, str]:
    """The production settings for an app server in ``tmp`` (a SQLite file unless ``extra`` says)."""
    return {
        "PATH": os.environ.get("PATH", ""),
        "HOME": os.environ.get("HOME", str(tmp)),
        "LANG": "C.UTF-8",
        "DJANGO_SETTINGS_MODULE": "portal.settings",
        "DJANGO_SECRET_KEY": "platform-failures-test-secret-key-" + "x" * 40,
        "PORTAL_ENCRYPTION_KEYS": "dGVzdC1vbmx5LWZpZWxkLWVuY3J5cHRpb24ta2V5LTE=",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DJANGO_SECURE_SSL_REDIRECT": "false",
        "DJANGO_SESSION_COOKIE_SECURE": "false",
        "DJANGO_CSRF_COOKIE_SECURE": "false",
        "DATABASE_URL": f"sqlite:///{tmp / 'portal.sqlite3'}",
        "DJANGO_STATIC_ROOT": str(tmp / "static"),
        "VPC_API_ENDPOINT": cloud,
        "PORTAL_BASE_URL": "http://127.0.0.1",
        "VPC_SIMULATOR_ENABLED": "false",
        "LOG_FORMAT": "json",
        "WEB_CONCURRENCY": "2",
        "GUNICORN_THREADS": "2",
        "READYZ_TOKEN": READYZ_TOKEN,
        "METRICS_TOKEN": METRICS_TOKEN,
        **extra,
    }


def api_user(env: dict[str, str], username: str = "reader", password: str | None = None) -> str:
    """A user (with ``password``, if given) and an API key of theirs, made with the portal's commands."""
    manage(
        env,
        "shell",
        "-c",
        "from django.contrib.auth import get_user_model; "
        f"get_user_model().objects.create_user({username!r}, password={password!r})",
    )
    return manage(env, "create_api_token", username, "--name", "platform test").strip()


def bin_release(env: dict[str, str]) -> None:
    """The deploy's release step: migrations, the cache table, the static files."""
    result = subprocess.run(
        ["bin/release"], cwd=ROOT, env={**env, "PYTHON": PYTHON}, capture_output=True, text=True, timeout=600
    )
    assert result.returncode == 0, f"bin/release:\n{result.stdout}\n{result.stderr}"
