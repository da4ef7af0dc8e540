"""AK/SK authentication of every simulator request, as the cloud's API gateway does it.

The gateway checks, in order: a well-formed ``Authorization`` header, a known
access key, an ``X-Sdk-Date`` within ``VPCSIM_CLOCK_SKEW_SECONDS`` of real
wall-clock time (15 minutes by default, the gateway's documented window; the
boundary itself is accepted), the signature (over the header list the request
names, the hash of the raw body computed here, the decoded path and query),
that the signature is not a replay, then an ``X-Project-Id`` naming a project
of the key's account. Failures are :class:`~vpcsim.errors.GatewayError`:

* 401 ``APIGW.0301`` for anything wrong with the signature, the date or the
  headers (unknown key: "Get secretKey failed,ak:<AK>,err:ak not exist"), and
  for a replay: a verified signature already seen within the skew window
  (kept in :class:`~vpcsim.models.SeenSignature`, so every process serving the
  simulator shares it; wording chosen by the simulator, the cloud's is
  unconfirmed). ``VPCSIM_REPLAY_CHECK`` says which requests are checked:
  ``writes`` (the default: POST, PUT, DELETE), ``all`` or ``off``. Reads are
  left out by default because the official SDK signs two identical reads sent
  within the same second identically (``X-Sdk-Date`` has one-second
  resolution and the SDK adds no nonce), so a poll loop would be refused;
* 403 ``APIGW.0302`` when the project is unknown or belongs to another account
  (code and wording chosen by the simulator; the cloud's are unconfirmed).
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import OuterRef, Subquery
from django.http import HttpRequest

import aksk
from vpcsim import store
from vpcsim.errors import GatewayError
from vpcsim.models import AccessKey, Account, Project, SeenSignature

__all__ = ["Caller", "authenticate"]

_PREFIX = "Incorrect IAM authentication information: "
SIGNATURE_FAIL = _PREFIX + "verify aksk signature fail"
REPLAYED = _PREFIX + "the signature has already been used"
#: Expired seen signatures are deleted at most this often per process.
PURGE_INTERVAL_SECONDS = 60.0
_last_purge = 0.0


@dataclass(frozen=True)
class Caller:
    """Who is calling: the key's account and the project the request is scoped to."""

    account: Account
    project: Project
    access_key: str


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

    # One query: the key, its account and the project the request names (checked in order below).
    project_id = request.headers.get("X-Project-Id")
    named_project = Project.objects.filter(
        account=OuterRef("account"), project_id=(project_id or "").replace("\x00", "")
    )
    key = (
        AccessKey.objects.select_related("account")
        .filter(access_key=authorization.access_key)
        .annotate(
            project_pk=Subquery(named_project.values("pk")[:1]),
            project_name=Subquery(named_project.values("name")[:1]),
            project_region=Subquery(named_project.values("region")[:1]),
        )
        .first()
    )
    if key is None:
        raise GatewayError(401, f"Get secretKey failed,ak:{authorization.access_key},err:ak not exist")

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
            secret_key=key.secret_key,
            authorization=authorization,
        )
    except aksk.SignatureError:
        raise GatewayError(401, SIGNATURE_FAIL) from None
    if _replay_checked(request.method or "GET"):
        _refuse_replay(authorization, expires_at=signed_at + skew)

    if not project_id:
        raise _refuse("X-Project-Id header is missing")
    if key.project_pk is None:
        raise GatewayError(403, "The IAM user is not authorized to access the API.", code="APIGW.0302")
    project = Project(
        pk=key.project_pk,
        account=key.account,
        project_id=project_id,
        name=key.project_name,
        region=key.project_region,
    )
    project._state.adding = False
    project._state.db = key._state.db
    return Caller(account=key.account, project=project, access_key=key.access_key)


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
    seen = SeenSignature(
        access_key=authorization.access_key, signature=authorization.signature, expires_at=expires_at
    )
    try:
        # A savepoint keeps an outer transaction usable after a refusal.
        if store.connection().in_atomic_block:
            with transaction.atomic(using=store.DB):
                seen.save(force_insert=True)
        else:  # autocommit: one statement, no BEGIN/COMMIT round trips
            seen.save(force_insert=True)
    except IntegrityError:
        # Still there: seen within the window (an expired row is refused too until purged,
        # but its X-Sdk-Date is then outside the window and refused before this check).
        raise GatewayError(401, REPLAYED) from None
