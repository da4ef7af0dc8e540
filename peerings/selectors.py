"""Reads of the portal's own tables, scoped to what a user may see; never a call to the cloud.

Every front (pages, REST API, admin, FilterSets) and the permission rules read a user's
tenants, roles and peerings, and a peering's history, through these functions. Who sees a
peering is :mod:`peerings.access`'s rule (``user_tenant_ids`` is re-exported from there).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from typing import Any

from django.db.models import (
    BooleanField,
    Case,
    F,
    FilteredRelation,
    Q,
    QuerySet,
    Value,
    When,
)
from django.db.models.functions import Coalesce, Left, StrIndex

from peerings.access import seen_by, signed_in, user_tenant_ids
from peerings.choices import PeeringStatus, Role
from peerings.models import Membership, Peering, StatusChange, Tenant, UpstreamCall

__all__ = [
    "SIGNERS_ONLY",
    "awaiting_decision",
    "calls_as_seen",
    "calls_seen_by",
    "known_tenants",
    "membership_role",
    "peering_calls",
    "peering_status_changes",
    "peerings_seen_by",
    "remember_roles",
    "request_roles",
    "shown",
    "user_memberships",
    "user_roles",
    "user_tenant_ids",
    "user_tenants",
    "user_tenants_with_role",
    "visible_calls",
    "visible_peerings",
    "visible_status_changes",
    "waiting_for",
    "without_keys",
]


def known_tenants() -> QuerySet[Tenant]:
    """Every tenant the portal holds, by name: peers a user may address a request to.

    Only the name and project id of these are shown to people who are not members.
    """
    return Tenant.objects.order_by("name", "id")


def user_memberships(user: Any) -> QuerySet[Membership]:
    """``user``'s memberships with their tenants (without their keys), by tenant name."""
    if not signed_in(user):
        return Membership.objects.none()
    memberships = Membership.objects.filter(user=user).select_related("tenant").order_by("tenant__name", "id")
    return without_keys(memberships, "tenant")


def user_tenants(user: Any) -> QuerySet[Tenant]:
    """The tenants ``user`` is a member of (any role), by name."""
    if not signed_in(user):
        return Tenant.objects.none()
    return Tenant.objects.filter(pk__in=user_tenant_ids(user)).order_by("name", "id")


def user_tenants_with_role(user: Any) -> QuerySet[Tenant]:
    """``user``'s tenants, each annotated with ``role``, by name."""
    if not signed_in(user):
        return Tenant.objects.none()
    mine = FilteredRelation("memberships", condition=Q(memberships__user=user))
    return (
        Tenant.objects.annotate(mine=mine)
        .filter(mine__isnull=False)
        .annotate(role=F("mine__role"))
        .order_by("name", "id")
    )


def user_roles(user: Any, tenant_ids: Iterable[int | None] | None = None) -> dict[int, Role]:
    """``{tenant id: role}`` for ``user``'s memberships (only in ``tenant_ids`` when given)."""
    if not signed_in(user):
        return {}
    memberships = Membership.objects.filter(user=user).order_by()  # no ordering: it joined two tables
    if tenant_ids is not None:
        memberships = memberships.filter(tenant_id__in=[t for t in tenant_ids if t is not None])
    return {tenant_id: Role(role) for tenant_id, role in memberships.values_list("tenant_id", "role")}


def membership_role(user: Any, tenant: Tenant | None) -> Role | None:
    """``user``'s role in ``tenant``, or ``None`` when they are not a member."""
    if tenant is None:
        return None
    return user_roles(user, [tenant.pk]).get(tenant.pk)


def without_keys(queryset: QuerySet, *relations: str) -> QuerySet:
    """``queryset`` without the related tenants' encrypted keys: a list never signs, and
    decrypting two keys per tenant per row was most of a page's time."""
    return queryset.defer(*(f"{relation}__{field}" for relation in relations for field in TENANT_KEYS))


TENANT_KEYS = ("access_key", "secret_key")


def visible_peerings(
    user: Any, *, listing: bool = False, tenant_ids: Collection[int] | None = None
) -> QuerySet[Peering]:
    """The peerings ``user`` sees (``Peering.objects.visible_to``), with what lists show.

    ``listing``: for reading many rows (never for a change): the tenants' keys are left out.
    ``tenant_ids``: ``user``'s tenants when this request has already read them (its roles): the
    walls name them instead of reading the memberships again in each statement.
    """
    if tenant_ids is not None and signed_in(user):
        return peerings_seen_by(sorted(tenant_ids), listing=listing)
    return _with_related(Peering.objects.visible_to(user), listing=listing)


def peerings_seen_by(tenant_ids: list[int], *, listing: bool = False) -> QuerySet[Peering]:
    """:func:`visible_peerings` of a member of ``tenant_ids`` (named in the statement in this order)."""
    return _with_related(Peering.objects.filter(seen_by(tenant_ids)), listing=listing)


def _with_related(peerings: QuerySet[Peering], *, listing: bool) -> QuerySet[Peering]:
    peerings = peerings.select_related(
        "requester_tenant", "accepter_tenant", "requested_by", "decided_by", "approved_by"
    )
    return without_keys(peerings, "requester_tenant", "accepter_tenant") if listing else peerings


def peering_status_changes(peering: Peering) -> QuerySet[StatusChange]:
    """A peering's status changes, newest first."""
    return StatusChange.objects.filter(peering=peering).select_related("actor").order_by("-created_at", "-id")


#: What a cloud call shows only to the members of the tenant whose keys signed it. The other side
#: of its peering sees that it happened (operation, method, status, error code, who, when, how
#: long, its correlation id) and the URL's path, but not its query (a page marker names a route of
#: that side), the bodies (the whole route table or VPC list of that side, the decision sent), the
#: cloud's error message or its request id. Every front reads these through :func:`shown`.
SIGNERS_ONLY = ("url", "request_body", "response_body", "error_message", "cloud_request_id")


def shown(field: str) -> str:
    """The annotation :func:`calls_as_seen` puts ``field`` of a call under, as the reader may see it."""
    return f"shown_{field}"


def calls_as_seen(
    calls: QuerySet[UpstreamCall],
    user: Any,
    *,
    sees_all: bool = False,
    tenant_ids: list[int] | None = None,
) -> QuerySet[UpstreamCall]:
    """``calls`` with each :data:`SIGNERS_ONLY` field as ``user`` may see it (under :func:`shown`),
    and ``details_hidden`` telling whether it was held back: the one place that decides.

    A call signed with one of ``user``'s tenants' keys (or any call, with ``sees_all``: a
    superuser in the admin) shows them in full; any other shows the URL without its query and the
    rest empty.
    """
    if sees_all:
        fields: dict[str, Any] = {shown(name): F(name) for name in SIGNERS_ONLY}
        fields["details_hidden"] = Value(False)
    else:
        if tenant_ids is None:
            tenant_ids = list(user_tenant_ids(user).values_list("tenant_id", flat=True))
        own = Q(tenant_id__in=tenant_ids)
        hidden = {
            "url": Case(
                When(url__contains="?", then=Left("url", StrIndex("url", Value("?")) - 1)), default=F("url")
            ),
            "request_body": None,
            "response_body": None,
            "error_message": Value(""),
            "cloud_request_id": Value(""),
        }
        fields = {
            shown(name): Case(
                When(own, then=F(name)), default=hidden[name], output_field=UpstreamCall._meta.get_field(name)
            )
            for name in SIGNERS_ONLY
        }
        fields["details_hidden"] = Case(
            When(own, then=Value(False)), default=Value(True), output_field=BooleanField()
        )
    # The raw bodies are not read twice: every front reads them through the annotations.
    return calls.defer("request_body", "response_body").annotate(**fields)


def peering_calls(peering: Peering, user: Any) -> QuerySet[UpstreamCall]:
    """The cloud calls made for a peering, newest first, as ``user`` may see them (:func:`calls_as_seen`)."""
    calls = UpstreamCall.objects.filter(peering=peering)
    calls = without_keys(calls.select_related("acting_user", "tenant"), "tenant").order_by(
        "-created_at", "-id"
    )
    return calls_as_seen(calls, user)


def visible_calls(user: Any) -> QuerySet[UpstreamCall]:
    """Cloud calls signed for one of ``user``'s tenants or made for a peering they see, newest first,
    as ``user`` may see them (:func:`calls_as_seen`)."""
    if not signed_in(user):
        return UpstreamCall.objects.none()
    return calls_as_seen(_calls_seen_by(user_tenant_ids(user)), user)


def calls_seen_by(tenant_ids: list[int]) -> QuerySet[UpstreamCall]:
    """:func:`visible_calls` of a member of ``tenant_ids`` (named in the statement in this order)."""
    return calls_as_seen(_calls_seen_by(tenant_ids), None, tenant_ids=tenant_ids)


def _calls_seen_by(mine: Any) -> QuerySet[UpstreamCall]:
    # Through the call's own peering (a join), not "peering in (every visible peering)": checked
    # row by row as an index walks the newest calls, so a page stops early at any table size.
    calls = UpstreamCall.objects.filter(Q(tenant__in=mine) | seen_by(mine, through="peering__"))
    return without_keys(calls.select_related("acting_user", "tenant"), "tenant").order_by(
        "-created_at", "-id"
    )


def visible_status_changes(user: Any) -> QuerySet[StatusChange]:
    """Status changes of the peerings ``user`` sees (either side), newest first."""
    if not signed_in(user):
        return StatusChange.objects.none()
    peerings = Peering.objects.visible_to(user).values("pk")
    return (
        StatusChange.objects.filter(peering__in=peerings)
        .select_related("actor", "peering")
        .order_by("-created_at", "-id")
    )


PENDING_ACCEPTANCE = PeeringStatus.PENDING_ACCEPTANCE
AWAITING_APPROVAL = PeeringStatus.AWAITING_APPROVAL


def awaiting_decision(
    user: Any, *, listing: bool = False, roles: Mapping[int, Role] | None = None
) -> QuerySet[Peering]:
    """What waits for ``user``'s decision, oldest first: peerings pending acceptance addressed to a
    tenant they approve for, and requests of such a tenant held for approval in the portal.

    ``listing`` as for :func:`visible_peerings`; ``roles`` (:func:`user_roles`) when the caller has
    them, else they are read here. The tenants are named by id, so the database finds the rows
    through the small partial indexes over each tenant's waiting peerings
    (``peering_pending_accepter``, ``peering_held_requester``) instead of testing every waiting row
    of every tenant; a user who approves for no tenant gets an empty queryset without a query.
    """
    if not signed_in(user):
        return Peering.objects.none()
    if roles is None:
        roles = user_roles(user)
    approves = sorted(tenant for tenant, role in roles.items() if role == Role.APPROVER)
    if not approves:
        return Peering.objects.none()
    return (
        visible_peerings(user, listing=listing)
        .filter(waiting_for(approves))
        .order_by(Coalesce("upstream_created_at", "created_at"), "id")
    )


def request_roles(request: Any) -> dict[int, Role]:
    """The signed-in user's ``{tenant id: role}``, read once per request (the navigation, tags)."""
    cached = getattr(request, "_peering_roles", None)
    if cached is None:
        cached = user_roles(getattr(request, "user", None))
        request._peering_roles = cached
    return cached


def remember_roles(request: Any, roles: dict[int, Role]) -> None:
    """Give ``request`` (a REST framework request or Django's) the signed-in user's roles read
    with their credentials, so :func:`request_roles` does not read them again."""
    inner = getattr(request, "_request", request)
    inner._peering_roles = roles


def waiting_for(approves: Any) -> Q:
    """Peerings waiting for a decision of an approver of ``approves`` (tenant ids, named so the
    partial indexes over each tenant's waiting peerings serve it)."""
    return Q(status=PENDING_ACCEPTANCE, accepter_tenant__in=approves) | Q(
        status=AWAITING_APPROVAL, requester_tenant__in=approves
    )
