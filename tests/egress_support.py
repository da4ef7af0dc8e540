"""Support of the egress tests: real loopback listeners that record what reached them, fake DNS.

A :class:`Listener` is a small HTTP server on a loopback address; its ``requests`` prove whether
anything arrived. ``127.0.0.2`` is loopback too (Linux answers the whole 127/8) but not in the
suite's allow-list, so a listener there stands for an internal service the policy must protect.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

#: A body no stored row or page may ever contain.
SECRET_BODY = "internal-answer-7f3a9c: AK=AKINTERNAL00000000001"


class Listener:
    """An HTTP server on ``host`` recording each request; answers ``status`` (with ``location``)."""

    def __init__(self, host: str = "127.0.0.1", *, status: int = 200, location: str = "") -> None:
        self.requests: list[dict[str, Any]] = []
        listener = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                listener.requests.append(
                    {"method": self.command, "path": self.path, "headers": dict(self.headers), "body": body}
                )
                answer = SECRET_BODY.encode()
                self.send_response(status)
                if location:
                    self.send_header("Location", location)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            do_GET = do_POST = do_PUT = do_DELETE = _answer

        self.server = ThreadingHTTPServer((host, 0), Handler)
        self.port = self.server.server_address[1]
        self.url = f"http://{host}:{self.port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class SilentListener:
    """A port that accepts connections (the kernel's backlog) and never answers."""

    def __init__(self) -> None:
        self.socket = socket.socket()
        self.socket.bind(("127.0.0.1", 0))
        self.socket.listen(8)
        self.url = f"http://127.0.0.1:{self.socket.getsockname()[1]}"

    def close(self) -> None:
        self.socket.close()


def fake_dns(answers: dict[str, list[str] | Callable[[], list[str]]]) -> Callable[..., list[tuple]]:
    """A stand-in for :func:`ops.egress._lookup`: ``answers`` maps names to addresses (or a callable
    giving them at each lookup, to move a record between two lookups); other names do not resolve."""

    def lookup(host: str, port: int) -> list[tuple]:
        found = answers.get(host)
        if found is None:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        addresses = found() if callable(found) else found
        return [
            (socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port))
            for a in addresses
        ]

    return lookup
