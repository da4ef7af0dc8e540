"""The workflow: the only code that changes a peering.

Every function checks the acting user's membership and the peering's status first and
raises ``NotPermitted`` / ``InvalidState`` / ``RequestInvalid`` before anything is sent
to the cloud. Then it works in three steps, and **never holds a transaction (or a row
lock) open while it waits on the cloud**: the embedded simulator answers from the same
process and database, which on SQLite would deadlock, and anywhere else would keep
rows locked for the length of a network call.

1. A short transaction locks the row (``select_for_update``) and re-checks its status.
   A new request is saved here as ``SUBMITTING`` (with a ``'' -> SUBMITTING`` status
   change), so it is never lost whatever happens next.
2. The call to the cloud, outside any transaction, with the keys of the right tenant:
   the requester's to request, update or delete as the requester; the accepter's to
   accept, reject, or update/delete as the accepter (a member of both sides acts with
   the requester's keys).
3. One transaction re-reads the row under lock and writes the ``UpstreamCall`` row,
   the mirror (from the cloud's answer) and a ``StatusChange`` row if the status moved.

A failed call (``CloudError``) still commits its ``UpstreamCall`` row and the error on
the peering, then the same exception is raised again. A create the cloud refused
makes the peering ``FAILED``; a create that could not be sent stays ``SUBMITTING``. A
create whose outcome is unknown (sent, no answer) is never blindly repeated: the
requester's peerings are listed at once, and a peering joining the same two VPCs with
the same name is adopted (the request then returns normally). If that lookup fails or
finds nothing, the peering stays ``SUBMITTING`` and the error is raised;
:func:`peering_refresh` looks again later and sends the create again only once the
cloud positively has no such peering.

Statuses move along ``TRANSITIONS`` only. When the cloud reports a status the mirror
cannot move to (backwards, e.g. ``ACTIVE`` -> ``PENDING_ACCEPTANCE``), the mirror keeps
its status, records the call, and stores the conflict on the peering
(``error_code = STATUS_CONFLICT`` with an explanation) instead of crashing.

Deleting: any status but ``DELETED`` and ``FAILED``; the cloud's 404 means the peering is
already gone, so it becomes ``DELETED``. A ``FAILED`` peering never existed upstream and
holds no VPC pair: it stays as the record of the refusal. A ``SUBMITTING`` peering with
no cloud id is first looked up in the cloud; if found it is adopted and deleted there,
if the cloud positively has none it is marked ``DELETED`` locally (withdrawn), and if the
lookup fails the error is raised and nothing changes.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from peerings.choices import TERMINAL_STATUSES, ChangeSource, PeeringStatus, Role
from peerings.cloud import CallRecord, CloudResponse, VpcApiClient
from peerings.exceptions import (
    CloudError,
    CloudRefused,
    CloudUnavailable,
    InvalidState,
    NotPermitted,
    RequestInvalid,
)
from peerings.history import record_call, record_status_change
from peerings.models import Peering, Tenant
from peerings.selectors import membership_role
from peerings.upstream import tenant_client
from peerings.validation import (
    PAIR_ALREADY_OPEN,
    UPDATE_NOTHING,
    check_peering_request,
    validate_description,
    validate_name,
)

__all__ = [
    "STATUS_CONFLICT",
    "peering_accept",
    "peering_delete",
    "peering_refresh",
    "peering_reject",
    "peering_request",
    "peering_update",
]

logger = logging.getLogger("peerings.workflow")

#: ``Peering.error_code`` when the cloud reported a status the mirror cannot move to.
STATUS_CONFLICT = "STATUS_CONFLICT"

S = PeeringStatus

NOT_A_MEMBER = "You are not a member of a tenant of this peering."
NOT_AN_APPROVER = "Only an approver of the accepter tenant may accept or reject this peering."
NOT_PENDING = "Only a peering pending acceptance can be {action}ed; this one is {status}."
GONE = "This peering is {status}: there is nothing more to do with it."
NOT_CREATED_YET = "The cloud has not confirmed this peering yet; refresh it first."
NOT_REQUESTER = "Only the requester's members can complete a request the cloud has not confirmed yet."


# --- Checks ---------------------------------------------------------------------------------------


def _acting_tenant(user: Any, peering: Peering, *, role: Role | None = None) -> Tenant:
    """The tenant whose keys the user acts with: the requester's first, else the accepter's."""
    sides = (peering.requester_tenant, peering.accepter_tenant)
    if role is not None:
        sides = (peering.accepter_tenant,)
    for tenant in sides:
        held = membership_role(user, tenant)
        if held is not None and (role is None or held == role):
            return tenant
    raise NotPermitted(NOT_AN_APPROVER if role is not None else NOT_A_MEMBER)


def _lock(peering: Peering) -> None:
    """Re-read ``peering`` into the same instance, locking its row (call inside a transaction)."""
    peering.refresh_from_db(from_queryset=Peering.objects.select_for_update())


def _recheck(peering: Peering, allowed: Callable[[Peering], bool], message: str) -> None:
    """Step 1: lock the row, re-read it and check its (current) status."""
    with transaction.atomic():
        _lock(peering)
        if not allowed(peering):
            raise InvalidState(message.format(status=peering.get_status_display()))


def _not_gone(peering: Peering) -> bool:
    return peering.status not in TERMINAL_STATUSES


# --- Mirror updates (always inside the step-3 transaction) ---------------------------------------


def _parse_time(value: Any) -> datetime | None:
    """The cloud's ``yyyy-MM-ddTHH:mm:ss`` (UTC, no zone) as an aware datetime."""
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def _move(peering: Peering, new: str, *, actor: Any, reason: str, source: str) -> None:
    """Move the status along ``TRANSITIONS`` and record it; store a conflict otherwise."""
    old = peering.status
    if new == old:
        return
    if new not in S.values or not peering.can_transition_to(new):
        peering.error_code = STATUS_CONFLICT
        peering.error_message = (
            f"The cloud reports the status {new}, which cannot follow {old}; the portal keeps {old}."
        )
        logger.warning("peering %s: %s", peering.pk, peering.error_message)
        return
    peering.status = new
    record_status_change(
        peering=peering, old_status=old, new_status=new, actor=actor, reason=reason, source=source
    )


def _apply(peering: Peering, data: dict, *, actor: Any, reason: str, source: str) -> None:
    """Copy the cloud's view of the peering onto the mirror (status last, along TRANSITIONS)."""
    peering.error_code = peering.error_message = ""
    if data.get("id"):
        peering.upstream_id = str(data["id"])
    if data.get("name") is not None:
        peering.name = data["name"]
    if data.get("description") is not None:
        peering.description = data["description"]
    request_info = data.get("request_vpc_info") or {}
    accept_info = data.get("accept_vpc_info") or {}
    if request_info.get("tenant_id"):
        peering.requester_project_id = request_info["tenant_id"]
    if request_info.get("vpc_id"):
        peering.requester_vpc_id = uuid.UUID(str(request_info["vpc_id"]))
    if accept_info.get("tenant_id"):
        peering.accepter_project_id = accept_info["tenant_id"]
    if accept_info.get("vpc_id"):
        peering.accepter_vpc_id = uuid.UUID(str(accept_info["vpc_id"]))
    if peering.accepter_tenant_id is None:
        peering.accepter_tenant = Tenant.objects.filter(project_id=peering.accepter_project_id).first()
    peering.upstream_created_at = _parse_time(data.get("created_at")) or peering.upstream_created_at
    peering.upstream_updated_at = _parse_time(data.get("updated_at")) or peering.upstream_updated_at
    peering.last_synced_at = timezone.now()
    if data.get("status"):
        _move(peering, str(data["status"]), actor=actor, reason=reason, source=source)


def _commit(
    peering: Peering,
    record: CallRecord,
    *,
    tenant: Tenant,
    acting_user: Any,
    change: Callable[[Peering], None],
) -> Peering:
    """Step 3: in one transaction, re-read the row under lock, record the call, apply ``change``."""
    with transaction.atomic():
        _lock(peering)
        record_call(record, tenant=tenant, acting_user=acting_user, peering=peering)
        change(peering)
        peering.save()
    return peering


def _commit_failure(
    peering: Peering,
    exc: CloudError,
    *,
    tenant: Tenant,
    acting_user: Any,
    change: Callable[[Peering], None] | None = None,
    store_error: bool = True,
) -> None:
    """Record a failed call and the error on the peering (then the caller re-raises)."""

    def store(p: Peering) -> None:
        if store_error:
            p.error_code = (exc.code or (str(exc.status) if exc.status else type(exc).__name__))[:64]
            p.error_message = exc.message
        if change is not None:
            change(p)

    with transaction.atomic():
        _lock(peering)
        if exc.record is not None:
            record_call(exc.record, tenant=tenant, acting_user=acting_user, peering=peering)
        store(peering)
        peering.save()


def _send(
    peering: Peering,
    call: Callable[[VpcApiClient], CloudResponse],
    *,
    tenant: Tenant,
    acting_user: Any,
    store_error: bool = True,
) -> CloudResponse:
    """Step 2: one call with ``tenant``'s keys; a failure is recorded, then re-raised."""
    try:
        return call(tenant_client(tenant))
    except CloudError as exc:
        _commit_failure(peering, exc, tenant=tenant, acting_user=acting_user, store_error=store_error)
        raise


# --- Creating ---------------------------------------------------------------------------------------


def _same_pair(peering: Peering, data: dict) -> bool:
    try:
        request_vpc = uuid.UUID(str((data.get("request_vpc_info") or {}).get("vpc_id")))
        accept_vpc = uuid.UUID(str((data.get("accept_vpc_info") or {}).get("vpc_id")))
    except ValueError:
        return False
    return (request_vpc, accept_vpc) == (peering.requester_vpc_id, peering.accepter_vpc_id)


def _lookup(
    peering: Peering, *, tenant: Tenant, acting_user: Any, store_error: bool = True
) -> tuple[CallRecord, dict | None]:
    """Find, with ``tenant``'s keys, the cloud peering this ``SUBMITTING`` row may have created.

    Matches on name and the two VPCs; prefers a live one, then the newest. Peerings
    already mirrored by another row are skipped. A failed lookup is recorded and raised.
    """
    response = _send(
        peering,
        lambda client: client.list_peerings(vpc_id=str(peering.requester_vpc_id), name=peering.name),
        tenant=tenant,
        acting_user=acting_user,
        store_error=store_error,
    )
    candidates = [
        item
        for item in response.data.get("peerings", [])
        if isinstance(item, dict) and item.get("name") == peering.name and _same_pair(peering, item)
    ]
    taken = set(
        Peering.objects.filter(upstream_id__in=[str(c.get("id")) for c in candidates])
        .exclude(pk=peering.pk)
        .values_list("upstream_id", flat=True)
    )
    candidates = [c for c in candidates if str(c.get("id")) not in taken]
    candidates.sort(key=lambda c: (c.get("status") != S.DELETED, str(c.get("created_at") or "")))
    return response.record, (candidates[-1] if candidates else None)


def _adopt_or_note(
    peering: Peering, record: CallRecord, found: dict | None, *, tenant: Tenant, acting_user: Any, source: str
) -> Peering:
    """Commit a lookup: adopt the peering it found, or only record the call."""

    def adopt(p: Peering) -> None:
        if found is not None:
            reason = "Found in the cloud after a create whose outcome was unknown."
            _apply(p, found, actor=acting_user, reason=reason, source=source)

    return _commit(peering, record, tenant=tenant, acting_user=acting_user, change=adopt)


def _create(peering: Peering, *, acting_user: Any, source: str) -> Peering:
    """Send the create of a ``SUBMITTING`` peering with the requester's keys (steps 2 and 3)."""
    tenant = peering.requester_tenant
    try:
        response = tenant_client(tenant).create_peering(
            name=peering.name,
            description=peering.description,
            request_vpc_id=str(peering.requester_vpc_id),
            accept_vpc_id=str(peering.accepter_vpc_id),
            accept_project_id=peering.accepter_project_id,
        )
    except CloudRefused as exc:
        refusal = f"The cloud refused it: {exc}"

        def fail(p: Peering) -> None:
            _move(p, S.FAILED, actor=acting_user, reason=refusal, source=source)

        _commit_failure(peering, exc, tenant=tenant, acting_user=acting_user, change=fail)
        raise
    except CloudUnavailable as exc:
        _commit_failure(peering, exc, tenant=tenant, acting_user=acting_user)
        if not exc.outcome_unknown:
            raise
        try:
            # The peering keeps the create's error: that is the one raised.
            record, found = _lookup(peering, tenant=tenant, acting_user=acting_user, store_error=False)
        except CloudError:
            raise exc from None
        _adopt_or_note(peering, record, found, tenant=tenant, acting_user=acting_user, source=source)
        if found is None:
            raise
        return peering

    def created(p: Peering) -> None:
        _apply(p, response.data, actor=acting_user, reason="Created in the cloud.", source=source)

    return _commit(peering, response.record, tenant=tenant, acting_user=acting_user, change=created)


def peering_request(
    *,
    tenant: Tenant,
    acting_user: Any,
    name: str,
    description: str = "",
    request_vpc_id: Any,
    accept_vpc_id: Any,
    accept_project_id: str | None = None,
    confirm_overlap: bool = False,
    source: str = ChangeSource.USER,
) -> Peering:
    """Request a peering from one of ``tenant``'s VPCs; any member of the tenant may.

    Returns the peering, ``ACTIVE`` (same account) or ``PENDING_ACCEPTANCE``. See the
    module docstring for what a failure leaves behind.
    """
    if membership_role(acting_user, tenant) is None:
        raise NotPermitted("You are not a member of this tenant.")
    plan = check_peering_request(
        tenant=tenant,
        acting_user=acting_user,
        name=name,
        description=description,
        request_vpc_id=request_vpc_id,
        accept_vpc_id=accept_vpc_id,
        accept_project_id=accept_project_id,
        confirm_overlap=confirm_overlap,
    )
    try:
        with transaction.atomic():
            if Peering.objects.open().between(plan.request_vpc_id, plan.accept_vpc_id).exists():
                raise RequestInvalid({"accept_vpc_id": [PAIR_ALREADY_OPEN]})
            peering = Peering.objects.create(
                name=plan.name,
                description=plan.description,
                status=S.SUBMITTING,
                requester_tenant=tenant,
                requester_project_id=tenant.project_id,
                requester_vpc_id=plan.request_vpc_id,
                accepter_tenant=plan.accepter_tenant,
                accepter_project_id=plan.accepter_project_id,
                accepter_vpc_id=plan.accept_vpc_id,
                requested_by=acting_user,
            )
            record_status_change(
                peering=peering,
                old_status="",
                new_status=S.SUBMITTING,
                actor=acting_user,
                reason="Requested.",
                source=source,
            )
    except IntegrityError:
        raise RequestInvalid({"accept_vpc_id": [PAIR_ALREADY_OPEN]}) from None
    return _create(peering, acting_user=acting_user, source=source)


# --- Deciding -----------------------------------------------------------------------------------------


def _decide(
    peering: Peering, *, acting_user: Any, reason: str, source: str, action: str, new_status: str
) -> Peering:
    tenant = _acting_tenant(acting_user, peering, role=Role.APPROVER)
    _recheck(
        peering,
        lambda p: p.status == S.PENDING_ACCEPTANCE and bool(p.upstream_id),
        NOT_PENDING.replace("{action}", action),
    )

    def call(client: VpcApiClient) -> CloudResponse:
        if new_status == S.ACTIVE:
            return client.accept_peering(peering.upstream_id)
        return client.reject_peering(peering.upstream_id)

    try:
        response = _send(peering, call, tenant=tenant, acting_user=acting_user)
    except CloudRefused as exc:
        if exc.record is None or exc.record.attempts < 2:
            raise
        # A retry was refused: an earlier attempt may have been carried out before its answer
        # was lost. The cloud's own view decides whether the decision happened.
        response = _send(
            peering,
            lambda client: client.show_peering(peering.upstream_id),
            tenant=tenant,
            acting_user=acting_user,
        )
        if response.data.get("status") != new_status:
            _commit(peering, response.record, tenant=tenant, acting_user=acting_user, change=lambda p: None)
            raise

    def decided(p: Peering) -> None:
        text = reason or f"{action.capitalize()}ed."
        _apply(p, response.data, actor=acting_user, reason=text, source=source)
        p.decided_by = acting_user
        p.decided_at = timezone.now()
        p.decision_reason = reason

    return _commit(peering, response.record, tenant=tenant, acting_user=acting_user, change=decided)


def peering_accept(
    *, peering: Peering, acting_user: Any, reason: str = "", source: str = ChangeSource.USER
) -> Peering:
    """Accept a peering addressed to a tenant the user approves for, with that tenant's keys."""
    return _decide(
        peering, acting_user=acting_user, reason=reason, source=source, action="accept", new_status=S.ACTIVE
    )


def peering_reject(
    *, peering: Peering, acting_user: Any, reason: str = "", source: str = ChangeSource.USER
) -> Peering:
    """Reject a peering addressed to a tenant the user approves for, with that tenant's keys."""
    return _decide(
        peering, acting_user=acting_user, reason=reason, source=source, action="reject", new_status=S.REJECTED
    )


# --- Updating, deleting, refreshing ---------------------------------------------------------------


def peering_update(
    *,
    peering: Peering,
    acting_user: Any,
    name: str | None = None,
    description: str | None = None,
    source: str = ChangeSource.USER,
) -> Peering:
    """Rename a peering or change its description; a member of either side may."""
    tenant = _acting_tenant(acting_user, peering)
    errors: dict[str, list[str]] = {}
    if name is None and description is None:
        errors[NON_FIELD_ERRORS] = [UPDATE_NOTHING]
    for field, validator, value in (
        ("name", validate_name, name),
        ("description", validate_description, description),
    ):
        if value is not None:
            try:
                validator(value)
            except ValidationError as exc:
                errors[field] = exc.messages
    if errors:
        raise RequestInvalid(errors)
    _recheck(peering, _not_gone, GONE)
    if not peering.upstream_id:
        raise InvalidState(NOT_CREATED_YET)
    response = _send(
        peering,
        lambda client: client.update_peering(peering.upstream_id, name=name, description=description),
        tenant=tenant,
        acting_user=acting_user,
    )

    def updated(p: Peering) -> None:
        _apply(p, response.data, actor=acting_user, reason="Reported by the cloud on update.", source=source)

    return _commit(peering, response.record, tenant=tenant, acting_user=acting_user, change=updated)


def _mark_deleted(reason: str, *, actor: Any, source: str) -> Callable[[Peering], None]:
    def deleted(p: Peering) -> None:
        p.error_code = p.error_message = ""
        p.last_synced_at = timezone.now()
        _move(p, S.DELETED, actor=actor, reason=reason, source=source)

    return deleted


def _send_unless_gone(
    peering: Peering,
    call: Callable[[VpcApiClient], CloudResponse],
    *,
    tenant: Tenant,
    acting_user: Any,
    source: str,
    gone_reason: str,
) -> CloudResponse | None:
    """Like :func:`_send`, but the cloud's 404 commits the peering as ``DELETED`` and returns None."""
    try:
        return call(tenant_client(tenant))
    except CloudRefused as exc:
        if exc.status == 404 and exc.record is not None:
            gone = _mark_deleted(gone_reason, actor=acting_user, source=source)
            _commit(peering, exc.record, tenant=tenant, acting_user=acting_user, change=gone)
            return None
        _commit_failure(peering, exc, tenant=tenant, acting_user=acting_user)
        raise
    except CloudError as exc:
        _commit_failure(peering, exc, tenant=tenant, acting_user=acting_user)
        raise


def peering_delete(*, peering: Peering, acting_user: Any, source: str = ChangeSource.USER) -> Peering:
    """Delete a peering from the cloud; a member of either side may, in any live status."""
    tenant = _acting_tenant(acting_user, peering)
    _recheck(peering, _not_gone, GONE)
    if not peering.upstream_id:
        record, found = _lookup(peering, tenant=tenant, acting_user=acting_user)
        if found is None:
            withdrawn = _mark_deleted(
                "Withdrawn: the cloud has no such peering.", actor=acting_user, source=source
            )
            return _commit(peering, record, tenant=tenant, acting_user=acting_user, change=withdrawn)
        _adopt_or_note(peering, record, found, tenant=tenant, acting_user=acting_user, source=source)
        if peering.status == S.DELETED:
            return peering
    response = _send_unless_gone(
        peering,
        lambda client: client.delete_peering(peering.upstream_id),
        tenant=tenant,
        acting_user=acting_user,
        source=source,
        gone_reason="Already gone from the cloud.",
    )
    if response is None:
        return peering
    deleted = _mark_deleted("Deleted.", actor=acting_user, source=source)
    return _commit(peering, response.record, tenant=tenant, acting_user=acting_user, change=deleted)


def peering_refresh(*, peering: Peering, acting_user: Any = None, source: str = ChangeSource.SYNC) -> Peering:
    """Bring the mirror up to date with the cloud (``acting_user=None`` for the sync job).

    A known peering is read with ``show`` (a 404 makes it ``DELETED``). A ``SUBMITTING``
    peering without a cloud id is looked up with the requester's keys (it is the
    requester's own request being completed); it is adopted if found, and its create
    is sent again only when the cloud positively has no such peering.
    """
    tenant = peering.requester_tenant if acting_user is None else _acting_tenant(acting_user, peering)
    _recheck(peering, _not_gone, GONE)
    if not peering.upstream_id:
        tenant = peering.requester_tenant
        if acting_user is not None and membership_role(acting_user, tenant) is None:
            raise NotPermitted(NOT_REQUESTER)
        record, found = _lookup(peering, tenant=tenant, acting_user=acting_user)
        _adopt_or_note(peering, record, found, tenant=tenant, acting_user=acting_user, source=source)
        if found is not None:
            return peering
        return _create(peering, acting_user=acting_user, source=source)
    response = _send_unless_gone(
        peering,
        lambda client: client.show_peering(peering.upstream_id),
        tenant=tenant,
        acting_user=acting_user,
        source=source,
        gone_reason="The cloud no longer has this peering.",
    )
    if response is None:
        return peering

    def refreshed(p: Peering) -> None:
        _apply(p, response.data, actor=acting_user, reason="Reported by the cloud.", source=source)

    return _commit(peering, response.record, tenant=tenant, acting_user=acting_user, change=refreshed)
