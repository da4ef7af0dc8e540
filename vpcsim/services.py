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

import uuid

from django.db import IntegrityError, transaction
from django.db.models import Q

from vpcsim import clock, sql, store
from vpcsim.auth import Caller
from vpcsim.errors import conflict, invalid_input, not_authorized, not_found
from vpcsim.expiry import expire_due
from vpcsim.models import LIVE_STATUSES, Peering, PeeringStatus, Route, Vpc
from vpcsim.selectors import peering_from_row, peering_get, route_get
from vpcsim.store import DB
from vpcsim.validation import PeeringCreateInput, RouteCreateInput, parse_uuid

__all__ = [
    "peering_accept",
    "peering_create",
    "peering_delete",
    "peering_reject",
    "peering_update",
    "route_create",
    "route_delete",
]


_VPCS_SQL = """
SELECT v.id, v.vpc_id, v.project_id, p.project_id, p.account_id
FROM vpcsim_vpc v JOIN vpcsim_project p ON p.id = v.project_id
WHERE v.vpc_id IN (%s, %s)
ORDER BY v.vpc_id
"""
_EXISTING_SQL = """
SELECT peering_id FROM vpcsim_peering
WHERE status IN (%s, %s)
  AND ((request_vpc_id = %s AND accept_vpc_id = %s) OR (request_vpc_id = %s AND accept_vpc_id = %s))
ORDER BY peering_id
"""
_INSERT_SQL = """
INSERT INTO vpcsim_peering (peering_id, name, description, status, request_vpc_id, request_project_id,
                            accept_vpc_id, accept_project_id, created_at, updated_at)
VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
"""


@transaction.atomic(using=DB)
def peering_create(*, caller: Caller, data: PeeringCreateInput) -> Peering:
    """Checks and creates in hand-written statements: expiry, the two VPCs, a live duplicate, the row."""
    now = expire_due()
    own_project = caller.project.project_id
    # Lock both VPCs (in a fixed order) so two concurrent requests cannot both pass the duplicate check.
    vpc_ids = [sql.param(Vpc, "vpc_id", data.request_vpc_id), sql.param(Vpc, "vpc_id", data.accept_vpc_id)]
    # (pk, vpc_id, project pk, project_id, account pk) by VPC id
    vpcs = {
        sql.to_uuid(row[1]): (row[0], sql.to_uuid(row[1]), *row[2:])
        for row in sql.fetchall(_VPCS_SQL + sql.for_update("v"), vpc_ids)
    }
    request_vpc = vpcs.get(data.request_vpc_id)
    if (
        request_vpc is None
        or request_vpc[2] != caller.project.pk
        or data.request_tenant_id not in (None, own_project)
    ):
        raise invalid_input("Request VPC id or tenant id is incorrect.")
    if data.accept_vpc_id == data.request_vpc_id:
        raise invalid_input("Request VPC and accept VPC must be different.")
    accept_vpc = vpcs.get(data.accept_vpc_id)
    if accept_vpc is None or accept_vpc[3] != (data.accept_tenant_id or own_project):
        raise invalid_input("Accept VPC id or tenant id is incorrect.")

    live = [str(s) for s in LIVE_STATUSES]
    existing = sql.fetchone(
        _EXISTING_SQL, [*live, request_vpc[0], accept_vpc[0], accept_vpc[0], request_vpc[0]]
    )
    if existing is not None:
        raise conflict(
            "VpcPeeringExists",
            f"A VPC peering connection between VPC {request_vpc[1]} and VPC {accept_vpc[1]} "
            f"already exists: {sql.to_uuid(existing[0])}.",
        )
    same_account = request_vpc[4] == accept_vpc[4]
    status = PeeringStatus.ACTIVE if same_account else PeeringStatus.PENDING_ACCEPTANCE
    peering_id = uuid.uuid4()
    at = sql.param(Peering, "created_at", now)
    values = [
        sql.param(Peering, "peering_id", peering_id),
        data.name,
        data.description,
        str(status),
        request_vpc[0],
        request_vpc[2],
        accept_vpc[0],
        accept_vpc[2],
        at,
        at,
    ]
    connection = store.connection()
    with connection.cursor() as cursor:
        if connection.features.can_return_columns_from_insert:
            cursor.execute(_INSERT_SQL + " RETURNING id", values)
            pk = cursor.fetchone()[0]
        else:
            cursor.execute(_INSERT_SQL, values)
            pk = cursor.lastrowid
    row = (pk, peering_id, data.name, data.description, str(status), *values[4:8], now, now)
    return peering_from_row(row, sides=(request_vpc[:4], accept_vpc[:4]))


@transaction.atomic(using=DB)
def peering_update(*, caller: Caller, peering_id: str, changes: dict[str, str]) -> Peering:
    peering = peering_get(project=caller.project, peering_id=peering_id, for_update=True)
    for field, value in changes.items():
        setattr(peering, field, value)
    peering.updated_at = clock.now()
    peering.save(update_fields=[*changes, "updated_at"])
    return peering


def _answer(*, caller: Caller, peering_id: str, status: PeeringStatus, verb: str) -> Peering:
    now = expire_due()
    peering = peering_get(project=caller.project, peering_id=peering_id, for_update=True, swept=True)
    if peering.accept_project_id != caller.project.pk:
        raise not_authorized(f"Only the accepter project may {verb} VPC peering connection {peering_id}.")
    if peering.status != PeeringStatus.PENDING_ACCEPTANCE:
        raise conflict(
            "VpcPeeringInvalidState",
            f"VPC peering connection {peering_id} is {peering.status}; only a PENDING_ACCEPTANCE "
            f"connection can be {verb}ed.",
        )
    peering.status = status
    peering.updated_at = now
    sql.execute(
        "UPDATE vpcsim_peering SET status = %s, updated_at = %s WHERE id = %s",
        [str(status), sql.param(Peering, "updated_at", now), peering.pk],
    )
    return peering


@transaction.atomic(using=DB)
def peering_accept(*, caller: Caller, peering_id: str) -> Peering:
    return _answer(caller=caller, peering_id=peering_id, status=PeeringStatus.ACTIVE, verb="accept")


@transaction.atomic(using=DB)
def peering_reject(*, caller: Caller, peering_id: str) -> Peering:
    return _answer(caller=caller, peering_id=peering_id, status=PeeringStatus.REJECTED, verb="reject")


_DELETE_ROUTES_SQL = """
DELETE FROM vpcsim_route WHERE nexthop_id IN (
    SELECT id FROM vpcsim_peering
    WHERE peering_id = %s AND (request_project_id = %s OR accept_project_id = %s)
)
"""
_DELETE_SQL = """
DELETE FROM vpcsim_peering WHERE peering_id = %s AND (request_project_id = %s OR accept_project_id = %s)
"""


@transaction.atomic(using=DB)
def peering_delete(*, caller: Caller, peering_id: str) -> None:
    """Delete from either side, in any state; its routes go with it (the only rows pointing at it).

    Two hand-written statements after the expiry check: the routes, then the peering; none
    deleted is 404.
    """
    expire_due()
    deleted = 0
    if (uid := parse_uuid(peering_id)) is not None:
        params = [sql.param(Peering, "peering_id", uid), caller.project.pk, caller.project.pk]
        sql.execute(_DELETE_ROUTES_SQL, params)
        deleted = sql.execute(_DELETE_SQL, params)
    if not deleted:
        raise not_found("VpcPeeringNotFound", f"VPC peering connection {peering_id} could not be found.")


@transaction.atomic(using=DB)
def route_create(*, caller: Caller, data: RouteCreateInput) -> Route:
    expire_due()
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
