"""The portal's approval policy: which new requests wait for a person before the cloud sees them.

None of the clouds offers this gate. A tenant whose policy is ``hold`` keeps its members'
new requests ``AWAITING_APPROVAL`` until one of its approvers (or a portal admin) approves
them; then the workflow sends them as any other request. Rules may approve a request at
once instead: both tenants in the same organisation unit, or the peer VPC on the tenant's
allow-list. What a rule decided is kept on the peering (``approval_reason``).
"""

from __future__ import annotations

import uuid
from typing import Any

from peerings.choices import ApprovalPolicy
from peerings.models import AutoApprovedVpc, Tenant

__all__ = ["auto_approval", "holds"]

SAME_ORG_UNIT = "Approved automatically: both tenants are in the organisation unit {unit}."
ALLOW_LISTED = "Approved automatically: the peer VPC is on {tenant}'s allow-list{note}."


def auto_approval(tenant: Tenant, *, accepter_tenant: Tenant | None, accept_vpc_id: Any) -> str:
    """The rule that approves this request of ``tenant`` at once, as a sentence, or ``""``."""
    unit = tenant.org_unit.strip()
    if (
        tenant.auto_approve_same_org_unit
        and unit
        and accepter_tenant is not None
        and accepter_tenant.org_unit.strip() == unit
    ):
        return SAME_ORG_UNIT.format(unit=unit)
    try:
        vpc_id = uuid.UUID(str(accept_vpc_id))
    except ValueError:
        return ""
    listed = AutoApprovedVpc.objects.filter(tenant=tenant, vpc_id=vpc_id).first()
    if listed is not None:
        return ALLOW_LISTED.format(tenant=tenant.name, note=f" ({listed.note})" if listed.note else "")
    return ""


def holds(tenant: Tenant) -> bool:
    """Whether ``tenant``'s new requests wait for approval in the portal (unless a rule approves them)."""
    return tenant.approval_policy == ApprovalPolicy.HOLD
