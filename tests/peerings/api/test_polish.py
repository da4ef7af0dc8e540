"""API polish: one message per field error, one pair of timestamps, orderings listed, the
tenant filter's unknown values refused, a root that describes the API, every code documented."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from peerings.rules.messages import NAME_TOO_LONG, UPDATE_NOTHING
from tests.factories import PeeringFactory
from tests.peerings.api.errors import api_error

pytestmark = pytest.mark.django_db

URL = "/api/v1/peerings/"


def test_a_too_long_name_is_one_message(acme_api, acme_prod):
    response = acme_api.post(URL, {"name": "x" * 65}, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["fields"]["name"] == [NAME_TOO_LONG]


def test_a_too_long_rename_is_one_message(acme_api, acme_prod):
    peering = PeeringFactory(requester_tenant=acme_prod)
    response = acme_api.patch(f"{URL}{peering.pk}/", {"name": "x" * 65}, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["fields"]["name"] == [NAME_TOO_LONG]


def test_a_rename_that_changes_nothing_has_the_workflows_message(acme_api, acme_prod):
    peering = PeeringFactory(requester_tenant=acme_prod)
    response = acme_api.patch(f"{URL}{peering.pk}/", {}, format="json")
    assert response.status_code == 400
    assert UPDATE_NOTHING in str(response.json()["error"])


def test_one_pair_of_timestamps(acme_api, acme_prod):
    peering = PeeringFactory(requester_tenant=acme_prod)
    body = acme_api.get(f"{URL}{peering.pk}/").json()
    assert "created" not in body
    assert "updated" not in body
    assert body["created_at"] is not None  # the portal's time until the cloud has one
    assert body["updated_at"] is not None


def test_the_ordering_values_are_in_the_400_and_the_schema(acme_api):
    response = acme_api.get(URL, {"ordering": "bogus"})
    assert response.status_code == 400
    message = response.json()["error"]["fields"]["ordering"][0]
    for value in ("created_at", "name", "status"):
        assert value in message
    schema = yaml.safe_load(acme_api.get("/api/v1/schema/").content)
    params = {p["name"]: p for p in schema["paths"][URL]["get"]["parameters"]}
    assert set(params["ordering"]["schema"]["items"]["enum"]) == {
        "created_at",
        "-created_at",
        "name",
        "-name",
        "status",
        "-status",
    }


def test_the_tenant_filter_takes_an_id_or_project_id_and_refuses_the_unknown(acme_api, acme_prod):
    peering = PeeringFactory(requester_tenant=acme_prod)
    for value in (acme_prod.pk, acme_prod.project_id):
        assert [p["id"] for p in acme_api.get(URL, {"tenant": value}).json()["results"]] == [peering.pk]
    for unknown in ("nope", "0", "f" * 32):
        response = acme_api.get(URL, {"tenant": unknown})
        assert response.status_code == 400, unknown
        assert response.json()["error"]["code"] == "invalid"
    assert api_error(acme_api.get("/api/v1/calls/", {"tenant": "nope"})) == (400, "invalid", ["tenant"])


def test_the_root_describes_the_api(acme_api):
    body = acme_api.get("/api/v1/").json()
    assert body["name"] == "VPC peering portal API"
    assert "peering" in body["description"]
    assert body["schema"].endswith("/api/v1/schema/")
    assert body["docs"].endswith("/api/v1/docs/")
    assert {"tenants", "peerings", "calls"} <= set(body)


def test_every_error_code_is_in_the_api_reference():
    sources = [*Path("peerings").rglob("*.py"), *Path("portal").glob("*.py"), *Path("accounts").glob("*.py")]
    codes = set()
    for source in sources:
        text = source.read_text()
        codes |= set(re.findall(r'default_code = "([a-z_]+)"', text))
        codes |= set(re.findall(r'error_body\(\s*"([a-z_]+)"', text))
        codes |= set(re.findall(r'code = "([a-z_]+)" if', text))
    codes |= {"not_authenticated", "authentication_failed", "not_found", "throttled", "parse_error"}
    codes |= {"permission_denied", "method_not_allowed", "not_acceptable", "unsupported_media_type"}
    reference = Path("docs/api.md").read_text()
    table = reference[reference.index("| failure | status | `error.code` |") :]
    table = table[: table.index("\n\n")]
    missing = sorted(code for code in codes if f"`{code}`" not in table)
    assert not missing


def test_an_unknown_tenant_with_a_percent_sign_is_a_400(acme_api):
    response = acme_api.get(URL, {"tenant": "%k%s%(x)s"})
    assert response.status_code == 400
    assert "“%k%s%(x)s”" in response.json()["error"]["fields"]["tenant"][0]
