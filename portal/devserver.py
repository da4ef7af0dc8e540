"""Django's development server, with Nagle's algorithm off.

The WSGI handler writes a response's headers and body in separate sends; with
Nagle on, the second waits for the client's delayed ACK, which adds about 40 ms
to every loopback call (and the portal calls the embedded simulator over HTTP).
Used by ``runserver`` (the demo app's override), the test suite's live server
and the benchmarks.
"""

import socket

from django.core.servers.basehttp import ThreadedWSGIServer, WSGIServer
from django.db import connections

__all__ = ["NoDelayMixin", "NoDelayWSGIServer", "NoDelayWSGIServerBase"]


class NoDelayMixin:
    def get_request(self) -> tuple[socket.socket, object]:
        sock, addr = super().get_request()
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return sock, addr


class NoDelayWSGIServerBase(NoDelayMixin, WSGIServer):
    """For ``runserver``, which adds its own threading mix-in."""


class NoDelayWSGIServer(NoDelayMixin, ThreadedWSGIServer):
    """Threaded, for the live test server and the benchmarks."""

    def _close_connections(self) -> None:
        # A connection handed over by the test thread (in-memory SQLite) is not this
        # thread's to close: closing it is a no-op anyway, but once the live server has
        # stopped sharing it, a late keep-alive thread would raise while trying.
        shared = set((self.connections_override or {}).values())
        for conn in connections.all(initialized_only=True):
            if conn not in shared:
                conn.close()
