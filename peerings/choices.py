"""Every enumerated value of the portal, in one place."""

from django.db import models

__all__ = [
    "CLOUD_STATUSES",
    "LEGACY_CHANGE_SOURCES",
    "LIVE_ROUTE_STATES",
    "NOT_SENT_STATUSES",
    "OPEN_STATUSES",
    "TERMINAL_STATUSES",
    "TRANSITIONS",
    "ApprovalPolicy",
    "CallOperation",
    "CallOutcome",
    "ChangeSource",
    "MembershipSource",
    "PeeringStatus",
    "Role",
    "RouteEvent",
    "RouteSide",
    "RouteState",
]


class Role(models.TextChoices):
    """A member's role in a tenant."""

    MEMBER = "member", "Member"  # may request, rename and delete the tenant's peerings
    APPROVER = "approver", "Approver"  # may also accept or reject peerings addressed to it


class MembershipSource(models.TextChoices):
    """Who grants a membership: an administrator, or the identity provider's groups (``sso``)."""

    MANUAL = "manual", "Granted by hand"  # never changed by the sign-in's group sync
    OIDC = "oidc", "Identity provider groups"  # kept in line with the groups at each sign-in


class PeeringStatus(models.TextChoices):
    """The cloud's five statuses, plus four the portal needs before the cloud knows a peering."""

    # Portal-only: held by the requester tenant's approval policy; nothing sent to the cloud yet.
    AWAITING_APPROVAL = "AWAITING_APPROVAL", "Awaiting approval"
    # Portal-only: declined in the portal before it was sent; it never existed upstream.
    DECLINED = "DECLINED", "Declined"
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
#: A request held for approval takes its pair too, so nobody requests the same pair meanwhile.
OPEN_STATUSES = frozenset(
    {
        PeeringStatus.AWAITING_APPROVAL,
        PeeringStatus.SUBMITTING,
        PeeringStatus.PENDING_ACCEPTANCE,
        PeeringStatus.ACTIVE,
    }
)
#: The statuses the cloud reports (the others are the portal's own).
CLOUD_STATUSES = frozenset(
    {
        PeeringStatus.PENDING_ACCEPTANCE,
        PeeringStatus.ACTIVE,
        PeeringStatus.REJECTED,
        PeeringStatus.EXPIRED,
        PeeringStatus.DELETED,
    }
)
#: A request in these was never sent: the requester tenant's alone (see access.held_back).
NOT_SENT_STATUSES = frozenset({PeeringStatus.AWAITING_APPROVAL, PeeringStatus.DECLINED})
#: Statuses nothing leaves.
TERMINAL_STATUSES = frozenset({PeeringStatus.FAILED, PeeringStatus.DECLINED, PeeringStatus.DELETED})

#: The statuses each status may move to (Oscar-style pipeline). A refresh from the
#: cloud follows the same map, so the mirror never goes backwards.
TRANSITIONS: dict[str, frozenset[str]] = {
    # Approved (then sent), declined, or withdrawn by the requester's side.
    PeeringStatus.AWAITING_APPROVAL: frozenset(
        {PeeringStatus.SUBMITTING, PeeringStatus.DECLINED, PeeringStatus.DELETED}
    ),
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
    PeeringStatus.DECLINED: frozenset(),
    PeeringStatus.DELETED: frozenset(),
}


class ApprovalPolicy(models.TextChoices):
    """What happens to a tenant's new requests before the cloud sees them."""

    FORWARD = "forward", "Forward to the cloud at once"
    HOLD = "hold", "Hold for approval in the portal"


class ChangeSource(models.TextChoices):
    """Which front a change came through (stored as ``user`` before 0.2.0: migration 0014 renamed it)."""

    BROWSER = "browser", "Browser"
    API = "api", "REST API"
    ADMIN = "admin", "Admin"
    SYNC = "sync", "Sync from the cloud"
    JOB = "job", "Background job"


#: The member's name before 0.2.0 (not a member: the same value twice is refused), for code
#: written against it; removed in 0.3.0.
ChangeSource.USER = ChangeSource.BROWSER  # type: ignore[misc]


#: Values ``source`` had before 0.2.0, still accepted by the filters until 0.3.0: {old: new}.
LEGACY_CHANGE_SOURCES = {"user": ChangeSource.BROWSER.value}


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
    LIST_ROUTES = "list_routes", "List routes"
    SHOW_ROUTE = "show_route", "Show route"
    CREATE_ROUTE = "create_route", "Create route"
    DELETE_ROUTE = "delete_route", "Delete route"


class CallOutcome(models.TextChoices):
    """Whether a cloud call's history row holds its outcome (``peerings.models.UpstreamCall``)."""

    # Written and committed before the request is sent; the outcome is written once it is known.
    SENDING = "sending", "Sending"
    RECORDED = "recorded", "Recorded"  # the answer (or the failure) is in the row
    # Still "sending" after the longest a call can take: its outcome could not be written (the
    # database was unreachable). The sync re-reads the peering, as after a lost answer.
    LOST = "lost", "Outcome not recorded"


class RouteSide(models.TextChoices):
    """Which VPC of a peering a route is in: each side's routes point at the other's range."""

    REQUESTER = "requester", "Requester"
    ACCEPTER = "accepter", "Accepter"


class RouteState(models.TextChoices):
    """What the portal knows of one route over a peering (``peerings.models.PeeringRoute``)."""

    APPLYING = "applying", "Being applied"  # the create is being sent
    APPLIED = "applied", "Applied"  # created by the portal, in the cloud
    EXTERNAL = "external", "Added outside the portal"  # found in the cloud by a sync
    UNKNOWN = "unknown", "Outcome unknown"  # a create whose answer was lost; a sync settles it
    FAILED = "failed", "Failed"  # the create failed: not in the cloud
    REMOVED = "removed", "Removed"  # removed by the portal, or with the peering
    MISSING = "missing", "Removed outside the portal"  # the cloud no longer has it (drift)


#: States in which a route is (or may be) in the cloud.
LIVE_ROUTE_STATES = frozenset(
    {RouteState.APPLYING, RouteState.APPLIED, RouteState.EXTERNAL, RouteState.UNKNOWN}
)


class RouteEvent(models.TextChoices):
    """One line of a route's history (``peerings.models.RouteChange``)."""

    APPLIED = "applied", "Applied"
    FAILED = "failed", "Apply failed"
    UNKNOWN = "unknown", "Apply outcome unknown"
    REMOVED = "removed", "Removed"
    REMOVE_FAILED = "remove_failed", "Remove failed"
    WITH_PEERING = "with_peering", "Removed with the peering"
    ADDED_OUTSIDE = "added_outside", "Added outside the portal"
    REMOVED_OUTSIDE = "removed_outside", "Removed outside the portal"
    FOUND = "found", "Found in the cloud after an unknown outcome"
