"""The shared signer against the reference's test vectors (computed with the SDK's Signer)."""

import hashlib

import pytest
from huaweicloudsdkcore.auth.credentials import BasicCredentials
from huaweicloudsdkcore.sdk_request import SdkRequest
from huaweicloudsdkcore.signer.signer import Signer

from aksk import SignatureError, parse_authorization, sign, verify
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


# --- The body is bound by the signature -------------------------------------------------------

EVIL_BODY = CREATE_BODY.replace(b'"test"', b'"evil"')


def _signed_post(extra: dict | None = None, body: bytes = CREATE_BODY) -> dict[str, str]:
    return sign(
        method="POST",
        url=f"{ENDPOINT}/v2.0/vpc/peerings",
        headers={"Content-Type": "application/json", **HEADERS, **(extra or {})},
        body=body,
        access_key=AK,
        secret_key=SK,
    )


def test_an_unsigned_content_sha256_header_cannot_carry_another_body():
    """A captured request plus an unsigned header naming the original body's hash is refused."""
    captured = _signed_post()
    forged = {**captured, "X-Sdk-Content-Sha256": hashlib.sha256(CREATE_BODY).hexdigest()}
    assert "x-sdk-content-sha256" not in parse_authorization(forged["Authorization"]).signed_headers

    _verify(forged)  # the original body still verifies: the unsigned header is ignored
    with pytest.raises(SignatureError):
        _verify(forged, body=EVIL_BODY)


def test_a_signed_content_sha256_must_be_the_bodys_hash():
    honest = _signed_post({"X-Sdk-Content-Sha256": hashlib.sha256(CREATE_BODY).hexdigest()})
    assert "x-sdk-content-sha256" in parse_authorization(honest["Authorization"]).signed_headers
    _verify(honest)
    with pytest.raises(SignatureError):
        _verify(honest, body=EVIL_BODY)

    # Signed, but naming another body than the one sent: the signature matches, the body does not.
    lying = _signed_post({"X-Sdk-Content-Sha256": hashlib.sha256(EVIL_BODY).hexdigest()})
    with pytest.raises(SignatureError, match="does not match the body"):
        _verify(lying)
    with pytest.raises(SignatureError, match="does not match the body"):
        _verify(_signed_post({"X-Sdk-Content-Sha256": "not-a-hash"}))


def test_a_signed_unsigned_payload_is_honoured_as_the_sdk_sends_it():
    """The SDK sends ``X-Sdk-Content-Sha256: UNSIGNED-PAYLOAD`` (signed) for non-JSON bodies."""
    request = SdkRequest(
        method="POST",
        schema="https",
        host="vpc.cn-north-4.myhuaweicloud.com",
        resource_path="/v2.0/vpc/peerings",
        query_params=[],
        header_params={"Content-Type": "text/plain", **HEADERS},
        body=CREATE_BODY,
    )
    signed = Signer(BasicCredentials(AK, SK, HEADERS["X-Project-Id"])).sign(request).header_params
    assert signed["X-Sdk-Content-Sha256"] == "UNSIGNED-PAYLOAD"
    assert "x-sdk-content-sha256" in parse_authorization(signed["Authorization"]).signed_headers

    _verify(signed)
    _verify(signed, body=EVIL_BODY)  # the SDK's own choice: such a body is not covered


def test_an_empty_body_hashes_as_empty_whatever_the_header_says():
    """As the SDK: no body means the empty-string hash, even with a content-sha header."""
    common = {"method": "DELETE", "body": b"", "access_key": AK, "secret_key": SK}
    url = f"{ENDPOINT}/v2.0/vpc/peerings/x"
    plain = sign(url=url, headers=HEADERS, **common)
    with_header = sign(url=url, headers={**HEADERS, "X-Sdk-Content-Sha256": "UNSIGNED-PAYLOAD"}, **common)
    for headers in (plain, with_header):
        verify(
            method="DELETE",
            path="/v2.0/vpc/peerings/x",
            query=[],
            headers=headers,
            body=b"",
            secret_key=SK,
            authorization=parse_authorization(headers["Authorization"]),
        )
