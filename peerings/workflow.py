"""The workflow: the only code that changes a peering.

Every operation runs on the operation engine (:mod:`peerings.operations`) in three steps and
**never holds a transaction (or a row lock) open while it waits on the cloud**:

1. **Begin**: a short transaction locks the row, asks :mod:`peerings.permissions`
   whether the user may take this action on the peering as it is now, and takes the
   peering's lease (:mod:`peerings.leases`) for a write. A new request is saved here as
   ``SUBMITTING`` (with a ``'' -> SUBMITTING`` status change) and its lease, so it is
   never lost whatever happens next. A refused action has sent nothing.
2. **Send**: the calls to the cloud, outside any transaction, with the keys of the tenant
   :func:`peerings.permissions.acting_tenant` names.
3. **Commit**: one transaction re-reads the row under lock and writes the call's outcome
   into its ``UpstreamCall`` row (committed before the call was sent: :mod:`peerings.history`),
   the mirror (from the cloud's answer), a ``StatusChange`` row if the status moved, and gives
   the lease back. If that transaction fails, the lease stays until it runs out and the sync
   settles the peering (:func:`peerings.jobs.peerings_to_sync`).

Operations that call the cloud hold a slot of the process's bulkhead (:mod:`peerings.bulkhead`),
claimed in step 1 after the checks under lock: a request finding none free gets ``CloudBusy``
with nothing saved.

**Failures.** A failed call (``CloudError``) still commits its ``UpstreamCall`` row and
the error on the peering; the exception is raised again carrying the peering
(``exc.peering``). When the answer was lost (a timeout, a dropped connection, a gateway
timeout), the lease is held until the request can no longer land, so nothing concludes
anything about the peering meanwhile.

**Creating.** A create the cloud refused makes the peering ``FAILED``; one that was not
carried out leaves it ``SUBMITTING``. One whose answer was lost is never blindly sent
again: the requester's peerings are listed at once (every page), and a peering joining
the same two VPCs with the same name is adopted. Otherwise the peering stays
``SUBMITTING``; once its lease has expired, a refresh (or the sync job) looks again and
sends the create again only when the cloud positively has no such peering, and a delete
withdraws it.

**Approving.** A tenant that holds its requests (:mod:`peerings.approval`) keeps a new one
``AWAITING_APPROVAL``: saved with its status change, nothing sent, no lease. Approving it
moves it to ``SUBMITTING`` in step 1's transaction (so the approval is committed before
anything is sent) and then creates it as above; declining closes it (``DECLINED``) and
withdrawing deletes it, both without a call. Refreshing and syncing leave it alone.

**Deciding.** ``decided_by``, ``decision_reason`` and the status change always name the
same person: the one whose call moved the status. When the cloud refuses a decision
because the peering already moved (decided outside the portal, or by a call whose answer
was lost), the mirror takes the cloud's status and the user gets ``InvalidState``, with
nothing stored as an error; a retried decision the cloud refuses because its own earlier
attempt was carried out counts as done.

**Reading.** A refresh takes no lease: it is refused while another operation is in
flight, and its answer is dropped if another operation began before it committed.
Statuses move along ``TRANSITIONS`` only; a status the mirror cannot move to is stored as
a conflict (``error_code = STATUS_CONFLICT``) instead of crashing.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from peerings import approval, bulkhead, mirror, operations, permissions, selectors
from peerings.choices import ChangeSource, PeeringStatus
from peerings.cloud import CloudResponse, VpcApiClient
from peerings.exceptions import (
    CloudError,
    CloudRefused,
    CloudUnavailable,
    InvalidState,
    RequestInvalid,
)
from peerings.history import record_status_change
from peerings.mirror import STATUS_CONFLICT
from peerings.models import Peering, Tenant
from peerings.operations import Call, Change, Operation
from peerings.permissions import Action
from peerings.request_facts import gather_request_facts
from peerings.rules.decisions import reason_problem
from peerings.rules.limits import VPC_LABEL_MAX_LENGTH
from peerings.rules.messages import ALREADY_DECIDED, PAIR_ALREADY_OPEN, UPDATE_NOTHING
from peerings.rules.request import plan_request
from peerings.validation import validate_description, validate_name
from peerings.vpcs import fetch_tenant_vpcs, request_vpcs

__all__ = [
    "STATUS_CONFLICT",
    "peering_accept",
    "peering_approve",
    "peering_decide",
    "peering_decline",
    "peering_delete",
    "peering_refresh",
    "peering_reject",
    "peering_request",
    "peering_update",
]

S = PeeringStatus

#: Page size when the requester's peerings are listed to find a create whose answer was lost.
LOOKUP_PAGE_SIZE = 200
#: At most this many pages are read in one lookup (a guard against a cloud that loops).
LOOKUP_MAX_PAGES = 500

ADOPTED = "Found in the cloud after a create whose outcome was unknown."
GONE_FROM_CLOUD = "The cloud no longer has this peering."
HELD = "Requested; held for approval by {tenant}'s approvers before it is sent to the cloud."
WITHDRAWN_BEFORE_APPROVAL = "Withdrawn before approval: nothing was sent to the cloud."
DECIDED_ELSEWHERE = "Reported by the cloud when a decision was refused: decided outside this request."


def _applied(op: Operation, data: dict, reason: str) -> Change:
    """The cloud's answer ``data``, copied onto the mirror in the operation's name."""
    return lambda p: mirror.apply(p, data, actor=op.acting_user, reason=reason, source=op.source)


def _deleted(op: Operation, reason: str) -> Change:
    """The peering is gone from the cloud (or was never sent): ``DELETED`` in the operation's name."""
    return lambda p: mirror.mark_deleted(p, actor=op.acting_user, reason=reason, source=op.source)


def _begin(
    peering: Peering,
    action: Action,
    *,
    acting_user: Any,
    source: str,
    lease: str = "",
    change: Change | None = None,
    reason: str | None = None,
) -> Operation:
    """Step 1 for ``action``: lock the row, check the action against its current state, take the lease.

    Withdrawing a request held for approval calls no cloud: it takes no lease and no slot.
    ``change``: a portal-only change made in the same transaction (approving, declining).
    ``reason``: the decision's reason, checked after the permission (an outsider learns nothing):
    a rejection or a decline needs one, whichever front sent it.
    """

    def authorize(actor: permissions.Actor) -> Tenant:
        permissions.check(action, peering, actor)
        problem = None if reason is None else reason_problem(action, reason)
        if problem:
            raise RequestInvalid({"reason": [problem]})
        return permissions.acting_tenant(action, peering, actor)

    def lease_for(locked: Peering) -> str:
        withdrawing = action == Action.DELETE and locked.status == S.AWAITING_APPROVAL
        return "" if withdrawing else lease

    return operations.begin(
        peering,
        acting_user=acting_user,
        source=source,
        authorize=authorize,
        lease=lease_for,
        retryable=lease != "create",
        change=change,
    )


# --- Creating ---------------------------------------------------------------------------------------


def _same_pair(peering: Peering, data: dict) -> bool:
    try:
        request_vpc = uuid.UUID(str(data["request_vpc_info"]["vpc_id"]))
        accept_vpc = uuid.UUID(str(data["accept_vpc_info"]["vpc_id"]))
    except (KeyError, TypeError, ValueError):
        return False
    return (request_vpc, accept_vpc) == (peering.requester_vpc_id, peering.accepter_vpc_id)


def _lookup(run: Operation, *, store_error: bool = True) -> dict | None:
    """Find, with the requester's keys, the cloud peering this ``SUBMITTING`` row may have created.

    Reads every page of the requester's peerings of that VPC and name (each page is a
    recorded call). Matches on name and the two VPCs; prefers a live one, then the newest.
    Peerings already mirrored by another row are skipped. A failed page is recorded and raised.
    """
    peering = run.peering

    def send(call: Call) -> CloudResponse:
        response = run.send(call, store_error=store_error, keep_lease=True)
        run.record(response.record)
        return response

    listed = operations.list_pages(
        send,
        lambda client, marker: client.list_peerings(
            vpc_id=str(peering.requester_vpc_id), name=peering.name, limit=LOOKUP_PAGE_SIZE, marker=marker
        ),
        items="peerings",
        links="peerings_links",
        page_size=LOOKUP_PAGE_SIZE,
        max_pages=LOOKUP_MAX_PAGES,
    )
    candidates = [
        item
        for item in listed
        if isinstance(item, dict) and item.get("name") == peering.name and _same_pair(peering, item)
    ]
    taken = set(
        Peering.objects.filter(upstream_id__in=[str(c.get("id")) for c in candidates])
        .exclude(pk=peering.pk)
        .values_list("upstream_id", flat=True)
    )
    candidates = [c for c in candidates if str(c.get("id")) not in taken]
    candidates.sort(key=lambda c: (c.get("status") != S.DELETED, str(c.get("created_at") or "")))
    return candidates[-1] if candidates else None


def _adopt(run: Operation, found: dict, *, release: bool = True) -> Peering:
    return run.commit(None, _applied(run, found, ADOPTED), release=release)


def _create(run: Operation) -> Peering:
    """Send the create of a ``SUBMITTING`` peering with the requester's keys (steps 2 and 3)."""
    peering = run.peering

    def failed(p: Peering, exc: CloudRefused) -> None:
        mirror.move(
            p, S.FAILED, actor=run.acting_user, reason=f"The cloud refused it: {exc}", source=run.source
        )

    try:
        response = run.send(
            lambda client: client.create_peering(
                name=peering.name,
                description=peering.description,
                request_vpc_id=str(peering.requester_vpc_id),
                accept_vpc_id=str(peering.accepter_vpc_id),
                accept_project_id=peering.accepter_project_id,
            ),
            refused=failed,
        )
    except CloudUnavailable as exc:
        if not exc.outcome_unknown:
            raise
        try:
            # The peering keeps the create's error: that is the one raised.
            found = _lookup(run, store_error=False)
        except CloudError:
            run.hold_until_landed()
            raise exc from None
        if found is None:  # not there *yet*: the create may still land
            run.hold_until_landed()
            raise
        _adopt(run, found)
        return peering
    return run.commit(response.record, _applied(run, response.data, "Created in the cloud."))


@bulkhead.guarded
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
    routes_on_accept: bool = False,
    source: str = ChangeSource.USER,
    roles: dict[int, Any] | None = None,
) -> Peering:
    """Request a peering from one of ``tenant``'s VPCs; any member of the tenant may.

    Returns the peering, ``ACTIVE`` (same account) or ``PENDING_ACCEPTANCE``; or
    ``AWAITING_APPROVAL``, with nothing sent, when ``tenant`` holds its requests for approval
    and no rule approves this one. See the module docstring for what a failure leaves behind.
    With ``routes_on_accept``, once it is active each side's routes are added by a job with that
    side's keys (:mod:`peerings.routes.workflow`).
    """
    if roles is None:  # ``roles``: the user's, when the caller has read them (the API's answer shares them)
        roles = selectors.user_roles(acting_user)  # one read: the membership check and the rules
    permissions.check_tenant(acting_user, tenant, roles=roles)

    facts = gather_request_facts(
        tenant=tenant,
        acting_user=acting_user,
        roles=roles,
        name=name,
        description=description,
        request_vpc_id=request_vpc_id,
        accept_vpc_id=accept_vpc_id,
        accept_project_id=accept_project_id,
        confirm_overlap=confirm_overlap,
        list_vpcs=request_vpcs,
    )
    plan = plan_request(facts)
    # The requester tenant's approval policy (peerings/approval.py): held, or sent at once.
    rule = ""
    if approval.holds(tenant):
        rule = approval.auto_approval(
            tenant, accepter_tenant=plan.accepter_tenant, accept_vpc_id=plan.accept_vpc_id
        )
    held = approval.holds(tenant) and not rule
    peering = Peering(
        name=plan.name,
        description=plan.description,
        status=S.AWAITING_APPROVAL if held else S.SUBMITTING,
        approval_reason=rule,
        approved_at=timezone.now() if rule else None,
        requester_tenant=tenant,
        requester_project_id=tenant.project_id,
        requester_vpc_id=plan.request_vpc_id,
        accepter_tenant=plan.accepter_tenant,
        accepter_project_id=plan.accepter_project_id,
        accepter_vpc_id=plan.accept_vpc_id,
        requester_vpc_name=plan.requester_vpc_name,
        requester_vpc_cidr=plan.requester_vpc_cidr,
        accepter_vpc_name=plan.accepter_vpc_name,
        accepter_vpc_cidr=plan.accepter_vpc_cidr,
        requested_by=acting_user,
        overlap_confirmed=plan.overlap_confirmed,
        routes_on_accept=routes_on_accept,
    )
    # A request refused for want of a bulkhead slot (CloudBusy) has saved nothing.
    token = "" if held else operations.take_lease(peering, "create", retryable=False)
    try:
        with transaction.atomic():
            if Peering.objects.open().between(plan.request_vpc_id, plan.accept_vpc_id).exists():
                raise RequestInvalid({"accept_vpc_id": [PAIR_ALREADY_OPEN]})
            peering.save()
            record_status_change(
                peering=peering,
                old_status="",
                new_status=peering.status,
                actor=acting_user,
                reason=HELD.format(tenant=tenant.name)
                if held
                else " ".join(filter(None, ["Requested.", rule])),
                source=source,
            )
    except IntegrityError:
        raise RequestInvalid({"accept_vpc_id": [PAIR_ALREADY_OPEN]}) from None
    if held:
        return peering
    run = Operation(tenant=tenant, acting_user=acting_user, source=source, peering=peering, token=token)
    return _create(run)


# --- Deciding -----------------------------------------------------------------------------------------


def peering_decide(
    *, peering: Peering, acting_user: Any, action: Action, reason: str = "", source: str = ChangeSource.USER
) -> Peering:
    """Accept or reject a peering addressed to a tenant the user approves for, with its keys;
    or approve or decline a request held for approval (:func:`peering_approve`, :func:`peering_decline`)."""
    action = Action(action)
    if action == Action.APPROVE:
        return peering_approve(peering=peering, acting_user=acting_user, reason=reason, source=source)
    if action == Action.DECLINE:
        return peering_decline(peering=peering, acting_user=acting_user, reason=reason, source=source)
    if action not in permissions.DECISIONS:
        raise ValueError(f"not a decision: {action}")
    return _cloud_decision(peering, acting_user=acting_user, action=action, reason=reason, source=source)


@bulkhead.guarded
def _cloud_decision(
    peering: Peering, *, acting_user: Any, action: Action, reason: str, source: str
) -> Peering:
    """Accept or reject in the cloud, with the accepter tenant's keys."""
    target = S.ACTIVE if action == Action.ACCEPT else S.REJECTED
    run = _begin(peering, action, acting_user=acting_user, source=source, lease=action, reason=reason)
    upstream_id = peering.upstream_id

    def decided(data: dict) -> Change:
        def change(p: Peering) -> None:
            text = reason or f"{action.past.capitalize()}."
            if mirror.apply(p, data, actor=acting_user, reason=text, source=source) and p.status == target:
                p.decided_by = acting_user
                p.decided_at = timezone.now()
                p.decision_reason = reason

        return change

    def call(client: VpcApiClient) -> CloudResponse:
        if action == Action.ACCEPT:
            return client.accept_peering(upstream_id)
        return client.reject_peering(upstream_id)

    try:
        response = run.send(call, store_error=False, keep_lease=True)
    except CloudError as exc:
        return _after_failed_decision(run, exc, target=target, decided=decided)
    return run.commit(response.record, decided(response.data))


def _after_failed_decision(
    run: Operation, exc: CloudError, *, target: str, decided: Callable[[dict], Change]
) -> Peering:
    """Ask the cloud what became of a decision whose call failed, then commit what it says.

    Its status is the target: the decision was carried out (a retry refused after an
    earlier attempt landed, or an error after it was applied), unless the call was refused
    at its first attempt (someone else decided). Another status: the peering moved on
    without this decision (``InvalidState``). Still pending: the call's error stands.
    A call that could not connect was never carried out: nothing to ask.
    """
    if isinstance(exc, CloudUnavailable) and exc.status is None and not exc.outcome_unknown:
        run.fail(exc, recorded=True)
        raise exc
    try:
        shown = run.send(
            lambda client: client.show_peering(run.peering.upstream_id),
            gone=_deleted(run, GONE_FROM_CLOUD),
            store_error=False,
            keep_lease=True,
        )
    except CloudError:
        run.fail(exc, recorded=True)
        raise exc from None
    if shown is None:  # the cloud no longer has it: committed as DELETED
        raise InvalidState(
            ALREADY_DECIDED.format(status=run.peering.get_status_display()), peering=run.peering
        )
    status = shown.data.get("status")
    ours = isinstance(exc, CloudUnavailable) or (exc.record is not None and exc.record.attempts > 1)
    if status == target and ours:
        return run.commit(shown.record, decided(shown.data))
    if status != S.PENDING_ACCEPTANCE:
        moved = run.commit(shown.record, _elsewhere(shown.data))
        raise InvalidState(ALREADY_DECIDED.format(status=moved.get_status_display()), peering=moved)
    run.commit(shown.record, lambda p: None, release=False)
    run.fail(exc, recorded=True)
    raise exc


def _elsewhere(data: dict) -> Change:
    """Apply a status decided outside this request: credited to nobody, as a sync would."""
    return lambda p: mirror.apply(p, data, actor=None, reason=DECIDED_ELSEWHERE, source=ChangeSource.SYNC)


def peering_accept(
    *, peering: Peering, acting_user: Any, reason: str = "", source: str = ChangeSource.USER
) -> Peering:
    """Accept a peering addressed to a tenant the user approves for, with that tenant's keys."""
    return peering_decide(
        peering=peering, acting_user=acting_user, action=Action.ACCEPT, reason=reason, source=source
    )


def peering_reject(
    *, peering: Peering, acting_user: Any, reason: str = "", source: str = ChangeSource.USER
) -> Peering:
    """Reject a peering addressed to a tenant the user approves for, with that tenant's keys."""
    return peering_decide(
        peering=peering, acting_user=acting_user, action=Action.REJECT, reason=reason, source=source
    )


# --- The portal's approval (peerings/approval.py) ----------------------------------------------------


@bulkhead.guarded
def peering_approve(
    *, peering: Peering, acting_user: Any, reason: str = "", source: str = ChangeSource.USER
) -> Peering:
    """Approve a request held for approval and send it to the cloud with the requester's keys.

    The approval (``AWAITING_APPROVAL -> SUBMITTING``) commits before the create is sent, so a
    cloud failure leaves an approved request: ``SUBMITTING`` when it was not carried out (a
    refresh or the sync job sends it again), ``FAILED`` when the cloud refused it.
    """

    def approved(p: Peering) -> None:
        mirror.move(p, S.SUBMITTING, actor=acting_user, reason=reason or "Approved.", source=source)
        p.approved_by = acting_user
        p.approved_at = timezone.now()
        p.approval_reason = reason

    run = _begin(
        peering, Action.APPROVE, acting_user=acting_user, source=source, lease="create", change=approved
    )
    return _create(run)


def peering_decline(
    *, peering: Peering, acting_user: Any, reason: str = "", source: str = ChangeSource.USER
) -> Peering:
    """Decline a request held for approval, with the reason the requester will read; nothing is sent."""

    def declined(p: Peering) -> None:
        mirror.move(p, S.DECLINED, actor=acting_user, reason=reason, source=source)
        p.decided_by = acting_user
        p.decided_at = timezone.now()
        p.decision_reason = reason

    return _begin(
        peering, Action.DECLINE, acting_user=acting_user, source=source, change=declined, reason=reason
    ).peering


# --- Updating, deleting, refreshing ---------------------------------------------------------------


@bulkhead.guarded
def peering_update(
    *,
    peering: Peering,
    acting_user: Any,
    name: str | None = None,
    description: str | None = None,
    source: str = ChangeSource.USER,
) -> Peering:
    """Rename a peering or change its description; a member of either side may."""
    permissions.check(Action.UPDATE, peering, permissions.actor_for(acting_user, peering))
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
    run = _begin(peering, Action.UPDATE, acting_user=acting_user, source=source, lease="update")
    response = run.send(
        lambda client: client.update_peering(peering.upstream_id, name=name, description=description)
    )
    return run.commit(response.record, _applied(run, response.data, "Reported by the cloud on update."))


def _finish_known(run: Operation, call: Call, *, done: Callable[[dict], Change], gone: str) -> Peering:
    """Send ``call`` for a peering the cloud knows; its 404 means the peering is gone."""
    response = run.send(call, gone=_deleted(run, gone))
    if response is None:
        return run.peering
    return run.commit(response.record, done(response.data or {}), settle=True)


def _unconfirmed(run: Operation) -> dict | None:
    """Look up a ``SUBMITTING`` peering without a cloud id (its lease has expired): what the cloud has."""
    found = _lookup(run)
    if found is not None:
        _adopt(run, found, release=False)
    return found


@bulkhead.guarded
def peering_delete(*, peering: Peering, acting_user: Any, source: str = ChangeSource.USER) -> Peering:
    """Delete a peering from the cloud; a member of either side may, in any live status.

    A request held for approval is withdrawn here (the requester's members): the cloud never had it.
    A request the cloud never confirmed is looked up first: deleted there if it was
    created, else withdrawn (``DELETED``) here.
    """
    run = _begin(peering, Action.DELETE, acting_user=acting_user, source=source, lease="delete")
    if peering.status == S.AWAITING_APPROVAL:
        return run.commit(None, _deleted(run, WITHDRAWN_BEFORE_APPROVAL))
    if not peering.upstream_id and _unconfirmed(run) is None:
        return run.commit(None, _deleted(run, "Withdrawn: the cloud has no such peering."))
    if peering.status == S.DELETED:  # adopted as already deleted in the cloud
        return run.commit(None, lambda p: None)
    return _finish_known(
        run,
        lambda client: client.delete_peering(peering.upstream_id),
        done=lambda data: _deleted(run, "Deleted."),
        gone="Already gone from the cloud.",
    )


def _complete(peering: Peering, *, acting_user: Any, source: str) -> Peering:
    """Complete a request the cloud has not confirmed: adopt it if it exists, else send it again."""
    run = _begin(peering, Action.REFRESH, acting_user=acting_user, source=source, lease="create")
    if _unconfirmed(run) is not None:
        return run.commit(None, lambda p: None)
    return _create(run)


def _reread(peering: Peering, *, acting_user: Any, source: str) -> Peering:
    """Read a peering the cloud knows and bring the mirror up to date (a 404 makes it ``DELETED``)."""
    run = _begin(peering, Action.REFRESH, acting_user=acting_user, source=source)
    return _finish_known(
        run,
        lambda client: client.show_peering(peering.upstream_id),
        done=lambda data: _applied(run, data, "Reported by the cloud."),
        gone=GONE_FROM_CLOUD,
    )


@bulkhead.guarded
def peering_refresh(*, peering: Peering, acting_user: Any = None, source: str = ChangeSource.SYNC) -> Peering:
    """Bring the mirror up to date with the cloud (``acting_user=None`` for the sync job).

    A known peering is read with ``show``. A ``SUBMITTING`` peering without a cloud id is
    the requester's unconfirmed request: it is looked up with the requester's keys and
    adopted if found, or sent again when the cloud positively has no such peering.
    """
    bulkhead.claim()  # a read: its calls, and the VPC names after it, under one slot
    if peering.upstream_id:
        peering = _reread(peering, acting_user=acting_user, source=source)
    else:
        peering = _complete(peering, acting_user=acting_user, source=source)
    if source != ChangeSource.SYNC:
        _remember_vpcs(peering, acting_user=acting_user)
    return peering


def _remember_vpcs(peering: Peering, *, acting_user: Any) -> None:
    """Re-read the names and ranges of the peering's VPCs (recorded calls, each side with its
    own tenant's keys) and keep them on the peering; a person's refresh does this, not the sync
    job. A failed listing leaves what was known: the names are for reading, not for deciding."""
    known: dict[str, str] = {}
    sides = [("requester", peering.requester_tenant, peering.requester_vpc_id)]
    if peering.accepter_tenant_id is not None:
        sides.append(("accepter", peering.accepter_tenant, peering.accepter_vpc_id))
    listed: dict[int, list[dict]] = {}
    for side, tenant, vpc_id in sides:
        if tenant.pk not in listed:
            try:
                listed[tenant.pk] = fetch_tenant_vpcs(tenant=tenant, acting_user=acting_user)
            except CloudError:
                continue
        vpc = next((v for v in listed[tenant.pk] if str(v.get("id")) == str(vpc_id)), None)
        if vpc is not None:
            known[f"{side}_vpc_name"] = str(vpc.get("name") or "")[:VPC_LABEL_MAX_LENGTH]
            known[f"{side}_vpc_cidr"] = str(vpc.get("cidr") or "")[:VPC_LABEL_MAX_LENGTH]
    if known:
        # Only these descriptive columns: no status, no lease, nothing the workflow decides on.
        Peering.objects.filter(pk=peering.pk).update(**known)
        for field, value in known.items():
            setattr(peering, field, value)
