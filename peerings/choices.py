"""Every enumerated value of the portal, in one place."""

from django.db import models

__all__ = [
    "OPEN_STATUSES",
    "TERMINAL_STATUSES",
    "TRANSITIONS",
    "CallOperation",
    "ChangeSource",
    "PeeringStatus",
    "Role",
]


class Role(models.TextChoices):
    """A member's role in a tenant."""

    MEMBER = "member", "Member"  # may request, rename and delete the tenant's peerings
    APPROVER = "approver", "Approver"  # may also accept or reject peerings addressed to it


class PeeringStatus(models.TextChoices):
    """The cloud's five statuses, plus two the portal needs before the cloud knows a peering."""

    # Portal-only: saved locally, sent (or about to be sent) to the cloud, outcome not known yet.
    SUBMITTING = "SUBMITTING", "Submitting"
    # Portal-only: the cloud refused to create it; it never existed upstream.
    FAILED = "FAILED", "Failed"
    # The cloud's statuses.
    PENDING_ACCEPTANCE = "PENDING_ACCEPTANCE", "Pending acceptance"
    ACTIVE = "ACTIVE", "Active"
    REJECTED = "REJECTED", "Rejected"
    EXPIRED = "EXPIRED", "Expired"
    DELETED = "DELETED", "Deleted"


#: Statuses in which a VPC pair is taken: the cloud allows one live peering per pair.
OPEN_STATUSES = frozenset({PeeringStatus.SUBMITTING, PeeringStatus.PENDING_ACCEPTANCE, PeeringStatus.ACTIVE})
#: Statuses nothing leaves.
TERMINAL_STATUSES = frozenset({PeeringStatus.FAILED, PeeringStatus.DELETED})

#: The statuses each status may move to (Oscar-style pipeline). A refresh from the
#: cloud follows the same map, so the mirror never goes backwards.
TRANSITIONS: dict[str, frozenset[str]] = {
    PeeringStatus.SUBMITTING: frozenset(
        {
            PeeringStatus.PENDING_ACCEPTANCE,
            PeeringStatus.ACTIVE,
            PeeringStatus.FAILED,
            PeeringStatus.REJECTED,
            PeeringStatus.EXPIRED,
            PeeringStatus.DELETED,
        }
    ),
    PeeringStatus.PENDING_ACCEPTANCE: frozenset(
        {PeeringStatus.ACTIVE, PeeringStatus.REJECTED, PeeringStatus.EXPIRED, PeeringStatus.DELETED}
    ),
    PeeringStatus.ACTIVE: frozenset({PeeringStatus.DELETED}),
    PeeringStatus.REJECTED: frozenset({PeeringStatus.DELETED}),
    PeeringStatus.EXPIRED: frozenset({PeeringStatus.DELETED}),
    PeeringStatus.FAILED: frozenset(),
    PeeringStatus.DELETED: frozenset(),
}


class ChangeSource(models.TextChoices):
    """Which front a change came through."""

    USER = "user", "Browser"
    API = "api", "REST API"
    ADMIN = "admin", "Admin"
    SYNC = "sync", "Sync from the cloud"


class CallOperation(models.TextChoices):
    """The upstream operations the portal performs."""

    LIST_VPCS = "list_vpcs", "List VPCs"
    LIST_PEERINGS = "list_peerings", "List peerings"
    SHOW = "show", "Show peering"
    CREATE = "create", "Create peering"
    UPDATE = "update", "Update peering"
    ACCEPT = "accept", "Accept peering"
    REJECT = "reject", "Reject peering"
    DELETE = "delete", "Delete peering"
