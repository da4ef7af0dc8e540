"""The rules of a peering request, shared by every front and by the workflow.

The small validators (``validate_name``…) raise Django's ``ValidationError`` with the
message constants below, so forms and serializers can reuse them and tests can import
the messages. :func:`check_peering_request` runs the whole set for
:func:`peerings.workflow.peering_request` and raises ``RequestInvalid`` keyed by the
create input's field names. Its order keeps the cloud out of it as long as possible:
shape rules, then the local mirror, then the tenant's VPC list (one recorded call) and,
when the accepter is a portal tenant, the accepter's VPC list (a second call).

**Overlapping CIDR blocks.** Two CIDR blocks are either disjoint, identical, or one
strictly contains the other: there is no "partial" overlap between two blocks. The
rule therefore measures the overlap from the requester's side, i.e. how much of the
requester's own network would become ambiguous:

* identical blocks, or a peer block that contains the requester's whole block: every
  local address is also a peer address, so no route can tell them apart. Refused.
* a peer block strictly inside the requester's block: only part of the local network
  (the peer's block) overlaps; hosts outside it are unaffected. A warning the user must
  confirm (``confirm_overlap``); otherwise ``RequestInvalid(needs_confirmation=True)``.

The peer block is known only when the peer VPC is one of the tenant's own VPCs or the
accepter project is a portal tenant (its VPCs are listed with its keys). For a peer
outside the portal the overlap check is skipped: the cloud itself does not refuse
overlapping peerings.
"""

from __future__ import annotations

import ipaddress
import re
import uuid
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError

from peerings.exceptions import RequestInvalid
from peerings.models import Peering, Tenant
from peerings.selectors import fetch_tenant_vpcs

__all__ = [
    "ACCEPT_PROJECT_MISMATCH",
    "ACCEPT_PROJECT_REQUIRED",
    "ACCEPT_VPC_NOT_IN_PROJECT",
    "CIDR_IDENTICAL",
    "CIDR_PARTIAL_OVERLAP",
    "CIDR_PEER_CONTAINS_LOCAL",
    "DESCRIPTION_FORBIDDEN_CHARACTERS",
    "DESCRIPTION_MAX_LENGTH",
    "DESCRIPTION_TOO_LONG",
    "NAME_MAX_LENGTH",
    "NAME_REQUIRED",
    "NAME_TOO_LONG",
    "PAIR_ALREADY_OPEN",
    "PROJECT_ID_INVALID",
    "REQUEST_VPC_NOT_OWNED",
    "SAME_VPC",
    "TEXT_NUL",
    "TEXT_SURROGATE",
    "UPDATE_NOTHING",
    "VPC_ID_INVALID",
    "Overlap",
    "PeeringPlan",
    "check_cidr_overlap",
    "check_peering_request",
    "validate_description",
    "validate_name",
    "validate_project_id",
    "validate_text",
    "validate_vpc_id",
]

NAME_MAX_LENGTH = 64
DESCRIPTION_MAX_LENGTH = 255

NAME_REQUIRED = "Enter a name."
NAME_TOO_LONG = f"The name may have at most {NAME_MAX_LENGTH} characters."
DESCRIPTION_TOO_LONG = f"The description may have at most {DESCRIPTION_MAX_LENGTH} characters."
DESCRIPTION_FORBIDDEN_CHARACTERS = "The description may not contain < or >."
VPC_ID_INVALID = "Enter a VPC id (a UUID)."
PROJECT_ID_INVALID = "Enter a project id: 32 hexadecimal characters or a UUID."
SAME_VPC = "A VPC cannot be peered with itself."
PAIR_ALREADY_OPEN = "These two VPCs already have a peering that is pending or active."
REQUEST_VPC_NOT_OWNED = "This VPC is not one of this tenant's VPCs."
ACCEPT_PROJECT_REQUIRED = "Enter the peer's project id: the peer VPC is not one of this tenant's VPCs."
ACCEPT_PROJECT_MISMATCH = "The peer VPC belongs to this tenant's own project {project_id}."
ACCEPT_VPC_NOT_IN_PROJECT = "The peer VPC is not one of the VPCs of project {project_id}."
CIDR_IDENTICAL = "Both VPCs use the range {local}: identical ranges cannot be peered."
CIDR_PEER_CONTAINS_LOCAL = (
    "The peer VPC's range {peer} contains this VPC's whole range {local}: it cannot be peered."
)
CIDR_PARTIAL_OVERLAP = (
    "The peer VPC's range {peer} overlaps part of this VPC's range {local}; addresses in {peer} "
    "would be ambiguous. Confirm the overlap to request the peering anyway."
)
UPDATE_NOTHING = "Give a new name or a new description."
TEXT_NUL = "Null characters are not allowed."
TEXT_SURROGATE = "Unpaired surrogate characters are not allowed."

_PROJECT_ID_RE = re.compile(r"^[0-9a-f]{32}$")
_SURROGATE_RE = re.compile("[\ud800-\udfff]")


# --- Single fields (forms and serializers use these) ---------------------------------------


def validate_text(value: Any) -> Any:
    """Any text the portal stores or forwards: no NUL (PostgreSQL text cannot hold it, and the
    cloud would get it) and no unpaired surrogate (it cannot be encoded as UTF-8)."""
    if isinstance(value, str):
        if "\x00" in value:
            raise ValidationError(TEXT_NUL, code="null_characters_not_allowed")
        if _SURROGATE_RE.search(value):
            raise ValidationError(TEXT_SURROGATE, code="surrogate_characters_not_allowed")
    return value


def validate_name(value: str | None) -> str:
    """A peering name: 1 to 64 characters, not only spaces, no NUL or lone surrogate."""
    if value is None or not str(value).strip():
        raise ValidationError(NAME_REQUIRED, code="required")
    validate_text(value)
    if len(value) > NAME_MAX_LENGTH:
        raise ValidationError(NAME_TOO_LONG, code="max_length")
    return value


def validate_description(value: str | None) -> str:
    """A peering description: at most 255 characters, without ``<`` or ``>``, NUL or lone surrogate."""
    value = value or ""
    validate_text(value)
    if len(value) > DESCRIPTION_MAX_LENGTH:
        raise ValidationError(DESCRIPTION_TOO_LONG, code="max_length")
    if "<" in value or ">" in value:
        raise ValidationError(DESCRIPTION_FORBIDDEN_CHARACTERS, code="forbidden_characters")
    return value


def validate_vpc_id(value: Any) -> uuid.UUID:
    """A VPC id, which the cloud requires to be a UUID."""
    if isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(str(value or "").strip())
    except ValueError:
        raise ValidationError(VPC_ID_INVALID, code="invalid") from None


def validate_project_id(value: str | None) -> str:
    """A project id (32 hex characters, or a UUID as some documents show), lower-cased."""
    text = str(value or "").strip().lower()
    if _PROJECT_ID_RE.match(text):
        return text
    try:
        if str(uuid.UUID(text)) == text:
            return text
    except ValueError:
        pass
    raise ValidationError(PROJECT_ID_INVALID, code="invalid")


# --- Overlapping ranges -------------------------------------------------------------------------


@dataclass(frozen=True)
class Overlap:
    """How the peer's CIDR block overlaps the requester's (see the module docstring)."""

    refused: bool
    message: str


def check_cidr_overlap(local: str, peer: str) -> Overlap | None:
    """``None`` when the blocks are disjoint (or unknown); else the refusal or the warning."""
    try:
        local_net = ipaddress.ip_network(local, strict=False)
        peer_net = ipaddress.ip_network(peer, strict=False)
    except ValueError:
        return None
    if local_net.version != peer_net.version or not local_net.overlaps(peer_net):
        return None
    names = {"local": str(local_net), "peer": str(peer_net)}
    if local_net == peer_net:
        return Overlap(refused=True, message=CIDR_IDENTICAL.format(**names))
    if local_net.subnet_of(peer_net):
        return Overlap(refused=True, message=CIDR_PEER_CONTAINS_LOCAL.format(**names))
    return Overlap(refused=False, message=CIDR_PARTIAL_OVERLAP.format(**names))


# --- The whole request ----------------------------------------------------------------------------


@dataclass(frozen=True)
class PeeringPlan:
    """A request that passed every rule, ready to be saved and sent."""

    name: str
    description: str
    request_vpc_id: uuid.UUID
    accept_vpc_id: uuid.UUID
    accepter_project_id: str
    accepter_tenant: Tenant | None


def _field(errors: dict[str, list[str]], field: str, validator: Any, value: Any) -> Any:
    try:
        return validator(value)
    except ValidationError as exc:
        errors.setdefault(field, []).extend(exc.messages)
        return None


def _vpcs_by_id(vpcs: list[dict]) -> dict[uuid.UUID, dict]:
    found = {}
    for vpc in vpcs:
        try:
            found[uuid.UUID(str(vpc.get("id")))] = vpc
        except ValueError:
            continue
    return found


def check_peering_request(
    *,
    tenant: Tenant,
    acting_user: Any,
    name: str,
    description: str | None = "",
    request_vpc_id: Any,
    accept_vpc_id: Any,
    accept_project_id: str | None = None,
    confirm_overlap: bool = False,
) -> PeeringPlan:
    """Check a new peering request by ``tenant``; raise ``RequestInvalid`` on any broken rule.

    The caller has checked that ``acting_user`` may act for ``tenant``. The VPC list
    calls are recorded with ``acting_user``; their failures propagate as ``CloudError``.
    """
    errors: dict[str, list[str]] = {}
    name = _field(errors, "name", validate_name, name)
    description = _field(errors, "description", validate_description, description)
    request_vpc = _field(errors, "request_vpc_id", validate_vpc_id, request_vpc_id)
    accept_vpc = _field(errors, "accept_vpc_id", validate_vpc_id, accept_vpc_id)
    project_id = None
    if accept_project_id:
        project_id = _field(errors, "accept_project_id", validate_project_id, accept_project_id)
    if request_vpc is not None and request_vpc == accept_vpc:
        errors.setdefault("accept_vpc_id", []).append(SAME_VPC)
    if errors:
        raise RequestInvalid(errors)
    if Peering.objects.open().between(request_vpc, accept_vpc).exists():
        raise RequestInvalid({"accept_vpc_id": [PAIR_ALREADY_OPEN]})

    # From here on the cloud is asked: first the tenant's own VPCs.
    own = _vpcs_by_id(fetch_tenant_vpcs(tenant=tenant, acting_user=acting_user))
    if request_vpc not in own:
        errors["request_vpc_id"] = [REQUEST_VPC_NOT_OWNED]
    accepter_tenant: Tenant | None = None
    peer_cidr = ""
    if accept_vpc in own:
        if project_id and project_id != tenant.project_id:
            errors["accept_project_id"] = [ACCEPT_PROJECT_MISMATCH.format(project_id=tenant.project_id)]
        project_id, accepter_tenant, peer_cidr = tenant.project_id, tenant, own[accept_vpc].get("cidr", "")
    elif not project_id:
        errors["accept_project_id"] = [ACCEPT_PROJECT_REQUIRED]
    elif project_id == tenant.project_id:
        errors["accept_vpc_id"] = [ACCEPT_VPC_NOT_IN_PROJECT.format(project_id=project_id)]
    if errors:
        raise RequestInvalid(errors)

    if accepter_tenant is None:
        accepter_tenant = Tenant.objects.filter(project_id=project_id).first()
        if accepter_tenant is not None:
            theirs = _vpcs_by_id(fetch_tenant_vpcs(tenant=accepter_tenant, acting_user=acting_user))
            if accept_vpc not in theirs:
                raise RequestInvalid(
                    {"accept_vpc_id": [ACCEPT_VPC_NOT_IN_PROJECT.format(project_id=project_id)]}
                )
            peer_cidr = theirs[accept_vpc].get("cidr", "")

    overlap = check_cidr_overlap(own[request_vpc].get("cidr", ""), peer_cidr) if peer_cidr else None
    if overlap is not None and overlap.refused:
        raise RequestInvalid({"accept_vpc_id": [overlap.message]})
    if overlap is not None and not confirm_overlap:
        raise RequestInvalid({"confirm_overlap": [overlap.message]}, needs_confirmation=True)

    return PeeringPlan(
        name=name,
        description=description,
        request_vpc_id=request_vpc,
        accept_vpc_id=accept_vpc,
        accepter_project_id=project_id,
        accepter_tenant=accepter_tenant,
    )
