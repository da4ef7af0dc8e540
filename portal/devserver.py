"""Django's threaded development server, with Nagle's algorithm off.

The WSGI handler writes a response's headers and body in separate sends; with
Nagle on, the second waits for the client's delayed ACK, which adds about 40 ms
to every loopback call (and the portal calls the embedded simulator over HTTP).
Used by the test suite's live server and by the benchmarks.
"""

import socket

from django.core.servers.basehttp import ThreadedWSGIServer

__all__ = ["NoDelayWSGIServer"]


class NoDelayWSGIServer(ThreadedWSGIServer):
    def get_request(self) -> tuple[socket.socket, object]:
        sock, addr = super().get_request()
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return sock, addr
