"""Hostile input never makes the simulator answer 500: NUL, lone surrogates, deep nesting, anything.

Each is a 4xx in the path's own envelope (``NeutronError`` on /v2.0, ``{"code", "message"}`` on /v1)
with nothing saved. A hypothesis run throws generated bodies and query filters at it.
"""

from __future__ import annotations

import json
import uuid

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.vpcsim.support import PEERINGS, ROUTES, neutron_error, peering_body
from vpcsim.models import Peering, Route

pytestmark = pytest.mark.django_db

HOSTILE = ["\x00", "a\x00b", "\ud800", "x\udfffy", "\ud83d"]


def v1_error(response) -> dict:
    body = response.json()
    assert set(body) == {"code", "message"}
    return body


NUL_IN_BODY = {
    "type": "InvalidInput",
    "message": "Invalid input for operation: the request body contains a NUL character.",
    "detail": "",
}


def _raw(value) -> bytes:
    """JSON with non-ASCII escaped, so a lone surrogate travels as ``\\ud800`` (valid JSON)."""
    return json.dumps(value, ensure_ascii=True).encode()


@pytest.mark.parametrize("text", HOSTILE)
@pytest.mark.parametrize("field", ["name", "description"])
def test_create_with_a_nul_or_surrogate_is_400(api, alpha, beta, field, text):
    body = peering_body(alpha.vpc_ids[0], beta.vpc_ids[0], beta.project_id, **{field: f"n{text}"})

    response = api(alpha).post(PEERINGS, raw=_raw(body))

    assert response.status_code == 400
    assert neutron_error(response)["type"] == "InvalidInput"
    assert not Peering.objects.exists()


@pytest.mark.parametrize("text", HOSTILE)
def test_update_with_a_nul_or_surrogate_is_400(api, alpha, beta, make_peering, text):
    peering = make_peering(alpha, beta)

    response = api(alpha).put(f"{PEERINGS}/{peering['id']}", raw=_raw({"peering": {"name": text}}))

    assert response.status_code == 400
    assert neutron_error(response)["type"] == "InvalidInput"
    assert Peering.objects.get().name == "link"


def test_a_nul_in_a_key_or_a_tenant_id_is_400(api, alpha, beta):
    body = peering_body(alpha.vpc_ids[0], beta.vpc_ids[0], f"{beta.project_id}\x00")
    refused = [api(alpha).post(PEERINGS, raw=_raw(value)) for value in (body, {"peering\x00": {}})]

    assert [(r.status_code, neutron_error(r)) for r in refused] == [(400, NUL_IN_BODY)] * 2
    assert not Peering.objects.exists()


@pytest.mark.parametrize("depth", [33, 1000, 100_000])
@pytest.mark.parametrize("path", [PEERINGS, ROUTES])
def test_deeply_nested_json_is_malformed(api, alpha, depth, path):
    response = api(alpha).post(path, raw=b"[" * depth + b"]" * depth)

    assert response.status_code == 400
    assert neutron_error(response)["type"] == "MalformedRequestBody"


def test_deep_nesting_inside_a_valid_looking_body(api, alpha, beta):
    nested: object = "x"
    for _ in range(900):
        nested = [nested]
    body = peering_body(alpha.vpc_ids[0], beta.vpc_ids[0], beta.project_id, description=nested)

    response = api(alpha).post(PEERINGS, raw=_raw(body))

    assert response.status_code == 400
    assert neutron_error(response) == {
        "type": "MalformedRequestBody",
        "message": "Malformed request body: nested deeper than 32 levels",
        "detail": "",
    }
    assert not Peering.objects.exists()


@pytest.mark.parametrize("text", ["\x00", "a\x00", "\ud800"])
@pytest.mark.parametrize("param", ["name", "id", "status", "tenant_id", "marker", "limit", "n\x00"])
def test_hostile_query_filters_are_400(api, alpha, param, text):
    response = api(alpha).get(PEERINGS, query=[(param, text)])

    assert response.status_code in (200, 400)  # a lone surrogate arrives as U+FFFD: an ordinary value
    if "\x00" in param + text:
        assert response.status_code == 400
        assert neutron_error(response)["type"] == "InvalidInput"


@pytest.mark.parametrize("query", [[("id", "\x00")], [("marker", "a\x00")], [("limit", "\x00")]])
def test_hostile_query_on_v1_uses_the_v1_envelope(api, alpha, query):
    response = api(alpha).get(f"/v1/{alpha.project_id}/vpcs", query=query)

    assert response.status_code == 400
    assert v1_error(response)["code"] == "VPC.0101"


def test_hostile_route_body_and_filters(api, alpha):
    body = {
        "route": {"type": "peering", "nexthop": str(uuid.uuid4()), "destination": "\x00", "vpc_id": "\ud800"}
    }
    created = api(alpha).post(ROUTES, raw=_raw(body))
    listed = api(alpha).get(ROUTES, query=[("destination", "\x00")])

    assert [created.status_code, listed.status_code] == [400, 400]
    assert neutron_error(created)["message"] == (
        "Invalid input for operation: the request body contains an invalid Unicode character "
        "(a lone surrogate)."
    )
    assert neutron_error(listed)["message"] == (
        "Invalid input for operation: the query parameter 'destination' contains a NUL character."
    )
    assert not Route.objects.exists()


def test_a_nul_in_the_path_is_not_a_500(api, alpha):
    response = api(alpha).get(f"{PEERINGS}/%00")

    assert 400 <= response.status_code < 500
    neutron_error(response)


# --- Generated input -------------------------------------------------------------------------------

# Any character at all, surrogates and NUL included; a few meaningful words mixed in.
text = st.text(st.characters(codec=None, categories=None), max_size=80) | st.sampled_from(
    ["", "link", "ACTIVE", "PENDING_ACCEPTANCE", "<b>", "10.0.0.0/16", "\x00", "\ud800"]
)
scalar = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | text
json_value = st.recursive(
    scalar, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(text, inner, max_size=3), max_leaves=8
)
vpc_info = st.fixed_dictionaries({}, optional={"vpc_id": text | st.uuids().map(str), "tenant_id": text})
peering = st.fixed_dictionaries(
    {},
    optional={
        "name": text | json_value,
        "description": text | json_value,
        "request_vpc_info": vpc_info | json_value,
        "accept_vpc_info": vpc_info | json_value,
        "status": text,
    },
)
body = st.fixed_dictionaries({"peering": peering | json_value}) | json_value
query = st.lists(
    st.tuples(
        st.sampled_from(["id", "name", "status", "tenant_id", "vpc_id", "marker", "limit", "page_reverse"])
        | text,
        text | st.integers().map(str),
    ),
    max_size=4,
)

HYPOTHESIS = settings(
    max_examples=120,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def _envelope_ok(response, path: str) -> None:
    assert response.status_code < 500, response.content
    if response.status_code >= 400:
        if path.startswith("/v1/"):
            v1_error(response)
        else:
            neutron_error(response)


@HYPOTHESIS
@given(data=body)
def test_generated_create_bodies(api, alpha, beta, data):
    _envelope_ok(api(alpha).post(PEERINGS, raw=_raw(data)), PEERINGS)


@HYPOTHESIS
@given(data=body)
def test_generated_update_bodies(api, alpha, beta, make_peering, data):
    existing = Peering.objects.filter(name="target").first()
    peering_id = str(existing.peering_id) if existing else make_peering(alpha, beta, name="target")["id"]
    _envelope_ok(api(alpha).put(f"{PEERINGS}/{peering_id}", raw=_raw(data)), PEERINGS)
    Peering.objects.filter(peering_id=peering_id).update(name="target")


@HYPOTHESIS
@given(params=query)
def test_generated_list_filters(api, alpha, params):
    _envelope_ok(api(alpha).get(PEERINGS, query=params), PEERINGS)
    _envelope_ok(api(alpha).get(ROUTES, query=params), ROUTES)
    vpcs = f"/v1/{alpha.project_id}/vpcs"
    _envelope_ok(api(alpha).get(vpcs, query=params), vpcs)
