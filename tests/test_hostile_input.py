"""Hostile input never makes a front answer 5xx, and never saves anything.

Property-based (hypothesis): NUL bytes, unpaired surrogates (escaped in JSON and as raw
invalid UTF-8), deep nesting and arbitrary JSON go into the API's bodies (create, update,
accept, reject) and filters and into the pages' forms. Each answer is below 500; API
answers carry the error shape; peerings, their status changes and calls stay as they were.
"""

from __future__ import annotations

import json
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from peerings.choices import CallOperation, PeeringStatus
from peerings.models import Peering, StatusChange, Tenant, UpstreamCall

pytestmark = pytest.mark.django_db(transaction=False)

HYPOTHESIS = settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

POISON = st.sampled_from(["\x00", "\ud800", "\udfff", "a\x00b", "\udc80\x00", "\x00" * 3])


def _poisoned(text: str, poison: str, at: int) -> str:
    at = at % (len(text) + 1)
    return text[:at] + poison + text[at:]


#: Text with at least one NUL or unpaired surrogate somewhere in it.
HOSTILE_TEXT = st.builds(_poisoned, st.text(max_size=30), POISON, st.integers(0, 30))
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)


def _set(body: dict, path: str, value) -> dict:
    *parents, leaf = path.split(".")
    node = body
    for name in parents:
        if not isinstance(node.get(name), dict):
            node[name] = {}
        node = node[name]
    node[leaf] = value
    return body


def _encode(body, raw: bool) -> bytes:
    """JSON with surrogates escaped (``\\ud800``), or raw: the same text as invalid UTF-8 bytes."""
    if raw:
        return json.dumps(body, ensure_ascii=False).encode("utf-8", "surrogatepass")
    return json.dumps(body).encode()


def _urlencoded(value: str, raw: bool) -> str:
    """Percent-encoded: raw keeps surrogates as (invalid) UTF-8 bytes; else they become NULs."""
    if not raw:
        value = "".join("\x00" if "\ud800" <= ch <= "\udfff" else ch for ch in value)
    return quote(value.encode("utf-8", "surrogatepass"), safe="")


def _deep(depth: int) -> bytes:
    return ('{"name": ' + "[" * depth + "]" * depth + "}").encode()


@pytest.fixture
def api(client_for, acme_approver, globex_approver):
    return {"acme": client_for(acme_approver), "globex": client_for(globex_approver)}


def _snapshot() -> tuple:
    return (
        list(Peering.objects.order_by("pk").values_list("pk", "name", "description", "status")),
        StatusChange.objects.count(),
        # Writes sent to the cloud (the request page lists the tenant's VPCs to render its form).
        UpstreamCall.objects.exclude(operation__in=[CallOperation.LIST_VPCS, CallOperation.SHOW]).count(),
    )


def _check_api(response) -> None:
    assert response.status_code < 500, response.content[:300]
    assert response.status_code >= 400, response.content[:300]
    error = response.json()["error"]
    assert isinstance(error["code"], str)
    assert isinstance(error["message"], str)


def _base_create(prod_web, globex_app) -> dict:
    return {
        "name": "hostile",
        "description": "",
        "request_vpc_info": {"vpc_id": str(prod_web.vpc_id)},
        "accept_vpc_info": {"vpc_id": str(globex_app.vpc_id), "tenant_id": globex_app.project.project_id},
    }


CREATE_FIELDS = [
    "name",
    "description",
    "request_vpc_info.vpc_id",
    "request_vpc_info.tenant_id",
    "accept_vpc_info.vpc_id",
    "accept_vpc_info.tenant_id",
]


def test_api_bodies(api, pending, prod_web, globex_app):
    before = _snapshot()
    targets = {
        "create": ("post", "/api/v1/peerings/", "acme", CREATE_FIELDS),
        "update": ("patch", f"/api/v1/peerings/{pending.pk}/", "acme", ["name", "description"]),
        "accept": ("post", f"/api/v1/peerings/{pending.pk}/accept/", "globex", ["reason"]),
        "reject": ("post", f"/api/v1/peerings/{pending.pk}/reject/", "globex", ["reason"]),
    }

    @HYPOTHESIS
    @given(
        target=st.sampled_from(sorted(targets)),
        field=st.integers(0, len(CREATE_FIELDS) - 1),
        value=HOSTILE_TEXT | st.lists(HOSTILE_TEXT, min_size=1, max_size=3),
        extra=st.dictionaries(st.text(max_size=8), JSON_VALUES, max_size=3),
        raw=st.booleans(),
        idempotency=st.booleans(),
    )
    def run(target, field, value, extra, raw, idempotency):
        method, url, who, fields = targets[target]
        base = _base_create(prod_web, globex_app) if target == "create" else {"reason": "ok"}
        body = _set({**extra, **base}, fields[field % len(fields)], value)
        headers = {"HTTP_IDEMPOTENCY_KEY": f"hostile-{target}-{field}"} if idempotency else {}
        response = getattr(api[who], method)(
            url, _encode(body, raw), content_type="application/json", **headers
        )
        _check_api(response)
        assert _snapshot() == before

    run()


@pytest.mark.parametrize("depth", [33, 1000, 100_000])
@pytest.mark.parametrize("action", ["create", "update", "reject"])
def test_deeply_nested_bodies_are_refused(api, pending, depth, action):
    before = _snapshot()
    url = {
        "create": "/api/v1/peerings/",
        "update": f"/api/v1/peerings/{pending.pk}/",
        "reject": f"/api/v1/peerings/{pending.pk}/reject/",
    }[action]
    client = api["globex" if action == "reject" else "acme"]
    method = client.patch if action == "update" else client.post
    response = method(url, _deep(depth), content_type="application/json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "parse_error"
    assert "nested deeper than" in response.json()["error"]["message"]
    assert _snapshot() == before


def test_nesting_within_the_limit_is_parsed(api):
    from peerings.api.parsers import MAX_DEPTH, json_depth

    assert json_depth('{"a": "[[[[", "b": [[{}]]}') == 4
    assert json_depth('["\\"[["]') == 1
    body = '{"name": ' + "[" * (MAX_DEPTH - 1) + "]" * (MAX_DEPTH - 1) + "}"
    response = api["acme"].post("/api/v1/peerings/", body, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid"  # read, then refused field by field


@pytest.mark.parametrize("action", ["create", "update", "reject"])
def test_oversized_bodies_are_413_in_the_error_shape(api, pending, settings, action):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
    before = _snapshot()
    body = json.dumps({"name": "x", "description": "a" * 2_700_000, "reason": "b" * 10})
    client = api["globex" if action == "reject" else "acme"]
    url = {
        "create": "/api/v1/peerings/",
        "update": f"/api/v1/peerings/{pending.pk}/",
        "reject": f"/api/v1/peerings/{pending.pk}/reject/",
    }[action]
    method = client.patch if action == "update" else client.post
    response = method(url, body, content_type="application/json")
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "request_too_large"
    assert _snapshot() == before


def test_oversized_api_body_read_without_content_length_check_is_413(rf, api):
    """Belt and braces: a body Django itself finds too big (RequestDataTooBig) is a 413 too."""
    from django.core.exceptions import RequestDataTooBig

    from peerings.api.exceptions import api_exception_handler

    response = api_exception_handler(RequestDataTooBig("too big"), {})
    assert response.status_code == 413
    assert response.data["error"]["code"] == "request_too_large"


def test_oversized_form_post_is_a_413_page(client, acme_member):
    client.force_login(acme_member)
    response = client.post("/peerings/new/", {"name": "x" * 2_700_000})
    assert response.status_code == 413
    assert b"Request too large" in response.content
    assert response["Content-Type"].startswith("text/html")


FILTERS = {
    "/api/v1/peerings/": ["status", "tenant", "direction", "vpc_id", "name", "created_after", "ordering"],
    "/api/v1/calls/": ["peering", "tenant", "operation", "failed", "created_before", "ordering"],
}


def test_api_filters(api, pending):
    @HYPOTHESIS
    @given(
        path=st.sampled_from(sorted(FILTERS)),
        params=st.lists(st.tuples(st.integers(0, 6), HOSTILE_TEXT), min_size=1, max_size=3),
        raw=st.booleans(),
    )
    def run(path, params, raw):
        names = FILTERS[path]
        pairs = [f"{names[index % len(names)]}={_urlencoded(value, raw)}" for index, value in params]
        response = api["acme"].get(f"{path}?{'&'.join(pairs)}")
        assert response.status_code < 500, response.content[:300]
        if response.status_code >= 400:
            _check_api(response)

    run()


def test_page_forms(client, pending, acme_member, globex_approver, acme_prod, prod_web, globex_app):
    before = _snapshot()
    forms = {
        "request": (
            acme_member,
            "/peerings/new/",
            {
                "tenant": str(acme_prod.pk),
                "request_vpc_id": str(prod_web.vpc_id),
                "accept_vpc_id": str(globex_app.vpc_id),
                "accept_project_id": globex_app.project.project_id,
                "name": "hostile",
                "description": "",
            },
        ),
        "edit": (acme_member, f"/peerings/{pending.pk}/edit/", {"name": "renamed", "description": ""}),
        "reject": (globex_approver, f"/peerings/{pending.pk}/reject/", {"reject-reason": "no"}),
        "accept": (globex_approver, f"/peerings/{pending.pk}/accept/", {"accept-reason": "ok"}),
        "list": (acme_member, "/peerings/", {"name": "x", "tenant": "1", "status": "ACTIVE"}),
    }

    @HYPOTHESIS
    @given(
        form=st.sampled_from(sorted(forms)),
        field=st.integers(0, 10),
        value=HOSTILE_TEXT,
        raw=st.booleans(),
    )
    def run(form, field, value, raw):
        user, url, data = forms[form]
        client.force_login(user)
        name = sorted(data)[field % len(data)]
        data = {**data, name: value}
        encoded = "&".join(f"{quote(k)}={_urlencoded(v, raw and k == name)}" for k, v in data.items())
        if form == "list":
            response = client.get(f"{url}?{encoded}")
        else:
            response = client.post(url, encoded, content_type="application/x-www-form-urlencoded")
        # Not UTF-8, or a NUL (surrogates sent as UTF-8 become NULs here): refused before any form.
        assert response.status_code == 400
        assert b"Nothing was saved" in response.content
        assert _snapshot() == before
        assert Peering.objects.get(pk=pending.pk).status == PeeringStatus.PENDING_ACCEPTANCE

    run()


def test_a_nul_in_an_admin_form_is_refused(admin_client):
    response = admin_client.post(
        "/admin/peerings/tenant/add/",
        "name=a%00b&project_id=x",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 400
    assert not Tenant.objects.exists()


def test_api_filters_name_the_field_with_a_nul(api):
    response = api["acme"].get("/api/v1/peerings/?name=a%00b")
    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {"name": ["Null characters are not allowed."]}
