"""Fault injection: each kind through plain ``requests`` and the official SDK, applied or not per the DB."""

from __future__ import annotations

import json
import threading
import time
import uuid

import pytest
import requests
from django.db import connection
from django.urls import reverse
from huaweicloudsdkcore.exceptions.exceptions import (
    ClientRequestException,
    ServerResponseException,
)
from huaweicloudsdkvpc.v2 import AcceptVpcPeeringRequest, ListVpcsRequest, ShowVpcPeeringRequest

import aksk
from tests.vpcsim.support import PEERINGS, Party, peering_body
from tests.vpcsim.test_sdk import create, sdk
from tests.waiting import wait_for
from vpcsim import faults as faults_module
from vpcsim.faults import FaultSpecError, parse_spec
from vpcsim.models import FaultRule, Peering, PeeringStatus

pytestmark = pytest.mark.django_db
live = pytest.mark.django_db(transaction=True)


def call(base: str, party: Party, method: str, path: str, body=None) -> requests.Response:
    """One signed request with plain ``requests`` (a unique signed id, so never a replay)."""
    data = json.dumps(body).encode() if body is not None else b""
    headers = aksk.sign(
        method=method,
        url=base + path,
        headers={
            "Content-Type": "application/json",
            "X-Project-Id": party.project_id,
            "X-Correlation-Id": uuid.uuid4().hex,
        },
        body=data,
        access_key=party.access_key,
        secret_key=party.secret_key,
    )
    return requests.request(method, base + path, data=data or None, headers=headers, timeout=10)


def create_body(alpha: Party, beta: Party, name: str = "link") -> dict:
    return peering_body(alpha.vpc_ids[0], beta.vpc_ids[0], beta.project_id, name=name)


# --- Off by default, rules from the environment -------------------------------------------------


def test_off_by_default(api, alpha, beta, settings, sim_faults):
    from portal import settings as portal_settings

    assert portal_settings.VPCSIM_FAULTS == ""
    assert api(alpha).post(PEERINGS, create_body(alpha, beta)).status_code == 201
    assert (FaultRule.objects.count(), sim_faults.injected()) == (0, 0)


def test_compact_spec():
    rules = parse_spec("accept:applied_then_500:times=1; create:latency:ms=2000:rate=0.5;*:429:retry_after=3")

    assert [
        (r["operation"], r["kind"], r["rate"], r["times"], r["latency_ms"], r["retry_after"]) for r in rules
    ] == [
        ("accept", "applied_then_500", None, 1, 0, 1),
        ("create", "latency", 0.5, None, 2000, 1),
        ("*", "429", None, None, 0, 3),
    ]


def test_json_spec():
    one = parse_spec('{"operation": "list_vpcs", "kind": "503", "times": 2}')
    many = parse_spec('[{"operation": "show", "kind": "nul_bytes"}, {"operation": "delete", "kind": "500"}]')

    assert [(r["operation"], r["kind"], r["remaining"]) for r in one] == [("list_vpcs", "503", 2)]
    assert [r["kind"] for r in many] == ["nul_bytes", "500"]
    assert parse_spec("  ") == []


@pytest.mark.parametrize(
    "spec",
    [
        "accept",
        "nope:500",
        "accept:teapot",
        "accept:500:rate=2",
        "accept:500:rate=x",
        "accept:500:times=0",
        "accept:500:colour=red",
        "create:latency",
        "[1]",
        '{"operation": "show"}',
        '{"operation": "show", "kind": "500", "extra": 1}',
        "{not json",
    ],
)
def test_bad_specs_are_refused(spec):
    with pytest.raises(FaultSpecError):
        parse_spec(spec)


def test_rules_from_the_environment_are_created_once(api, alpha, settings, sim_faults):
    settings.VPCSIM_FAULTS = "list_peerings:503:times=1; list_vpcs:429:retry_after=7:times=1"
    sim_faults.load_from_settings(force=True)
    sim_faults.load_from_settings(force=True)  # a second process: the same rules, counts shared

    assert FaultRule.objects.count() == 2
    first, second = api(alpha).get(PEERINGS), api(alpha).get(PEERINGS)
    assert (first.status_code, second.status_code) == (503, 200)
    throttled = api(alpha).get(f"/v1/{alpha.project_id}/vpcs")
    assert (throttled.status_code, throttled["Retry-After"]) == (429, "7")
    assert sim_faults.injected() == 2


def test_the_python_api_validates(sim_faults):
    with pytest.raises(FaultSpecError):
        sim_faults.inject("accept", kind="boom")
    with pytest.raises(FaultSpecError):
        sim_faults.inject("create", kind="latency")


# --- Each kind over plain HTTP (requests) ------------------------------------------------------------


@live
@pytest.mark.parametrize(
    ("kind", "status", "type"),
    [("500", 500, "HTTPInternalServerError"), ("503", 503, "HTTPServiceUnavailable")],
)
def test_server_errors_before_the_operation(live_server, alpha, beta, sim_faults, kind, status, type):
    rule = sim_faults.inject("create", kind=kind, times=1)

    response = call(live_server.url, alpha, "POST", PEERINGS, create_body(alpha, beta))

    assert response.status_code == status
    assert response.json()["NeutronError"]["type"] == type
    assert set(response.json()["NeutronError"]) == {"message", "type", "detail"}
    assert not Peering.objects.exists()
    assert call(live_server.url, alpha, "POST", PEERINGS, create_body(alpha, beta)).status_code == 201
    rule.refresh_from_db()
    assert (rule.remaining, rule.injected) == (0, 1)


@live
def test_server_error_on_a_v1_path_uses_the_v1_envelope(live_server, alpha, sim_faults):
    sim_faults.inject("list_vpcs", kind="500")

    response = call(live_server.url, alpha, "GET", f"/v1/{alpha.project_id}/vpcs")

    assert response.status_code == 500
    assert response.json() == {
        "code": "VPC.0500",
        "message": "Request Failed: internal server error while processing your request.",
    }


@live
def test_429_carries_retry_after(live_server, alpha, sim_faults):
    sim_faults.inject("list_peerings", kind="429", retry_after=5, times=1)

    response = call(live_server.url, alpha, "GET", PEERINGS)

    assert (response.status_code, response.headers["Retry-After"]) == (429, "5")
    assert response.json()["error_code"] == "APIGW.0308"


@live
def test_latency_is_added_before_the_operation(live_server, alpha, beta, sim_faults):
    """While the delayed create is on its way, other calls are served and see no peering yet."""
    sim_faults.inject("create", kind="latency", latency_ms=800, times=1)
    result = {}

    def slow_create():
        started = time.monotonic()
        result["response"] = call(live_server.url, alpha, "POST", PEERINGS, create_body(alpha, beta))
        result["elapsed"] = time.monotonic() - started

    thread = threading.Thread(target=slow_create)
    thread.start()
    wait_for(lambda: sim_faults.injected("create", kind="latency"), what="the create is being delayed")
    meanwhile = call(live_server.url, alpha, "GET", PEERINGS)
    thread.join(10)

    assert meanwhile.json()["peerings"] == []
    assert result["response"].status_code == 201
    assert result["elapsed"] >= 0.8
    assert Peering.objects.count() == 1


@live
def test_applied_then_dropped(live_server, alpha, beta, sim_faults):
    sim_faults.inject("create", kind="applied_then_dropped", times=1)

    with pytest.raises((requests.exceptions.ChunkedEncodingError, requests.exceptions.ConnectionError)):
        call(live_server.url, alpha, "POST", PEERINGS, create_body(alpha, beta))

    assert Peering.objects.get().name == "link"  # applied and committed
    assert sim_faults.injected("create") == 1
    assert call(live_server.url, alpha, "GET", PEERINGS).status_code == 200  # the server carries on


@live
def test_applied_then_500(live_server, alpha, beta, sim_faults):
    peering_id = call(live_server.url, alpha, "POST", PEERINGS, create_body(alpha, beta)).json()["peering"][
        "id"
    ]
    sim_faults.inject("accept", kind="applied_then_500", times=1)

    response = call(live_server.url, beta, "PUT", f"{PEERINGS}/{peering_id}/accept")

    assert response.status_code == 500
    assert response.json()["NeutronError"]["type"] == "HTTPInternalServerError"
    assert Peering.objects.get().status == PeeringStatus.ACTIVE


@live
def test_malformed_json(live_server, alpha, beta, sim_faults):
    sim_faults.inject("create", kind="malformed_json", times=1)

    response = call(live_server.url, alpha, "POST", PEERINGS, create_body(alpha, beta))

    assert response.status_code == 200
    with pytest.raises(requests.exceptions.JSONDecodeError):
        response.json()
    assert Peering.objects.count() == 1


@live
def test_nul_bytes(live_server, alpha, beta, sim_faults):
    created = call(live_server.url, alpha, "POST", PEERINGS, create_body(alpha, beta)).json()["peering"]
    sim_faults.inject("show", kind="nul_bytes")

    response = call(live_server.url, alpha, "GET", f"{PEERINGS}/{created['id']}")

    peering = response.json()["peering"]
    assert response.status_code == 200
    assert "\x00" in peering["name"]
    assert "\x00" in peering["id"]
    assert peering["name"].replace("\x00", "") == "link"


@live
@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="concurrent requests on SQLite's shared in-memory test database fail on its table lock",
)
def test_rules_for_any_operation_and_counts_across_threads(live_server, alpha, sim_faults):
    """``times`` is taken in one UPDATE: concurrent requests never inject more than asked."""
    sim_faults.inject("*", kind="503", times=5)
    statuses = []

    def worker():
        for _ in range(3):
            statuses.append(call(live_server.url, alpha, "GET", PEERINGS).status_code)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(20)

    assert sorted(statuses) == [200] * 7 + [503] * 5
    assert sim_faults.injected() == 5


# --- Each kind through the official SDK ------------------------------------------------------------


@live
@pytest.mark.parametrize(
    ("kind", "exception", "applied"),
    [
        ("500", ServerResponseException, False),
        ("503", ServerResponseException, False),
        ("429", ClientRequestException, False),
        ("applied_then_500", ServerResponseException, True),
        ("applied_then_dropped", requests.exceptions.ChunkedEncodingError, True),  # the SDK lets it through
    ],
)
def test_sdk_sees_each_kind(live_server, alpha, beta, sim_faults, kind, exception, applied):
    sim_faults.inject("create", kind=kind, times=1)
    client = sdk(live_server, alpha)

    with pytest.raises(exception) as caught:
        create(client, alpha.vpc_ids[0], beta.vpc_ids[0], beta.project_id)

    statuses = {"500": 500, "503": 503, "429": 429, "applied_then_500": 500}
    if kind in statuses:
        assert caught.value.status_code == statuses[kind]
    assert Peering.objects.exists() is applied
    assert sim_faults.injected("create", kind=kind) == 1


@live
def test_sdk_malformed_json_leaves_the_answer_empty(live_server, alpha, beta, sim_faults):
    """The SDK does not raise on a 200 it cannot parse: the response object holds nothing."""
    sim_faults.inject("create", kind="malformed_json", times=1)

    response = create(sdk(live_server, alpha), alpha.vpc_ids[0], beta.vpc_ids[0], beta.project_id)

    assert response.peering is None
    assert Peering.objects.count() == 1


@live
def test_sdk_latency_and_nul_bytes(live_server, alpha, beta, sim_faults):
    client = sdk(live_server, alpha)
    sim_faults.inject("list_vpcs", kind="latency", latency_ms=300, times=1)
    started = time.monotonic()
    assert len(client.list_vpcs(ListVpcsRequest()).vpcs) == 2
    assert time.monotonic() - started >= 0.3

    peering = create(client, alpha.vpc_ids[0], beta.vpc_ids[0], beta.project_id).peering
    sim_faults.inject("show", kind="nul_bytes", times=1)
    shown = client.show_vpc_peering(ShowVpcPeeringRequest(peering_id=peering.id)).peering
    assert "\x00" in shown.name


@live
def test_sdk_accept_applied_then_500(live_server, alpha, beta, sim_faults):
    peering = create(sdk(live_server, alpha), alpha.vpc_ids[0], beta.vpc_ids[0], beta.project_id).peering
    sim_faults.inject("accept", kind="applied_then_500", times=1)

    with pytest.raises(ServerResponseException) as caught:
        sdk(live_server, beta).accept_vpc_peering(AcceptVpcPeeringRequest(peering_id=peering.id))

    assert caught.value.status_code == 500
    assert Peering.objects.get().status == PeeringStatus.ACTIVE


# --- In process: rates, the test client ---------------------------------------------------------------


def _outcomes(api, alpha, n: int) -> list[int]:
    return [api(alpha).get(PEERINGS).status_code for _ in range(n)]


def test_rate_with_a_seed_is_repeatable_and_near_the_rate(api, alpha, sim_faults):
    sim_faults.inject("list_peerings", kind="503", rate=0.3)

    sim_faults.seed(42)
    first = _outcomes(api, alpha, 200)
    sim_faults.seed(42)
    second = _outcomes(api, alpha, 200)

    assert first == second
    assert 40 <= first.count(503) <= 80  # 60 expected; the seed makes it exact and stable
    assert sim_faults.injected("list_peerings") == 2 * first.count(503)


def test_rate_and_times_together(api, alpha, sim_faults):
    sim_faults.inject("list_peerings", kind="503", rate=0.5, times=3)
    sim_faults.seed(1)

    assert _outcomes(api, alpha, 60).count(503) == 3


def test_the_seed_setting_is_used(api, alpha, settings, sim_faults):
    settings.VPCSIM_FAULTS = "list_peerings:503:rate=0.5"
    settings.VPCSIM_FAULTS_SEED = "7"
    sim_faults.load_from_settings(force=True)
    first = _outcomes(api, alpha, 30)
    sim_faults.load_from_settings(force=True)  # reseeds; the rule already exists

    assert _outcomes(api, alpha, 30) == first
    assert FaultRule.objects.count() == 1


def test_dropped_under_the_test_client_raises(api, alpha, beta, sim_faults):
    sim_faults.inject("create", kind="applied_then_dropped")
    response = api(alpha).post(PEERINGS, create_body(alpha, beta))

    with pytest.raises(ConnectionResetError):
        b"".join(response.streaming_content)
    assert Peering.objects.count() == 1


def test_a_refused_operation_still_gets_its_fault(api, alpha, sim_faults):
    """After-kinds replace whatever the operation answered (here a 404), and count."""
    sim_faults.inject("show", kind="applied_then_500")

    assert api(alpha).get(f"{PEERINGS}/{uuid.uuid4()}").status_code == 500
    assert sim_faults.injected() == 1


def test_unknown_paths_get_no_faults(api, alpha, sim_faults):
    sim_faults.inject("*", kind="500")

    assert api(alpha).get("/v2.0/vpc/nothing").status_code == 404
    assert sim_faults.injected() == 0


def test_admin_lists_the_rules(admin_client, sim_faults):
    sim_faults.inject("accept", kind="applied_then_500", times=2)

    response = admin_client.get(reverse("admin:vpcsim_faultrule_changelist"))

    assert response.status_code == 200
    assert "applied_then_500" in response.content.decode()


def test_module_and_fixture_are_the_same(sim_faults):
    assert sim_faults is faults_module


@pytest.mark.parametrize(
    ("name", "value"), [("VPCSIM_FAULTS", "accept:teapot"), ("VPCSIM_REPLAY_CHECK", "sometimes")]
)
def test_bad_settings_stop_the_process_at_start(settings, name, value):
    from django.apps import apps
    from django.core.exceptions import ImproperlyConfigured

    setattr(settings, name, value)
    with pytest.raises(ImproperlyConfigured, match=name):
        apps.get_app_config("vpcsim").ready()
