"""The reference's ``SDK-HMAC-SHA256`` test vectors, computed with the Huawei SDK's Signer: the one copy.

``tests/test_aksk.py`` checks that the signer reproduces them; the cloud client's tests send
the same requests with the same keys, project and date, and check that they verify.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

import aksk

AK = "EXAMPLEAK0000000000"
SK = "EXAMPLESK00000000000000000000000000000000"
PROJECT_ID = "0123456789abcdef0123456789abcdef"
ENDPOINT = "https://vpc.cn-north-4.myhuaweicloud.com"
NOW = datetime(2024, 1, 1, tzinfo=UTC)
SDK_DATE = "20240101T000000Z"
REQUEST_VPC = "9daeac7c-a98f-430f-8e38-67f9c044e299"
ACCEPT_VPC = "f583c072-0bb8-4e19-afb2-afb7c1693be5"
# What create_peering(name="test", request_vpc_id=REQUEST_VPC, accept_vpc_id=ACCEPT_VPC) sends.
CREATE_BODY = (
    b'{"peering":{"name":"test","request_vpc_info":{"vpc_id":"9daeac7c-a98f-430f-8e38-67f9c044e299"},'
    b'"accept_vpc_info":{"vpc_id":"f583c072-0bb8-4e19-afb2-afb7c1693be5"}}}'
)
HEADERS = {"X-Project-Id": PROJECT_ID, "X-Sdk-Date": SDK_DATE}


@dataclass(frozen=True)
class Vector:
    """One signed request: what was signed (with ``AK``/``SK``) and the ``Authorization`` it gets."""

    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: bytes
    authorization: str

    @property
    def url(self) -> str:
        return f"{ENDPOINT}{self.path}" + (f"?{self.query}" if self.query else "")


LIST_ACTIVE = Vector(
    method="GET",
    path="/v2.0/vpc/peerings",
    query="limit=10&status=ACTIVE",
    headers=HEADERS,
    body=b"",
    authorization=(
        "SDK-HMAC-SHA256 Access=EXAMPLEAK0000000000, SignedHeaders=host;x-project-id;x-sdk-date, "
        "Signature=e6a91c41ee8550b0f83bf023a0958d3b33006c132a237d455c60503ec99ddefa"
    ),
)
CREATE = Vector(
    method="POST",
    path="/v2.0/vpc/peerings",
    query="",
    headers={"Content-Type": "application/json;charset=UTF-8", **HEADERS},
    body=CREATE_BODY,
    authorization=(
        "SDK-HMAC-SHA256 Access=EXAMPLEAK0000000000, "
        "SignedHeaders=content-type;host;x-project-id;x-sdk-date, "
        "Signature=adfec5ddd0dd76bec84e938c674452918e405f90198f29762b9e764da75c7139"
    ),
)
VECTORS = (LIST_ACTIVE, CREATE)


def verify_signed(
    *,
    method: str,
    path: str,
    query: Iterable[tuple[str, str]],
    headers: Mapping[str, str],
    body: bytes,
    secret_key: str = SK,
) -> aksk.Authorization:
    """The request's ``Authorization`` header, checked to sign it (``aksk.SignatureError`` if not)."""
    authorization = aksk.parse_authorization(headers.get("Authorization"))
    aksk.verify(
        method=method,
        path=path,
        query=query,
        headers=headers,
        body=body,
        secret_key=secret_key,
        authorization=authorization,
    )
    return authorization
