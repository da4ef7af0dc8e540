"""The ``SDK-HMAC-SHA256`` algorithm of ``huaweicloudsdkcore.signer.Signer``.

Canonical request = method, canonical URI (each segment URL-encoded, trailing
``/`` added), canonical query (sorted, encoded), canonical headers, the signed
header list and the hex SHA-256 of the body. The string to sign is the
algorithm, the ``X-Sdk-Date`` and the hash of the canonical request; the
signature is its hex HMAC-SHA256 under the secret key.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import parse_qsl, quote, unquote, urlsplit

ALGORITHM = "SDK-HMAC-SHA256"
DATE_FORMAT = "%Y%m%dT%H%M%SZ"
DATE_HEADER = "X-Sdk-Date"
CONTENT_SHA256_HEADER = "X-Sdk-Content-Sha256"
UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD"
EMPTY_BODY_SHA256 = hashlib.sha256(b"").hexdigest()
_HEX_SHA256_RE = re.compile(r"^[0-9a-fA-F]{64}$")

_AUTH_RE = re.compile(
    r"^SDK-HMAC-SHA256\s+Access=(?P<access>[^,\s]+),\s*"
    r"SignedHeaders=(?P<headers>[^,\s]+),\s*Signature=(?P<signature>[0-9a-fA-F]+)$"
)

QueryParams = Iterable[tuple[str, str]]


class SignatureError(ValueError):
    """An ``Authorization`` header that is missing, malformed or does not match."""


@dataclass(frozen=True)
class Authorization:
    """The parts of an ``Authorization: SDK-HMAC-SHA256 ...`` header."""

    access_key: str
    signed_headers: tuple[str, ...]
    signature: str


def _encode(value: str) -> str:
    return quote(value, safe="~")


def canonical_uri(path: str) -> str:
    uri = "/".join(_encode(segment) for segment in unquote(path).split("/"))
    return uri if uri.endswith("/") else uri + "/"


def canonical_query(params: QueryParams) -> str:
    return "&".join(f"{_encode(k)}={_encode(v)}" for k, v in sorted(params))


def canonical_request(
    *,
    method: str,
    path: str,
    query: QueryParams,
    headers: Mapping[str, str],
    signed_headers: Iterable[str],
    body: bytes,
) -> str:
    """Build the canonical request; ``headers`` keys may be in any case."""
    lowered = {k.lower(): str(v).strip() for k, v in headers.items()}
    names = list(signed_headers)
    try:
        header_block = "".join(f"{name}:{lowered[name]}\n" for name in names)
    except KeyError as exc:
        raise SignatureError(f"signed header {exc.args[0]!r} is not in the request") from None
    payload_hash = payload_hash_of(headers=lowered, signed_headers=names, body=body)
    return "\n".join(
        [
            method.upper(),
            canonical_uri(path),
            canonical_query(query),
            header_block,
            ";".join(names),
            payload_hash,
        ]
    )


def payload_hash_of(*, headers: Mapping[str, str], signed_headers: Iterable[str], body: bytes) -> str:
    """The last line of the canonical request, as the SDK computes it.

    An empty body hashes as the empty string whatever the headers say. Otherwise
    an ``X-Sdk-Content-Sha256`` value is used as the hash only when that header is
    itself signed (the SDK signs it: its name has no ``_``); an unsigned one is
    ignored, so it cannot make a captured signature cover another body.
    """
    if not body:
        return EMPTY_BODY_SHA256
    declared = _signed_content_sha256(headers, signed_headers)
    return declared if declared is not None else hashlib.sha256(body).hexdigest()


def _signed_content_sha256(headers: Mapping[str, str], signed_headers: Iterable[str]) -> str | None:
    name = CONTENT_SHA256_HEADER.lower()
    if name not in {h.lower() for h in signed_headers}:
        return None
    value = next((str(v).strip() for k, v in headers.items() if k.lower() == name), None)
    return value or None


def signature(*, secret_key: str, date: str, canonical: str) -> str:
    string_to_sign = "\n".join([ALGORITHM, date, hashlib.sha256(canonical.encode()).hexdigest()])
    return hmac.new(secret_key.encode(), string_to_sign.encode(), hashlib.sha256).hexdigest()


def sign(
    *,
    method: str,
    url: str,
    headers: Mapping[str, str],
    body: bytes,
    access_key: str,
    secret_key: str,
    now: datetime | None = None,
) -> dict[str, str]:
    """Return ``headers`` plus ``Host``, ``X-Sdk-Date`` and ``Authorization``.

    Every header whose name has no ``_`` is signed, as the SDK does.
    """
    parts = urlsplit(url)
    signed = dict(headers)
    if not any(k.lower() == "host" for k in signed):
        signed["Host"] = parts.netloc
    if not any(k.lower() == DATE_HEADER.lower() for k in signed):
        signed[DATE_HEADER] = (now or datetime.now(UTC)).strftime(DATE_FORMAT)
    date = next(v for k, v in signed.items() if k.lower() == DATE_HEADER.lower())
    names = sorted(k.lower() for k in signed if "_" not in k)
    canonical = canonical_request(
        method=method,
        path=parts.path or "/",
        # Decoded as a server decodes it (``+`` is a space), so both sides agree.
        query=parse_qsl(parts.query, keep_blank_values=True),
        headers=signed,
        signed_headers=names,
        body=body,
    )
    sig = signature(secret_key=secret_key, date=date, canonical=canonical)
    signed["Authorization"] = (
        f"{ALGORITHM} Access={access_key}, SignedHeaders={';'.join(names)}, Signature={sig}"
    )
    return signed


def parse_authorization(value: str | None) -> Authorization:
    match = _AUTH_RE.match((value or "").strip())
    if not match:
        raise SignatureError("missing or malformed Authorization header")
    return Authorization(
        access_key=match["access"],
        signed_headers=tuple(match["headers"].split(";")),
        signature=match["signature"].lower(),
    )


def verify(
    *,
    method: str,
    path: str,
    query: QueryParams,
    headers: Mapping[str, str],
    body: bytes,
    secret_key: str,
    authorization: Authorization,
) -> None:
    """Raise :class:`SignatureError` unless ``authorization`` signs this request.

    The signed-header list comes from the request itself; ``path`` and
    ``query`` are the decoded values a server sees. The body hash is computed
    here from ``body``: a signed ``X-Sdk-Content-Sha256`` must either equal it
    or be the SDK's ``UNSIGNED-PAYLOAD`` (sent for non-JSON bodies).
    """
    date = next((v for k, v in headers.items() if k.lower() == DATE_HEADER.lower()), None)
    if not date:
        raise SignatureError(f"missing {DATE_HEADER} header")
    canonical = canonical_request(
        method=method,
        path=path,
        query=query,
        headers=headers,
        signed_headers=authorization.signed_headers,
        body=body,
    )
    expected = signature(secret_key=secret_key, date=date, canonical=canonical)
    if not hmac.compare_digest(expected, authorization.signature):
        raise SignatureError("signature does not match")
    declared = _signed_content_sha256(headers, authorization.signed_headers)
    if body and declared is not None and declared != UNSIGNED_PAYLOAD:
        actual = hashlib.sha256(body).hexdigest()
        if not (_HEX_SHA256_RE.match(declared) and hmac.compare_digest(declared.lower(), actual)):
            raise SignatureError(f"{CONTENT_SHA256_HEADER} does not match the body")


def parse_date(value: str) -> datetime:
    """Parse an ``X-Sdk-Date`` value as an aware UTC datetime."""
    try:
        return datetime.strptime(value, DATE_FORMAT).replace(tzinfo=UTC)
    except ValueError:
        raise SignatureError(f"malformed {DATE_HEADER} header") from None
