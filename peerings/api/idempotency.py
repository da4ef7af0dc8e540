"""``Idempotency-Key`` for every write: a retried request gets the first answer, not a second call.

A write carrying the header reserves the key (per user) by inserting an
``IdempotencyKey`` row: the table's unique constraint decides which of two
concurrent duplicates runs. As Stripe does it, only the answer of a request that
began work is stored and replayed for the same key, method, path and body with
``Idempotent-Replayed: true``: a success, or a client error given after a change was
sent to the cloud (its refusal, or its answer that another decision won). A request
refused before any work started (invalid input, a warning to confirm, a role or state
that does not allow it, an unknown query parameter) frees its key, so the client fixes
the request and retries with the same key; a 5xx frees it too, except
for a create the cloud did not confirm: its key then stands for the peering kept as
``SUBMITTING``, and a retry answers with that peering as it is then (see
``PeeringViewSet.replay``), never with a second request.
The same key with another method, path or body answers 422; a duplicate that
arrives while the first is still running answers 409.

Records are kept for ``settings.IDEMPOTENCY_RETENTION`` (24 hours by default), then
removed by :func:`peerings.jobs.purge_idempotency_keys` (``manage.py purge_idempotency_keys``, from cron or a
periodic job): a retry after that is a new request.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

from django.db import IntegrityError, transaction
from django.http import QueryDict
from django.utils import timezone
from rest_framework import status
from rest_framework.exceptions import APIException
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from peerings import history
from peerings.models import IdempotencyKey
from peerings.rules.limits import IDEMPOTENCY_STALE_AFTER

__all__ = [
    "HEADER",
    "KEY_PATTERN",
    "REPLAY_HEADER",
    "IdempotencyKeyInUse",
    "IdempotencyKeyReused",
    "IdempotentViewMixin",
    "InvalidIdempotencyKey",
    "Replay",
    "begin",
    "finish",
    "kept_peering_id",
]

HEADER = "Idempotency-Key"
REPLAY_HEADER = "Idempotent-Replayed"
#: Visible ASCII, 1 to 255 characters (a UUID is a good key).
KEY_PATTERN = r"^[!-~]{1,255}$"
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
#: ``response_status`` of a key whose first request has not answered yet.
IN_PROGRESS = 0
#: A reservation older than this belongs to a request that died; a retry may take it over.
STALE_AFTER = IDEMPOTENCY_STALE_AFTER

_KEY_RE = re.compile(KEY_PATTERN)


class InvalidIdempotencyKey(APIException):
    status_code = status.HTTP_400_BAD_REQUEST
    default_code = "invalid_idempotency_key"
    default_detail = "The Idempotency-Key header must be 1 to 255 visible ASCII characters."


class IdempotencyKeyReused(APIException):
    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_code = "idempotency_key_reused"
    default_detail = "This Idempotency-Key was already used for another request (method, path or body)."


class IdempotencyKeyInUse(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_code = "idempotency_key_in_use"
    default_detail = "A request with this Idempotency-Key is still being processed; retry shortly."


class Replay(Exception):
    """Raised by ``begin`` to answer with the stored response of an earlier request."""

    def __init__(self, record: IdempotencyKey) -> None:
        self.record = record
        super().__init__(record.key)

    def response(self) -> Response:
        body, status_code = self.record.response_body, self.record.response_status
        headers = {REPLAY_HEADER: "true"}
        if status_code == status.HTTP_201_CREATED and isinstance(body, dict) and body.get("url"):
            headers["Location"] = str(body["url"])  # as the first answer said
        return Response(body, status=status_code, headers=headers)


def _fingerprint(request: Request) -> str:
    data = request.data
    if isinstance(data, QueryDict):
        data = {key: data.getlist(key) for key in sorted(data)}
    payload = json.dumps(
        [request.method, request.path, data], sort_keys=True, separators=(",", ":"), default=str
    )
    return hashlib.sha256(payload.encode()).hexdigest()


def _key(request: Request) -> str | None:
    raw = request.headers.get(HEADER)
    if raw is None:
        return None
    key = raw.strip()
    if not _KEY_RE.match(key):
        raise InvalidIdempotencyKey()
    return key


def begin(request: Request) -> IdempotencyKey | None:
    """Reserve the request's key, or raise ``Replay`` / 409 / 422; ``None`` when there is nothing to do."""
    if request.method not in WRITE_METHODS or not request.user.is_authenticated:
        return None
    key = _key(request)
    if key is None:
        return None
    fingerprint = _fingerprint(request)
    fields = {"method": request.method, "path": request.path, "request_fingerprint": fingerprint}
    try:
        with transaction.atomic():
            return IdempotencyKey.objects.create(
                user=request.user, key=key, response_status=IN_PROGRESS, **fields
            )
    except IntegrityError:
        pass  # the key is taken: by an answered request, or one still running
    existing = IdempotencyKey.objects.filter(user=request.user, key=key).first()
    if existing is None:  # freed in between by a request that failed: let the client retry
        raise IdempotencyKeyInUse()
    if existing.request_fingerprint != fingerprint:
        raise IdempotencyKeyReused()
    if existing.response_status != IN_PROGRESS:
        raise Replay(existing)
    now = timezone.now()
    if existing.created_at < now - STALE_AFTER:
        taken = IdempotencyKey.objects.filter(
            pk=existing.pk, response_status=IN_PROGRESS, created_at=existing.created_at
        ).update(created_at=now)
        if taken:
            existing.created_at = now
            return existing
    raise IdempotencyKeyInUse()


def kept_peering_id(response: Response) -> int | None:
    """The id of the peering an error answer says was kept (``error.peering.id``)."""
    data = getattr(response, "data", None)
    error = data.get("error") if isinstance(data, dict) else None
    peering = error.get("peering") if isinstance(error, dict) else None
    return peering.get("id") if isinstance(peering, dict) else None


def finish(record: IdempotencyKey, response: Response, *, began: bool, peering_id: int | None = None) -> None:
    """Store the response for ``record``'s key if its request began work; else free the key.

    ``began``: a change was sent to the cloud. A success always counts as work done.

    With ``peering_id`` (a create kept as ``SUBMITTING``), a server error is stored too,
    with the peering, so that a retry answers with the peering rather than a new request.
    """
    rows = IdempotencyKey.objects.filter(pk=record.pk, response_status=IN_PROGRESS)
    began = status.is_success(response.status_code) or (
        began and status.is_client_error(response.status_code)
    )
    if not began and peering_id is None:
        rows.delete()
        return
    data = getattr(response, "data", None)
    body = None if data is None else json.loads(JSONRenderer().render(data))
    rows.update(response_status=response.status_code, response_body=body, peering_id=peering_id)


class IdempotentViewMixin:
    """Applies ``begin``/``finish`` around a DRF view's writes (after authentication and throttling)."""

    idempotency_record: IdempotencyKey | None = None
    changes_at_start = 0

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        self.check_request(request)
        self.idempotency_record = begin(request)
        self.changes_at_start = history.changes_sent()

    def check_request(self, request: Request) -> None:
        """Refusals due before a key is reserved (the query string, say); raise to refuse."""

    #: View actions whose kept peering a retry answers with (see ``finish``).
    keeps_peering_on: frozenset[str] = frozenset()

    def replay(self, record: IdempotencyKey) -> Response:
        """The answer to a retry of an answered request: the stored one."""
        return Replay(record).response()

    def handle_exception(self, exc: Exception) -> Response:
        if isinstance(exc, Replay):
            return self.replay(exc.record)
        return super().handle_exception(exc)

    def finalize_response(self, request: Request, response: Response, *args: Any, **kwargs: Any) -> Response:
        response = super().finalize_response(request, response, *args, **kwargs)
        record, self.idempotency_record = self.idempotency_record, None
        if record is not None:
            keeps = getattr(self, "action", None) in self.keeps_peering_on
            began = history.changes_sent() > self.changes_at_start
            finish(record, response, began=began, peering_id=kept_peering_id(response) if keeps else None)
        return response
