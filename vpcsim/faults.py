"""Fault injection: make the simulated cloud fail the way a real one does. Off unless asked for.

A *rule* names an operation (``create``, ``show``, ``list_peerings``, ``update``,
``accept``, ``reject``, ``delete``, ``list_vpcs``, ``list_routes``,
``create_route``, ``show_route``, ``delete_route``, or ``*`` for any), a *kind*
and how often it fires: ``rate`` (a probability, from a seedable RNG) and/or
``times`` (the next N matching requests, counted down in the database so every
process serving the simulator shares the count). With neither it fires on every
matching request. Rules live in :class:`~vpcsim.models.FaultRule`; the first
rule (oldest first) that fires on a request wins, and its ``injected`` counter
goes up by one. Faults act after authentication.

Kinds, before the operation (nothing is applied):

* ``500``, ``503`` -- an error in the path's envelope (``NeutronError`` on
  ``/v2.0``, ``{"code", "message"}`` on ``/v1``);
* ``429`` -- the API gateway's throttling answer (``APIGW.0308``) with a
  ``Retry-After`` header (``retry_after`` seconds, default 1);
* ``latency`` -- sleeps ``latency_ms`` then carries on (the request is still on
  its way while other calls run).

Kinds after the operation (it is applied and committed, whatever it answered):

* ``applied_then_dropped`` -- the connection breaks: the headers declare the
  full body, half of it is sent, then the socket is shut down (``requests``
  raises ``ChunkedEncodingError``). Works under Django's dev/live server and
  gunicorn; under the in-process test client it raises ``ConnectionResetError``;
* ``applied_then_500`` -- a 500 in the path's envelope;
* ``malformed_json`` -- a 200 whose body is the answer's first half (not JSON);
* ``nul_bytes`` -- the answer as JSON with ``\\u0000`` added inside every string
  (status 200, or the operation's own 2xx when it had a body).

From Python (tests)::

    from vpcsim import faults
    faults.inject("accept", kind="applied_then_500", times=1)
    faults.inject("create", kind="latency", latency_ms=2000, times=1)
    faults.inject("*", kind="503", rate=0.2)
    faults.injected("accept")  # how many faults were injected for accept
    faults.clear()

From the environment (loaded once per process, on its first simulator request;
each rule is created once, so its ``times`` count is shared, not reset per
process): ``VPCSIM_FAULTS`` is either JSON (an object or a list of objects with
the keyword arguments of :func:`inject` plus ``operation``) or a compact spec,
rules separated by ``;``, each ``operation:kind[:key=value...]`` with keys
``rate``, ``times``, ``ms`` (latency) and ``retry_after``::

    VPCSIM_FAULTS='accept:applied_then_500:times=1; create:latency:ms=2000; *:503:rate=0.05'
    VPCSIM_FAULTS='[{"operation": "list_vpcs", "kind": "429", "retry_after": 3, "times": 2}]'
    VPCSIM_FAULTS_SEED=42   # makes the rate draws repeatable (per process)
"""

from __future__ import annotations

import json
import os
import random
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

from django.conf import settings
from django.db.models import F, Q, Sum
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse

from vpcsim.errors import ApiError, GatewayError
from vpcsim.models import FaultKind, FaultOperation, FaultRule

__all__ = [
    "AFTER_KINDS",
    "BEFORE_KINDS",
    "FaultSpecError",
    "clear",
    "inject",
    "injected",
    "load_from_settings",
    "parse_spec",
    "pick",
    "rules",
    "seed",
]

BEFORE_KINDS = frozenset(
    {FaultKind.ERROR_500, FaultKind.ERROR_503, FaultKind.THROTTLED_429, FaultKind.LATENCY}
)
AFTER_KINDS = frozenset(
    {
        FaultKind.APPLIED_THEN_DROPPED,
        FaultKind.APPLIED_THEN_500,
        FaultKind.MALFORMED_JSON,
        FaultKind.NUL_BYTES,
    }
)
_COMPACT_KEYS = {
    "rate": "rate",
    "times": "times",
    "ms": "latency_ms",
    "latency_ms": "latency_ms",
    "retry_after": "retry_after",
}

_rng = random.Random()  # noqa: S311 -- fault draws, not secrets; seedable on purpose
_rng_lock = threading.Lock()
_env_loaded = False
_env_lock = threading.Lock()


class FaultSpecError(ValueError):
    """A fault rule or ``VPCSIM_FAULTS`` spec that does not make sense."""


# --- Setting rules --------------------------------------------------------------------------


def _validated(
    operation: str,
    kind: str,
    rate: float | None,
    times: int | None,
    latency_ms: int | None,
    retry_after: int | None,
) -> dict[str, Any]:
    if operation not in FaultOperation.values:
        raise FaultSpecError(f"unknown operation {operation!r}; one of {', '.join(FaultOperation.values)}")
    kind = str(kind)
    if kind not in FaultKind.values:
        raise FaultSpecError(f"unknown fault kind {kind!r}; one of {', '.join(FaultKind.values)}")
    if rate is not None and not (isinstance(rate, int | float) and 0 <= rate <= 1):
        raise FaultSpecError(f"rate must be a probability between 0 and 1, not {rate!r}")
    if times is not None and not (isinstance(times, int) and times >= 1):
        raise FaultSpecError(f"times must be a whole number of at least 1, not {times!r}")
    if kind == FaultKind.LATENCY and not (isinstance(latency_ms, int) and latency_ms >= 0):
        raise FaultSpecError("a latency fault needs latency_ms (ms), a whole number of milliseconds")
    if retry_after is not None and not (isinstance(retry_after, int) and retry_after >= 0):
        raise FaultSpecError(f"retry_after must be a whole number of seconds, not {retry_after!r}")
    return {
        "operation": operation,
        "kind": kind,
        "rate": None if rate is None else float(rate),
        "times": times,
        "remaining": times,
        "latency_ms": latency_ms or 0,
        "retry_after": 1 if retry_after is None else retry_after,
    }


def inject(
    operation: str,
    *,
    kind: str,
    rate: float | None = None,
    times: int | None = None,
    latency_ms: int | None = None,
    retry_after: int | None = None,
) -> FaultRule:
    """Add a rule: ``kind`` on ``operation`` (``"*"`` for any) with a ``rate`` and/or for ``times``."""
    return FaultRule.objects.create(**_validated(operation, kind, rate, times, latency_ms, retry_after))


def clear() -> None:
    """Remove every rule (those loaded from ``VPCSIM_FAULTS`` too)."""
    FaultRule.objects.all().delete()


def rules() -> list[FaultRule]:
    return list(FaultRule.objects.all())


def injected(operation: str | None = None, *, kind: str | None = None) -> int:
    """How many faults the current rules injected, optionally for one operation and/or kind."""
    qs = FaultRule.objects.all()
    if operation is not None:
        qs = qs.filter(operation=operation)
    if kind is not None:
        qs = qs.filter(kind=str(kind))
    return qs.aggregate(total=Sum("injected"))["total"] or 0


def seed(value: int | str | None) -> None:
    """Make this process's rate draws repeatable (``None``: from the system's entropy)."""
    with _rng_lock:
        _rng.seed(value)


# --- The environment ------------------------------------------------------------------------------


def _number(key: str, text: str) -> float | int:
    try:
        return float(text) if key == "rate" else int(text)
    except ValueError:
        raise FaultSpecError(f"{key}={text!r} is not a number") from None


def parse_spec(text: str) -> list[dict[str, Any]]:
    """``VPCSIM_FAULTS`` as a list of validated rule fields (see the module doc for the formats)."""
    text = text.strip()
    if not text:
        return []
    if text[0] in "[{":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise FaultSpecError(f"VPCSIM_FAULTS is not valid JSON: {exc}") from None
        items = data if isinstance(data, list) else [data]
        parsed = []
        for item in items:
            if not isinstance(item, dict) or "operation" not in item or "kind" not in item:
                raise FaultSpecError(f"each fault needs an operation and a kind: {item!r}")
            unknown = set(item) - {"operation", "kind", "rate", "times", "latency_ms", "retry_after"}
            if unknown:
                raise FaultSpecError(f"unknown fault key(s) {', '.join(sorted(unknown))}")
            parsed.append(
                _validated(
                    str(item["operation"]),
                    str(item["kind"]),
                    item.get("rate"),
                    item.get("times"),
                    item.get("latency_ms"),
                    item.get("retry_after"),
                )
            )
        return parsed
    parsed = []
    for chunk in filter(None, (c.strip() for c in text.split(";"))):
        parts = [p.strip() for p in chunk.split(":")]
        if len(parts) < 2:
            raise FaultSpecError(f"{chunk!r} is not operation:kind[:key=value...]")
        options: dict[str, Any] = {}
        for part in parts[2:]:
            key, sep, value = part.partition("=")
            if not sep or key not in _COMPACT_KEYS:
                raise FaultSpecError(
                    f"{part!r} in {chunk!r}: expected one of rate=, times=, ms=, retry_after="
                )
            options[_COMPACT_KEYS[key]] = _number(key, value)
        parsed.append(
            _validated(
                parts[0],
                parts[1],
                options.get("rate"),
                options.get("times"),
                options.get("latency_ms"),
                options.get("retry_after"),
            )
        )
    return parsed


def load_from_settings(*, force: bool = False) -> None:
    """Create the rules of ``VPCSIM_FAULTS`` (once per process; each rule once in the database)."""
    global _env_loaded
    if _env_loaded and not force:
        return
    with _env_lock:
        if _env_loaded and not force:
            return
        spec = getattr(settings, "VPCSIM_FAULTS", "") or ""
        for index, fields in enumerate(parse_spec(spec)):
            key = f"{index}:{json.dumps(fields, sort_keys=True)}"[:255]
            FaultRule.objects.get_or_create(env_key=key, defaults=fields)
        seed_value = getattr(settings, "VPCSIM_FAULTS_SEED", "") or os.environ.get("VPCSIM_FAULTS_SEED", "")
        if seed_value != "":
            seed(seed_value)
        _env_loaded = True


# --- Firing ----------------------------------------------------------------------------------------


def _draw() -> float:
    with _rng_lock:
        return _rng.random()


def pick(operation: str) -> FaultRule | None:
    """The rule that fires on this request, already counted (and its ``remaining`` taken), or ``None``."""
    load_from_settings()
    candidates = FaultRule.objects.filter(operation__in=[operation, FaultOperation.ANY]).filter(
        Q(remaining__isnull=True) | Q(remaining__gt=0)
    )
    for rule in candidates:
        if rule.rate is not None and _draw() >= rule.rate:
            continue
        if rule.remaining is None:
            FaultRule.objects.filter(pk=rule.pk).update(injected=F("injected") + 1)
            return rule
        # Another process may have taken the last one since the read: only a row we changed counts.
        taken = FaultRule.objects.filter(pk=rule.pk, remaining__gt=0).update(
            remaining=F("remaining") - 1, injected=F("injected") + 1
        )
        if taken:
            return rule
    return None


def server_error(status: int) -> ApiError:
    if status == 503:
        return ApiError(
            503,
            "The server is currently unavailable. Please try again at a later time.",
            type="HTTPServiceUnavailable",
            code="VPC.0503",
        )
    return ApiError(
        500,
        "Request Failed: internal server error while processing your request.",
        type="HTTPInternalServerError",
        code="VPC.0500",
    )


def before(rule: FaultRule) -> ApiError | None:
    """Act before the operation: an error to answer instead, or ``None`` to go on (after any delay)."""
    if rule.kind == FaultKind.LATENCY:
        time.sleep(rule.latency_ms / 1000)
        return None
    if rule.kind == FaultKind.THROTTLED_429:
        error = GatewayError(
            429,
            "The throttling threshold has been reached: policy user over ratelimit,limit:100,time:1 minute",
            code="APIGW.0308",
        )
        error.retry_after = rule.retry_after  # type: ignore[attr-defined]
        return error
    if rule.kind in (FaultKind.ERROR_500, FaultKind.ERROR_503):
        return server_error(int(rule.kind))
    return None


def _with_nul(value: Any) -> Any:
    if isinstance(value, str):
        half = len(value) // 2
        return value[:half] + "\u0000" + value[half:]
    if isinstance(value, list):
        return [_with_nul(v) for v in value]
    if isinstance(value, dict):
        return {k: _with_nul(v) for k, v in value.items()}
    return value


def after(rule: FaultRule, request: HttpRequest, response: HttpResponse, render_error) -> HttpResponse:
    """Replace the answer of an applied operation as ``rule`` says."""
    body = response.content
    if rule.kind == FaultKind.APPLIED_THEN_500:
        return render_error(server_error(500))
    if rule.kind == FaultKind.MALFORMED_JSON:
        broken = body[: len(body) // 2] if len(body) > 2 else b'{"peering": '
        return HttpResponse(broken, status=200, content_type="application/json")
    if rule.kind == FaultKind.NUL_BYTES:
        try:
            data = json.loads(body) if body else {"message": ""}
        except ValueError:
            data = {"message": body.decode(errors="replace")}
        status = response.status_code if body and 200 <= response.status_code < 300 else 200
        return HttpResponse(json.dumps(_with_nul(data)), status=status, content_type="application/json")
    if rule.kind == FaultKind.APPLIED_THEN_DROPPED:
        full = body or b'{"dropped": true}'
        dropped = StreamingHttpResponse(
            _send_half_then_drop(request, full),
            status=response.status_code if body else 200,
            content_type="application/json",
        )
        dropped["Content-Length"] = str(len(full))
        return dropped
    return response


def _connection_socket(environ: dict[str, Any]) -> socket.socket | None:
    """A socket on the client's connection: gunicorn's, or a duplicate of the request stream's fd."""
    sock = environ.get("gunicorn.socket")
    if isinstance(sock, socket.socket):
        return sock
    stream: Any = environ.get("wsgi.input")
    for _ in range(5):
        if stream is None:
            break
        fileno = getattr(stream, "fileno", None)
        if callable(fileno):
            try:
                return socket.socket(fileno=os.dup(fileno()))
            except (OSError, ValueError):
                pass
        # Django's LimitedStream keeps only its stream's bound ``read``.
        read = getattr(stream, "_read", None)
        stream = getattr(stream, "stream", None) or getattr(read, "__self__", None)
    return None


def _send_half_then_drop(request: HttpRequest, full: bytes) -> Iterator[bytes]:
    yield full[: max(1, len(full) // 2)]
    sock = _connection_socket(request.environ)
    if sock is None:
        raise ConnectionResetError("vpcsim fault: applied_then_dropped (no socket to drop)")
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    finally:
        if "gunicorn.socket" not in request.environ:
            sock.close()  # our duplicate; the server closes its own
