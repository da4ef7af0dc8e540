"""AK/SK authentication of every request, the gateway's error envelope and the request id."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re

import pytest
import requests

import aksk
from tests.vpcsim.support import PEERINGS, neutron_error, peering_body
from vpcsim import auth, clock
from vpcsim.models import Peering, SeenSignature

pytestmark = pytest.mark.django_db

SIGNATURE_FAIL = "Incorrect IAM authentication information: verify aksk signature fail"


def assert_gateway_error(response, status: int, code: str, message: str) -> None:
    assert response.status_code == status
    body = response.json()
    assert body == {"error_msg": message, "error_code": code, "request_id": response["X-Request-Id"]}


def test_a_correctly_signed_request_passes(api, alpha):
    response = api(alpha).get(PEERINGS)

    assert response.status_code == 200
    assert response.json() == {"peerings": [], "peerings_links": []}


def test_every_response_carries_a_request_id(api, alpha, client):
    ok = api(alpha).get(PEERINGS)
    refused = client.get(PEERINGS)

    for response in (ok, refused):
        assert re.fullmatch(r"[0-9a-f]{32}", response["X-Request-Id"])
    assert ok["X-Request-Id"] != refused["X-Request-Id"]


def test_missing_authorization_is_401(client, alpha):
    response = client.get(PEERINGS, headers={"X-Project-Id": alpha.project_id})

    assert_gateway_error(
        response,
        401,
        "APIGW.0301",
        "Incorrect IAM authentication information: Authorization header is missing or malformed",
    )


def test_unknown_access_key_is_401(api, alpha):
    client = api(alpha)
    client.access_key = "NOSUCHKEY00000000000"

    response = client.get(PEERINGS)

    assert_gateway_error(
        response, 401, "APIGW.0301", "Get secretKey failed,ak:NOSUCHKEY00000000000,err:ak not exist"
    )


def test_wrong_secret_key_is_401_and_echoes_no_secret(api, alpha):
    client = api(alpha)
    client.secret_key = "W" * 40

    response = client.get(PEERINGS)

    assert_gateway_error(response, 401, "APIGW.0301", SIGNATURE_FAIL)
    assert alpha.secret_key.encode() not in response.content


def _replace_body(sent):
    sent["body"] = sent["body"].replace(b'"link"', b'"evil"')


def _replace_query(sent):
    sent["path"] = sent["path"].replace("limit=5", "limit=6")


def _add_query(sent):
    sent["path"] += "&status=ACTIVE"


def _replace_path(sent):
    sent["path"] = sent["path"].replace("/peerings", "/routes")


def _swap_signed_header(sent):
    sent["headers"]["X-Project-Id"] = "0" * 32


@pytest.mark.parametrize(
    "tamper",
    [_replace_body, _replace_query, _add_query, _replace_path, _swap_signed_header],
    ids=["body", "query-value", "query-added", "path", "signed-header"],
)
def test_tampering_with_a_signed_part_is_401(api, alpha, beta, tamper):
    body = peering_body(alpha.vpc_ids[0], beta.vpc_ids[0], beta.project_id)

    response = api(alpha).request("POST", PEERINGS, query={"limit": 5}, body=body, tamper=tamper)

    assert_gateway_error(response, 401, "APIGW.0301", SIGNATURE_FAIL)
    assert not Peering.objects.exists()


def test_unsigned_headers_may_be_added(api, alpha):
    def add_header(sent):
        sent["headers"]["X-Forwarded-For"] = "10.9.9.9"

    assert api(alpha).get(PEERINGS, tamper=add_header).status_code == 200


def _signed_without_project(party, method: str, path: str, body: bytes = b"") -> dict[str, str]:
    """Headers signed with no X-Project-Id (the signed header list leaves it out)."""
    return aksk.sign(
        method=method,
        url=f"http://testserver{path}",
        headers={"Content-Type": "application/json"} if body else {},
        body=body,
        access_key=party.access_key,
        secret_key=party.secret_key,
    )


def test_an_unsigned_project_header_is_refused(client, alpha, alpha_dev):
    """Added after signing, X-Project-Id could name any project of the account: it is not honoured."""
    headers = _signed_without_project(alpha, "GET", f"/v1/{alpha_dev.project_id}/vpcs")
    assert "x-project-id" not in headers["Authorization"]

    for project in (alpha.project_id, alpha_dev.project_id):
        response = client.get(
            f"/v1/{alpha_dev.project_id}/vpcs", headers={**headers, "X-Project-Id": project}
        )

        assert_gateway_error(response, 401, "APIGW.0301", auth.PROJECT_UNSIGNED)


def test_an_unsigned_project_header_cannot_create_in_another_project(client, alpha, alpha_dev, beta):
    body = json.dumps(peering_body(alpha_dev.vpc_ids[0], beta.vpc_ids[0], beta.project_id)).encode()
    headers = _signed_without_project(alpha, "POST", PEERINGS, body)

    response = client.generic(
        "POST", PEERINGS, data=body, headers={**headers, "X-Project-Id": alpha_dev.project_id}
    )

    assert_gateway_error(response, 401, "APIGW.0301", auth.PROJECT_UNSIGNED)
    assert not Peering.objects.exists()


def test_repeated_and_encoded_query_parameters_verify(api, alpha):
    query = [("status", "ACTIVE"), ("status", "PENDING_ACCEPTANCE"), ("name", "a b/ü&c")]

    assert api(alpha).get(PEERINGS, query=query).status_code == 200


def test_an_encoded_path_verifies_and_reaches_the_view(api, alpha):
    response = api(alpha).get(f"{PEERINGS}/a%20b")

    assert response.status_code == 404
    assert neutron_error(response)["type"] == "VpcPeeringNotFound"


@pytest.mark.parametrize(("minutes", "status"), [(-16, 401), (16, 401), (-14, 200), (14, 200)])
def test_date_must_be_within_the_allowed_skew_of_real_time(api, alpha, minutes, status):
    signed_at = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=minutes)

    response = api(alpha).get(PEERINGS, now=signed_at)

    assert response.status_code == status
    if status == 401:
        assert response.json()["error_msg"].endswith("X-Sdk-Date is too far from the current time")


def test_skew_is_a_setting(api, alpha, settings):
    settings.VPCSIM_CLOCK_SKEW_SECONDS = 30

    response = api(alpha).get(PEERINGS, now=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1))

    assert_gateway_error(
        response,
        401,
        "APIGW.0301",
        "Incorrect IAM authentication information: X-Sdk-Date is too far from the current time",
    )


def test_the_simulator_clock_does_not_affect_authentication(api, alpha):
    clock.advance(dt.timedelta(days=30))

    assert api(alpha).get(PEERINGS).status_code == 200


def test_malformed_date_is_401(api, alpha):
    def bad_date(sent):
        sent["headers"]["X-Sdk-Date"] = "yesterday"

    response = api(alpha).get(PEERINGS, tamper=bad_date)

    assert_gateway_error(
        response,
        401,
        "APIGW.0301",
        "Incorrect IAM authentication information: X-Sdk-Date header is malformed",
    )


def test_missing_project_header_is_401(api, alpha):
    response = api(alpha).get(PEERINGS, project_id="")

    assert_gateway_error(
        response,
        401,
        "APIGW.0301",
        "Incorrect IAM authentication information: X-Project-Id header is missing",
    )


@pytest.mark.parametrize("project", ["other-account", "unknown"])
def test_project_not_of_the_keys_account_is_403(api, alpha, beta, project):
    project_id = beta.project_id if project == "other-account" else "f" * 32

    response = api(alpha).get(PEERINGS, project_id=project_id)

    assert_gateway_error(response, 403, "APIGW.0302", "The IAM user is not authorized to access the API.")


def test_a_key_may_act_for_any_project_of_its_account(api, alpha, alpha_dev):
    response = api(alpha).get(f"/v1/{alpha_dev.project_id}/vpcs", project_id=alpha_dev.project_id)

    assert response.status_code == 200
    assert [v["id"] for v in response.json()["vpcs"]] == alpha_dev.vpc_ids


def test_unserved_method_is_405_after_authentication(api, alpha, client):
    response = api(alpha).delete(PEERINGS)

    assert response.status_code == 405
    assert response["Allow"] == "GET, POST"
    assert neutron_error(response)["type"] == "HTTPMethodNotAllowed"
    assert_gateway_error(
        client.delete(PEERINGS),
        401,
        "APIGW.0301",
        "Incorrect IAM authentication information: Authorization header is missing or malformed",
    )


def test_v1_unserved_method_uses_the_v1_envelope(api, alpha):
    response = api(alpha).post(f"/v1/{alpha.project_id}/vpcs", {"vpc": {}})

    assert response.status_code == 405
    assert set(response.json()) == {"code", "message"}


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        (
            "get",
            "/v2.0/vpc/peerings/",
            {
                "NeutronError": {
                    "message": "The resource could not be found.",
                    "type": "HTTPNotFound",
                    "detail": "",
                }
            },
        ),
        (
            "delete",
            "/v2.0/vpc/nothing",
            {
                "NeutronError": {
                    "message": "The resource could not be found.",
                    "type": "HTTPNotFound",
                    "detail": "",
                }
            },
        ),
        ("get", "/v1/x/subnets", {"code": "VPC.0003", "message": "The resource could not be found."}),
    ],
)
def test_unknown_paths_are_404_in_the_paths_envelope(api, alpha, method, path, body):
    response = getattr(api(alpha), method)(path)
    assert response.status_code == 404
    assert response.json() == body
    assert response["X-Request-Id"]


def test_unknown_paths_still_need_a_signature(client):
    response = client.get("/v2.0/vpc/nothing")
    assert response.status_code == 401
    assert response.json()["error_code"] == "APIGW.0301"


# --- Skew boundaries, body binding, replays -----------------------------------------------------

FROZEN = dt.datetime(2026, 3, 1, 12, 0, 0, tzinfo=dt.UTC)


@pytest.fixture
def frozen_gateway(monkeypatch):
    """The gateway's wall clock stopped on a whole second."""
    monkeypatch.setattr(auth, "_now", lambda: FROZEN)
    return FROZEN


@pytest.mark.parametrize(
    ("seconds", "status"),
    [(-901, 401), (-900, 200), (0, 200), (900, 200), (901, 401)],
)
def test_skew_boundaries_are_fifteen_minutes_inclusive(api, alpha, frozen_gateway, seconds, status):
    """The gateway's documented window: X-Sdk-Date within 15 minutes of its clock, either way."""
    response = api(alpha).get(PEERINGS, now=frozen_gateway + dt.timedelta(seconds=seconds))

    assert response.status_code == status


def test_the_default_skew_is_the_gateways_fifteen_minutes():
    from portal import settings as portal_settings

    assert portal_settings.VPCSIM_CLOCK_SKEW_SECONDS == 15 * 60


def test_an_unsigned_content_sha256_header_cannot_carry_another_body(api, alpha, beta):
    original = peering_body(alpha.vpc_ids[0], beta.vpc_ids[0], beta.project_id)

    def swap_body(sent):
        sent["headers"]["X-Sdk-Content-Sha256"] = hashlib.sha256(sent["body"]).hexdigest()
        sent["body"] = sent["body"].replace(b'"link"', b'"evil"')

    response = api(alpha).post(PEERINGS, original, tamper=swap_body)

    assert_gateway_error(response, 401, "APIGW.0301", SIGNATURE_FAIL)
    assert not Peering.objects.exists()


def test_a_signed_content_sha256_header_is_honoured(api, alpha, beta, client):
    body = json.dumps(peering_body(alpha.vpc_ids[0], beta.vpc_ids[0], beta.project_id)).encode()
    signed = aksk.sign(
        method="POST",
        url=f"http://testserver{PEERINGS}",
        headers={
            "Content-Type": "application/json",
            "X-Project-Id": alpha.project_id,
            "X-Sdk-Content-Sha256": hashlib.sha256(body).hexdigest(),
        },
        body=body,
        access_key=alpha.access_key,
        secret_key=alpha.secret_key,
    )

    forged = client.generic("POST", PEERINGS, data=body.replace(b'"link"', b'"evil"'), headers=signed)
    assert_gateway_error(forged, 401, "APIGW.0301", SIGNATURE_FAIL)
    honest = client.generic("POST", PEERINGS, data=body, headers=signed)
    assert honest.status_code == 201, honest.content
    assert list(Peering.objects.values_list("name", flat=True)) == ["link"]


def _capture(api, party, method, path, body=None):
    """Sign a request once and return a function sending exactly those bytes again."""
    captured = {}

    def keep(sent):
        captured.update(sent)

    first = api(party).request(method, path, body=body, tamper=keep)

    def again():
        return api(party).client.generic(
            method, captured["path"], data=captured["body"], headers=captured["headers"]
        )

    return first, again


def test_a_replayed_write_is_refused_when_opted_in(api, alpha, beta, replays_refused):
    body = peering_body(alpha.vpc_ids[0], beta.vpc_ids[0], beta.project_id)
    first, again = _capture(api, alpha, "POST", PEERINGS, body)
    Peering.objects.all().delete()  # so the service alone would accept the same create again

    replayed = again()

    assert first.status_code == 201
    assert_gateway_error(replayed, 401, "APIGW.0301", auth.REPLAYED)
    assert not Peering.objects.exists()


def test_a_replayed_accept_is_refused_when_opted_in(api, alpha, beta, make_peering, replays_refused):
    peering = make_peering(alpha, beta)
    first, again = _capture(api, beta, "PUT", f"{PEERINGS}/{peering['id']}/accept")

    assert first.status_code == 200
    assert again().json()["error_code"] == "APIGW.0301"


def test_reads_may_be_replayed_under_writes_but_not_under_all(api, alpha, settings, replays_refused):
    first, again = _capture(api, alpha, "GET", PEERINGS)
    assert (first.status_code, again().status_code) == (200, 200)

    settings.VPCSIM_REPLAY_CHECK = "all"
    first, again = _capture(api, alpha, "GET", PEERINGS)
    assert (first.status_code, again().status_code) == (200, 401)


def test_replay_check_off_by_default_as_the_cloud(api, alpha, make_peering, beta):
    """The cloud documents no replay refusal: the same signed write twice reaches the service twice."""
    from portal import settings as portal_settings

    assert portal_settings.VPCSIM_REPLAY_CHECK == "off"
    peering = make_peering(alpha, beta)
    first, again = _capture(api, alpha, "DELETE", f"{PEERINGS}/{peering['id']}")

    assert (first.status_code, again().status_code) == (204, 404)
    assert not SeenSignature.objects.exists()


def test_a_failed_signature_is_not_remembered(api, alpha, beta, replays_refused):
    """Only verified signatures are kept: a forged one cannot block the genuine request."""
    body = peering_body(alpha.vpc_ids[0], beta.vpc_ids[0], beta.project_id)
    response = api(alpha).post(PEERINGS, body, tamper=_replace_body)

    assert response.status_code == 401
    assert not SeenSignature.objects.exists()


def test_a_signature_is_kept_until_its_date_leaves_the_window_then_purged(
    api, alpha, monkeypatch, replays_refused
):
    signed_at = dt.datetime.now(dt.UTC).replace(microsecond=0)
    api(alpha).post(PEERINGS, {"peering": {}}, now=signed_at)
    seen = SeenSignature.objects.get()
    assert seen.expires_at == signed_at + dt.timedelta(minutes=15)

    later = signed_at + dt.timedelta(minutes=16)
    monkeypatch.setattr(auth, "_now", lambda: later)
    monkeypatch.setattr(auth, "_last_purge", -1e9)
    api(alpha).post(PEERINGS, {"peering": {}}, now=later)

    assert [s.expires_at for s in SeenSignature.objects.all()] == [later + dt.timedelta(minutes=15)]


@pytest.mark.django_db(transaction=True)
def test_replays_are_refused_across_server_threads(live_server, alpha, beta, replays_refused):
    """The seen signatures live in the database: a second server (thread) sees the first's."""
    body = json.dumps(peering_body(alpha.vpc_ids[0], beta.vpc_ids[0], beta.project_id)).encode()
    url = f"{live_server.url}{PEERINGS}"
    headers = aksk.sign(
        method="POST",
        url=url,
        headers={"Content-Type": "application/json", "X-Project-Id": alpha.project_id},
        body=body,
        access_key=alpha.access_key,
        secret_key=alpha.secret_key,
    )

    first = requests.post(url, data=body, headers=headers, timeout=10)
    second = requests.post(url, data=body, headers=headers, timeout=10)

    assert first.status_code == 201
    assert second.status_code == 401
    assert second.json()["error_msg"] == auth.REPLAYED
    assert Peering.objects.count() == 1
