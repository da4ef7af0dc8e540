"""Fixtures of the notification tests: the file e-mail backend and a loopback webhook receiver."""

from __future__ import annotations

import email
import email.policy
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest


class Mailbox:
    """The messages Django's file backend wrote into ``path``, parsed."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def messages(self) -> list[email.message.EmailMessage]:
        found = []
        for file in sorted(self.path.glob("*.log")):
            for chunk in file.read_text().split("-" * 79):
                if chunk.strip():
                    found.append(email.message_from_string(chunk.strip() + "\n", policy=email.policy.default))
        return found

    def to(self, address: str) -> list[email.message.EmailMessage]:
        return [m for m in self.messages() if address in m["To"]]

    @staticmethod
    def text(message) -> str:
        return message.get_body(preferencelist=("plain",)).get_content()

    @staticmethod
    def html(message) -> str:
        return message.get_body(preferencelist=("html",)).get_content()


@pytest.fixture
def mailbox(settings, tmp_path) -> Mailbox:
    settings.EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    settings.EMAIL_FILE_PATH = str(tmp_path / "mail")
    (tmp_path / "mail").mkdir()
    return Mailbox(tmp_path / "mail")


class Receiver:
    """A loopback HTTP server recording every POST; answers ``statuses`` in turn, then 200."""

    def __init__(self) -> None:
        self.requests: list[dict] = []
        self.statuses: list[int] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                receiver.requests.append({"path": self.path, "headers": dict(self.headers), "body": body})
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                answer = json.dumps({"received": status < 300}).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/portal"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def events(self) -> list[dict]:
        return [json.loads(r["body"]) for r in self.requests]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    server = Receiver()
    yield server
    server.close()
