"""AK/SK authentication of every simulator request, as the cloud's API gateway does it.

The gateway checks, in order: a well-formed ``Authorization`` header, a known
access key, an ``X-Sdk-Date`` within ``VPCSIM_CLOCK_SKEW_SECONDS`` of real
wall-clock time (15 minutes by default, the gateway's documented window; the
boundary itself is accepted), the signature (over the header list the request
names, the hash of the raw body computed here, the decoded path and query),
optionally that the signature is not a replay, then a signed ``X-Project-Id``
naming a project of the key's account. Failures are
:class:`~vpcsim.errors.GatewayError`:

* 401 ``APIGW.0301`` for anything wrong with the signature, the date or the
  headers (unknown key: "Get secretKey failed,ak:<AK>,err:ak not exist"; an
  ``X-Project-Id`` left out of the signed headers, which anyone on the path
  could add or change, is refused rather than honoured);
* with ``VPCSIM_REPLAY_CHECK`` set to ``writes`` (POST, PUT, DELETE) or ``all``,
  401 ``APIGW.0301`` for a replay: a verified signature already seen within the
  skew window (kept in :class:`~vpcsim.models.SeenSignature`, so every process
  serving the simulator shares it; wording chosen by the simulator). This is
  stricter than the cloud, whose gateway documents only the date window: the
  official SDK signs with one-second resolution and no nonce, so two identical
  legitimate requests in the same second carry the same signature and the cloud
  answers both. The default, ``off``, matches the cloud;
* 403 ``APIGW.0302`` when the project is unknown or belongs to another account
  (code and wording chosen by the simulator; the cloud's are unconfirmed).
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, transaction
from django.http import HttpRequest

import aksk
from vpcsim import sql, store
from vpcsim.errors import GatewayError
from vpcsim.models import Account, Project, SeenSignature

__all__ = ["Caller", "authenticate"]

_PREFIX = "Incorrect IAM authentication information: "
SIGNATURE_FAIL = _PREFIX + "verify aksk signature fail"
REPLAYED = _PREFIX + "the signature has already been used"
PROJECT_UNSIGNED = _PREFIX + "X-Project-Id header is not signed"
#: Expired seen signatures are deleted at most this often per process.
PURGE_INTERVAL_SECONDS = 60.0
_last_purge = 0.0

_KEY_SQL = """
SELECT k.account_id, k.secret_key, a.name, a.domain_id, p.id, p.name, p.region,
       EXISTS (SELECT 1 FROM vpcsim_faultrule f WHERE f.remaining IS NULL OR f.remaining > 0)
FROM vpcsim_accesskey k
JOIN vpcsim_account a ON a.id = k.account_id
LEFT JOIN vpcsim_project p ON p.account_id = k.account_id AND p.project_id = %s
WHERE k.access_key = %s
"""
_SEEN_SQL = "INSERT INTO vpcsim_seensignature (access_key, signature, expires_at) VALUES (%s, %s, %s)"


@dataclass(frozen=True)
class Caller:
    """Who is calling: the key's account and the project the request is scoped to."""

    account: Account
    project: Project
    access_key: str
    #: Whether any fault rule could fire when the request was authenticated.
    fault_rules: bool = True


def _now() -> dt.datetime:
    """Real wall-clock time (not :mod:`vpcsim.clock`): the gateway's clock."""
    return dt.datetime.now(dt.UTC)


def _refuse(reason: str) -> GatewayError:
    return GatewayError(401, _PREFIX + reason)


def authenticate(request: HttpRequest) -> Caller:
    """Return the :class:`Caller` of a correctly signed request, else raise ``GatewayError``."""
    try:
        authorization = aksk.parse_authorization(request.headers.get("Authorization"))
    except aksk.SignatureError:
        raise _refuse("Authorization header is missing or malformed") from None

    # One statement: the key, its account, the project the request names (checked in order
    # below) and whether any fault rule could fire (vpcsim.faults reads them only then).
    project_id = request.headers.get("X-Project-Id")
    row = sql.fetchone(_KEY_SQL, [(project_id or "").replace("\x00", ""), authorization.access_key])
    if row is None:
        raise GatewayError(401, f"Get secretKey failed,ak:{authorization.access_key},err:ak not exist")
    account_pk, secret_key, account_name, domain_id, project_pk, project_name, project_region, faults = row

    date_header = request.headers.get("X-Sdk-Date")
    if not date_header:
        raise _refuse("X-Sdk-Date header is missing")
    try:
        signed_at = aksk.parse_date(date_header)
    except aksk.SignatureError:
        raise _refuse("X-Sdk-Date header is malformed") from None
    skew = dt.timedelta(seconds=settings.VPCSIM_CLOCK_SKEW_SECONDS)
    if abs(_now() - signed_at) > skew:
        raise _refuse("X-Sdk-Date is too far from the current time")

    try:
        aksk.verify(
            method=request.method or "GET",
            path=request.path,
            query=[(k, v) for k in request.GET for v in request.GET.getlist(k)],
            headers=dict(request.headers),
            body=request.body,
            secret_key=secret_key,
            authorization=authorization,
        )
    except aksk.SignatureError:
        raise GatewayError(401, SIGNATURE_FAIL) from None
    if _replay_checked(request.method or "GET"):
        _refuse_replay(authorization, expires_at=signed_at + skew)

    if not project_id:
        raise _refuse("X-Project-Id header is missing")
    if "x-project-id" not in {name.lower() for name in authorization.signed_headers}:
        raise GatewayError(401, PROJECT_UNSIGNED)
    if project_pk is None:
        raise GatewayError(403, "The IAM user is not authorized to access the API.", code="APIGW.0302")
    account = Account.from_db(store.DB, ["id", "name", "domain_id"], [account_pk, account_name, domain_id])
    project = Project.from_db(
        store.DB,
        ["id", "account_id", "project_id", "name", "region"],
        [project_pk, account_pk, project_id, project_name, project_region],
    )
    project._state.fields_cache["account"] = account
    return Caller(
        account=account, project=project, access_key=authorization.access_key, fault_rules=bool(faults)
    )


def _replay_checked(method: str) -> bool:
    mode = settings.VPCSIM_REPLAY_CHECK
    if mode == "all":
        return True
    return mode == "writes" and method.upper() not in {"GET", "HEAD", "OPTIONS"}


def _refuse_replay(authorization: aksk.Authorization, *, expires_at: dt.datetime) -> None:
    """Remember a verified signature until ``expires_at``; raise if it was already there."""
    global _last_purge
    now = time.monotonic()
    if now - _last_purge >= PURGE_INTERVAL_SECONDS:
        _last_purge = now
        SeenSignature.objects.filter(expires_at__lt=_now()).delete()
    params = [
        authorization.access_key,
        authorization.signature,
        sql.param(SeenSignature, "expires_at", expires_at),
    ]
    try:
        # A savepoint keeps an outer transaction usable after a refusal.
        if store.connection().in_atomic_block:
            with transaction.atomic(using=store.DB):
                sql.execute(_SEEN_SQL, params)
        else:  # autocommit: one statement, no BEGIN/COMMIT round trips
            sql.execute(_SEEN_SQL, params)
    except IntegrityError:
        # Still there: seen within the window (an expired row is refused too until purged,
        # but its X-Sdk-Date is then outside the window and refused before this check).
        raise GatewayError(401, REPLAYED) from None
