"""The OpenAPI schema: served, warning-free, and complete enough for a generated client."""

from __future__ import annotations

import io

import pytest
import yaml
from django.core.management import call_command

OPERATIONS = {
    ("get", "/api/v1/tenants/"): "tenants_list",
    ("get", "/api/v1/tenants/{id}/"): "tenants_retrieve",
    ("get", "/api/v1/tenants/{id}/vpcs/"): "tenants_vpcs",
    ("get", "/api/v1/directory/"): "directory_list",
    ("get", "/api/v1/directory/{id}/"): "directory_retrieve",
    ("get", "/api/v1/directory/{id}/vpcs/"): "directory_vpcs",
    ("get", "/api/v1/peerings/"): "peerings_list",
    ("post", "/api/v1/peerings/"): "peerings_create",
    ("get", "/api/v1/peerings/{id}/"): "peerings_retrieve",
    ("patch", "/api/v1/peerings/{id}/"): "peerings_update",
    ("delete", "/api/v1/peerings/{id}/"): "peerings_delete",
    ("post", "/api/v1/peerings/{id}/accept/"): "peerings_accept",
    ("post", "/api/v1/peerings/{id}/reject/"): "peerings_reject",
    ("post", "/api/v1/peerings/{id}/approve/"): "peerings_approve",
    ("post", "/api/v1/peerings/{id}/decline/"): "peerings_decline",
    ("post", "/api/v1/peerings/{id}/refresh/"): "peerings_refresh",
    ("get", "/api/v1/peerings/{id}/calls/"): "peerings_calls",
    ("get", "/api/v1/peerings/{id}/status-changes/"): "peerings_status_changes",
    ("get", "/api/v1/peerings/{id}/routes/"): "peerings_routes_list",
    ("post", "/api/v1/peerings/{id}/routes/"): "peerings_routes_apply",
    ("get", "/api/v1/peerings/{id}/routes/plan/"): "peerings_routes_plan",
    ("delete", "/api/v1/peerings/{id}/routes/{route_id}/"): "peerings_routes_remove",
    ("get", "/api/v1/calls/"): "calls_list",
    ("get", "/api/v1/calls/{id}/"): "calls_retrieve",
    ("get", "/api/v1/calls/export/"): "calls_export",
    ("get", "/api/v1/status-changes/"): "status_changes_list",
    ("get", "/api/v1/search/"): "search",
    ("get", "/api/v1/peerings/export/"): "peerings_export",
    ("get", "/api/v1/status-changes/{id}/"): "status_changes_retrieve",
    ("get", "/api/v1/status-changes/export/"): "status_changes_export",
}


@pytest.fixture(scope="module")
def schema(django_db_blocker) -> dict:
    out = io.StringIO()
    with django_db_blocker.unblock():
        call_command("spectacular", "--validate", "--fail-on-warn", stdout=out)
    return yaml.safe_load(out.getvalue())


def test_schema_and_docs_need_credentials(anon, db):
    assert anon.get("/api/v1/schema/").status_code == 401
    # The docs page is for people: a signed-out browser is sent to sign in, a bad token gets the 401.
    assert anon.get("/api/v1/docs/").status_code == 302
    assert anon.get("/api/v1/docs/", HTTP_AUTHORIZATION="Token nope").status_code == 401


def test_the_schema_is_served(acme_api):
    response = acme_api.get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")

    assert response.status_code == 200
    assert response.json()["openapi"].startswith("3.")
    assert "/api/v1/peerings/" in response.json()["paths"]


def test_the_docs_page_uses_the_projects_own_static_files(acme_api):
    response = acme_api.get("/api/v1/docs/")

    assert response.status_code == 200
    page = response.content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in page
    assert "cdn" not in page.lower()
    script = acme_api.get("/api/v1/docs/?script=").content.decode()  # its init script (no inline code)
    assert "/api/v1/schema/" in script
    assert "cdn" not in script.lower()


def test_every_operation_is_there_with_its_id(schema):
    found = {
        (method, path): operation["operationId"]
        for path, item in schema["paths"].items()
        for method, operation in item.items()
    }
    assert found == OPERATIONS


def test_every_operation_documents_its_errors_and_auth(schema):
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            responses = operation["responses"]
            errors = {code for code in responses if code[0] in "45"}
            assert {"401", "429"} <= errors, (method, path)
            if "{id}" in path:
                assert "404" in errors, (method, path)
            for code in errors:
                ref = responses[code]["content"]["application/json"]["schema"]["$ref"]
                assert ref == "#/components/schemas/Error", (method, path, code)
            assert operation["security"] == [{"tokenAuth": []}, {"cookieAuth": []}]
            if method in {"post", "patch", "delete"}:
                assert {"400", "403", "409", "422", "503", "504"} <= errors, (method, path)
                headers = [p["name"] for p in operation.get("parameters", []) if p["in"] == "header"]
                assert headers == ["Idempotency-Key"], (method, path)


def test_writes_use_explicit_request_components(schema):
    def request_ref(method, path):
        body = schema["paths"][path][method].get("requestBody")
        return body and body["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]

    assert request_ref("post", "/api/v1/peerings/") == "PeeringCreateRequest"
    assert request_ref("patch", "/api/v1/peerings/{id}/") == "PatchedPeeringUpdateRequest"
    assert request_ref("post", "/api/v1/peerings/{id}/accept/") == "PeeringAcceptRequest"
    assert request_ref("post", "/api/v1/peerings/{id}/reject/") == "PeeringRejectRequest"
    assert request_ref("post", "/api/v1/peerings/{id}/refresh/") is None
    create = schema["components"]["schemas"]["PeeringCreateRequest"]
    assert create["required"] == ["accept_vpc_info", "name", "request_vpc_info"]
    error = schema["components"]["schemas"]["ErrorDetail"]["properties"]
    assert set(error) == {"code", "message", "fields", "cloud", "peering"}
