"""AK/SK authentication of every request, the gateway's error envelope and the request id."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from tests.vpcsim.support import PEERINGS, neutron_error, peering_body
from vpcsim import clock
from vpcsim.models import Peering

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

    assert response.status_code == 401


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
    assert client.delete(PEERINGS).status_code == 401


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
