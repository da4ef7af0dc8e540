"""``/healthz/`` (the process answers) and ``/readyz/`` (it can serve: database, migrations, cloud).

Both are open (no sign-in), answer JSON and are never cached. ``/readyz/`` answers 200 when
every *required* check passes (``READYZ_REQUIRED``: the database, the migrations and the cloud by
default), else 503. The shared cache and the Celery broker are checked when configured; when
one is down the portal still serves (reads never need Redis), so by default the answer stays 200
with ``"status": "degraded"``; listing them in ``READYZ_REQUIRED`` makes them required.

Anyone gets the status only (``{"status": "ok" | "degraded" | "unavailable"}``); an operator
(``Authorization: Bearer <READYZ_TOKEN>``, or a signed-in superuser) also gets which checks
failed and why: endpoints and error texts are not for anonymous callers.

The cloud check is a cheap unsigned ``GET`` of ``VPC_API_ENDPOINT`` with a short timeout: any
HTTP answer (even 401 or 404) means the endpoint is reachable; only no answer fails it. It is
a reachability probe, not a call: it carries no keys and is not recorded. The endpoint is the
operator's, so the probe's session (:mod:`ops.egress`) is a trusted one.
"""

from __future__ import annotations

import hmac
import logging
import uuid
from collections.abc import Callable
from typing import Any

import requests
from django.conf import settings
from django.core.cache import cache
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections
from django.db.migrations.executor import MigrationExecutor
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from ops import egress

__all__ = ["CHECKS", "healthz", "is_operator", "readyz"]

logger = logging.getLogger("ops.health")

#: Cache backends local to the process: nothing shared to check.
LOCAL_CACHES = ("locmem.LocMemCache", "dummy.DummyCache")


def _database() -> dict[str, Any]:
    with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return {"ok": True}


def _migrations() -> dict[str, Any]:
    connection = connections[DEFAULT_DB_ALIAS]
    executor = MigrationExecutor(connection)
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    if plan:
        pending = [f"{m.app_label}.{m.name}" for m, _ in plan]
        return {"ok": False, "error": f"{len(pending)} migration(s) not applied", "pending": pending[:20]}
    return {"ok": True}


def _cloud() -> dict[str, Any]:
    endpoint = settings.VPC_API_ENDPOINT
    timeout = settings.READINESS_CLOUD_TIMEOUT
    try:
        with egress.session(trusted=True, pool_connections=1, pool_maxsize=1) as http:
            response = http.get(endpoint, timeout=(timeout, timeout), stream=True)
            response.close()
    except requests.RequestException as exc:
        return {"ok": False, "endpoint": endpoint, "error": f"no answer ({type(exc).__name__})"}
    return {"ok": True, "endpoint": endpoint, "status": response.status_code}


def _cache() -> dict[str, Any] | None:
    """A write and a read of the shared cache; None (not checked) for a cache in process memory."""
    backend = settings.CACHES["default"]["BACKEND"]
    if backend.endswith(LOCAL_CACHES):
        return None
    key = f"readyz:{uuid.uuid4().hex}"
    cache.set(key, 1, 10)
    if cache.get(key) != 1:
        return {
            "ok": False,
            "backend": backend.rsplit(".", 1)[-1],
            "error": "a value written was not read back",
        }
    cache.delete(key)
    return {"ok": True, "backend": backend.rsplit(".", 1)[-1]}


def _broker() -> dict[str, Any] | None:
    """A connection to the Celery broker; None (not checked) when tasks run in-process."""
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return None
    from portal.celery import app

    timeout = settings.READINESS_SERVICE_TIMEOUT
    with app.connection_for_write(connect_timeout=timeout) as connection:
        connection.ensure_connection(max_retries=1, interval_start=0, interval_step=0, timeout=timeout)
        transport = connection.transport_cls
    return {"ok": True, "transport": str(transport)}


CHECKS: dict[str, Callable[[], dict[str, Any] | None]] = {
    "database": _database,
    "migrations": _migrations,
    "cloud": _cloud,
    "cache": _cache,
    "broker": _broker,
}


def _run_checks() -> dict[str, dict[str, Any]]:
    results: dict[str, dict[str, Any]] = {}
    for name, check in CHECKS.items():
        if name == "migrations" and not results["database"]["ok"]:
            results[name] = {"ok": False, "error": "database unreachable"}
            continue
        try:
            result = check()
        except Exception as exc:
            result = {"ok": False, "error": f"{type(exc).__name__}: {exc}"[:300]}
        if result is not None:
            results[name] = result
    return results


def is_operator(request: HttpRequest, token: str) -> bool:
    """``Authorization: Bearer <token>`` with a configured ``token``, or a signed-in superuser.

    The session is read only when the request carries one, and a database that is down makes
    the caller anonymous rather than the answer an error.
    """
    header = request.headers.get("Authorization", "")
    scheme, _, given = header.partition(" ")
    if token and scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), token.encode()):
        return True
    if settings.SESSION_COOKIE_NAME not in request.COOKIES:
        return False
    try:
        user = getattr(request, "user", None)
        return bool(user is not None and user.is_active and user.is_superuser)
    except DatabaseError:
        return False


@never_cache
@require_safe
def healthz(request: HttpRequest) -> JsonResponse:
    """The process is alive; touches nothing else."""
    return JsonResponse({"status": "ok"})


@never_cache
@require_safe
def readyz(request: HttpRequest) -> JsonResponse:
    results = _run_checks()
    failed = [name for name, result in results.items() if not result["ok"]]
    required = set(settings.READYZ_REQUIRED)
    blocking = [name for name in failed if name in required]
    status = "unavailable" if blocking else "degraded" if failed else "ok"
    if failed:
        logger.warning("readiness: %s failed", ", ".join(failed), extra={"failed": failed, "status": status})
    body: dict[str, Any] = {"status": status}
    if is_operator(request, settings.READYZ_TOKEN):
        body.update(failed=failed, checks=results)
    return JsonResponse(body, status=503 if blocking else 200)
