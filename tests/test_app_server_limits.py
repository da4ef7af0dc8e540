"""An oversized body under the real servers: ``runserver`` (wsgiref, ``make run``) and gunicorn.

Each server is started here as a process of its own on a spare loopback port. A 3 MB JSON body
to ``POST /api/v1/peerings/`` must answer 413 in the API's error shape; the application sets no
hop-by-hop header (wsgiref turns one into a 500): whether to close the connection, with an
unread body on it, is the server's call.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.waiting import wait_for

ROOT = Path(__file__).resolve().parents[1]
START_TIMEOUT = 60.0  # seconds for a server to answer /healthz/
BODY_SIZE = 3 * 1024 * 1024


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_until_up(process: subprocess.Popen, port: int) -> None:
    def answers() -> bool:
        if process.poll() is not None:
            output = process.stdout.read().decode(errors="replace") if process.stdout else ""
            pytest.fail(f"the server exited with {process.returncode}:\n{output[-4000:]}")
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
        try:
            conn.request("GET", "/healthz/")  # refused: not listening yet
            return conn.getresponse().status == 200
        finally:
            conn.close()

    wait_for(answers, timeout=START_TIMEOUT, interval=0.1, what=f"an answer on port {port}")


def _command(server: str, port: int) -> list[str]:
    if server == "runserver":
        return [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload", "--skip-checks"]
    return [sys.executable, "-m", "gunicorn", "portal.wsgi", "-c", "gunicorn.conf.py"]


@pytest.fixture(params=["runserver", "gunicorn"])
def server(request, tmp_path) -> Iterator[tuple[str, int]]:
    """A freshly started server of each kind, configured as ``make run`` does: (kind, port)."""
    port = _free_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "portal.settings",
        "DJANGO_DEBUG": "1",
        "VPC_SIMULATOR_ENABLED": "true",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "WEB_CONCURRENCY": "1",
        "GUNICORN_THREADS": "2",
        "PYTHONUNBUFFERED": "1",
    }
    for name in ("REDIS_URL", "CACHE_URL", "CELERY_BROKER_URL"):
        env.pop(name, None)
    process = subprocess.Popen(
        _command(request.param, port),
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        _wait_until_up(process, port)
        yield request.param, port
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=15)
        if process.stdout:
            process.stdout.close()


def _request_head(method: str, path: str, port: int, headers: dict[str, str]) -> bytes:
    lines = [
        f"{method} {path} HTTP/1.1",
        f"Host: 127.0.0.1:{port}",
        *(f"{k}: {v}" for k, v in headers.items()),
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def _send_in_background(sock: socket.socket, data: bytes) -> threading.Thread:
    """Write ``data`` while the caller reads: a server may answer (and close) before it reads a body."""

    def send() -> None:
        with contextlib.suppress(OSError):  # the server closed without reading it all: its right
            sock.sendall(data)

    thread = threading.Thread(target=send, daemon=True)
    thread.start()
    return thread


def test_a_3_mb_body_is_413_and_the_server_serves_the_next_request(server):
    _, port = server
    body = json.dumps({"name": "big", "description": "x" * BODY_SIZE}).encode()
    head = _request_head(
        "POST",
        "/api/v1/peerings/",
        port,
        {"Content-Type": "application/json", "Content-Length": str(len(body)), "Authorization": "Token x"},
    )
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(head)
        writer = _send_in_background(sock, body)
        response = http.client.HTTPResponse(sock)
        response.begin()
        payload = json.loads(response.read())

        assert response.status == 413, payload
        assert payload["error"]["code"] == "request_too_large"
        writer.join(timeout=30)
        assert not writer.is_alive()
    # Each server closes that connection itself (Django's runserver: no Content-Length on the answer;
    # gunicorn: more body than it drains); the server carries on.
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", "/healthz/")
        assert conn.getresponse().status == 200
    finally:
        conn.close()


def test_the_413_sets_no_hop_by_hop_header(rf, settings):
    from wsgiref.util import is_hop_by_hop

    from portal.middleware import too_large_response

    for path in ("/api/v1/peerings/", "/peerings/new/"):
        response = too_large_response(rf.post(path))

        assert response.status_code == 413
        assert not [name for name in response.headers if is_hop_by_hop(name)]
