"""The portal's one factory of outgoing HTTP sessions, and the egress policy it enforces.

Every outbound call to an address someone typed (a webhook URL, a tenant's own endpoint or
region) goes through a *guarded* session: it refuses loopback, private, link-local, multicast,
reserved, unspecified and other non-global addresses unless the operator's allow-list
(``EGRESS_ALLOWED_NETWORKS``, ``EGRESS_ALLOWED_HOSTS``) names them. The check is made where the
socket is opened: the name is resolved once, every answer is checked, the connection goes to a
checked address (never to the name again, so DNS rebinding cannot move it), and the peer address
of the connected socket is checked once more. No session of this module follows a redirect, and a
guarded one ignores the environment's proxies (a proxy would resolve the name beyond the check).

:func:`check_url` is the same policy at input time (forms, admin), for a clear message early;
the connection-time check is the real guard.

Calls to endpoints the operator configured (``VPC_API_ENDPOINT``, the readiness probe) use
``session(trusted=True)``: the same factory, no address check.

No library was a fit: ``advocate`` is unmaintained; ``requests-hardened`` (maintained) allows
loopback or nothing, with no allow-list of networks or hosts; ``ssrfguard`` fits but is a young
0.x release whose API its author declares unstable. This module is small and tested instead.
"""

from __future__ import annotations

import ipaddress
import logging
import socket
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from http.cookiejar import DefaultCookiePolicy
from typing import Any
from urllib.parse import urlsplit

import requests
from django.conf import settings
from django.core.exceptions import ValidationError
from requests.adapters import HTTPAdapter
from requests.utils import select_proxy
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import ConnectTimeoutError, NameResolutionError, NewConnectionError
from urllib3.util.connection import allowed_gai_family, create_connection

__all__ = [
    "EgressPolicy",
    "EgressRefused",
    "check_url",
    "current_policy",
    "session",
    "validate_outbound_url",
]

logger = logging.getLogger("ops.egress")

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

#: Names that always mean "this machine" or a cloud's instance metadata service.
BLOCKED_NAMES = frozenset({"localhost", "metadata", "metadata.google.internal", "metadata.goog"})
#: Name suffixes reserved for local or internal use (RFC 6761, RFC 6762, RFC 8375, ICANN .internal).
BLOCKED_SUFFIXES = (".localhost", ".local", ".localdomain", ".internal", ".home.arpa")

#: Ranges refused besides what ``ipaddress`` calls private, loopback, link-local, multicast,
#: reserved or unspecified (older Pythons miss some of these; translation prefixes embed IPv4).
EXTRA_BLOCKED = tuple(
    ipaddress.ip_network(net)
    for net in (
        "0.0.0.0/8",  # "this network"
        "100.64.0.0/10",  # carrier-grade NAT, reaches internal workloads
        "192.0.0.0/24",  # IETF protocol assignments
        "192.88.99.0/24",  # 6to4 relay anycast
        "198.18.0.0/15",  # benchmarking
        "64:ff9b::/96",  # NAT64: embeds any IPv4 address
        "64:ff9b:1::/48",  # local-use NAT64
        "2001::/32",  # Teredo: embeds an IPv4 address
        "2002::/16",  # 6to4: embeds an IPv4 address
        "fc00::/7",  # unique local
        "fec0::/10",  # site-local (deprecated)
    )
)

#: What a refusal tells a user: no address, no port, nothing learnt about what listens there.
REFUSED_MESSAGE = "The address is not allowed by the portal's egress policy"


class EgressRefused(requests.ConnectionError):
    """An outgoing call the policy refused; nothing was sent to the refused address."""


class _Refused(Exception):
    """Raised inside urllib3 (not an ``OSError``, so it is not retried nor wrapped there)."""


@dataclass(frozen=True)
class EgressPolicy:
    """What a guarded session may connect to: global addresses, and what the operator allows.

    ``allowed_networks`` are CIDRs permitted even when not global (e.g. ``127.0.0.1/32`` for the
    demo simulator); ``allowed_hosts`` are names (``.example.com`` matches its subdomains)
    permitted whatever they resolve to.
    """

    allowed_networks: tuple[IPNetwork, ...] = ()
    allowed_hosts: frozenset[str] = field(default_factory=frozenset)

    @classmethod
    def build(cls, networks: Iterable[str] = (), hosts: Iterable[str] = ()) -> EgressPolicy:
        """A policy from setting-style strings; a malformed network raises ``ValueError``."""
        return cls(
            allowed_networks=tuple(
                ipaddress.ip_network(n.strip(), strict=False) for n in networks if n.strip()
            ),
            allowed_hosts=frozenset(h.strip().lower().rstrip(".") for h in hosts if h.strip()),
        )

    def host_allowed(self, host: str) -> bool:
        """Whether the operator allowed this name outright."""
        host = host.lower().rstrip(".")
        return any(
            host == entry or (entry.startswith(".") and host.endswith(entry)) for entry in self.allowed_hosts
        )

    def name_refusal(self, host: str) -> str | None:
        """Why a host *name* is refused before any lookup (``localhost``, metadata, ``.internal``)."""
        host = host.lower().rstrip(".")
        if self.host_allowed(host):
            return None
        if host in BLOCKED_NAMES or host.endswith(BLOCKED_SUFFIXES):
            return "a local or internal name"
        return None

    def address_refusal(self, address: str | IPAddress) -> str | None:
        """Why ``address`` is refused (its kind), or ``None`` when it may be connected to."""
        ip = ipaddress.ip_address(str(address).split("%", 1)[0])
        candidates = [ip]
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            candidates.append(ip.ipv4_mapped)
        if any(c in net for c in candidates for net in self.allowed_networks if c.version == net.version):
            return None
        ip = candidates[-1]
        for kind, flag in (
            ("unspecified", ip.is_unspecified),
            ("loopback", ip.is_loopback),
            ("link-local", ip.is_link_local),
            ("multicast", ip.is_multicast),
            ("private", ip.is_private),
            ("reserved", ip.is_reserved),
        ):
            if flag:
                return kind
        if any(ip in net for net in EXTRA_BLOCKED if net.version == ip.version) or not ip.is_global:
            return "not globally routable"
        return None

    def resolve(self, host: str, port: int) -> list[str]:
        """The addresses ``host`` may be connected to: one lookup, every answer checked.

        Raises :class:`_Refused` when the name, or any of its answers, is refused (a name that
        answers both a public and an internal address is a rebinding attempt, not a mistake);
        ``socket.gaierror`` when it does not resolve.
        """
        host = host.strip("[]")
        reason = self.name_refusal(host)
        if reason:
            raise _Refused(f"{REFUSED_MESSAGE} ({reason}).")
        addresses = list(dict.fromkeys(str(info[4][0]) for info in _lookup(host, port)))
        if self.host_allowed(host):
            return addresses
        for address in addresses:
            kind = self.address_refusal(address)
            if kind:
                logger.warning(
                    "egress refused: %s resolves to a %s address",
                    host,
                    kind,
                    extra={"egress_host": host, "egress_kind": kind},
                )
                raise _Refused(f"{REFUSED_MESSAGE} ({kind} address).")
        return addresses

    def check_peer(self, host: str, peer: str) -> None:
        """The address the socket actually connected to, checked once more."""
        if not self.host_allowed(host.strip("[]")):
            kind = self.address_refusal(peer)
            if kind:
                raise _Refused(f"{REFUSED_MESSAGE} ({kind} address).")


def _lookup(host: str, port: int) -> list[tuple[Any, ...]]:
    """``getaddrinfo`` as urllib3 calls it (tests replace this to fake a name's answers)."""
    return socket.getaddrinfo(host, port, allowed_gai_family(), socket.SOCK_STREAM)


_cached: tuple[tuple[tuple[str, ...], tuple[str, ...]], EgressPolicy] | None = None


def current_policy() -> EgressPolicy:
    """The policy of the settings ``EGRESS_ALLOWED_NETWORKS`` and ``EGRESS_ALLOWED_HOSTS``, read now."""
    global _cached
    key = (tuple(settings.EGRESS_ALLOWED_NETWORKS), tuple(settings.EGRESS_ALLOWED_HOSTS))
    if _cached is None or _cached[0] != key:
        _cached = (key, EgressPolicy.build(*key))
    return _cached[1]


def check_url(url: str, policy: EgressPolicy | None = None) -> None:
    """Input-time check of a URL to be called later; raises :class:`EgressRefused` with the reason.

    An http(s) URL with a host; a literal address or a name that resolves now must pass the
    policy. A name that does not resolve yet passes (the connection-time check still applies).
    """
    policy = policy or current_policy()
    try:
        parts = urlsplit(url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as exc:
        raise EgressRefused("The URL is not valid.") from exc
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise EgressRefused("Only http:// and https:// URLs with a host name are called.")
    try:
        policy.resolve(parts.hostname, port)
    except _Refused as exc:
        raise EgressRefused(str(exc)) from None
    except (OSError, UnicodeError):
        pass  # does not resolve (yet): the connection-time check decides


def validate_outbound_url(value: str) -> None:
    """A model or form validator: :func:`check_url` as a ``ValidationError`` (code ``egress``)."""
    if not value:
        return
    try:
        check_url(value)
    except EgressRefused as exc:
        raise ValidationError(
            f"This URL cannot be called: {exc} Ask the operator to allow it (EGRESS_ALLOWED_NETWORKS "
            "or EGRESS_ALLOWED_HOSTS) if it really is meant to be reached.",
            code="egress",
        ) from None


# --- The connection seam ----------------------------------------------------------------------


class _GuardedConnectionMixin:
    """Opens its socket to a checked address of the host, never to the name itself."""

    policy_source: Callable[[], EgressPolicy]
    host: str
    port: int
    timeout: Any
    source_address: Any
    socket_options: Any
    _dns_host: str

    def _new_conn(self) -> socket.socket:
        policy = self.policy_source()
        try:
            addresses = policy.resolve(self._dns_host, self.port)
        except socket.gaierror as exc:
            raise NameResolutionError(self.host, self, exc) from exc  # type: ignore[arg-type]
        error: OSError | None = None
        for address in addresses:
            try:
                sock = create_connection(
                    (address, self.port),
                    self.timeout,
                    source_address=self.source_address,
                    socket_options=self.socket_options,
                )
            except OSError as exc:
                error = exc
                continue
            try:
                policy.check_peer(self._dns_host, sock.getpeername()[0])
            except _Refused:
                sock.close()
                raise
            sys.audit("http.client.connect", self, self.host, self.port)
            return sock
        if isinstance(error, TimeoutError | socket.timeout):
            raise ConnectTimeoutError(self, f"Connection to {self.host} timed out.")  # type: ignore[arg-type]
        raise NewConnectionError(self, f"Failed to establish a new connection: {error}")  # type: ignore[arg-type]


def _pool_classes(policy_source: Callable[[], EgressPolicy]) -> dict[str, type]:
    """urllib3 pool classes whose connections check ``policy_source()`` on every connect."""
    attrs = {"policy_source": staticmethod(policy_source)}
    http_conn = type("GuardedHTTPConnection", (_GuardedConnectionMixin, HTTPConnection), attrs)
    https_conn = type("GuardedHTTPSConnection", (_GuardedConnectionMixin, HTTPSConnection), attrs)
    return {
        "http": type("GuardedHTTPConnectionPool", (HTTPConnectionPool,), {"ConnectionCls": http_conn}),
        "https": type("GuardedHTTPSConnectionPool", (HTTPSConnectionPool,), {"ConnectionCls": https_conn}),
    }


class GuardedAdapter(HTTPAdapter):
    """An adapter whose every new connection goes through the egress policy."""

    def __init__(self, policy_source: Callable[[], EgressPolicy], **kwargs: Any) -> None:
        self._policy_source = policy_source
        super().__init__(**kwargs)

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = _pool_classes(self._policy_source)

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        if select_proxy(request.url or "", kwargs.get("proxies") or {}):
            raise EgressRefused("A proxy would resolve the name beyond the egress policy.", request=request)
        try:
            return super().send(request, **kwargs)
        except _Refused as exc:
            raise EgressRefused(str(exc), request=request) from None


class _NoRedirectSession(requests.Session):
    """A session that never follows a redirect: a 3xx is an answer like any other."""

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        kwargs["allow_redirects"] = False
        return super().send(request, **kwargs)


def session(
    *,
    trusted: bool = False,
    policy: EgressPolicy | None = None,
    pool_connections: int = 4,
    pool_maxsize: int = 10,
) -> requests.Session:
    """A new outgoing HTTP session: no redirects followed, no cookies kept between calls.

    Guarded unless ``trusted`` (only for endpoints the operator configured): by ``policy``, or
    when ``None`` by the settings' policy read at each new connection (:func:`current_policy`).
    """
    http = _NoRedirectSession()
    if trusted:
        adapter: HTTPAdapter = HTTPAdapter(
            pool_connections=pool_connections, pool_maxsize=pool_maxsize, max_retries=0
        )
    else:
        source = (lambda: policy) if policy is not None else current_policy
        adapter = GuardedAdapter(
            source, pool_connections=pool_connections, pool_maxsize=pool_maxsize, max_retries=0
        )
        http.trust_env = False  # no proxy from the environment
    http.mount("https://", adapter)
    http.mount("http://", adapter)
    # Calls for different tenants and endpoints share sessions: never carry cookies between them.
    http.cookies.set_policy(DefaultCookiePolicy(allowed_domains=[]))
    return http
