"""Request lines, correlation ids (in, out and upstream) and JSON logs that never carry a secret."""

from __future__ import annotations

import json
import logging

import pytest
from django.urls import reverse

from accounts.models import ApiToken
from ops import correlation
from ops.logging import CorrelationIdFilter, JsonFormatter
from peerings.models import UpstreamCall
from tests.factories import create_body, tenant_admin_form


def request_lines(caplog) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "portal.request"]


def as_json(caplog) -> str:
    """Every captured record as the production formatter writes it."""
    formatter, stamp = JsonFormatter(), CorrelationIdFilter()
    lines = []
    for record in caplog.records:
        stamp.filter(record)
        lines.append(formatter.format(record))
    return "\n".join(lines)


@pytest.mark.django_db
def test_one_line_per_request_with_its_fields(client, caplog, django_user_model):
    user = django_user_model.objects.create_user("lena", password="pw-lena-123")
    client.force_login(user)
    caplog.set_level(logging.INFO)

    response = client.get("/peerings/?tenant=7", HTTP_X_CORRELATION_ID="abc-123.x")

    assert response["X-Correlation-Id"] == "abc-123.x"
    [line] = request_lines(caplog)
    assert (line.method, line.path, line.status) == ("GET", "/peerings/", response.status_code)
    assert line.user_id == user.pk
    assert line.tenant == "7"
    assert line.duration_ms >= 0
    entry = json.loads(as_json(caplog).splitlines()[-1])
    assert entry["correlation_id"] == "abc-123.x"
    assert {"method", "path", "status", "duration_ms", "user_id", "tenant"} <= set(entry)
    assert correlation.current() is None  # reset once the request is answered


@pytest.mark.parametrize("incoming", ["", "has space", "x" * 65, "<script>", "a;b"])
def test_an_insane_incoming_id_is_replaced(client, caplog, incoming):
    caplog.set_level(logging.INFO)
    response = client.get("/healthz/", HTTP_X_CORRELATION_ID=incoming)

    cid = response["X-Correlation-Id"]
    assert cid != incoming
    assert correlation.is_sane(cid)


def test_json_formatter_writes_any_extra_and_masks_secret_looking_ones():
    record = logging.LogRecord("peerings.cloud", logging.INFO, __file__, 1, "show GET %s", ("/x",), None)
    record.operation, record.attempts, record.error_code = "show", 2, "VPC.0001"
    record.secret_key, record.authorization = "sk-must-not-appear", "SDK-HMAC-SHA256 Access=AK"

    entry = json.loads(JsonFormatter().format(record))

    assert entry["message"] == "show GET /x"
    assert (entry["operation"], entry["attempts"], entry["error_code"]) == ("show", 2, "VPC.0001")
    assert entry["secret_key"] == entry["authorization"] == "********"
    assert entry["level"] == "INFO"
    assert entry["logger"] == "peerings.cloud"


def test_creating_a_tenants_keys_logs_no_secret(admin_client, caplog):
    caplog.set_level(logging.DEBUG)
    data = tenant_admin_form(
        name="logged-tenant", access_key="AKLOGCHECK0000000001", secret_key="sk-log-check-secret-value"
    )

    response = admin_client.post(reverse("admin:peerings_tenant_add"), data)

    assert response.status_code == 302
    assert request_lines(caplog)
    logged = as_json(caplog)
    assert "AKLOGCHECK0000000001" not in logged
    assert "sk-log-check-secret-value" not in logged


def test_a_request_calling_the_cloud_shares_its_id_upstream_and_logs_no_key(
    client, cloud, acme_member, acme_prod, prod_web, globex_app, caplog
):
    caplog.set_level(logging.DEBUG)
    _, key = ApiToken.objects.create_token(acme_member, name="tests")

    response = client.post(
        "/api/v1/peerings/",
        create_body(prod_web, globex_app),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Token {key}",
        HTTP_X_CORRELATION_ID="req-42",
    )

    assert response.status_code == 201, response.content
    calls = list(UpstreamCall.objects.values_list("operation", "correlation_id"))
    assert calls
    assert {cid for _, cid in calls} == {"req-42"}
    cloud_lines = [r for r in caplog.records if r.name == "peerings.cloud"]
    assert cloud_lines
    assert all(r.correlation_id == "req-42" for r in cloud_lines)
    logged = as_json(caplog)
    tenant = type(acme_prod).objects.get(pk=acme_prod.pk)
    assert tenant.access_key.reveal() not in logged
    assert tenant.secret_key.reveal() not in logged
    assert key not in logged


def test_a_call_outside_any_request_gets_its_own_id(pending):
    ids = set(UpstreamCall.objects.values_list("correlation_id", flat=True))
    assert len(ids) == UpstreamCall.objects.count()
