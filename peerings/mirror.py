"""Copying the cloud's view of a peering onto the portal's mirror (inside a workflow transaction).

The mirror moves state and says whether it moved; the work that follows a move (jobs,
notifications) listens on :mod:`peerings.signals`."""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime
from typing import Any

from django.utils import timezone

from peerings.choices import CLOUD_STATUSES, PeeringStatus
from peerings.history import record_status_change
from peerings.models import Peering, Tenant
from peerings.routes.records import describe, gone_with_peering
from peerings.rules.limits import CLOUD_ID_MAX_LENGTH, DESCRIPTION_MAX_LENGTH, NAME_MAX_LENGTH
from peerings.storable import storable

__all__ = ["STATUS_CONFLICT", "apply", "mark_deleted", "move", "parse_time"]

logger = logging.getLogger("peerings.workflow")

#: ``Peering.error_code`` when the cloud reported a status the mirror cannot move to.
STATUS_CONFLICT = "STATUS_CONFLICT"


def parse_time(value: Any) -> datetime | None:
    """The cloud's ``yyyy-MM-ddTHH:mm:ss`` (UTC, no zone) as an aware datetime."""
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def move(peering: Peering, new: str, *, actor: Any, reason: str, source: str, cloud: bool = False) -> bool:
    """Move the status along ``TRANSITIONS`` and record it; store a conflict otherwise.

    ``cloud``: the status comes from the cloud, which may only report its own statuses.
    Returns whether the status moved.
    """
    old = peering.status
    if new == old:
        return False
    known = CLOUD_STATUSES if cloud else PeeringStatus.values
    if new not in known or not peering.can_transition_to(new):
        peering.error_code = STATUS_CONFLICT
        peering.error_message = (
            f"The cloud reports the status {new}, which cannot follow {old}; the portal keeps {old}."
        )
        logger.warning("peering %s: %s", peering.pk, peering.error_message)
        return False
    peering.status = new
    if new == PeeringStatus.DELETED:
        reason = _with_routes_gone(peering, reason=reason, actor=actor, source=source)
    record_status_change(
        peering=peering, old_status=old, new_status=new, actor=actor, reason=reason, source=source
    )
    return True


def _with_routes_gone(peering: Peering, *, reason: str, actor: Any, source: str) -> str:
    """Mark the peering's routes removed (the cloud deletes them with it); the reason names them."""
    gone = gone_with_peering(peering, actor=actor, source=source)
    if not gone:
        return reason
    listed = "; ".join(describe(route, peering) for route in gone)
    return f"{reason} Its routes went with it: {listed}."


def _text(value: Any, limit: int) -> str:
    """A text from the cloud as the mirror can store it (never a NUL, within the column)."""
    return str(storable(str(value)))[:limit]


def _uuid(value: Any, current: uuid.UUID) -> uuid.UUID:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        logger.warning("the cloud sent a VPC id that is not a UUID: %r", value)
        return current


def _object(value: Any) -> dict:
    return value if isinstance(value, dict) else {}


def apply(peering: Peering, data: dict, *, actor: Any, reason: str, source: str) -> bool:
    """Copy the cloud's view of the peering onto the mirror (status last); returns whether it moved."""
    peering.error_code = peering.error_message = ""
    if data.get("id"):
        peering.upstream_id = _text(data["id"], CLOUD_ID_MAX_LENGTH)
    if data.get("name") is not None:
        peering.name = _text(data["name"], NAME_MAX_LENGTH)
    if data.get("description") is not None:
        peering.description = _text(data["description"], DESCRIPTION_MAX_LENGTH)
    request_info = _object(data.get("request_vpc_info"))
    accept_info = _object(data.get("accept_vpc_info"))
    if request_info.get("tenant_id"):
        peering.requester_project_id = _text(request_info["tenant_id"], CLOUD_ID_MAX_LENGTH)
    if request_info.get("vpc_id"):
        peering.requester_vpc_id = _uuid(request_info["vpc_id"], peering.requester_vpc_id)
    if accept_info.get("tenant_id"):
        peering.accepter_project_id = _text(accept_info["tenant_id"], CLOUD_ID_MAX_LENGTH)
    if accept_info.get("vpc_id"):
        peering.accepter_vpc_id = _uuid(accept_info["vpc_id"], peering.accepter_vpc_id)
    if peering.accepter_tenant_id is None:
        peering.accepter_tenant = Tenant.objects.filter(project_id=peering.accepter_project_id).first()
    peering.upstream_created_at = parse_time(data.get("created_at")) or peering.upstream_created_at
    peering.upstream_updated_at = parse_time(data.get("updated_at")) or peering.upstream_updated_at
    peering.last_synced_at = timezone.now()
    if data.get("status"):
        status = _text(data["status"], 32)
        return move(peering, status, actor=actor, reason=reason, source=source, cloud=True)
    return False


def mark_deleted(peering: Peering, *, actor: Any, reason: str, source: str) -> None:
    """The cloud has no such peering (any more): it is ``DELETED``."""
    peering.error_code = peering.error_message = ""
    peering.last_synced_at = timezone.now()
    move(peering, PeeringStatus.DELETED, actor=actor, reason=reason, source=source)
