"""The shared signer against the reference's test vectors (computed with the SDK's Signer)."""

from datetime import UTC, datetime

import pytest

from aksk import SignatureError, parse_authorization, sign, verify

AK = "EXAMPLEAK0000000000"
SK = "EXAMPLESK00000000000000000000000000000000"
BASE = "https://vpc.cn-north-4.myhuaweicloud.com"
HEADERS = {"X-Project-Id": "0123456789abcdef0123456789abcdef", "X-Sdk-Date": "20240101T000000Z"}
CREATE_BODY = (
    b'{"peering":{"name":"test","request_vpc_info":{"vpc_id":"9daeac7c-a98f-430f-8e38-67f9c044e299"},'
    b'"accept_vpc_info":{"vpc_id":"f583c072-0bb8-4e19-afb2-afb7c1693be5"}}}'
)


def test_get_vector():
    headers = sign(
        method="GET",
        url=f"{BASE}/v2.0/vpc/peerings?limit=10&status=ACTIVE",
        headers=HEADERS,
        body=b"",
        access_key=AK,
        secret_key=SK,
    )
    assert headers["Authorization"] == (
        "SDK-HMAC-SHA256 Access=EXAMPLEAK0000000000, SignedHeaders=host;x-project-id;x-sdk-date, "
        "Signature=e6a91c41ee8550b0f83bf023a0958d3b33006c132a237d455c60503ec99ddefa"
    )


def test_post_vector():
    headers = sign(
        method="POST",
        url=f"{BASE}/v2.0/vpc/peerings",
        headers={"Content-Type": "application/json;charset=UTF-8", **HEADERS},
        body=CREATE_BODY,
        access_key=AK,
        secret_key=SK,
    )
    assert headers["Authorization"].endswith(
        "SignedHeaders=content-type;host;x-project-id;x-sdk-date, "
        "Signature=adfec5ddd0dd76bec84e938c674452918e405f90198f29762b9e764da75c7139"
    )


def test_sign_adds_date_and_host():
    now = datetime(2024, 1, 1, tzinfo=UTC)
    headers = sign(method="GET", url=f"{BASE}/x", headers={}, body=b"", access_key=AK, secret_key=SK, now=now)
    assert headers["X-Sdk-Date"] == "20240101T000000Z"
    assert headers["Host"] == "vpc.cn-north-4.myhuaweicloud.com"


def _verify(headers, *, body=CREATE_BODY, secret_key=SK, path="/v2.0/vpc/peerings"):
    verify(
        method="POST",
        path=path,
        query=[],
        headers=headers,
        body=body,
        secret_key=secret_key,
        authorization=parse_authorization(headers["Authorization"]),
    )


def test_verify_round_trip_and_tampering():
    headers = sign(
        method="POST",
        url=f"{BASE}/v2.0/vpc/peerings",
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
    plus = sign(url=f"{BASE}/v2.0/vpc/peerings?name=a+b", **common)
    percent = sign(url=f"{BASE}/v2.0/vpc/peerings?name=a%20b", **common)
    assert plus["Authorization"] == percent["Authorization"]
    verify(
        method="GET",
        path="/v2.0/vpc/peerings",
        query=[("name", "a b")],
        headers=plus,
        body=b"",
        secret_key=SK,
        authorization=parse_authorization(plus["Authorization"]),
    )
