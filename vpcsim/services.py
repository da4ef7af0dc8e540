"""Writes of the simulated cloud: peering create/update/accept/reject/delete, route create/delete.

Rules the simulator enforces (choices where the cloud's behaviour is unconfirmed
are marked *chosen*):

* Create: the request VPC must be one of the caller's; ``request_vpc_info.tenant_id``
  may be omitted, ``""`` or the caller's project, else 400 "Invalid input for
  operation: Request VPC id or tenant id is incorrect." (*chosen*, mirrors the
  cloud's accept-side message). ``accept_vpc_info.tenant_id`` may be omitted only
  when the accept VPC is in the caller's own project; given, it must own the VPC,
  else 400 "Invalid input for operation: Accept VPC id or tenant id is incorrect.".
  The same VPC on both sides is 400 ``InvalidInput`` (*chosen*). A second live
  (PENDING_ACCEPTANCE or ACTIVE) peering between the same two VPCs, either way
  round, is 409 ``VpcPeeringExists`` (*chosen*). Overlapping CIDRs are allowed.
  Both projects of one account: ACTIVE at once; otherwise PENDING_ACCEPTANCE.
* Update: either side may change ``name``/``description`` in any state (*chosen*).
* Accept/Reject: only the accepter project, else 403 ``PolicyNotAuthorized``
  "Only the accepter project may accept|reject VPC peering connection <id>.";
  only from PENDING_ACCEPTANCE, else 409 ``VpcPeeringInvalidState`` "VPC peering
  connection <id> is <STATUS>; only a PENDING_ACCEPTANCE connection can be
  accepted|rejected." (both *chosen*). The permission check comes first.
* Delete: either side, any state; the row and its routes are removed, so the
  peering then reads as 404.
* Routes: ``vpc_id`` must be a VPC of the caller (else 400), the next hop a
  peering connecting that VPC (else 400) that is ACTIVE (else 400 ``InvalidInput``,
  *chosen*); one route per destination per VPC, else 409 ``RouteExists`` (*chosen*).
"""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.db.models import Q

from vpcsim import clock
from vpcsim.auth import Caller
from vpcsim.errors import conflict, invalid_input, not_authorized
from vpcsim.expiry import expire_pending
from vpcsim.models import LIVE_STATUSES, Peering, PeeringStatus, Route, Vpc
from vpcsim.selectors import peering_get, route_get
from vpcsim.store import DB
from vpcsim.validation import PeeringCreateInput, RouteCreateInput

__all__ = [
    "peering_accept",
    "peering_create",
    "peering_delete",
    "peering_reject",
    "peering_update",
    "route_create",
    "route_delete",
]


@transaction.atomic(using=DB)
def peering_create(*, caller: Caller, data: PeeringCreateInput) -> Peering:
    now = clock.now()
    expire_pending(now=now)
    own_project = caller.project.project_id
    # Lock both VPCs (in a fixed order) so two concurrent requests cannot both pass the duplicate check.
    vpcs = {
        vpc.vpc_id: vpc
        for vpc in Vpc.objects.select_for_update()
        .select_related("project__account")
        .filter(vpc_id__in=[data.request_vpc_id, data.accept_vpc_id])
        .order_by("vpc_id")
    }
    request_vpc = vpcs.get(data.request_vpc_id)
    if (
        request_vpc is None
        or request_vpc.project_id != caller.project.pk
        or data.request_tenant_id not in (None, own_project)
    ):
        raise invalid_input("Request VPC id or tenant id is incorrect.")
    if data.accept_vpc_id == data.request_vpc_id:
        raise invalid_input("Request VPC and accept VPC must be different.")
    accept_vpc = vpcs.get(data.accept_vpc_id)
    if accept_vpc is None or accept_vpc.project.project_id != (data.accept_tenant_id or own_project):
        raise invalid_input("Accept VPC id or tenant id is incorrect.")

    existing = (
        Peering.objects.filter(status__in=LIVE_STATUSES)
        .filter(
            Q(request_vpc=request_vpc, accept_vpc=accept_vpc)
            | Q(request_vpc=accept_vpc, accept_vpc=request_vpc)
        )
        .first()
    )
    if existing is not None:
        raise conflict(
            "VpcPeeringExists",
            f"A VPC peering connection between VPC {request_vpc.vpc_id} and VPC {accept_vpc.vpc_id} "
            f"already exists: {existing.peering_id}.",
        )
    same_account = request_vpc.project.account_id == accept_vpc.project.account_id
    return Peering.objects.create(
        name=data.name,
        description=data.description,
        status=PeeringStatus.ACTIVE if same_account else PeeringStatus.PENDING_ACCEPTANCE,
        request_vpc=request_vpc,
        request_project=request_vpc.project,
        accept_vpc=accept_vpc,
        accept_project=accept_vpc.project,
        created_at=now,
        updated_at=now,
    )


@transaction.atomic(using=DB)
def peering_update(*, caller: Caller, peering_id: str, changes: dict[str, str]) -> Peering:
    peering = peering_get(project=caller.project, peering_id=peering_id, for_update=True)
    for field, value in changes.items():
        setattr(peering, field, value)
    peering.updated_at = clock.now()
    peering.save(update_fields=[*changes, "updated_at"])
    return peering


def _answer(*, caller: Caller, peering_id: str, status: PeeringStatus, verb: str) -> Peering:
    peering = peering_get(project=caller.project, peering_id=peering_id, for_update=True)
    if peering.accept_project_id != caller.project.pk:
        raise not_authorized(f"Only the accepter project may {verb} VPC peering connection {peering_id}.")
    if peering.status != PeeringStatus.PENDING_ACCEPTANCE:
        raise conflict(
            "VpcPeeringInvalidState",
            f"VPC peering connection {peering_id} is {peering.status}; only a PENDING_ACCEPTANCE "
            f"connection can be {verb}ed.",
        )
    peering.status = status
    peering.updated_at = clock.now()
    peering.save(update_fields=["status", "updated_at"])
    return peering


@transaction.atomic(using=DB)
def peering_accept(*, caller: Caller, peering_id: str) -> Peering:
    return _answer(caller=caller, peering_id=peering_id, status=PeeringStatus.ACTIVE, verb="accept")


@transaction.atomic(using=DB)
def peering_reject(*, caller: Caller, peering_id: str) -> Peering:
    return _answer(caller=caller, peering_id=peering_id, status=PeeringStatus.REJECTED, verb="reject")


@transaction.atomic(using=DB)
def peering_delete(*, caller: Caller, peering_id: str) -> None:
    """Delete from either side, in any state; its routes go with it."""
    peering = peering_get(project=caller.project, peering_id=peering_id, for_update=True)
    peering.delete()


@transaction.atomic(using=DB)
def route_create(*, caller: Caller, data: RouteCreateInput) -> Route:
    expire_pending()
    vpc = Vpc.objects.filter(vpc_id=data.vpc_id, project=caller.project).first()
    if vpc is None:
        raise invalid_input(f"VPC {data.vpc_id} could not be found in project {caller.project.project_id}.")
    peering = (
        Peering.objects.filter(peering_id=data.nexthop).filter(Q(request_vpc=vpc) | Q(accept_vpc=vpc)).first()
    )
    if peering is None:
        raise invalid_input(f"VPC peering connection {data.nexthop} does not connect VPC {data.vpc_id}.")
    if peering.status != PeeringStatus.ACTIVE:
        raise invalid_input(f"VPC peering connection {data.nexthop} is {peering.status}, not ACTIVE.")
    duplicate = conflict("RouteExists", f"A route to {data.destination} already exists in VPC {data.vpc_id}.")
    if Route.objects.filter(vpc=vpc, destination=data.destination).exists():
        raise duplicate
    try:
        with transaction.atomic(using=DB):
            return Route.objects.create(
                type=data.type, nexthop=peering, destination=data.destination, vpc=vpc, project=caller.project
            )
    except IntegrityError:
        raise duplicate from None


@transaction.atomic(using=DB)
def route_delete(*, caller: Caller, route_id: str) -> None:
    route_get(project=caller.project, route_id=route_id).delete()
