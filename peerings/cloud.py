"""The portal's client for the cloud's VPC API, over the sessions of :mod:`ops.egress`.

Every call is signed with the account's AK/SK (``SDK-HMAC-SHA256``, as the
Huawei SDK signs), carries a per-call ``X-Correlation-Id`` and is described by
a :class:`CallRecord`, success or failure, so the caller can keep an audit row.
Idempotent calls (reads, accept, reject, deletes of peerings and routes) are retried with exponential
backoff on connection errors, timeouts, 5xx and 429; creates (of peerings and routes) and
updates never are.
Failures raise :class:`~peerings.exceptions.CloudRefused` (the cloud said no, 4xx)
or :class:`~peerings.exceptions.CloudUnavailable` (anything else).

Before a call is sent, the client takes a slot of the process's bulkhead
(:mod:`peerings.bulkhead`) and calls its ``before_send`` hook with the record: the portal
commits the call's history row there, and nothing is sent if that fails.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

import requests
from django.conf import settings
from urllib3.exceptions import ConnectTimeoutError, MaxRetryError, NewConnectionError

import aksk
from ops import correlation, egress
from peerings import bulkhead
from peerings.choices import CallOperation
from peerings.exceptions import CloudRefused, CloudUnavailable
from peerings.secrets import Secret
from peerings.storable import storable

__all__ = [
    "CallRecord",
    "CloudResponse",
    "Credentials",
    "PreparedCall",
    "VpcApiClient",
    "get_session",
    "prepare_call",
    "set_session",
]

logger = logging.getLogger("peerings.cloud")

USER_AGENT = f"vpc-peering-portal/0.1 python-requests/{requests.__version__}"
JSON = "application/json"
JSON_BODY = "application/json;charset=utf-8"
#: The longest a ``Retry-After`` is honoured for, in seconds; longer values are cut to it.
RETRY_AFTER_CAP = 10.0
#: Longest backoff between two attempts, in seconds.
BACKOFF_CAP = 10.0
#: How much of a non-JSON response body is kept in records and messages.
TEXT_EXCERPT = 2000
MESSAGE_EXCERPT = 200
POOL_SIZE = 20

_SECRET_KEYS = frozenset(
    {"ak", "sk", "access_key", "secret_key", "secret", "password", "token", "authorization"}
)
_SECRET_PARTS = ("secret", "password", "token", "credential")
_MASK = "********"
# Bodies of these shapes carry the cloud's error: (code key, message key).
_ERROR_PAIRS = (("code", "message"), ("error_code", "error_msg"), ("errorCode", "errorMsg"))


# --- Session ------------------------------------------------------------------------

# Two pooled sessions per process: to the operator's VPC_API_ENDPOINT (trusted), and to
# endpoints typed per tenant (a tenant's own endpoint or region), checked by the egress policy.
_sessions: dict[bool, requests.Session] = {}
_session_lock = threading.Lock()


def _new_session(*, guarded: bool = False) -> requests.Session:
    return egress.session(trusted=not guarded, pool_maxsize=POOL_SIZE)


def get_session(*, guarded: bool = False) -> requests.Session:
    """The process's pooled session (``guarded``: the egress-checked one), created on first use."""
    session = _sessions.get(guarded)
    if session is None:
        with _session_lock:
            session = _sessions.get(guarded)
            if session is None:
                session = _sessions[guarded] = _new_session(guarded=guarded)
    return session


def set_session(session: requests.Session | None, *, guarded: bool = False) -> None:
    """Replace a process session (tests); ``None`` makes the next call create a new one."""
    with _session_lock:
        if session is None:
            _sessions.pop(guarded, None)
        else:
            _sessions[guarded] = session


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _sleep(seconds: float) -> None:
    if seconds > 0:
        time.sleep(seconds)


# --- Values ---------------------------------------------------------------------------


def _mask_access_key(value: str) -> str:
    return f"{value[:4]}…{value[-4:]}" if len(value) > 12 else "****"


@dataclass(frozen=True, repr=False)
class Credentials:
    """The AK/SK of an account and the project the calls act in."""

    access_key: str
    secret_key: Secret = field(repr=False)
    project_id: str

    def __post_init__(self) -> None:
        if not isinstance(self.secret_key, Secret):
            object.__setattr__(self, "secret_key", Secret(str(self.secret_key)))

    def __repr__(self) -> str:
        return (
            f"Credentials(access_key={_mask_access_key(self.access_key)!r}, "
            f"secret_key={self.secret_key!r}, project_id={self.project_id!r})"
        )


@dataclass
class CallRecord:
    """What one logical call (all its attempts) sent and got back; secrets removed."""

    operation: str
    method: str
    url: str
    request_body: dict | None = None
    status_code: int | None = None
    response_body: Any | None = None
    error_code: str = ""
    error_message: str = ""
    duration_ms: int = 0
    attempts: int = 0
    correlation_id: str = ""
    cloud_request_id: str = ""
    #: The call's history row, once ``before_send`` has written it (``peerings.history``).
    row_id: int | None = None


@dataclass
class CloudResponse:
    """The unwrapped data of a successful call and its record."""

    data: Any
    record: CallRecord


def scrub(value: Any) -> Any:
    """``value`` with every secret-looking key's value masked, at any depth."""
    if isinstance(value, Mapping):
        return {k: _MASK if _is_secret_key(str(k)) else scrub(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [scrub(v) for v in value]
    return value


def _is_secret_key(key: str) -> bool:
    lowered = key.lower().replace("-", "_")
    return lowered in _SECRET_KEYS or any(part in lowered for part in _SECRET_PARTS)


def parse_error(status: int, body: Any, text: str) -> tuple[str, str]:
    """The cloud's ``(code, message)`` from any of its error envelopes."""
    if isinstance(body, Mapping):
        neutron = body.get("NeutronError")
        if isinstance(neutron, Mapping):
            return str(neutron.get("type") or status), str(neutron.get("message") or "")
        for candidate in (body, *(v for v in body.values() if isinstance(v, Mapping))):
            for code_key, message_key in _ERROR_PAIRS:
                if candidate.get(code_key) or candidate.get(message_key):
                    return str(candidate.get(code_key) or status), str(candidate.get(message_key) or "")
    return str(status), _excerpt(text, MESSAGE_EXCERPT)


def _excerpt(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _retry_after(response: requests.Response, clock: Callable[[], datetime]) -> float | None:
    value = response.headers.get("Retry-After")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, (parsedate_to_datetime(value) - clock()).total_seconds())
    except (TypeError, ValueError):
        return None


def _connect_failed(exc: requests.RequestException) -> bool:
    """Whether the request surely never reached the server (no connection was made)."""
    if not isinstance(exc, requests.ConnectionError):
        return False
    if isinstance(
        exc,
        requests.ConnectTimeout
        | requests.exceptions.SSLError
        | requests.exceptions.ProxyError
        | egress.EgressRefused,
    ):
        return True
    reason = exc.args[0] if exc.args else None
    if isinstance(reason, MaxRetryError):
        reason = reason.reason
    return isinstance(reason, NewConnectionError | ConnectTimeoutError)


def _outcome_unknown_after(call: PreparedCall, exc: requests.RequestException) -> bool:
    """Whether a write may have been carried out although no answer came."""
    return call.method != "GET" and not _connect_failed(exc)


def _retryable_outcome(outcome: requests.Response | requests.RequestException) -> bool:
    """A transport error, a 5xx or a 429: worth another attempt of an idempotent call.

    Not a refusal of the egress policy: the address would be refused again.
    """
    if isinstance(outcome, requests.RequestException):
        return not isinstance(outcome, egress.EgressRefused)
    return outcome.status_code >= 500 or outcome.status_code == 429


# --- (a) Building a call ----------------------------------------------------------------------


@dataclass
class PreparedCall:
    """One logical call, built and not yet sent: what goes on the wire and the record describing it.

    ``headers`` are the unsigned base headers; each attempt signs a copy of them afresh.
    """

    operation: str
    method: str
    path: str
    url: str
    headers: dict[str, str]
    payload: bytes
    retryable: bool
    record: CallRecord
    started: float = field(default_factory=time.monotonic)


def prepare_call(
    endpoint: str,
    operation: str,
    method: str,
    path: str,
    *,
    query: list[tuple[str, str]] | None = None,
    body: dict | None = None,
    retryable: bool | None = None,
) -> PreparedCall:
    """Build one call: URL with its query, JSON payload, base headers and a :class:`CallRecord`.

    ``retryable`` defaults to whether ``method`` is idempotent (GET, DELETE); the record carries
    the body with secret-looking keys masked, the wire payload the body as given.
    """
    url = endpoint + path + (f"?{urlencode(query, quote_via=quote)}" if query else "")
    record = CallRecord(
        operation=str(operation),
        method=method,
        url=url,
        request_body=scrub(body) if body is not None else None,
        correlation_id=correlation.current() or uuid.uuid4().hex,
    )
    return PreparedCall(
        operation=str(operation),
        method=method,
        path=path,
        url=url,
        headers={
            "Content-Type": JSON_BODY if body is not None else JSON,
            "User-Agent": USER_AGENT,
            "X-Correlation-Id": record.correlation_id,
        },
        payload=b"" if body is None else json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode(),
        retryable=(method in {"GET", "DELETE"}) if retryable is None else retryable,
        record=record,
    )


# --- The client ---------------------------------------------------------------------------


class VpcApiClient:
    """Signed calls to one VPC API endpoint with one account's keys.

    ``guarded`` clients (endpoints typed per tenant) call through the egress-checked session;
    the others (the operator's ``VPC_API_ENDPOINT``) through the trusted one.
    Timeouts, retries and backoff default to the settings. ``clock`` (the current UTC time: signing
    dates, ``Retry-After`` dates) and ``sleep`` (the wait between attempts) default to the real ones.
    ``before_send(record)`` runs before each logical call goes on the wire (the history row); an
    exception from it stops the call unsent.
    """

    def __init__(
        self,
        *,
        endpoint: str,
        credentials: Credentials,
        session: requests.Session | None = None,
        guarded: bool = False,
        connect_timeout: float | None = None,
        read_timeout: float | None = None,
        retries: int | None = None,
        backoff: float | None = None,
        clock: Callable[[], datetime] | None = None,
        sleep: Callable[[float], None] | None = None,
        before_send: Callable[[CallRecord], None] | None = None,
    ) -> None:
        parts = urlsplit(endpoint)
        if parts.scheme not in {"http", "https"} or not parts.netloc:
            raise ValueError(f"VPC API endpoint must be an http(s) URL, got {endpoint!r}")
        self.endpoint = endpoint.rstrip("/")
        self.credentials = credentials
        self._session = session
        self.guarded = guarded
        self.connect_timeout = (
            settings.VPC_API_CONNECT_TIMEOUT if connect_timeout is None else connect_timeout
        )
        self.read_timeout = settings.VPC_API_READ_TIMEOUT if read_timeout is None else read_timeout
        self.retries = max(0, settings.VPC_API_RETRIES if retries is None else retries)
        self.backoff = max(0.0, settings.VPC_API_BACKOFF if backoff is None else backoff)
        self.clock = clock or _utcnow
        self.sleep = sleep or _sleep
        self.before_send = before_send

    def __repr__(self) -> str:
        return (
            f"<VpcApiClient {self.endpoint} project={self.credentials.project_id} "
            f"access_key={_mask_access_key(self.credentials.access_key)}>"
        )

    @property
    def session(self) -> requests.Session:
        return self._session or get_session(guarded=self.guarded)

    # --- Operations ----------------------------------------------------------------------

    def list_vpcs(self, *, limit: int | None = None, marker: str | None = None) -> CloudResponse:
        """The project's VPCs (``GET /v1/{project_id}/vpcs``); data is the ``vpcs`` list."""
        path = f"/v1/{quote(self.credentials.project_id, safe='')}/vpcs"
        query = _query({"limit": limit, "marker": marker})
        call = self._call(CallOperation.LIST_VPCS, "GET", path, query=query)
        return self._unwrap(call, lambda body: _list_in(body, "vpcs"))

    def list_peerings(self, **filters: Any) -> CloudResponse:
        """Peerings the project requested or was sent; data is ``{"peerings", "peerings_links"}``."""
        unknown = set(filters) - {"id", "name", "status", "tenant_id", "vpc_id", "limit", "marker"}
        if unknown:
            raise TypeError(f"unknown peering filters: {', '.join(sorted(unknown))}")
        call = self._call(CallOperation.LIST_PEERINGS, "GET", "/v2.0/vpc/peerings", query=_query(filters))

        def unwrap(body: Any) -> dict:
            links = body.get("peerings_links") if isinstance(body, dict) else None
            return {"peerings": _list_in(body, "peerings"), "peerings_links": links or []}

        return self._unwrap(call, unwrap)

    def show_peering(self, peering_id: str) -> CloudResponse:
        call = self._call(CallOperation.SHOW, "GET", _peering_path(peering_id))
        return self._unwrap(call, _wrapped_peering)

    def create_peering(
        self,
        *,
        name: str,
        description: str = "",
        request_vpc_id: str,
        accept_vpc_id: str,
        accept_project_id: str | None = None,
        prepared: PreparedCall | None = None,
    ) -> CloudResponse:
        """Request a peering from one of this project's VPCs; never retried.

        ``prepared``: this create as :meth:`prepare_create` built it earlier (its history row
        already committed by the caller), sent as it is; the other arguments are then ignored.
        """
        call = prepared or self.prepare_create(
            name=name,
            description=description,
            request_vpc_id=request_vpc_id,
            accept_vpc_id=accept_vpc_id,
            accept_project_id=accept_project_id,
        )
        return self._unwrap(self._send_call(call), _wrapped_peering)

    def prepare_create(
        self,
        *,
        name: str,
        description: str = "",
        request_vpc_id: str,
        accept_vpc_id: str,
        accept_project_id: str | None = None,
    ) -> PreparedCall:
        """The create of a peering, built and not sent (:meth:`create_peering` sends it)."""
        peering: dict[str, Any] = {"name": name}
        if description:
            peering["description"] = description
        peering["request_vpc_info"] = {"vpc_id": str(request_vpc_id)}
        peering["accept_vpc_info"] = {"vpc_id": str(accept_vpc_id)}
        if accept_project_id:
            peering["accept_vpc_info"]["tenant_id"] = accept_project_id
        return prepare_call(
            self.endpoint, CallOperation.CREATE, "POST", "/v2.0/vpc/peerings", body={"peering": peering}
        )

    def update_peering(
        self, peering_id: str, *, name: str | None = None, description: str | None = None
    ) -> CloudResponse:
        """Rename a peering or change its description; never retried."""
        peering = {k: v for k, v in {"name": name, "description": description}.items() if v is not None}
        if not peering:
            raise ValueError("update_peering needs a name or a description")
        call = self._call(CallOperation.UPDATE, "PUT", _peering_path(peering_id), body={"peering": peering})
        return self._unwrap(call, _wrapped_peering)

    def accept_peering(self, peering_id: str) -> CloudResponse:
        call = self._call(CallOperation.ACCEPT, "PUT", _peering_path(peering_id, "accept"), retryable=True)
        return self._unwrap(call, _bare_peering)

    def reject_peering(self, peering_id: str) -> CloudResponse:
        call = self._call(CallOperation.REJECT, "PUT", _peering_path(peering_id, "reject"), retryable=True)
        return self._unwrap(call, _bare_peering)

    def delete_peering(self, peering_id: str) -> CloudResponse:
        call = self._call(CallOperation.DELETE, "DELETE", _peering_path(peering_id), retryable=True)
        return self._unwrap(call, None)

    def list_routes(self, **filters: Any) -> CloudResponse:
        """Peering routes of the project (``GET /v2.0/vpc/routes``); data is ``{"routes", "routes_links"}``.

        Filters as the cloud's: ``id``, ``type``, ``vpc_id``, ``destination``, ``tenant_id``, ``limit``,
        ``marker``.
        """
        unknown = set(filters) - {"id", "type", "vpc_id", "destination", "tenant_id", "limit", "marker"}
        if unknown:
            raise TypeError(f"unknown route filters: {', '.join(sorted(unknown))}")
        call = self._call(CallOperation.LIST_ROUTES, "GET", "/v2.0/vpc/routes", query=_query(filters))

        def unwrap(body: Any) -> dict:
            links = body.get("routes_links") if isinstance(body, dict) else None
            return {"routes": _list_in(body, "routes"), "routes_links": links or []}

        return self._unwrap(call, unwrap)

    def show_route(self, route_id: str) -> CloudResponse:
        call = self._call(CallOperation.SHOW_ROUTE, "GET", _route_path(route_id))
        return self._unwrap(call, _wrapped_route)

    def create_route(self, *, vpc_id: str, destination: str, nexthop: str) -> CloudResponse:
        """Add a route to ``destination`` over the peering ``nexthop`` in ``vpc_id``; never retried."""
        route = {
            "type": "peering",
            "nexthop": str(nexthop),
            "destination": destination,
            "vpc_id": str(vpc_id),
        }
        call = self._call(CallOperation.CREATE_ROUTE, "POST", "/v2.0/vpc/routes", body={"route": route})
        return self._unwrap(call, _wrapped_route)

    def delete_route(self, route_id: str) -> CloudResponse:
        call = self._call(CallOperation.DELETE_ROUTE, "DELETE", _route_path(route_id))
        return self._unwrap(call, None)

    # --- One call: build, attempt, record, fail or finish ------------------------------------

    def _call(self, operation: str, method: str, path: str, **options: Any) -> PreparedCall:
        """Send one logical call, retrying it if allowed; raise the typed error on any failure.

        ``options`` are :func:`prepare_call`'s (``query``, ``body``, ``retryable``).
        """
        return self._send_call(prepare_call(self.endpoint, operation, method, path, **options))

    def _send_call(self, call: PreparedCall) -> PreparedCall:
        """Send a prepared call (:meth:`_call`); ``before_send`` runs first, as for any call."""
        with bulkhead.slot():  # refused (CloudBusy) or waited for before anything is written
            if self.before_send is not None:
                self.before_send(call.record)
            call.started = time.monotonic()
            outcome = self._attempts(call)
        if isinstance(outcome, requests.RequestException):
            raise self._failure(call, transport_error=outcome) from outcome
        if outcome.status_code >= 300:
            raise self._failure(call, reason=outcome.reason or "")
        return call

    # --- (b) The attempts ------------------------------------------------------------------------

    def _attempts(self, call: PreparedCall) -> requests.Response | requests.RequestException:
        """Send ``call`` until it succeeds, may not be retried, or runs out of attempts; the last outcome.

        Only retryable calls are sent again, after a transport error, a 5xx or a 429.
        """
        max_attempts = 1 + (self.retries if call.retryable else 0)
        for attempt in range(1, max_attempts + 1):
            call.record.attempts = attempt
            outcome = self._send(call)
            if attempt == max_attempts or not _retryable_outcome(outcome):
                break
            self._wait(call, attempt, outcome)
        return outcome

    def _send(self, call: PreparedCall) -> requests.Response | requests.RequestException:
        """One attempt, signed afresh; its outcome is recorded in ``call.record``."""
        try:
            response = self.session.request(
                call.method,
                call.url,
                data=call.payload or None,
                headers=self._sign(call),
                timeout=(self.connect_timeout, self.read_timeout),
                allow_redirects=False,
            )
        except requests.RequestException as exc:
            self._record_transport_error(call, exc)
            return exc
        self._record_response(call, response)
        return response

    def _sign(self, call: PreparedCall) -> dict[str, str]:
        """The base headers plus ``X-Project-Id``, ``Host``, a fresh ``X-Sdk-Date`` and ``Authorization``.

        Each attempt carries its own signed ``X-Attempt-Id``: ``X-Sdk-Date`` has a one-second
        resolution, and a gateway refuses a signature it has already seen (a replay), so two
        attempts of a retried call within the same second must not be signed alike.
        """
        headers = {
            **call.headers,
            "X-Project-Id": self.credentials.project_id,
            "X-Attempt-Id": uuid.uuid4().hex,
        }
        return aksk.sign(
            method=call.method,
            url=call.url,
            headers=headers,
            body=call.payload,
            access_key=self.credentials.access_key,
            secret_key=self.credentials.secret_key.reveal(),
            now=self.clock(),
        )

    def _wait(
        self, call: PreparedCall, attempt: int, outcome: requests.Response | requests.RequestException
    ) -> None:
        delay = min(self.backoff * 2 ** (attempt - 1), BACKOFF_CAP)
        if isinstance(outcome, requests.Response):
            reason = str(outcome.status_code)
            retry_after = _retry_after(outcome, self.clock)
            if retry_after is not None:
                delay = max(delay, min(retry_after, RETRY_AFTER_CAP))
        else:
            reason = type(outcome).__name__
        logger.debug(
            "retrying %s %s after %s in %.2fs (attempt %d, correlation_id=%s)",
            call.method,
            call.path,
            reason,
            delay,
            attempt,
            call.record.correlation_id,
        )
        self.sleep(delay)

    # --- (c) Recording what came back ---------------------------------------------------------------

    def _record_response(self, call: PreparedCall, response: requests.Response) -> None:
        record = call.record
        record.status_code = response.status_code
        text = self._redact(response.text if response.content else "")
        try:
            record.response_body = self._redact(json.loads(response.content) if response.content else None)
        except ValueError:
            record.response_body = _excerpt(text, TEXT_EXCERPT)
        request_id = response.headers.get("X-Request-Id")
        if not request_id and isinstance(record.response_body, dict):
            request_id = record.response_body.get("request_id")
        record.cloud_request_id = str(request_id or "")[:128]
        if response.status_code >= 300:
            code, message = parse_error(response.status_code, record.response_body, text)
            # Storable, as the history and every message shown or saved must be.
            record.error_code, record.error_message = storable(code), storable(message)
        else:
            record.error_code = record.error_message = ""

    def _record_transport_error(self, call: PreparedCall, exc: requests.RequestException) -> None:
        record = call.record
        record.status_code = record.response_body = None
        record.cloud_request_id = ""
        record.error_code = type(exc).__name__
        if isinstance(exc, egress.EgressRefused):
            record.error_message = f"The VPC API endpoint was not called: {exc}"
        elif _connect_failed(exc):
            record.error_message = "Could not connect to the VPC API."
        elif isinstance(exc, requests.Timeout):
            record.error_message = f"No answer from the VPC API within {self.read_timeout:g}s."
        else:
            record.error_message = "The connection to the VPC API failed before it answered."
        if _outcome_unknown_after(call, exc):
            record.error_message += " The request may have been carried out."

    def _record_unreadable(self, call: PreparedCall) -> None:
        record = call.record
        record.error_code = "InvalidResponse"
        record.error_message = (
            f"The VPC API answered {record.status_code} with a body the portal cannot read."
        )

    def _redact(self, value: Any) -> Any:
        """``value`` with this client's keys masked: the gateway echoes an unknown AK in its message."""
        if isinstance(value, str):
            access_key, secret_key = self.credentials.access_key, self.credentials.secret_key.reveal()
            if access_key:
                value = value.replace(access_key, _mask_access_key(access_key))
            return value.replace(secret_key, _MASK) if secret_key else value
        if isinstance(value, Mapping):
            return {k: self._redact(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self._redact(v) for v in value]
        return value

    # --- (d) The one typed error, or the finished call --------------------------------------------

    def _failure(
        self,
        call: PreparedCall,
        *,
        transport_error: requests.RequestException | None = None,
        reason: str = "",
    ) -> CloudRefused | CloudUnavailable:
        """The exception for a call that failed, from its record; ends the call.

        ``transport_error`` is how the last attempt failed when no answer came; ``reason`` the HTTP
        reason phrase of the last answer, the message when the cloud gave none.
        """
        self._finish(call)
        record = call.record
        if transport_error is not None:
            return CloudUnavailable(
                record.error_message,
                outcome_unknown=_outcome_unknown_after(call, transport_error),
                code=record.error_code,
                record=record,
            )
        status = record.status_code
        message = record.error_message or storable(reason)
        if 400 <= status < 500 and status != 429:
            return CloudRefused(message, status=status, code=record.error_code, record=record)
        if status < 300:
            # A success the portal cannot read: a write may have been carried out.
            outcome_unknown = call.method != "GET"
        elif status < 400:
            message, outcome_unknown = f"Unexpected {status} answer from the VPC API.", False
        else:
            # A gateway timeout means the service may have carried the call out.
            outcome_unknown = status == 504 and call.method != "GET"
        return CloudUnavailable(
            message, outcome_unknown=outcome_unknown, status=status, code=record.error_code, record=record
        )

    def _unwrap(self, call: PreparedCall, extract: Callable[[Any], Any] | None) -> CloudResponse:
        """The call's data as ``extract`` finds it in the answer; an unreadable answer is a failure."""
        data = None
        if extract is not None:
            try:
                body = call.record.response_body
                if storable(body) != body:  # a NUL or a lone surrogate: a corrupt answer, not data
                    raise ValueError("unstorable characters in the answer")
                data = extract(body)
            except (KeyError, TypeError, ValueError):
                self._record_unreadable(call)
                raise self._failure(call) from None
        self._finish(call)
        return CloudResponse(data=data, record=call.record)

    def _finish(self, call: PreparedCall) -> None:
        """Close the record (duration) and log one line for the call, its fields also as ``extra``."""
        record = call.record
        record.duration_ms = int((time.monotonic() - call.started) * 1000)
        logger.info(
            "%s %s %s -> %s in %dms, %d attempt(s)%s, correlation_id=%s",
            record.operation,
            call.method,
            call.path,
            record.status_code if record.status_code is not None else "no response",
            record.duration_ms,
            record.attempts,
            f", error {record.error_code}" if record.error_code else "",
            record.correlation_id,
            # For structured (JSON) log formatters; the path only, never the query or a header.
            extra={
                "operation": record.operation,
                "method": call.method,
                "path": call.path,
                "status": record.status_code,
                "duration_ms": record.duration_ms,
                "attempts": record.attempts,
                "correlation_id": record.correlation_id,
                "error_code": record.error_code,
            },
        )


# --- Helpers ----------------------------------------------------------------------------------


def _query(params: Mapping[str, Any]) -> list[tuple[str, str]]:
    return sorted((k, str(v)) for k, v in params.items() if v is not None)


def _peering_path(peering_id: str, action: str = "") -> str:
    if not str(peering_id or "").strip():
        raise ValueError("a peering id is required")
    path = f"/v2.0/vpc/peerings/{quote(str(peering_id), safe='')}"
    return f"{path}/{action}" if action else path


def _route_path(route_id: str) -> str:
    if not str(route_id or "").strip():
        raise ValueError("a route id is required")
    return f"/v2.0/vpc/routes/{quote(str(route_id), safe='')}"


def _wrapped_route(body: Any) -> dict:
    route = body["route"]
    if not isinstance(route, dict) or "id" not in route:
        raise TypeError("route is not an object with an id")
    return route


def _wrapped_peering(body: Any) -> dict:
    peering = body["peering"]
    if not isinstance(peering, dict):
        raise TypeError("peering is not an object")
    return peering


def _bare_peering(body: Any) -> dict:
    if not isinstance(body, dict):
        raise TypeError("not an object")
    # The cloud answers accept/reject with the bare object; tolerate a wrapped one.
    peering = body["peering"] if isinstance(body.get("peering"), dict) else body
    if "id" not in peering:
        raise KeyError("id")
    return peering


def _list_in(body: Any, key: str) -> list:
    items = body[key]
    if not isinstance(items, list):
        raise TypeError(f"{key} is not a list")
    return items
