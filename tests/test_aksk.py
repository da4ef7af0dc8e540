"""The shared signer against the reference's test vectors (computed with the SDK's Signer)."""

import pytest

from aksk import SignatureError, parse_authorization, sign
from tests.aksk_vectors import (
    AK,
    CREATE_BODY,
    ENDPOINT,
    HEADERS,
    NOW,
    SDK_DATE,
    SK,
    VECTORS,
    Vector,
    verify_signed,
)


@pytest.mark.parametrize("vector", VECTORS, ids=lambda v: v.method)
def test_reference_vectors(vector: Vector):
    headers = sign(
        method=vector.method,
        url=vector.url,
        headers=vector.headers,
        body=vector.body,
        access_key=AK,
        secret_key=SK,
    )
    assert headers["Authorization"] == vector.authorization


def test_sign_adds_date_and_host():
    headers = sign(
        method="GET", url=f"{ENDPOINT}/x", headers={}, body=b"", access_key=AK, secret_key=SK, now=NOW
    )
    assert headers["X-Sdk-Date"] == SDK_DATE
    assert headers["Host"] == "vpc.cn-north-4.myhuaweicloud.com"


def _verify(headers, *, body=CREATE_BODY, secret_key=SK, path="/v2.0/vpc/peerings"):
    verify_signed(method="POST", path=path, query=[], headers=headers, body=body, secret_key=secret_key)


def test_verify_round_trip_and_tampering():
    headers = sign(
        method="POST",
        url=f"{ENDPOINT}/v2.0/vpc/peerings",
        headers={"Content-Type": "application/json", **HEADERS},
        body=CREATE_BODY,
        access_key=AK,
        secret_key=SK,
    )
    _verify(headers)
    with pytest.raises(SignatureError):
        _verify(headers, body=CREATE_BODY.replace(b"test", b"evil"))
    with pytest.raises(SignatureError):
        _verify(headers, secret_key="wrong")
    with pytest.raises(SignatureError):
        _verify(headers, path="/v2.0/vpc/peerings/other")


@pytest.mark.parametrize("value", [None, "", "Bearer abc", "SDK-HMAC-SHA256 Access=a, Signature=00"])
def test_malformed_authorization(value):
    with pytest.raises(SignatureError):
        parse_authorization(value)


def test_query_is_canonicalised_as_the_server_decodes_it():
    """``+`` and ``%20`` both mean a space to a server; the signature must not depend on the spelling."""
    common = {"method": "GET", "headers": HEADERS, "body": b"", "access_key": AK, "secret_key": SK}
    plus = sign(url=f"{ENDPOINT}/v2.0/vpc/peerings?name=a+b", **common)
    percent = sign(url=f"{ENDPOINT}/v2.0/vpc/peerings?name=a%20b", **common)
    assert plus["Authorization"] == percent["Authorization"]
    verify_signed(method="GET", path="/v2.0/vpc/peerings", query=[("name", "a b")], headers=plus, body=b"")
