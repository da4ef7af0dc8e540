"""Tenants, memberships, the peering mirror and the append-only history."""

from __future__ import annotations

import re
from typing import Any

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.db.models.functions import Coalesce, Greatest, Least

from ops.egress import validate_outbound_url
from peerings import access
from peerings.choices import (
    LIVE_ROUTE_STATES,
    OPEN_STATUSES,
    TRANSITIONS,
    ApprovalPolicy,
    CallOperation,
    CallOutcome,
    ChangeSource,
    MembershipSource,
    PeeringStatus,
    Role,
    RouteEvent,
    RouteSide,
    RouteState,
)
from peerings.rules import expiry, limits
from peerings.secrets import EncryptedSecretField

#: The statuses in which a peering waits for an approver's decision (the queue).
WAITING_STATUSES = (PeeringStatus.PENDING_ACCEPTANCE, PeeringStatus.AWAITING_APPROVAL)

#: A cloud region name: cn-north-4, ap-southeast-1, la-south-2, eu-west-101, my-kualalumpur-1 ...
REGION_PATTERN = r"^[a-z]{2}(-[a-z]+)+-\d+$"
REGION_INVALID = "Enter a region name such as cn-north-4 or ap-southeast-1 (lower-case words and a number)."
validate_region = RegexValidator(REGION_PATTERN, REGION_INVALID, code="region")

__all__ = [
    "AutoApprovedVpc",
    "IdempotencyKey",
    "Membership",
    "Peering",
    "PeeringRoute",
    "RouteChange",
    "StatusChange",
    "Tenant",
    "UpstreamCall",
]


class Tenant(models.Model):
    """A cloud project and the account keys the portal uses for it."""

    name = models.CharField(max_length=100, unique=True)
    project_id = models.CharField(
        "cloud project id",
        max_length=limits.CLOUD_ID_MAX_LENGTH,
        unique=True,
        help_text="The project's ID in the cloud.",
    )
    access_key = EncryptedSecretField("access key (AK)")
    secret_key = EncryptedSecretField("secret key (SK)")
    region = models.CharField(
        max_length=64,
        blank=True,
        validators=[validate_region],
        help_text="Cloud region, e.g. cn-north-4; used when no endpoint is set.",
    )
    endpoint = models.URLField(
        blank=True,
        validators=[validate_outbound_url],
        help_text="Overrides the VPC API endpoint for this tenant only. Called only at a public address "
        "(the egress policy).",
    )
    separate_duties = models.BooleanField(
        "separate duties",
        default=True,
        help_text="The person who requested a peering may not also decide on it: neither accept it as an "
        "approver of this tenant, nor approve it for the cloud when this tenant holds its requests.",
    )
    approval_policy = models.CharField(
        max_length=16,
        choices=ApprovalPolicy.choices,
        default=ApprovalPolicy.FORWARD,
        help_text="Whether this tenant's new requests go to the cloud at once, or wait until one of its "
        "approvers (or a portal admin) approves them.",
    )
    org_unit = models.CharField(
        "organisation unit",
        max_length=100,
        blank=True,
        help_text="E.g. a department; used by the rule below.",
    )
    auto_approve_same_org_unit = models.BooleanField(
        "approve requests within the organisation unit",
        default=False,
        help_text="With the hold policy: a request to a tenant of the same (non-empty) organisation unit "
        "is approved automatically.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def __repr__(self) -> str:
        return f"<Tenant {self.pk}: {self.name} ({self.project_id})>"

    @property
    def api_endpoint(self) -> str:
        """The VPC API base URL for this tenant: its own, its region's or the default.

        A region that is not a region name (a row older than the rule) gives no URL at all, so the
        client refuses it rather than call whatever host it spells.
        """
        if self.endpoint:
            return self.endpoint.rstrip("/")
        if self.region:
            if not re.fullmatch(REGION_PATTERN, self.region):
                return ""
            return f"https://vpc.{self.region}.myhuaweicloud.com"
        return settings.VPC_API_ENDPOINT.rstrip("/")

    @property
    def endpoint_typed(self) -> bool:
        """Whether calls go to an endpoint typed for this tenant (its own or its region's), not the
        operator's ``VPC_API_ENDPOINT``: those go through the egress policy."""
        return bool(self.endpoint or self.region)


class Membership(models.Model):
    """A user's role in a tenant. A user may belong to several tenants."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.MEMBER)
    source = models.CharField(
        max_length=8,
        choices=MembershipSource.choices,
        default=MembershipSource.MANUAL,
        help_text="Memberships granted by hand are never changed by the sign-in's group sync.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["tenant__name", "user__username"]
        constraints = [
            models.UniqueConstraint(fields=["user", "tenant"], name="membership_unique_user_tenant"),
            models.CheckConstraint(condition=Q(role__in=Role.values), name="membership_role_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.tenant} ({self.role})"


class PeeringQuerySet(models.QuerySet):
    def visible_to(self, user: Any) -> PeeringQuerySet:
        """The peerings ``user`` sees (:func:`peerings.access.seen_by`: the tenant walls); none for
        an anonymous user. Every front scopes with it."""
        if not access.signed_in(user):
            return self.none()
        return self.filter(access.seen_by(access.user_tenant_ids(user)))

    def on_either_side(self, tenant_ids: Any) -> PeeringQuerySet:
        """Peerings requested by, or addressed to, one of ``tenant_ids`` (a list or a subquery)."""
        return self.filter(Q(requester_tenant__in=tenant_ids) | Q(accepter_tenant__in=tenant_ids))

    def open(self) -> PeeringQuerySet:
        return self.filter(status__in=OPEN_STATUSES)

    def in_flight(self, now: Any) -> PeeringQuerySet:
        """Peerings with an operation in flight at ``now`` (an unexpired lease)."""
        return self.filter(inflight_until__gt=now).exclude(inflight_token="")

    def unsettled(self, now: Any) -> PeeringQuerySet:
        """Peerings whose last operation never gave its lease back and whose lease has run out:
        its answer was lost, or could not be written, so the cloud may have done it (or not)."""
        return self.filter(inflight_until__lte=now).exclude(inflight_token="")

    def between(self, vpc_a: Any, vpc_b: Any) -> PeeringQuerySet:
        """Peerings joining these two VPCs, in either direction."""
        return self.filter(
            Q(requester_vpc_id=vpc_a, accepter_vpc_id=vpc_b)
            | Q(requester_vpc_id=vpc_b, accepter_vpc_id=vpc_a)
        )


class Peering(models.Model):
    """The portal's mirror of one peering connection in the cloud."""

    upstream_id = models.CharField(
        "cloud peering id",
        max_length=limits.CLOUD_ID_MAX_LENGTH,
        null=True,
        blank=True,
        unique=True,
        help_text="Empty until the cloud has created the peering.",
    )
    name = models.CharField(max_length=limits.NAME_MAX_LENGTH)
    description = models.CharField(max_length=limits.DESCRIPTION_MAX_LENGTH, blank=True)
    status = models.CharField(max_length=32, choices=PeeringStatus.choices, default=PeeringStatus.SUBMITTING)

    requester_tenant = models.ForeignKey(Tenant, on_delete=models.PROTECT, related_name="requested_peerings")
    requester_project_id = models.CharField(max_length=limits.CLOUD_ID_MAX_LENGTH)
    requester_vpc_id = models.UUIDField("requester VPC id")
    # The accepter may be a project the portal does not manage: then accepter_tenant is empty.
    accepter_tenant = models.ForeignKey(
        Tenant, on_delete=models.PROTECT, null=True, blank=True, related_name="addressed_peerings"
    )
    accepter_project_id = models.CharField(max_length=limits.CLOUD_ID_MAX_LENGTH)
    accepter_vpc_id = models.UUIDField("accepter VPC id")
    # The VPCs' names and ranges as the cloud listed them when the peering was requested or
    # last refreshed by a person, so pages and lists need no cloud call. Empty when unknown
    # (a project the portal does not hold). The accepter's range is shown only to its members.
    requester_vpc_name = models.CharField(
        "requester VPC name", max_length=limits.VPC_LABEL_MAX_LENGTH, blank=True
    )
    requester_vpc_cidr = models.CharField(
        "requester VPC CIDR", max_length=limits.VPC_LABEL_MAX_LENGTH, blank=True
    )
    accepter_vpc_name = models.CharField(
        "accepter VPC name", max_length=limits.VPC_LABEL_MAX_LENGTH, blank=True
    )
    accepter_vpc_cidr = models.CharField(
        "accepter VPC CIDR", max_length=limits.VPC_LABEL_MAX_LENGTH, blank=True
    )

    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    decision_reason = models.TextField(blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    # The portal's own gate (the requester tenant's approval policy), before the cloud's decision.
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    approved_at = models.DateTimeField(null=True, blank=True)
    approval_reason = models.TextField(
        blank=True, help_text="Why it was approved (by a person or a rule) or declined in the portal."
    )
    overlap_confirmed = models.BooleanField(
        "overlap confirmed",
        default=False,
        help_text="The requester confirmed that the two VPCs' ranges overlap: routes through the "
        "peering can reach only the subnets that do not overlap.",
    )
    routes_on_accept = models.BooleanField(
        "routes on acceptance",
        default=False,
        help_text="Once accepted, each side's routes to the other's range are added by a job "
        "acting with that side's keys.",
    )

    # The last error the cloud gave for this peering (why it FAILED, for instance).
    error_code = models.CharField(max_length=64, blank=True)
    error_message = models.TextField(blank=True)

    upstream_created_at = models.DateTimeField(null=True, blank=True)
    upstream_updated_at = models.DateTimeField(null=True, blank=True)
    last_synced_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    # One operation in flight per peering: a lease in the database (see peerings/leases.py).
    inflight_operation = models.CharField(max_length=16, blank=True)
    inflight_token = models.CharField(max_length=32, blank=True)
    inflight_until = models.DateTimeField(null=True, blank=True)
    #: Incremented by every lease: a read that started before it is stale.
    revision = models.PositiveIntegerField(default=0)

    objects = PeeringQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(status__in=PeeringStatus.values), name="peering_status_valid"),
            models.CheckConstraint(
                condition=~Q(requester_vpc_id=models.F("accepter_vpc_id")), name="peering_distinct_vpcs"
            ),
            models.UniqueConstraint(
                Least("requester_vpc_id", "accepter_vpc_id"),
                Greatest("requester_vpc_id", "accepter_vpc_id"),
                condition=Q(status__in=OPEN_STATUSES),
                name="peering_one_open_per_vpc_pair",
            ),
        ]
        indexes = [
            models.Index(fields=["status"]),
            models.Index(fields=["requester_vpc_id", "accepter_vpc_id"]),
            # The orderings lists use (newest first; ordering=created_at, name), walked from
            # one end until a page is full, and the dashboard's oldest waiting first.
            models.Index(fields=["created_at", "id"], name="peering_created_id"),
            models.Index(Coalesce("upstream_created_at", "created_at"), "id", name="peering_created_sort_id"),
            models.Index(fields=["name", "id"], name="peering_name_id"),
            models.Index(fields=["status", "created_at", "id"], name="peering_status_created_id"),
            # The approver's queue and its count (selectors.awaiting_decision): the few rows that
            # wait for a decision, oldest first, walked until a page is full.
            models.Index(
                Coalesce("upstream_created_at", "created_at"),
                "id",
                name="peering_waiting_sort_id",
                condition=Q(status__in=WAITING_STATUSES),
            ),
            # What waits for one tenant's approvers (the queue's count, and its rows when few):
            # pending acceptance by the accepter, held for approval by the requester.
            models.Index(
                fields=["accepter_tenant"],
                name="peering_pending_accepter",
                condition=Q(status=PeeringStatus.PENDING_ACCEPTANCE),
            ),
            models.Index(
                fields=["requester_tenant"],
                name="peering_held_requester",
                condition=Q(status=PeeringStatus.AWAITING_APPROVAL),
            ),
            # The sync's look for operations whose outcome is unknown (unsettled()): the few
            # peerings holding a lease, or left with one.
            models.Index(
                fields=["inflight_until"], name="peering_lease_left", condition=~Q(inflight_token="")
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def created_time(self) -> Any:
        """When it was created: the cloud's time, or the portal's until the cloud has one."""
        return self.upstream_created_at or self.created_at

    @property
    def expires_at(self) -> Any:
        """When the cloud expires it if nobody decides: ``PENDING_EXPIRY_SECONDS`` after it was created
        there; ``None`` unless it is pending acceptance (a held request has no cloud deadline yet)."""
        if self.status != PeeringStatus.PENDING_ACCEPTANCE:
            return None
        return expiry.pending_deadline(self.created_time)

    @property
    def updated_time(self) -> Any:
        """When it last changed: the later of the cloud's and the portal's times."""
        return max(t for t in (self.upstream_updated_at, self.updated_at) if t is not None)

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    def can_transition_to(self, status: str) -> bool:
        return status in TRANSITIONS[self.status]


class AutoApprovedVpc(models.Model):
    """A peer VPC on a tenant's allow-list: requests to it skip the tenant's portal approval."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="auto_approved_vpcs")
    vpc_id = models.UUIDField("peer VPC id")
    note = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "auto-approved peer VPC"
        ordering = ["tenant__name", "vpc_id"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "vpc_id"], name="auto_approved_vpc_unique_tenant_vpc")
        ]

    def __str__(self) -> str:
        return f"{self.vpc_id} for {self.tenant}"


class AppendOnlyQuerySet(models.QuerySet):
    def update(self, **kwargs: Any) -> int:
        raise TypeError(f"{self.model.__name__} rows are append-only")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise TypeError(f"{self.model.__name__} rows are append-only")


class AppendOnlyModel(models.Model):
    """A row that is written once and never changed or deleted."""

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise TypeError(f"{type(self).__name__} rows are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise TypeError(f"{type(self).__name__} rows are append-only")


class UpstreamCallQuerySet(AppendOnlyQuerySet):
    def settle(self, **outcome: Any) -> int:
        """Write the outcome of these rows that have none yet (``sending``, or ``lost``).

        The one change a call's row ever takes: it is committed before the request is sent and
        completed here once with what came back (a ``lost`` verdict of the sync may still be
        replaced by the real outcome, arriving late). A row with its outcome is never changed.
        """
        unsettled = self.filter(outcome__in=(CallOutcome.SENDING, CallOutcome.LOST))
        return models.QuerySet.update(unsettled, **outcome)


class UpstreamCall(AppendOnlyModel):
    """One call forwarded to the cloud's VPC API: who, when, what and what came back.

    Written (``outcome=sending``) and committed before the request is sent, then completed
    once with its outcome (:meth:`UpstreamCallQuerySet.settle`); otherwise append-only.
    """

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    # PROTECT: deleting a user must not rewrite history (deactivate users instead).
    acting_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    tenant = models.ForeignKey(
        Tenant,
        on_delete=models.PROTECT,
        related_name="upstream_calls",
        help_text="The tenant whose keys signed the call.",
    )
    peering = models.ForeignKey(
        Peering, on_delete=models.PROTECT, null=True, blank=True, related_name="upstream_calls"
    )
    operation = models.CharField(max_length=32, choices=CallOperation.choices)
    method = models.CharField(max_length=8)
    url = models.CharField(max_length=2048)
    request_body = models.JSONField(null=True, blank=True)
    status_code = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="Empty when no response came back."
    )
    response_body = models.JSONField(null=True, blank=True)
    error_code = models.CharField(max_length=64, blank=True)
    error_message = models.TextField(blank=True)
    duration_ms = models.PositiveIntegerField(default=0)
    attempts = models.PositiveSmallIntegerField(default=1)
    correlation_id = models.CharField(max_length=64, db_index=True)
    cloud_request_id = models.CharField(max_length=128, blank=True)
    outcome = models.CharField(
        max_length=16,
        choices=CallOutcome.choices,
        default=CallOutcome.RECORDED,
        help_text="Sending: committed before the request was sent, its outcome not written yet.",
    )

    objects = UpstreamCallQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["created_at", "id"], name="call_created_id"),
            models.Index(fields=["peering", "created_at", "id"], name="call_peering_created_id"),
            # The sync's look for rows whose outcome was never written: the few still sending.
            models.Index(
                fields=["created_at"], name="call_sending", condition=Q(outcome=CallOutcome.SENDING)
            ),
        ]

    def __str__(self) -> str:
        # The URL's path only: its query may name resources only the signing tenant may see.
        return f"{self.method} {self.url.split('?', 1)[0]} → {self.status_code or 'no response'}"

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and self.status_code < 400


class StatusChange(AppendOnlyModel):
    """One change of a peering's status, with who made it and why."""

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    peering = models.ForeignKey(Peering, on_delete=models.PROTECT, related_name="status_changes")
    old_status = models.CharField(max_length=32, choices=PeeringStatus.choices, blank=True)
    new_status = models.CharField(max_length=32, choices=PeeringStatus.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    reason = models.TextField(blank=True)
    source = models.CharField(max_length=16, choices=ChangeSource.choices)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["peering", "created_at", "id"], name="change_peering_created_id"),
            # The few requests withdrawn while held (access.held_back reads them for every list
            # that may show a deleted request the cloud never had): found without a scan of history.
            models.Index(
                fields=["peering"],
                name="change_withdrawn_while_held",
                condition=Q(old_status="AWAITING_APPROVAL", new_status="DELETED"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.peering}: {self.old_status or '—'} → {self.new_status}"


class PeeringRouteQuerySet(models.QuerySet):
    def live(self) -> PeeringRouteQuerySet:
        """Routes that are, or may be, in the cloud."""
        return self.filter(state__in=LIVE_ROUTE_STATES)


class PeeringRoute(models.Model):
    """The portal's mirror of one route over a peering: in one side's VPC, to (part of) the other's range.

    Written only by :mod:`peerings.routes.workflow` (and by :mod:`peerings.mirror` when the
    peering is deleted, which deletes its routes in the cloud too).
    """

    peering = models.ForeignKey(Peering, on_delete=models.PROTECT, related_name="routes")
    side = models.CharField(max_length=16, choices=RouteSide.choices)
    tenant = models.ForeignKey(
        Tenant,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="The side's tenant, whose keys manage it.",
    )
    vpc_id = models.UUIDField("VPC id")
    destination = models.CharField(max_length=64)
    upstream_id = models.CharField(
        "cloud route id", max_length=limits.CLOUD_ID_MAX_LENGTH, null=True, blank=True, unique=True
    )
    state = models.CharField(max_length=16, choices=RouteState.choices, default=RouteState.APPLYING)
    error_code = models.CharField(max_length=64, blank=True)
    error_message = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    removed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    applied_at = models.DateTimeField(null=True, blank=True)
    removed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = PeeringRouteQuerySet.as_manager()

    class Meta:
        ordering = ["peering", "side", "destination", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(side__in=RouteSide.values), name="route_side_valid"),
            models.CheckConstraint(condition=Q(state__in=RouteState.values), name="route_state_valid"),
            # The cloud holds one route per destination per VPC.
            models.UniqueConstraint(
                fields=["vpc_id", "destination"],
                condition=Q(state__in=LIVE_ROUTE_STATES),
                name="route_one_live_per_vpc_destination",
            ),
        ]
        indexes = [models.Index(fields=["peering", "state"], name="route_peering_state")]

    def __str__(self) -> str:
        return f"{self.destination} in the {self.side}'s VPC"

    @property
    def is_live(self) -> bool:
        return self.state in LIVE_ROUTE_STATES


class RouteChange(AppendOnlyModel):
    """One event of a route: applied, removed, failed, or changed outside the portal."""

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    peering = models.ForeignKey(Peering, on_delete=models.PROTECT, related_name="route_changes")
    route = models.ForeignKey(PeeringRoute, on_delete=models.PROTECT, related_name="changes")
    event = models.CharField(max_length=16, choices=RouteEvent.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    source = models.CharField(max_length=16, choices=ChangeSource.choices)
    detail = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["peering", "created_at", "id"], name="routechange_peering_created")]

    def __str__(self) -> str:
        return f"{self.route.destination}: {self.get_event_display()}"


class IdempotencyKey(models.Model):
    """A write answered once through the REST API, replayed for the same ``Idempotency-Key``."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    method = models.CharField(max_length=8)
    path = models.CharField(max_length=2048)
    request_fingerprint = models.CharField(max_length=64, help_text="SHA-256 of method, path and body.")
    response_status = models.PositiveSmallIntegerField()
    response_body = models.JSONField(null=True, blank=True)
    # A create the cloud did not confirm: a retry answers with this peering as it is then.
    peering = models.ForeignKey(Peering, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="idempotency_unique_user_key")]

    def __str__(self) -> str:
        return f"{self.method} {self.path} ({self.key})"
