"""``/healthz/`` (the process answers) and ``/readyz/`` (it can serve: database, migrations, cloud).

Both are open (no sign-in), answer JSON and are never cached. ``/readyz/`` answers 503 naming
each check that failed. The cloud check is a cheap unsigned ``GET`` of ``VPC_API_ENDPOINT`` with
a short timeout: any HTTP answer (even 401 or 404) means the endpoint is reachable; only no
answer fails it. It is a reachability probe, not a call: it carries no keys and is not recorded.
The endpoint is the operator's, so the probe's session (:mod:`ops.egress`) is a trusted one.
"""

from __future__ import annotations

import logging
from typing import Any

import requests
from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from ops import egress

__all__ = ["healthz", "readyz"]

logger = logging.getLogger("ops.health")


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


CHECKS = {"database": _database, "migrations": _migrations, "cloud": _cloud}


@never_cache
@require_safe
def healthz(request: HttpRequest) -> JsonResponse:
    """The process is alive; touches nothing else."""
    return JsonResponse({"status": "ok"})


@never_cache
@require_safe
def readyz(request: HttpRequest) -> JsonResponse:
    results: dict[str, dict[str, Any]] = {}
    for name, check in CHECKS.items():
        if name == "migrations" and not results["database"]["ok"]:
            results[name] = {"ok": False, "error": "database unreachable"}
            continue
        try:
            results[name] = check()
        except Exception as exc:
            results[name] = {"ok": False, "error": f"{type(exc).__name__}: {exc}"[:300]}
    failed = [name for name, result in results.items() if not result["ok"]]
    if failed:
        logger.warning("not ready: %s", ", ".join(failed), extra={"failed": failed})
    body = {"status": "unavailable" if failed else "ok", "failed": failed, "checks": results}
    return JsonResponse(body, status=503 if failed else 200)
