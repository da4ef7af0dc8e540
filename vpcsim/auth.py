"""AK/SK authentication of every simulator request, as the cloud's API gateway does it.

The gateway checks, in order: a well-formed ``Authorization`` header, a known
access key, an ``X-Sdk-Date`` within ``VPCSIM_CLOCK_SKEW_SECONDS`` of real
wall-clock time, the signature (over the header list the request names, the
raw body, the decoded path and query), then an ``X-Project-Id`` naming a
project of the key's account. Failures are :class:`~vpcsim.errors.GatewayError`:

* 401 ``APIGW.0301`` for anything wrong with the signature, the date or the
  headers (unknown key: "Get secretKey failed,ak:<AK>,err:ak not exist");
* 403 ``APIGW.0302`` when the project is unknown or belongs to another account
  (code and wording chosen by the simulator; the cloud's are unconfirmed).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.http import HttpRequest

import aksk
from vpcsim.errors import GatewayError
from vpcsim.models import AccessKey, Account, Project

__all__ = ["Caller", "authenticate"]

_PREFIX = "Incorrect IAM authentication information: "
SIGNATURE_FAIL = _PREFIX + "verify aksk signature fail"


@dataclass(frozen=True)
class Caller:
    """Who is calling: the key's account and the project the request is scoped to."""

    account: Account
    project: Project
    access_key: str


def _refuse(reason: str) -> GatewayError:
    return GatewayError(401, _PREFIX + reason)


def authenticate(request: HttpRequest) -> Caller:
    """Return the :class:`Caller` of a correctly signed request, else raise ``GatewayError``."""
    try:
        authorization = aksk.parse_authorization(request.headers.get("Authorization"))
    except aksk.SignatureError:
        raise _refuse("Authorization header is missing or malformed") from None

    key = AccessKey.objects.select_related("account").filter(access_key=authorization.access_key).first()
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
    if abs(dt.datetime.now(dt.UTC) - signed_at) > skew:
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

    project_id = request.headers.get("X-Project-Id")
    if not project_id:
        raise _refuse("X-Project-Id header is missing")
    project = Project.objects.filter(project_id=project_id, account=key.account).first()
    if project is None:
        raise GatewayError(403, "The IAM user is not authorized to access the API.", code="APIGW.0302")
    return Caller(account=key.account, project=project, access_key=key.access_key)
