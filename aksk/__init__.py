"""AK/SK request signing (``SDK-HMAC-SHA256``), as the Huawei Cloud SDK does it.

A dependency-free library shared by the portal's cloud client, which signs, and
the VPC API simulator, which verifies. Neither of them imports the other.
"""

from aksk.signer import (
    ALGORITHM,
    DATE_FORMAT,
    Authorization,
    SignatureError,
    canonical_request,
    parse_authorization,
    parse_date,
    sign,
    signature,
    verify,
)

__all__ = [
    "ALGORITHM",
    "DATE_FORMAT",
    "Authorization",
    "SignatureError",
    "canonical_request",
    "parse_authorization",
    "parse_date",
    "sign",
    "signature",
    "verify",
]
