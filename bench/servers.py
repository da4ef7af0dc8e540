"""Servers the benchmark starts on 127.0.0.1 (free ports), and stops when it ends."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent

__all__ = ["gunicorn", "moto_server"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def _process(argv: list[str], url: str, probe: str, env: dict[str, str] | None = None):
    proc = subprocess.Popen(
        argv, cwd=ROOT, env={**os.environ, **(env or {})}, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                requests.get(url + probe, timeout=2)
                break
            except requests.ConnectionError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(
                        f"{argv[0]} did not start: {proc.stderr.read().decode()[-2000:]}"
                    ) from None
                time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def gunicorn(module: str, *, workers: int, threads: int, env: dict[str, str] | None = None):
    """``gunicorn <module>`` with the project's gunicorn.conf.py (gthread workers)."""
    port = _free_port()
    gunicorn_env = {
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "WEB_CONCURRENCY": str(workers),
        "GUNICORN_THREADS": str(threads),
        "GUNICORN_LOG_LEVEL": "warning",
        **(env or {}),
    }
    return _process([str(BIN / "gunicorn"), module], f"http://127.0.0.1:{port}", "/healthz/", gunicorn_env)


def moto_server():
    port = _free_port()
    argv = [str(BIN / "moto_server"), "-H", "127.0.0.1", "-p", str(port)]
    return _process(argv, f"http://127.0.0.1:{port}", "/moto-api/")
