"""Fixtures shared by the whole suite.

The simulated cloud (built with the factories over ``vpcsim.provision``):

* account ``acme``: project ``acme-prod`` with VPCs ``prod-web`` 10.1.0.0/16 and ``prod-db``
  10.2.0.0/16; project ``acme-dev`` with VPC ``dev-app`` 10.10.0.0/16;
* account ``globex``: project ``globex-main`` with VPC ``globex-app`` 10.20.0.0/16.

Each project has a portal tenant of the same name holding its account's keys
(``acme_prod``, ``acme_dev``, ``globex_main``), and users: ``acme_member`` and
``acme_approver`` (acme-prod), ``globex_member`` and ``globex_approver`` (globex-main),
``outsider`` (no tenant). Tenants reach the cloud through ``settings.VPC_API_ENDPOINT``,
which the ``cloud`` fixture points at the live server (the simulator is mounted at its root).
"""

from __future__ import annotations

import http.client
import socket
import threading
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.test.testcases import LiveServerThread
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import ApiToken
from peerings import cloud as cloud_client
from peerings.choices import Role
from peerings.models import Peering, Tenant
from peerings.workflow import peering_request
from portal.devserver import NoDelayWSGIServer
from tests.egress_support import Listener
from tests.factories import (
    MembershipFactory,
    SimAccountFactory,
    SimProjectFactory,
    SimTenantFactory,
    SimVpcFactory,
    UserFactory,
)
from vpcsim.models import Account, Vpc

# Without TCP_NODELAY every call to the live simulator waits ~40 ms on a delayed ACK.
LiveServerThread.server_class = NoDelayWSGIServer


@pytest.fixture(scope="session")
def _drained_live_server(live_server):
    """The live server, whose request threads are ended before it stops.

    The cloud client's pooled keep-alive connections hold live-server threads open; one
    still running when the server stops at the end of the session prints a (harmless)
    database thread-sharing error. Closing the pool ends them.
    """
    yield live_server
    cloud_client.get_session().close()
    cloud_client.set_session(None)
    for thread in threading.enumerate():
        if thread.name.endswith("(process_request_thread)"):
            thread.join(timeout=5)


@pytest.fixture
def cloud(_drained_live_server, live_server, settings):
    """The simulator served over HTTP by the live server; tenants without an endpoint use it."""
    settings.VPC_API_ENDPOINT = live_server.url
    return live_server


# --- The simulated cloud and its portal tenants -------------------------------------------------


def _sim_tenant(account: Account, project: str, vpcs: dict[str, str]) -> Tenant:
    sim_project = SimProjectFactory(account=account, name=project)
    for name, cidr in vpcs.items():
        SimVpcFactory(project=sim_project, name=name, cidr=cidr)
    return SimTenantFactory(project=sim_project)


@pytest.fixture
def acme(db) -> Account:
    return SimAccountFactory(name="acme")


@pytest.fixture
def globex(db) -> Account:
    return SimAccountFactory(name="globex")


@pytest.fixture
def acme_prod(acme) -> Tenant:
    return _sim_tenant(acme, "acme-prod", {"prod-web": "10.1.0.0/16", "prod-db": "10.2.0.0/16"})


@pytest.fixture
def acme_dev(acme) -> Tenant:
    return _sim_tenant(acme, "acme-dev", {"dev-app": "10.10.0.0/16"})


@pytest.fixture
def globex_main(globex) -> Tenant:
    return _sim_tenant(globex, "globex-main", {"globex-app": "10.20.0.0/16"})


def _vpc(name: str) -> Vpc:
    return Vpc.objects.get(name=name)


@pytest.fixture
def prod_web(acme_prod) -> Vpc:
    return _vpc("prod-web")


@pytest.fixture
def prod_db(acme_prod) -> Vpc:
    return _vpc("prod-db")


@pytest.fixture
def dev_app(acme_dev) -> Vpc:
    return _vpc("dev-app")


@pytest.fixture
def globex_app(globex_main) -> Vpc:
    return _vpc("globex-app")


# --- Users ------------------------------------------------------------------------------------------


@pytest.fixture
def acme_member(acme_prod):
    return MembershipFactory(user__username="alice", tenant=acme_prod, role=Role.MEMBER).user


@pytest.fixture
def acme_approver(acme_prod):
    return MembershipFactory(user__username="anna", tenant=acme_prod, role=Role.APPROVER).user


@pytest.fixture
def globex_member(globex_main):
    return MembershipFactory(user__username="gary", tenant=globex_main, role=Role.MEMBER).user


@pytest.fixture
def globex_approver(globex_main):
    return MembershipFactory(user__username="grace", tenant=globex_main, role=Role.APPROVER).user


@pytest.fixture
def outsider(db):
    return UserFactory(username="oscar")


@pytest.fixture
def no_cloud_calls(settings) -> None:
    """Fail the test if the portal builds a client to call the cloud: every call it makes goes
    through the one injected factory (``settings.VPC_CLIENT_FACTORY``, :mod:`peerings.operations`)."""

    def factory(tenant, **kwargs):
        pytest.fail(f"the cloud was called with {tenant.name}'s keys")

    settings.VPC_CLIENT_FACTORY = factory


# --- Failures the simulator cannot produce ----------------------------------------------------------


@pytest.fixture
def closed_port() -> int:
    """A loopback port nothing listens on (connections are refused)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class CloudProxy:
    """A loopback HTTP proxy in front of the simulator that can misbehave per HTTP method.

    ``modes`` maps ``"METHOD /path"`` (path without query) or just ``"METHOD"`` to one of
    ``pass`` (relay, the default), ``forward-then-drop`` (the cloud carries the call out, the
    caller gets no answer), ``drop`` (no answer, nothing forwarded), ``503``,
    ``forward-then-503`` (carried out, then a 503), ``delay`` (relayed after ``delay``
    seconds: a request still on its way) or ``nul`` (the answer's names and descriptions get a
    NUL character, ``\u0000`` in the JSON). A key also in ``once`` misbehaves for its next
    request only. Requests are relayed byte for byte, signed headers (``Host`` included) intact.
    """

    def __init__(self, upstream: str) -> None:
        self.upstream = urlsplit(upstream)
        self.modes: dict[str, str] = {}
        self.once: set[str] = set()
        self.seen: list[tuple[str, str, str]] = []  # (method, path, mode)
        self.delay = 1.0
        self.lock = threading.Lock()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.0"

            def log_message(self, *args) -> None:
                pass

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                route = f"{self.command} {self.path.split('?')[0]}"
                with proxy.lock:
                    key = route if route in proxy.modes else self.command
                    mode = proxy.modes.get(key, "pass")
                    if key in proxy.once:
                        proxy.once.discard(key)
                        proxy.modes.pop(key, None)
                    proxy.seen.append((self.command, self.path, mode))
                self.close_connection = True
                if mode == "delay":
                    time.sleep(proxy.delay)  # the behaviour asked for: an answer still on its way
                if mode in ("503", "forward-then-503"):
                    if mode == "forward-then-503":
                        proxy.forward(self.command, self.path, self.headers.items(), body)
                    payload = b'{"code": "VPC.0500", "message": "Service unavailable"}'
                    self.send_response(503)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                    return
                if mode == "drop":
                    return
                status, headers, answer = proxy.forward(self.command, self.path, self.headers.items(), body)
                if mode == "forward-then-drop":
                    return
                if mode == "nul":
                    for key in (b'"name": "', b'"description": "', b'"name":"', b'"description":"'):
                        answer = answer.replace(key, key + b"\\u0000")
                    headers = [
                        (k, str(len(answer)) if k.lower() == "content-length" else v) for k, v in headers
                    ]
                self.send_response(status)
                for name, value in headers:
                    if name.lower() not in {"connection", "transfer-encoding", "date", "server"}:
                        self.send_header(name, value)
                self.end_headers()
                self.wfile.write(answer)

            do_GET = do_POST = do_PUT = do_DELETE = _handle

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def forward(self, method: str, path: str, headers, body: bytes):
        conn = http.client.HTTPConnection(self.upstream.hostname, self.upstream.port, timeout=30)
        try:
            conn.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
            for name, value in headers:
                conn.putheader(name, value)
            conn.endheaders(body or None)
            response = conn.getresponse()
            return response.status, response.getheaders(), response.read()
        finally:
            conn.close()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def cloud_proxy(cloud) -> Iterator[CloudProxy]:
    """A :class:`CloudProxy` in front of the live simulator; point a tenant's endpoint at ``.url``."""
    proxy = CloudProxy(cloud.url)
    yield proxy
    proxy.close()


@pytest.fixture
def expire_leases(db) -> Callable[[], int]:
    """``expire_leases()``: every peering's in-flight lease runs out, as if its time had passed."""

    def expire() -> int:
        return Peering.objects.exclude(inflight_token="").update(
            inflight_until=timezone.now() - timedelta(seconds=1)
        )

    return expire


# --- Peerings made through the workflow against the live simulator -------------------------------------


@pytest.fixture
def request_to_globex(
    cloud, acme_prod, globex_main, acme_member, prod_web, globex_app
) -> Callable[..., Peering]:
    """``request_to_globex(name=..., **options)``: alice requests prod-web -> globex-app (cross account)."""

    def request(name: str = "web-to-globex", **options) -> Peering:
        return peering_request(
            tenant=acme_prod,
            acting_user=acme_member,
            name=name,
            request_vpc_id=prod_web.vpc_id,
            accept_vpc_id=globex_app.vpc_id,
            accept_project_id=globex_main.project_id,
            **options,
        )

    return request


@pytest.fixture
def pending(request_to_globex) -> Peering:
    """acme-prod's prod-web -> globex-main's globex-app: cross account, pending acceptance."""
    return request_to_globex(description="web to globex")


@pytest.fixture
def active(cloud, acme_prod, acme_member, prod_web, prod_db) -> Peering:
    """prod-web -> prod-db, both acme-prod's: active at once."""
    return peering_request(
        tenant=acme_prod,
        acting_user=acme_member,
        name="web-to-db",
        request_vpc_id=prod_web.vpc_id,
        accept_vpc_id=prod_db.vpc_id,
    )


@pytest.fixture
def sim_faults(db, settings):
    """The simulator's fault injection (:mod:`vpcsim.faults`), cleared before and after the test.

    ``sim_faults.inject("accept", kind="applied_then_500", times=1)``; the rules live in the
    simulator's tables, so the live server sees them. Rate draws are seeded (0) for repeatability.
    """
    from vpcsim import faults

    settings.VPCSIM_FAULTS = ""
    faults.clear()
    faults.seed(0)
    yield faults
    faults.clear()
    faults.seed(None)


# --- The caller of a test: ``me`` and ``home`` (no cloud) ----------------------------------------------


@pytest.fixture
def me(db):
    """The caller of a test: a user with no tenant yet (``home`` gives them one)."""
    return UserFactory(username="me")


@pytest.fixture
def home(me) -> Tenant:
    """``me``'s tenant, where they are an approver."""
    return MembershipFactory(user=me, role=Role.APPROVER, tenant__name="home").tenant


# --- REST API clients -------------------------------------------------------------------------------


@pytest.fixture
def anon() -> APIClient:
    return APIClient()


@pytest.fixture
def client_for(db) -> Callable[..., APIClient]:
    """``client_for(user)``: an API client sending ``Authorization: Token <a new key of user's>``."""

    def make(user) -> APIClient:
        _, key = ApiToken.objects.create_token(user, name="tests")
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
        client.user = user
        return client

    return make


@pytest.fixture
def acme_api(client_for, acme_member) -> APIClient:
    """alice, a member of acme-prod."""
    return client_for(acme_member)


@pytest.fixture
def acme_approver_api(client_for, acme_approver) -> APIClient:
    """anna, an approver of acme-prod."""
    return client_for(acme_approver)


@pytest.fixture
def globex_api(client_for, globex_member) -> APIClient:
    """gary, a member of globex-main."""
    return client_for(globex_member)


@pytest.fixture
def globex_approver_api(client_for, globex_approver) -> APIClient:
    """grace, an approver of globex-main."""
    return client_for(globex_approver)


@pytest.fixture
def accepted(request_to_globex, globex_approver) -> Peering:
    """alice's prod-web (10.1.0.0/16) -> globex-app (10.20.0.0/16), accepted by grace: ACTIVE."""
    from peerings.workflow import peering_accept

    return peering_accept(peering=request_to_globex(), acting_user=globex_approver, reason="ok")


# --- The egress policy (ops/egress.py) -----------------------------------------------------------


@pytest.fixture
def egress_on(settings) -> None:
    """The egress policy bare: no network nor name allowed (the suite's settings allow its simulator)."""
    settings.EGRESS_ALLOWED_NETWORKS = []
    settings.EGRESS_ALLOWED_HOSTS = []


@pytest.fixture
def listeners() -> Iterator[Callable[..., Listener]]:
    """``listeners(host="127.0.0.1", status=200, location="")``: loopback HTTP servers, closed after."""
    made: list[Listener] = []

    def make(host: str = "127.0.0.1", **options) -> Listener:
        made.append(Listener(host, **options))
        return made[-1]

    yield make
    for listener in made:
        listener.close()


# --- Two tenants' people and a peering between them, as mirror rows (no cloud) -------------------------


@pytest.fixture
def acme_to_globex(db) -> Callable[..., Any]:
    """``acme_to_globex(**fields)``: alice (member of Acme) requested ``acme-web`` (10.1.0.0/16) → carol's
    Globex ``globex-core`` (172.16.0.0/16), active unless ``status`` says otherwise: a mirror row only.
    The tenants and users are made once per test; each call adds a peering."""
    from peerings.choices import PeeringStatus
    from tests.factories import PeeringFactory

    acme = MembershipFactory(user__username="alice", tenant__name="Acme").tenant
    globex = MembershipFactory(user__username="carol", tenant__name="Globex").tenant

    def make(**fields: Any) -> Any:
        values = {
            "name": "acme-to-globex",
            "status": PeeringStatus.ACTIVE,
            "requester_tenant": acme,
            "accepter_tenant": globex,
            "requester_vpc_name": "acme-web",
            "requester_vpc_cidr": "10.1.0.0/16",
            "accepter_vpc_name": "globex-core",
            "accepter_vpc_cidr": "172.16.0.0/16",
        }
        return PeeringFactory(**(values | fields))

    return make
