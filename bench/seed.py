"""Seed peerings and their history quickly: PostgreSQL ``COPY`` (``bulk_create`` elsewhere).

Each peering gets two status changes and two cloud calls. Peerings are spread over the demo
tenants and ``SPREAD`` extra tenants, so a demo user sees a share of them that grows with the
table; creation times go back one minute per row. The first ``WAITING_FLOOR`` rows wait for
Acme Production's approvers at every size, so the approver's queue shows a full page at 1k as
at 100k (otherwise the 1k page would hold 4 rows and the 100k page 50, and the ratio would
measure the page's length rather than the table's).
"""

from __future__ import annotations

import datetime as dt
import json
import uuid

from django.db import connection, models
from django.utils import timezone

from peerings.choices import CallOperation, ChangeSource, PeeringStatus
from peerings.models import Peering, StatusChange, Tenant, UpstreamCall

__all__ = ["seed_to"]

SPREAD = 8  # extra tenants beside the demo's
WAITING_FLOOR = 60  # more than one page of the approver's queue (50)
WAITING_FOR = "Acme Production"
STATUSES = (
    [PeeringStatus.ACTIVE] * 12
    + [PeeringStatus.DELETED] * 4
    + [
        PeeringStatus.PENDING_ACCEPTANCE,
        PeeringStatus.REJECTED,
        PeeringStatus.FAILED,
        PeeringStatus.EXPIRED,
    ]
)


def _tenants() -> list[Tenant]:
    for n in range(SPREAD):
        Tenant.objects.get_or_create(
            name=f"Bench tenant {n}",
            defaults={"project_id": f"bench{n:02d}" + "0" * 24, "access_key": "AK", "secret_key": "SK"},
        )
    return list(Tenant.objects.order_by("id"))


def _peering_rows(start: int, stop: int, tenants: list[Tenant], now: dt.datetime):
    waiting_for = next(t for t in tenants if t.name == WAITING_FOR)
    for n in range(start, stop):
        requester = tenants[n % len(tenants)]
        accepter = tenants[(n * 7 + 3) % len(tenants)]
        status = STATUSES[n % len(STATUSES)]
        if n < WAITING_FLOOR:
            accepter, status = waiting_for, PeeringStatus.PENDING_ACCEPTANCE
            requester = next(t for t in tenants if t.pk != waiting_for.pk)
        if accepter.pk == requester.pk:
            accepter = None
        created = now - dt.timedelta(minutes=n)
        yield {
            "upstream_id": str(uuid.UUID(int=n + 1)),
            "name": f"bench-{n}",
            "description": "",
            "status": status,
            "requester_tenant_id": requester.pk,
            "requester_project_id": requester.project_id,
            "requester_vpc_id": uuid.uuid4(),
            "accepter_tenant_id": accepter.pk if accepter else None,
            "accepter_project_id": accepter.project_id if accepter else uuid.uuid4().hex,
            "accepter_vpc_id": uuid.uuid4(),
            "requester_vpc_name": f"vpc-{n % 97}",
            "requester_vpc_cidr": f"10.{n % 250}.0.0/16",
            "accepter_vpc_name": f"vpc-{(n * 7) % 97}",
            "accepter_vpc_cidr": f"172.16.{n % 250}.0/24",
            "decision_reason": "",
            "error_code": "",
            "error_message": "",
            "upstream_created_at": created,
            "upstream_updated_at": created,
            "created_at": created,
            "updated_at": created,
            "inflight_operation": "",
            "inflight_token": "",
            "revision": 0,
        }


def _blanks(model: type, row: dict) -> dict:
    """The non-null columns a row leaves out, as the model's own default (blank text, False, 0):
    COPY, unlike the ORM, fills nothing in, and new columns keep appearing."""
    return {
        field.attname: field.get_default()
        for field in model._meta.concrete_fields
        if field.attname not in row
        and not field.null
        and not field.primary_key
        and (field.has_default() or isinstance(field, models.CharField | models.TextField))
    }


def _copy(model: type, rows: list[dict]) -> None:
    if not rows:
        return
    blanks = _blanks(model, rows[0])
    rows = [{**blanks, **row} for row in rows] if blanks else rows
    columns = list(rows[0])
    if connection.vendor != "postgresql":
        model.objects.bulk_create([model(**row) for row in rows], batch_size=2000)
        return
    table = model._meta.db_table
    names = ", ".join(f'"{c}"' for c in columns)
    connection.ensure_connection()
    with connection.connection.cursor() as cursor, cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row([row[c] for c in columns])


def seed_to(total: int) -> float:
    """Grow the bench peerings (``bench-*``) to ``total`` with their history; the seconds it took."""
    import time

    started = time.perf_counter()
    tenants = _tenants()
    have = Peering.objects.filter(name__startswith="bench-").count()
    if have >= total:
        return 0.0
    now = timezone.now() - dt.timedelta(days=1)
    rows = list(_peering_rows(have, total, tenants, now))
    last_id = Peering.objects.order_by("-id").values_list("id", flat=True).first() or 0
    _copy(Peering, rows)
    ids = dict(Peering.objects.filter(id__gt=last_id).values_list("upstream_id", "id"))
    changes, calls = [], []
    body = json.dumps({"peering": {"status": "ACTIVE"}})
    for r in rows:
        pk = ids[r["upstream_id"]]
        for i, (old, new) in enumerate(
            (("", PeeringStatus.SUBMITTING), (PeeringStatus.SUBMITTING, r["status"]))
        ):
            at = r["created_at"] + dt.timedelta(seconds=i)
            changes.append(
                {
                    "created_at": at,
                    "peering_id": pk,
                    "old_status": old,
                    "new_status": new,
                    "actor_id": None,
                    "reason": "",
                    "source": ChangeSource.API,
                }
            )
            calls.append(
                {
                    "created_at": at,
                    "acting_user_id": None,
                    "tenant_id": r["requester_tenant_id"],
                    "peering_id": pk,
                    "operation": CallOperation.CREATE if i == 0 else CallOperation.SHOW,
                    "method": "POST" if i == 0 else "GET",
                    "url": "http://cloud/v2.0/vpc/peerings",
                    "request_body": None,
                    "status_code": 201 if i == 0 else 200,
                    "response_body": body,
                    "error_code": "",
                    "error_message": "",
                    "duration_ms": 12,
                    "attempts": 1,
                    "correlation_id": uuid.uuid4().hex,
                    "cloud_request_id": "",
                }
            )
    _copy(StatusChange, changes)
    _copy(UpstreamCall, calls)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            for model in (Peering, StatusChange, UpstreamCall):
                cursor.execute(f"ANALYZE {model._meta.db_table}")
    return time.perf_counter() - started
