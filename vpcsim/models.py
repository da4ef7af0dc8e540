"""The simulated cloud's state: accounts, keys, projects, VPCs, peerings, routes and the clock.

Everything lives in the simulator's own tables, so the simulated cloud survives
restarts. Timestamps of peerings come from :mod:`vpcsim.clock`, not ``auto_now``,
so tests can move time.
"""

from __future__ import annotations

import datetime as dt
import uuid

from django.db import models
from django.db.models import Q

__all__ = [
    "AccessKey",
    "Account",
    "FaultKind",
    "FaultOperation",
    "FaultRule",
    "Peering",
    "PeeringStatus",
    "Project",
    "Route",
    "SeenSignature",
    "SimClock",
    "Vpc",
]


class PeeringStatus(models.TextChoices):
    """The cloud's five peering statuses."""

    PENDING_ACCEPTANCE = "PENDING_ACCEPTANCE", "Pending acceptance"
    ACTIVE = "ACTIVE", "Active"
    REJECTED = "REJECTED", "Rejected"
    EXPIRED = "EXPIRED", "Expired"
    DELETED = "DELETED", "Deleted"


#: Statuses that block a second peering between the same two VPCs.
LIVE_STATUSES = (PeeringStatus.PENDING_ACCEPTANCE, PeeringStatus.ACTIVE)


class SimClock(models.Model):
    """A single row holding how far the simulator's clock runs ahead of real time."""

    offset = models.DurationField(default=dt.timedelta)

    class Meta:
        constraints = [models.CheckConstraint(condition=Q(pk=1), name="vpcsim_simclock_singleton")]

    def __str__(self) -> str:
        return f"simulator clock (offset {self.offset})"


class Account(models.Model):
    """A cloud account (a "domain"): the unit that decides same- vs cross-account peering."""

    name = models.CharField(max_length=64, unique=True)
    domain_id = models.CharField(max_length=32, unique=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class AccessKey(models.Model):
    """An AK/SK pair of an account; the SK is what requests are signed with."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="access_keys")
    access_key = models.CharField(max_length=64, unique=True)
    secret_key = models.CharField(max_length=128)

    class Meta:
        ordering = ["access_key"]

    def __str__(self) -> str:
        return self.access_key

    def __repr__(self) -> str:
        return f"<AccessKey {self.access_key} of {self.account_id}>"


class Project(models.Model):
    """A project of an account in one region; its ``project_id`` is the wire ``tenant_id``."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="projects")
    project_id = models.CharField(max_length=36, unique=True)
    name = models.CharField(max_length=64)
    region = models.CharField(max_length=64, default="cn-north-4")

    class Meta:
        ordering = ["account__name", "name"]
        constraints = [
            models.UniqueConstraint(fields=["account", "name"], name="vpcsim_project_unique_name"),
        ]

    def __str__(self) -> str:
        return f"{self.account.name}/{self.name}"


class Vpc(models.Model):
    """A VPC of a project."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="vpcs")
    vpc_id = models.UUIDField(unique=True, default=uuid.uuid4)
    name = models.CharField(max_length=64)
    cidr = models.CharField(max_length=43)
    status = models.CharField(max_length=16, default="OK")
    description = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["vpc_id"]
        verbose_name = "VPC"
        constraints = [
            models.UniqueConstraint(
                fields=["project", "name"], condition=~Q(name=""), name="vpcsim_vpc_unique_name"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.cidr})"


class Peering(models.Model):
    """A VPC peering connection between a requester VPC and an accepter VPC."""

    peering_id = models.UUIDField(unique=True, default=uuid.uuid4)
    name = models.CharField(max_length=64)
    description = models.CharField(max_length=255, blank=True)
    status = models.CharField(max_length=32, choices=PeeringStatus.choices)
    request_vpc = models.ForeignKey(Vpc, on_delete=models.CASCADE, related_name="+")
    request_project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="+")
    accept_vpc = models.ForeignKey(Vpc, on_delete=models.CASCADE, related_name="+")
    accept_project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["peering_id"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(request_vpc=models.F("accept_vpc")), name="vpcsim_peering_distinct_vpcs"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.status})"


class Route(models.Model):
    """A route in a VPC's route table whose next hop is a peering."""

    route_id = models.UUIDField(unique=True, default=uuid.uuid4)
    type = models.CharField(max_length=16, default="peering")
    nexthop = models.ForeignKey(Peering, on_delete=models.CASCADE, related_name="routes")
    destination = models.CharField(max_length=43)
    vpc = models.ForeignKey(Vpc, on_delete=models.CASCADE, related_name="peering_routes")
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="+")

    class Meta:
        ordering = ["route_id"]
        constraints = [
            models.UniqueConstraint(fields=["vpc", "destination"], name="vpcsim_route_unique_destination"),
        ]

    def __str__(self) -> str:
        return f"{self.destination} -> {self.nexthop_id}"


class SeenSignature(models.Model):
    """A verified request signature, kept until its ``X-Sdk-Date`` leaves the skew window.

    A second request with the same key and signature inside the window is a replay.
    Rows are purged lazily by :mod:`vpcsim.auth`.
    """

    access_key = models.CharField(max_length=64)
    signature = models.CharField(max_length=64)
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["access_key", "signature"], name="vpcsim_seen_signature_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.access_key}:{self.signature[:12]}…"


class FaultKind(models.TextChoices):
    """What an injected fault does (see :mod:`vpcsim.faults`)."""

    ERROR_500 = "500", "500 before the operation"
    ERROR_503 = "503", "503 before the operation"
    THROTTLED_429 = "429", "429 with Retry-After before the operation"
    LATENCY = "latency", "delay before the operation"
    APPLIED_THEN_DROPPED = "applied_then_dropped", "applied, then the connection drops"
    APPLIED_THEN_500 = "applied_then_500", "applied, then 500"
    MALFORMED_JSON = "malformed_json", "applied, then a 200 that is not JSON"
    NUL_BYTES = "nul_bytes", "applied, then a 200 whose strings hold NUL"


class FaultOperation(models.TextChoices):
    """The operations a fault rule can target; ``*`` is any of them."""

    ANY = "*", "any operation"
    CREATE = "create", "create peering"
    SHOW = "show", "show peering"
    LIST_PEERINGS = "list_peerings", "list peerings"
    UPDATE = "update", "update peering"
    ACCEPT = "accept", "accept peering"
    REJECT = "reject", "reject peering"
    DELETE = "delete", "delete peering"
    LIST_VPCS = "list_vpcs", "list VPCs"
    LIST_ROUTES = "list_routes", "list routes"
    CREATE_ROUTE = "create_route", "create route"
    SHOW_ROUTE = "show_route", "show route"
    DELETE_ROUTE = "delete_route", "delete route"


class FaultRule(models.Model):
    """An active fault: which operation, what happens, how often; shared by every simulator process.

    A rule fires on a matching request with probability ``rate`` (always when
    null) and, when ``remaining`` is set, only while it is above zero (decremented
    in one ``UPDATE ... WHERE remaining > 0``). ``injected`` counts the faults it
    caused.
    """

    operation = models.CharField(max_length=16, choices=FaultOperation.choices)
    kind = models.CharField(max_length=24, choices=FaultKind.choices)
    rate = models.FloatField(null=True, blank=True)
    times = models.PositiveIntegerField(null=True, blank=True)
    remaining = models.PositiveIntegerField(null=True, blank=True)
    latency_ms = models.PositiveIntegerField(default=0)
    retry_after = models.PositiveIntegerField(default=1)
    injected = models.PositiveIntegerField(default=0)
    env_key = models.CharField(max_length=255, null=True, blank=True, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(rate__isnull=True) | Q(rate__gte=0, rate__lte=1), name="vpcsim_faultrule_rate"
            ),
        ]

    def __str__(self) -> str:
        limits = [
            f"rate={self.rate}" if self.rate is not None else "",
            f"times={self.times}" if self.times else "",
        ]
        return " ".join([f"{self.operation}: {self.kind}", *filter(None, limits)])


class RequestLog(models.Model):
    """One request the simulated gateway received (when ``VPCSIM_REQUEST_LOG`` is on).

    What a test needs to account for every attempt a client made: the operation, what was
    answered, the caller's ``X-Correlation-Id`` and the fault injected, if any.
    """

    created_at = models.DateTimeField(auto_now_add=True)
    method = models.CharField(max_length=8)
    path = models.CharField(max_length=512)
    operation = models.CharField(max_length=16, blank=True)
    status = models.PositiveSmallIntegerField()
    correlation_id = models.CharField(max_length=128, blank=True, db_index=True)
    fault = models.CharField(max_length=24, blank=True)

    class Meta:
        ordering = ["pk"]

    def __str__(self) -> str:
        return f"{self.method} {self.path} -> {self.status}"
