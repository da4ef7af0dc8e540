"""The portal's VPC API client against a scripted loopback stub server.

The stub records the raw requests it gets and answers with scripted replies
(recorded/representative cloud bodies from ``tests/fixtures/cloud``), so each
test can check the wire format, the retries and the errors the client raises.
"""

from __future__ import annotations

import json
import logging
import os
import re
import threading
import time
from collections import deque
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qsl, unquote, urlsplit

import pytest
import requests
from huaweicloudsdkcore.auth.credentials import BasicCredentials
from huaweicloudsdkcore.sdk_request import SdkRequest
from huaweicloudsdkcore.signer.signer import Signer

import aksk
from peerings import cloud
from peerings.call_record import CallRecord
from peerings.cloud import Credentials, VpcApiClient, scrub
from peerings.exceptions import CloudError, CloudRefused, CloudUnavailable
from peerings.history import record_call
from peerings.models import UpstreamCall
from peerings.secrets import Secret
from peerings.upstream import tenant_client
from tests import aksk_vectors as vectors
from tests.aksk_vectors import ACCEPT_VPC, AK, CREATE_BODY, PROJECT_ID, REQUEST_VPC, SK
from tests.factories import TenantFactory

FIXTURES = Path(__file__).parents[1] / "fixtures" / "cloud"
PEERING_ID = "22b76469-08e3-4937-8c1d-7aad34892be1"


def fixture(name: str) -> dict:
    return json.loads((FIXTURES / f"{name}.json").read_text())


# --- The stub server ---------------------------------------------------------------------


@dataclass
class Reply:
    status: int = 200
    body: dict | bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds to wait before answering
    drop: bool = False  # close the connection without answering


@dataclass
class Received:
    method: str
    path: str
    query: list[tuple[str, str]]
    headers: dict[str, str]
    body: bytes


class StubServer(ThreadingHTTPServer):
    """Answers scripted replies; ``keep_alive`` serves HTTP/1.1 persistent connections.

    ``connections`` counts the connections accepted; when ``gate`` is set, every request
    waits at it before being answered (so a burst of requests is in flight at once).
    """

    daemon_threads = True

    def __init__(self, *, keep_alive: bool = False) -> None:
        super().__init__(("127.0.0.1", 0), _KeepAliveStubHandler if keep_alive else _StubHandler)
        self.replies: deque[Reply] = deque()
        self.received: list[Received] = []
        self.release = threading.Event()
        self.connections = 0
        self.gate: threading.Barrier | None = None

    def process_request(self, request, client_address) -> None:
        self.connections += 1
        super().process_request(request, client_address)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def script(self, *replies: Reply) -> None:
        self.replies.extend(replies)

    def handle_error(self, request, client_address) -> None:
        pass  # a client that timed out and left is expected here


class _StubHandler(BaseHTTPRequestHandler):
    server: StubServer

    def _handle(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        parts = urlsplit(self.path)
        self.server.received.append(
            Received(
                method=self.command,
                path=unquote(parts.path),
                query=parse_qsl(parts.query, keep_blank_values=True),
                headers=dict(self.headers.items()),
                body=body,
            )
        )
        reply = self.server.replies.popleft() if self.server.replies else Reply(599, b"nothing scripted")
        if self.server.gate is not None:
            self.server.gate.wait(timeout=10)
        if reply.delay:
            self.server.release.wait(reply.delay)
        if reply.drop:
            self.close_connection = True
            return
        payload = reply.body if isinstance(reply.body, bytes | None) else json.dumps(reply.body).encode()
        self.send_response(reply.status)
        if payload:
            self.send_header("Content-Type", "application/json")
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload or b"")))
        self.end_headers()
        if payload:
            self.wfile.write(payload)

    do_GET = do_POST = do_PUT = do_DELETE = _handle

    def log_message(self, format, *args) -> None:
        pass


class _KeepAliveStubHandler(_StubHandler):
    protocol_version = "HTTP/1.1"


def _serve(server: StubServer) -> Iterator[StubServer]:
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    yield server
    server.release.set()
    server.shutdown()
    server.server_close()


@pytest.fixture
def stub() -> Iterator[StubServer]:
    yield from _serve(StubServer())


@pytest.fixture
def keep_alive_stub() -> Iterator[StubServer]:
    yield from _serve(StubServer(keep_alive=True))


@pytest.fixture
def process_session() -> Iterator[None]:
    """A new process session for the test; the one before it is put back afterwards."""
    previous = cloud.get_session()
    cloud.set_session(None)
    yield
    cloud.get_session().close()
    cloud.set_session(previous)


@pytest.fixture
def sleeps() -> list[float]:
    """The backoff sleeps of ``make_client``'s clients, recorded instead of slept."""
    return []


@pytest.fixture
def credentials() -> Credentials:
    return Credentials(access_key=AK, secret_key=Secret(SK), project_id=PROJECT_ID)


@pytest.fixture
def make_client(stub, credentials, sleeps):
    def make(**kwargs) -> VpcApiClient:
        options = {
            "retries": 2,
            "backoff": 0,
            "connect_timeout": 1.0,
            "read_timeout": 2.0,
            "sleep": sleeps.append,
            **kwargs,
        }
        return VpcApiClient(endpoint=options.pop("endpoint", stub.url), credentials=credentials, **options)

    return make


def assert_signed(received: Received, *, secret_key: str = SK) -> aksk.Authorization:
    """The request's Authorization verifies over the bytes the server received."""
    return vectors.verify_signed(
        method=received.method,
        path=received.path,
        query=received.query,
        headers=received.headers,
        body=received.body,
        secret_key=secret_key,
    )


# --- Signing -----------------------------------------------------------------------------------


def test_the_reference_vectors_requests_are_sent_signed(stub, make_client):
    """With the vectors' keys, project and date, the client sends their requests, and they verify."""
    stub.script(Reply(200, fixture("peerings_list")), Reply(201, fixture("peering")))
    client = make_client(clock=lambda: vectors.NOW)

    client.list_peerings(limit=10, status="ACTIVE")
    client.create_peering(name="test", request_vpc_id=REQUEST_VPC, accept_vpc_id=ACCEPT_VPC)

    for vector, received in zip(vectors.VECTORS, stub.received, strict=True):
        assert (received.method, received.path, received.query, received.body) == (
            vector.method,
            vector.path,
            parse_qsl(vector.query),
            vector.body,
        )
        assert {k: received.headers[k] for k in vectors.HEADERS} == vectors.HEADERS
        assert assert_signed(received).access_key == AK


def test_sent_requests_verify_over_the_received_bytes(stub, make_client):
    stub.script(
        Reply(201, fixture("peering")), Reply(200, fixture("peerings_list")), Reply(200, fixture("vpcs"))
    )
    client = make_client()

    client.create_peering(
        name="test", description="naïve / <ok>", request_vpc_id=REQUEST_VPC, accept_vpc_id=ACCEPT_VPC
    )
    client.list_peerings(name="my peering/é+1", status="ACTIVE", limit=5)
    client.list_vpcs(limit=10, marker=REQUEST_VPC)

    create, listing, vpcs = stub.received
    for received in stub.received:
        authorization = assert_signed(received)
        assert authorization.access_key == AK
        assert received.headers["X-Project-Id"] == PROJECT_ID
        assert received.headers["User-Agent"].startswith("vpc-peering-portal/")
        assert re.fullmatch(r"[0-9a-f]{32}", received.headers["X-Correlation-Id"])
        assert "user-agent" in authorization.signed_headers
    assert create.method == "POST"
    assert create.path == "/v2.0/vpc/peerings"
    assert create.headers["Content-Type"] == "application/json;charset=utf-8"
    assert json.loads(create.body)["peering"]["description"] == "naïve / <ok>"
    assert listing.headers["Content-Type"] == "application/json"
    assert sorted(listing.query) == [("limit", "5"), ("name", "my peering/é+1"), ("status", "ACTIVE")]
    assert vpcs.path == f"/v1/{PROJECT_ID}/vpcs"
    assert vpcs.query == [("limit", "10"), ("marker", REQUEST_VPC)]


def test_signature_matches_the_huawei_sdk_signer(stub, make_client):
    """The SDK's own Signer, given the same request, produces the same Authorization."""
    stub.script(Reply(201, fixture("peering")), Reply(200, fixture("peerings_list")))
    client = make_client(clock=lambda: vectors.NOW)

    client.create_peering(name="test", request_vpc_id=REQUEST_VPC, accept_vpc_id=ACCEPT_VPC)
    client.list_peerings(vpc_id=REQUEST_VPC, status="ACTIVE", name="a b")

    assert stub.received[0].body == CREATE_BODY
    for received in stub.received:
        authorization = aksk.parse_authorization(received.headers["Authorization"])
        lowered = {k.lower(): v for k, v in received.headers.items()}
        request = SdkRequest(
            method=received.method,
            schema="http",
            host=lowered["host"],
            resource_path=received.path,
            query_params=list(received.query),
            header_params={name: lowered[name] for name in authorization.signed_headers},
            body=received.body,
        )
        Signer(BasicCredentials(AK, SK, PROJECT_ID)).sign(request)
        assert request.header_params["Authorization"] == received.headers["Authorization"]


def test_wrong_secret_key_does_not_verify(stub, make_client):
    stub.script(Reply(200, fixture("peering")))
    make_client().show_peering(PEERING_ID)
    with pytest.raises(aksk.SignatureError):
        assert_signed(stub.received[0], secret_key="another-secret")


# --- Responses -----------------------------------------------------------------------------------


def test_operations_unwrap_the_cloud_envelopes(stub, make_client):
    stub.script(
        Reply(200, fixture("peering")),
        Reply(200, fixture("peering")),
        Reply(200, fixture("peering_accepted")),
        Reply(200, {**fixture("peering_accepted"), "status": "REJECTED"}),
        Reply(200, fixture("peerings_list")),
        Reply(200, fixture("vpcs")),
        Reply(204),
    )
    client = make_client()

    shown = client.show_peering(PEERING_ID)
    updated = client.update_peering(PEERING_ID, description="")
    accepted = client.accept_peering(PEERING_ID)
    rejected = client.reject_peering(PEERING_ID)
    listed = client.list_peerings()
    vpcs = client.list_vpcs()
    deleted = client.delete_peering(PEERING_ID)

    assert shown.data == fixture("peering")["peering"]
    assert updated.data["id"] == PEERING_ID
    assert accepted.data == fixture("peering_accepted")
    assert rejected.data["status"] == "REJECTED"
    assert listed.data == fixture("peerings_list")
    assert vpcs.data == fixture("vpcs")["vpcs"]
    assert deleted.data is None
    assert deleted.record.status_code == 204
    assert deleted.record.response_body is None
    assert [(r.method, r.path, r.body) for r in stub.received] == [
        ("GET", f"/v2.0/vpc/peerings/{PEERING_ID}", b""),
        ("PUT", f"/v2.0/vpc/peerings/{PEERING_ID}", b'{"peering":{"description":""}}'),
        ("PUT", f"/v2.0/vpc/peerings/{PEERING_ID}/accept", b""),
        ("PUT", f"/v2.0/vpc/peerings/{PEERING_ID}/reject", b""),
        ("GET", "/v2.0/vpc/peerings", b""),
        ("GET", f"/v1/{PROJECT_ID}/vpcs", b""),
        ("DELETE", f"/v2.0/vpc/peerings/{PEERING_ID}", b""),
    ]


def test_call_record_describes_the_call(stub, make_client):
    stub.script(Reply(201, fixture("peering"), headers={"X-Request-Id": "req-123"}))

    response = make_client().create_peering(
        name="test", request_vpc_id=REQUEST_VPC, accept_vpc_id=ACCEPT_VPC, accept_project_id="f" * 32
    )

    record = response.record
    assert record == CallRecord(
        operation="create",
        method="POST",
        url=f"{stub.url}/v2.0/vpc/peerings",
        request_body={
            "peering": {
                "name": "test",
                "request_vpc_info": {"vpc_id": REQUEST_VPC},
                "accept_vpc_info": {"vpc_id": ACCEPT_VPC, "tenant_id": "f" * 32},
            }
        },
        status_code=201,
        response_body=fixture("peering"),
        error_code="",
        error_message="",
        duration_ms=record.duration_ms,
        attempts=1,
        correlation_id=stub.received[0].headers["X-Correlation-Id"],
        cloud_request_id="req-123",
    )
    assert record.duration_ms >= 0


def test_record_url_carries_the_query(stub, make_client):
    stub.script(Reply(200, fixture("peerings_list")))
    response = make_client().list_peerings(vpc_id=REQUEST_VPC, name="a b", limit=1)
    assert response.record.url == f"{stub.url}/v2.0/vpc/peerings?limit=1&name=a%20b&vpc_id={REQUEST_VPC}"
    assert response.record.request_body is None


@pytest.mark.parametrize("body", [b"<html>oops</html>", b"", b'{"something": "else"}', b'{"peering": []}'])
def test_unreadable_2xx_on_a_read_is_unavailable(stub, make_client, body):
    stub.script(Reply(200, body))
    with pytest.raises(CloudUnavailable) as info:
        make_client().show_peering(PEERING_ID)
    assert info.value.code == "InvalidResponse"
    assert info.value.status == 200
    assert info.value.outcome_unknown is False
    assert info.value.record.attempts == 1
    assert "cannot read" in info.value.message


def test_unreadable_2xx_on_create_leaves_the_outcome_unknown(stub, make_client):
    stub.script(Reply(201, b"created"))
    with pytest.raises(CloudUnavailable) as info:
        make_client().create_peering(name="x", request_vpc_id=REQUEST_VPC, accept_vpc_id=ACCEPT_VPC)
    assert info.value.outcome_unknown is True
    assert info.value.record.response_body == "created"


def test_redirects_are_not_followed(stub, make_client):
    stub.script(Reply(302, headers={"Location": f"{stub.url}/elsewhere"}))
    with pytest.raises(CloudUnavailable) as info:
        make_client().show_peering(PEERING_ID)
    assert info.value.status == 302
    assert len(stub.received) == 1


# --- Errors ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "body", "exc_type", "code", "message"),
    [
        (
            400,
            fixture("neutron_error"),
            CloudRefused,
            "InvalidInput",
            "Invalid input for operation: Accept VPC id or tenant id is incorrect.",
        ),
        (404, fixture("vpc_error"), CloudRefused, "VPC.0003", "VPC does not exist."),
        (
            401,
            fixture("apigw_error"),
            CloudRefused,
            "APIGW.0301",
            "Incorrect IAM authentication information: verify aksk signature fail",
        ),
        (403, {"errorCode": "VPC.2701", "errorMsg": "Forbidden."}, CloudRefused, "VPC.2701", "Forbidden."),
        (409, {"error": {"code": "VPC.0999", "message": "Busy."}}, CloudRefused, "VPC.0999", "Busy."),
        (404, b"<html>  Not   Found </html>", CloudRefused, "404", "<html> Not Found </html>"),
        (
            500,
            fixture("neutron_error"),
            CloudUnavailable,
            "InvalidInput",
            fixture("neutron_error")["NeutronError"]["message"],
        ),
        (502, b"Bad gateway", CloudUnavailable, "502", "Bad gateway"),
    ],
)
def test_error_shapes(stub, make_client, status, body, exc_type, code, message):
    stub.script(Reply(status, body))
    with pytest.raises(exc_type) as info:
        make_client(retries=0).show_peering(PEERING_ID)

    error = info.value
    assert type(error) is exc_type
    assert (error.status, error.code, error.message) == (status, code, message)
    assert error.record.status_code == status
    assert (error.record.error_code, error.record.error_message) == (code, message)
    assert error.record.operation == "show"


def test_gateway_request_id_comes_from_the_body_without_a_header(stub, make_client):
    stub.script(Reply(401, fixture("apigw_error")))
    with pytest.raises(CloudRefused) as info:
        make_client().list_vpcs()
    assert info.value.record.cloud_request_id == fixture("apigw_error")["request_id"]
    assert info.value.record.attempts == 1  # 4xx is never retried


def test_long_text_error_is_cut_short(stub, make_client):
    stub.script(Reply(400, b"x" * 5000))
    with pytest.raises(CloudRefused) as info:
        make_client().show_peering(PEERING_ID)
    assert len(info.value.message) <= cloud.MESSAGE_EXCERPT
    assert len(info.value.record.response_body) <= cloud.TEXT_EXCERPT


# --- Whatever the cloud answered is recorded ------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("reply", "response_body", "error_code", "error_message"),
    [
        pytest.param(
            Reply(200, b'{"peering": {"id": "x\\u0000y", "na\\u0000me": "n", "size": NaN}}'),
            {"peering": {"id": "x\\u0000y", "na\\u0000me": "n", "size": "NaN"}},
            "InvalidResponse",  # a NUL in an answer is corruption: recorded, never taken as data
            "The VPC API answered 200 with a body the portal cannot read.",
            id="nul-in-json",
        ),
        pytest.param(
            Reply(400, b'{"NeutronError": {"type": "Bad\\ud800", "message": "lone \\udfff\\u0000"}}'),
            {"NeutronError": {"type": "Bad\\ud800", "message": "lone \\udfff\\u0000"}},
            "Bad\\ud800",
            "lone \\udfff\\u0000",
            id="lone-surrogates-in-json",
        ),
        pytest.param(
            Reply(500, b"oops\x00 at \xff\xfe", headers={"Content-Type": "text/plain; charset=latin-1"}),
            "oops\\u0000 at \u00ff\u00fe",
            "500",
            "oops\\u0000 at \u00ff\u00fe",
            id="nul-in-text",
        ),
        pytest.param(
            Reply(200, b'{"peering": {"id": "x\x00'),
            '{"peering": {"id": "x\\u0000',
            "InvalidResponse",
            "The VPC API answered 200 with a body the portal cannot read.",
            id="invalid-json",
        ),
        pytest.param(
            Reply(409, b'{"code": "VPC.1", "message": "bad \xff\xfe bytes\x00"}'),
            '{"code": "VPC.1", "message": "bad \ufffd\ufffd bytes\\u0000"}',
            "409",
            '{"code": "VPC.1", "message": "bad \ufffd\ufffd bytes\\u0000"}',
            id="invalid-utf8",
        ),
    ],
)
def test_every_answer_is_recorded_storably(
    stub, make_client, reply, response_body, error_code, error_message
):
    """NUL, lone surrogates, non-finite numbers, bad JSON or bad UTF-8: the call row is saved, escaped."""
    stub.script(reply)
    client = make_client(retries=0)
    if error_code:
        with pytest.raises(CloudError) as info:
            client.show_peering(PEERING_ID)
        record = info.value.record
        assert info.value.message == error_message  # storable too: fronts show it, the workflow saves it
    else:
        record = client.show_peering(PEERING_ID).record

    call = UpstreamCall.objects.get(pk=record_call(record, tenant=TenantFactory()))

    assert call.status_code == reply.status
    assert call.response_body == response_body
    assert (call.error_code, call.error_message) == (error_code, error_message)
    assert call.correlation_id == record.correlation_id


@pytest.mark.django_db
def test_every_text_field_of_the_record_is_stored_escaped():
    record = CallRecord(
        operation="show",
        method="GET",
        url="http://vpc.example.com/p?x=\x00",
        request_body={"k\x00": ["\ud800"]},
        status_code=502,
        response_body="\x00",
        error_code="E\x00",
        error_message="m\udc80",
        correlation_id="c\x00",
        cloud_request_id="r\ud800",
    )
    call = UpstreamCall.objects.get(pk=record_call(record, tenant=TenantFactory()))
    assert (call.url, call.request_body, call.response_body) == (
        "http://vpc.example.com/p?x=\\u0000",
        {"k\\u0000": ["\\ud800"]},
        "\\u0000",
    )
    assert (call.error_code, call.error_message, call.correlation_id, call.cloud_request_id) == (
        "E\\u0000",
        "m\\udc80",
        "c\\u0000",
        "r\\ud800",
    )


# --- Retries ----------------------------------------------------------------------------------------


def test_get_is_retried_after_a_5xx_with_the_same_correlation_id(stub, make_client):
    times = iter([datetime(2024, 1, 1, tzinfo=UTC), datetime(2024, 1, 1, 0, 0, 5, tzinfo=UTC)])
    stub.script(Reply(503, fixture("neutron_error")), Reply(200, fixture("peering")))

    response = make_client(clock=lambda: next(times)).show_peering(PEERING_ID)

    assert response.data["id"] == PEERING_ID
    assert response.record.attempts == 2
    assert response.record.status_code == 200
    assert response.record.error_code == ""
    first, second = stub.received
    assert first.headers["X-Correlation-Id"] == second.headers["X-Correlation-Id"]
    assert response.record.correlation_id == first.headers["X-Correlation-Id"]
    # Each attempt is signed anew.
    assert (first.headers["X-Sdk-Date"], second.headers["X-Sdk-Date"]) == (
        "20240101T000000Z",
        "20240101T000005Z",
    )


@pytest.mark.parametrize("operation", ["accept_peering", "reject_peering", "delete_peering"])
def test_idempotent_writes_are_retried(stub, make_client, operation):
    stub.script(Reply(500), Reply(204 if operation == "delete_peering" else 200, fixture("peering_accepted")))
    response = getattr(make_client(), operation)(PEERING_ID)
    assert response.record.attempts == 2
    assert len(stub.received) == 2


def test_5xx_on_create_is_not_retried(stub, make_client):
    stub.script(Reply(503, fixture("neutron_error")), Reply(201, fixture("peering")))
    with pytest.raises(CloudUnavailable) as info:
        make_client().create_peering(name="x", request_vpc_id=REQUEST_VPC, accept_vpc_id=ACCEPT_VPC)
    assert info.value.record.attempts == 1
    assert info.value.status == 503
    assert info.value.outcome_unknown is False
    assert len(stub.received) == 1


def test_5xx_on_update_is_not_retried(stub, make_client):
    stub.script(Reply(500), Reply(200, fixture("peering")))
    with pytest.raises(CloudUnavailable):
        make_client().update_peering(PEERING_ID, name="x")
    assert len(stub.received) == 1


def test_gateway_timeout_on_create_leaves_the_outcome_unknown(stub, make_client):
    stub.script(Reply(504, b"Gateway Timeout"))
    with pytest.raises(CloudUnavailable) as info:
        make_client().create_peering(name="x", request_vpc_id=REQUEST_VPC, accept_vpc_id=ACCEPT_VPC)
    assert info.value.outcome_unknown is True


def test_retries_back_off_exponentially_then_give_up(stub, make_client, sleeps):
    stub.script(*[Reply(500, fixture("neutron_error"))] * 4)
    with pytest.raises(CloudUnavailable) as info:
        make_client(retries=3, backoff=0.5).list_peerings()
    assert sleeps == [0.5, 1.0, 2.0]
    assert info.value.record.attempts == 4
    assert info.value.status == 500
    assert len(stub.received) == 4


def test_429_honours_retry_after(stub, make_client, sleeps):
    stub.script(Reply(429, headers={"Retry-After": "2"}), Reply(200, fixture("vpcs")))
    response = make_client(backoff=0.1).list_vpcs()
    assert sleeps == [2.0]
    assert response.record.attempts == 2


def test_retry_after_is_capped(stub, make_client, sleeps):
    stub.script(Reply(503, headers={"Retry-After": "3600"}), Reply(200, fixture("vpcs")))
    make_client().list_vpcs()
    assert sleeps == [cloud.RETRY_AFTER_CAP]


def test_retry_after_as_an_http_date(stub, make_client, sleeps):
    stub.script(
        Reply(429, headers={"Retry-After": "Mon, 01 Jan 2024 00:00:03 GMT"}), Reply(200, fixture("vpcs"))
    )
    make_client(clock=lambda: datetime(2024, 1, 1, tzinfo=UTC)).list_vpcs()
    assert sleeps == [3.0]


def test_429_after_retries_is_unavailable(stub, make_client):
    stub.script(*[Reply(429, {"error_code": "APIGW.0308", "error_msg": "Too many requests"})] * 3)
    with pytest.raises(CloudUnavailable) as info:
        make_client(retries=2).show_peering(PEERING_ID)
    assert (info.value.status, info.value.code) == (429, "APIGW.0308")
    assert info.value.record.attempts == 3


def test_429_on_create_is_unavailable_at_once(stub, make_client):
    stub.script(Reply(429), Reply(201, fixture("peering")))
    with pytest.raises(CloudUnavailable) as info:
        make_client().create_peering(name="x", request_vpc_id=REQUEST_VPC, accept_vpc_id=ACCEPT_VPC)
    assert info.value.record.attempts == 1
    assert info.value.outcome_unknown is False


# --- Transport failures -------------------------------------------------------------------------------


def test_read_timeout_on_create_leaves_the_outcome_unknown(stub, make_client):
    stub.script(Reply(201, fixture("peering"), delay=2.0))
    with pytest.raises(CloudUnavailable) as info:
        make_client(read_timeout=0.2).create_peering(
            name="x", request_vpc_id=REQUEST_VPC, accept_vpc_id=ACCEPT_VPC
        )
    error = info.value
    assert error.outcome_unknown is True
    assert error.status is None
    assert error.code == "ReadTimeout"
    assert error.record.attempts == 1
    assert error.record.status_code is None
    assert len(stub.received) == 1


def test_read_timeout_on_get_is_retried(stub, make_client):
    stub.script(Reply(200, fixture("peering"), delay=2.0), Reply(200, fixture("peering")))
    response = make_client(read_timeout=0.2).show_peering(PEERING_ID)
    assert response.record.attempts == 2


def test_read_timeout_on_get_after_retries(stub, make_client):
    stub.script(*[Reply(200, fixture("peering"), delay=2.0)] * 2)
    with pytest.raises(CloudUnavailable) as info:
        make_client(read_timeout=0.2, retries=1).show_peering(PEERING_ID)
    assert info.value.outcome_unknown is False  # a read changes nothing
    assert info.value.record.attempts == 2


def test_dropped_connection_on_create_leaves_the_outcome_unknown(stub, make_client):
    stub.script(Reply(drop=True))
    with pytest.raises(CloudUnavailable) as info:
        make_client().create_peering(name="x", request_vpc_id=REQUEST_VPC, accept_vpc_id=ACCEPT_VPC)
    assert info.value.outcome_unknown is True
    assert info.value.record.attempts == 1
    assert len(stub.received) == 1


def test_connection_refused_is_unavailable_with_a_known_outcome(closed_port, make_client):
    client = make_client(endpoint=f"http://127.0.0.1:{closed_port}")
    with pytest.raises(CloudUnavailable) as info:
        client.create_peering(name="x", request_vpc_id=REQUEST_VPC, accept_vpc_id=ACCEPT_VPC)
    error = info.value
    assert error.outcome_unknown is False
    assert error.status is None
    assert error.code == "ConnectionError"
    assert error.record.attempts == 1
    assert error.record.status_code is None


def test_connection_refused_on_get_is_retried(closed_port, make_client, sleeps):
    client = make_client(endpoint=f"http://127.0.0.1:{closed_port}", retries=2, backoff=0.25)
    with pytest.raises(CloudUnavailable) as info:
        client.list_vpcs()
    assert info.value.record.attempts == 3
    assert sleeps == [0.25, 0.5]


# --- Configuration, session and secrets ----------------------------------------------------------------


class RecordingSession(requests.Session):
    def __init__(self) -> None:
        super().__init__()
        self.calls: list[dict] = []

    def request(self, method, url, **kwargs):
        self.calls.append({"method": method, "url": url, **kwargs})
        return super().request(method, url, **kwargs)


def test_timeouts_and_retries_come_from_settings(stub, credentials, settings):
    settings.VPC_API_CONNECT_TIMEOUT = 1.5
    settings.VPC_API_READ_TIMEOUT = 7.0
    settings.VPC_API_RETRIES = 4
    settings.VPC_API_BACKOFF = 0.0
    session = RecordingSession()
    stub.script(Reply(200, fixture("vpcs")))

    client = VpcApiClient(endpoint=stub.url, credentials=credentials, session=session)
    client.list_vpcs()

    assert client.retries == 4
    assert session.calls[0]["timeout"] == (1.5, 7.0)
    assert session.calls[0]["allow_redirects"] is False


def test_the_process_shares_one_session(stub, credentials, process_session):
    first = cloud.get_session()
    assert cloud.get_session() is first

    recording = RecordingSession()
    cloud.set_session(recording)
    stub.script(Reply(200, fixture("vpcs")))
    VpcApiClient(endpoint=stub.url, credentials=credentials).list_vpcs()
    assert len(recording.calls) == 1


def test_the_session_keeps_pool_size_connections_alive_for_reuse(
    keep_alive_stub, credentials, process_session
):
    """A burst wider than the pool opens a connection per call; the next burst reuses POOL_SIZE of them."""
    stub = keep_alive_stub
    width = cloud.POOL_SIZE + 5
    client = VpcApiClient(endpoint=stub.url, credentials=credentials, retries=0)

    def burst() -> int:
        """How many new connections a burst of ``width`` calls in flight at once opened."""
        before = stub.connections
        stub.gate = threading.Barrier(width)
        stub.script(*[Reply(200, fixture("vpcs"))] * width)
        with ThreadPoolExecutor(max_workers=width) as pool:
            results = list(pool.map(lambda _: client.list_vpcs(), range(width)))
        assert [r.record.status_code for r in results] == [200] * width
        return stub.connections - before

    assert burst() == width
    assert burst() == width - cloud.POOL_SIZE


def test_cookies_are_not_carried_between_calls(stub, make_client, process_session):
    stub.script(
        Reply(200, fixture("vpcs"), headers={"Set-Cookie": "session=abc; Path=/"}),
        Reply(200, fixture("vpcs")),
    )
    client = make_client()
    client.list_vpcs()
    client.list_vpcs()
    assert "Cookie" not in stub.received[1].headers


@pytest.mark.django_db
def test_tenant_client_uses_the_tenant_endpoint_keys_and_project():
    tenant = TenantFactory(
        endpoint="http://127.0.0.1:9/", access_key="AKTENANT000000000001", secret_key="tenant-sk"
    )
    client = tenant_client(tenant, retries=0)

    assert client.endpoint == "http://127.0.0.1:9"
    assert client.credentials == Credentials(
        access_key="AKTENANT000000000001", secret_key=Secret("tenant-sk"), project_id=tenant.project_id
    )
    assert client.retries == 0
    regional = tenant_client(TenantFactory(region="ap-southeast-1"))
    assert regional.endpoint == "https://vpc.ap-southeast-1.myhuaweicloud.com"


def test_credentials_accept_a_plain_secret_string():
    assert Credentials(access_key=AK, secret_key=SK, project_id=PROJECT_ID).secret_key == Secret(SK)


def test_repr_never_shows_the_secret_key(credentials, make_client):
    client = make_client()
    for text in (repr(credentials), str(credentials), repr(client), str(client)):
        assert SK not in text
        assert AK not in text
    assert "EXAM…0000" in repr(credentials)


def test_log_lines_carry_no_secrets_one_per_call(stub, make_client, caplog):
    stub.script(
        Reply(500, fixture("neutron_error")),
        Reply(200, fixture("peering")),
        Reply(201, fixture("peering")),
        Reply(401, fixture("apigw_error")),
    )
    client = make_client()
    caplog.set_level(logging.DEBUG, logger="peerings.cloud")

    client.show_peering(PEERING_ID)
    client.create_peering(name="test", request_vpc_id=REQUEST_VPC, accept_vpc_id=ACCEPT_VPC)
    with pytest.raises(CloudRefused):
        client.delete_peering(PEERING_ID)

    info_lines = [r for r in caplog.records if r.name == "peerings.cloud" and r.levelno == logging.INFO]
    assert len(info_lines) == 3
    show_line, create_line, delete_line = (r.getMessage() for r in info_lines)
    correlation = stub.received[0].headers["X-Correlation-Id"]
    assert f"show GET /v2.0/vpc/peerings/{PEERING_ID} -> 200" in show_line
    assert "create POST /v2.0/vpc/peerings -> 201" in create_line
    assert "2 attempt(s)" in show_line
    assert correlation in show_line
    assert "delete DELETE" in delete_line
    assert "APIGW.0301" in delete_line
    signatures = [aksk.parse_authorization(r.headers["Authorization"]).signature for r in stub.received]
    for secret in (SK, AK, *signatures, "Authorization", "X-Sdk-Date", "request_vpc_info"):
        assert secret not in caplog.text


LOG_FIELDS = (
    "operation",
    "method",
    "path",
    "status",
    "duration_ms",
    "attempts",
    "correlation_id",
    "error_code",
)


def test_log_line_carries_structured_fields_without_secrets(stub, make_client, caplog):
    stub.script(
        Reply(503, fixture("neutron_error")),
        Reply(200, fixture("peerings_list")),
        Reply(401, fixture("apigw_error")),
    )
    client = make_client()
    caplog.set_level(logging.INFO, logger="peerings.cloud")

    client.list_peerings(name="secret-looking name", limit=5)
    with pytest.raises(CloudRefused):
        client.update_peering(PEERING_ID, name="x")

    listed, refused = (
        {k: getattr(r, k) for k in LOG_FIELDS} for r in caplog.records if r.name == "peerings.cloud"
    )
    assert listed == {
        "operation": "list_peerings",
        "method": "GET",
        "path": "/v2.0/vpc/peerings",
        "status": 200,
        "duration_ms": listed["duration_ms"],
        "attempts": 2,
        "correlation_id": stub.received[0].headers["X-Correlation-Id"],
        "error_code": "",
    }
    assert isinstance(listed["duration_ms"], int)
    assert refused == {
        "operation": "update",
        "method": "PUT",
        "path": f"/v2.0/vpc/peerings/{PEERING_ID}",
        "status": 401,
        "duration_ms": refused["duration_ms"],
        "attempts": 1,
        "correlation_id": stub.received[2].headers["X-Correlation-Id"],
        "error_code": "APIGW.0301",
    }
    signatures = [aksk.parse_authorization(r.headers["Authorization"]).signature for r in stub.received]
    logged = " ".join(repr(vars(r)) for r in caplog.records)
    for secret in (SK, AK, *signatures, "secret-looking", "limit=5"):
        assert secret not in logged


def test_log_line_of_a_call_without_answer(closed_port, make_client, caplog):
    caplog.set_level(logging.INFO, logger="peerings.cloud")
    with pytest.raises(CloudUnavailable):
        make_client(endpoint=f"http://127.0.0.1:{closed_port}", retries=0).show_peering(PEERING_ID)
    (line,) = [r for r in caplog.records if r.name == "peerings.cloud" and r.levelno == logging.INFO]
    assert (line.status, line.error_code, line.attempts) == (None, "ConnectionError", 1)


def test_scrub_masks_secret_looking_keys():
    body = {
        "peering": {"name": "n", "tenant_id": "t"},
        "ak": "A",
        "SK": "S",
        "auth": {"password": "p", "x-auth-token": "t", "items": [{"client_secret": "c", "keep": 1}]},
    }
    assert scrub(body) == {
        "peering": {"name": "n", "tenant_id": "t"},
        "ak": "********",
        "SK": "********",
        "auth": {
            "password": "********",
            "x-auth-token": "********",
            "items": [{"client_secret": "********", "keep": 1}],
        },
    }


def test_prepare_call_masks_secrets_in_the_record_not_on_the_wire():
    call = cloud.prepare_call(
        "https://vpc.example.com",
        "create",
        "POST",
        "/v2.0/vpc/peerings",
        body={"peering": {"name": "x"}, "secret_key": "leak"},
    )
    assert call.record.request_body == {"peering": {"name": "x"}, "secret_key": "********"}
    assert call.payload == b'{"peering":{"name":"x"},"secret_key":"leak"}'
    assert call.headers == {
        "Content-Type": "application/json;charset=utf-8",
        "User-Agent": cloud.USER_AGENT,
        "X-Correlation-Id": call.record.correlation_id,
    }
    assert (call.url, call.record.url) == ("https://vpc.example.com/v2.0/vpc/peerings",) * 2
    assert call.retryable is False


@pytest.mark.parametrize(
    ("method", "retryable", "expected"),
    [("GET", None, True), ("DELETE", None, True), ("PUT", None, False), ("PUT", True, True)],
)
def test_prepare_call_retries_idempotent_methods_by_default(method, retryable, expected):
    call = cloud.prepare_call(
        "https://vpc.example.com", "show", method, "/p", query=[("name", "a b")], retryable=retryable
    )
    assert call.retryable is expected
    assert call.url == "https://vpc.example.com/p?name=a%20b"
    assert (call.payload, call.record.request_body) == (b"", None)
    assert call.headers["Content-Type"] == "application/json"


def test_argument_errors_are_raised_before_any_call(stub, make_client):
    client = make_client()
    with pytest.raises(TypeError, match="unknown peering filters: page"):
        client.list_peerings(page=2)
    with pytest.raises(ValueError, match="name or a description"):
        client.update_peering(PEERING_ID)
    with pytest.raises(ValueError, match="peering id"):
        client.show_peering("")
    with pytest.raises(ValueError, match="http"):
        make_client(endpoint="vpc.example.com")
    assert stub.received == []


def test_duration_covers_all_attempts(stub, make_client):
    stub.script(Reply(500, delay=0.05), Reply(200, fixture("peering"), delay=0.05))
    response = make_client().show_peering(PEERING_ID)
    assert response.record.duration_ms >= 100


@pytest.fixture
def local_zone_shanghai() -> Iterator[None]:
    """The process's local time zone is UTC+8 (Django sets it to ``TIME_ZONE``, UTC, otherwise)."""
    previous = os.environ.get("TZ")
    os.environ["TZ"] = "Asia/Shanghai"
    time.tzset()
    try:
        assert time.localtime().tm_gmtoff == 8 * 3600
        yield
    finally:
        if previous is None:
            del os.environ["TZ"]
        else:
            os.environ["TZ"] = previous
        time.tzset()


def test_clock_is_utc(local_zone_shanghai, stub, make_client):
    """X-Sdk-Date is UTC whatever the local zone."""
    stub.script(Reply(200, fixture("peering")))
    make_client().show_peering(PEERING_ID)
    sent = aksk.parse_date(stub.received[0].headers["X-Sdk-Date"])
    assert abs(sent - datetime.now(UTC)) < timedelta(minutes=1)


# --- Against the embedded simulator ---------------------------------------------------------------


@dataclass
class SimTenant:
    client: VpcApiClient
    project_id: str
    vpc_ids: list[str]


@pytest.fixture
def simulated(live_server, transactional_db):
    """``simulated(account, project, {vpc name: cidr})`` -> a tenant of the live simulator and its client."""
    from vpcsim import provision

    def make(account: str, project: str, vpcs: dict[str, str]) -> SimTenant:
        acc = provision.create_account(name=account)
        prj = provision.create_project(account=acc, name=project)
        made = [provision.create_vpc(project=prj, name=name, cidr=cidr) for name, cidr in vpcs.items()]
        key = acc.access_keys.get()
        tenant = TenantFactory(
            endpoint=live_server.url,
            project_id=prj.project_id,
            access_key=key.access_key,
            secret_key=key.secret_key,
        )
        tenant.refresh_from_db()  # keys come back as Secret values, as in production
        client = tenant_client(tenant, retries=0)
        return SimTenant(client=client, project_id=prj.project_id, vpc_ids=[str(v.vpc_id) for v in made])

    return make


def test_peering_lifecycle_against_the_simulator(simulated):
    alpha = simulated("alpha", "alpha-main", {"alpha-web": "10.0.0.0/16", "alpha-db": "10.1.0.0/16"})
    alpha_dev = simulated("alpha", "alpha-dev", {"alpha-dev": "10.2.0.0/16"})
    beta = simulated("beta", "beta-main", {"beta-app": "192.168.0.0/16", "beta-ops": "172.16.0.0/16"})
    web, db = alpha.vpc_ids
    app, ops = beta.vpc_ids

    vpcs = alpha.client.list_vpcs()
    assert sorted(v["id"] for v in vpcs.data) == sorted(alpha.vpc_ids)
    assert {v["cidr"] for v in vpcs.data} == {"10.0.0.0/16", "10.1.0.0/16"}

    same_account = alpha.client.create_peering(
        name="web-dev",
        request_vpc_id=web,
        accept_vpc_id=alpha_dev.vpc_ids[0],
        accept_project_id=alpha_dev.project_id,
    )
    assert same_account.data["status"] == "ACTIVE"
    assert same_account.record.status_code == 201

    cross = alpha.client.create_peering(
        name="db-app",
        description="to beta",
        request_vpc_id=db,
        accept_vpc_id=app,
        accept_project_id=beta.project_id,
    )
    peering_id = cross.data["id"]
    assert cross.data["status"] == "PENDING_ACCEPTANCE"
    assert cross.data["accept_vpc_info"] == {"vpc_id": app, "tenant_id": beta.project_id}
    assert re.fullmatch(r"[0-9a-f]{32}", cross.record.cloud_request_id)

    shown = beta.client.show_peering(peering_id)
    assert (shown.data["id"], shown.data["status"]) == (peering_id, "PENDING_ACCEPTANCE")

    by_vpc = alpha.client.list_peerings(vpc_id=db)
    assert [p["id"] for p in by_vpc.data["peerings"]] == [peering_id]
    active = alpha.client.list_peerings(status="ACTIVE")
    assert [p["id"] for p in active.data["peerings"]] == [same_account.data["id"]]
    first_page = alpha.client.list_peerings(limit=1)
    assert len(first_page.data["peerings"]) == 1
    assert first_page.data["peerings_links"][0]["rel"] == "next"

    renamed = alpha.client.update_peering(peering_id, name="db-app-renamed")
    assert renamed.data["name"] == "db-app-renamed"
    assert renamed.data["description"] == "to beta"

    accepted = beta.client.accept_peering(peering_id)
    assert (accepted.data["id"], accepted.data["status"]) == (peering_id, "ACTIVE")

    other = alpha.client.create_peering(
        name="web-ops", request_vpc_id=web, accept_vpc_id=ops, accept_project_id=beta.project_id
    )
    rejected = beta.client.reject_peering(other.data["id"])
    assert rejected.data["status"] == "REJECTED"

    deleted = beta.client.delete_peering(peering_id)
    assert deleted.data is None
    assert deleted.record.status_code == 204
    with pytest.raises(CloudRefused) as info:
        alpha.client.show_peering(peering_id)
    assert (info.value.status, info.value.code) == (404, "VpcPeeringNotFound")


def test_simulator_refusals_reach_the_portal_typed(simulated, live_server):
    alpha = simulated("alpha", "alpha-main", {"alpha-web": "10.0.0.0/16"})
    beta = simulated("beta", "beta-main", {"beta-app": "192.168.0.0/16"})
    pending = alpha.client.create_peering(
        name="p",
        request_vpc_id=alpha.vpc_ids[0],
        accept_vpc_id=beta.vpc_ids[0],
        accept_project_id=beta.project_id,
    )

    with pytest.raises(CloudRefused) as not_accepter:
        alpha.client.accept_peering(pending.data["id"])
    assert (not_accepter.value.status, not_accepter.value.code) == (403, "PolicyNotAuthorized")

    with pytest.raises(CloudRefused) as wrong_peer:
        alpha.client.create_peering(
            name="q",
            request_vpc_id=alpha.vpc_ids[0],
            accept_vpc_id=beta.vpc_ids[0],
            accept_project_id="0" * 32,
        )
    assert (wrong_peer.value.status, wrong_peer.value.code) == (400, "InvalidInput")
    assert wrong_peer.value.message.startswith("Invalid input for operation")
    assert wrong_peer.value.record.attempts == 1

    forged = VpcApiClient(
        endpoint=live_server.url,
        credentials=Credentials(
            access_key=alpha.client.credentials.access_key,
            secret_key=Secret("not-the-secret-key"),
            project_id=alpha.project_id,
        ),
        retries=0,
    )
    with pytest.raises(CloudRefused) as bad_signature:
        forged.list_vpcs()
    error = bad_signature.value
    assert (error.status, error.code) == (401, "APIGW.0301")
    assert error.message == "Incorrect IAM authentication information: verify aksk signature fail"
    assert error.record.cloud_request_id


def test_keys_echoed_by_the_cloud_are_masked_in_errors_and_records(stub, make_client):
    """The gateway names an unknown AK in its message; it must not reach users or history."""
    stub.script(
        Reply(
            401, {"error_msg": f"Get secretKey failed,ak:{AK},err:ak not exist", "error_code": "APIGW.0301"}
        )
    )
    with pytest.raises(CloudRefused) as info:
        make_client().list_vpcs()
    error = info.value
    assert error.code == "APIGW.0301"
    assert "ak not exist" in error.message
    for text in (error.message, error.record.error_message, json.dumps(error.record.response_body)):
        assert AK not in text
        assert SK not in text
