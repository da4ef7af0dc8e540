"""The rules of a peering request, shared by every front and by the workflow.

The small validators (``validate_name``…) raise Django's ``ValidationError`` with the
message constants below, so forms and serializers can reuse them and tests can import
the messages. :func:`check_peering_request` runs the whole set for
:func:`peerings.workflow.peering_request` and raises ``RequestInvalid`` keyed by the
create input's field names. Its order keeps the cloud out of it as long as possible:
shape rules, then the local mirror, then the tenant's VPC list (one recorded call) and,
when the accepter is a portal tenant, the accepter's VPC list (a second call).

**Overlapping CIDR blocks.** Two CIDR blocks are either disjoint, identical, or one
strictly contains the other. The rule is symmetric: the same two VPCs get the same
answer whichever side asks.

* identical blocks: no route can tell the two networks apart. Refused.
* one block inside the other (either way round): routes through the peering can reach
  only the subnets that do not overlap on either side. A warning the user must confirm
  (``confirm_overlap``); otherwise ``RequestInvalid(needs_confirmation=True)``.

The peer block is known only when the peer VPC is one of the tenant's own VPCs or the
accepter project is a portal tenant (its VPCs are listed with its keys). For a peer
outside the portal the overlap check is skipped: the cloud itself does not refuse
overlapping peerings. **Need to know**: a requester who is not a member of the peer
tenant is told that the ranges overlap, never the peer's range, and a peer VPC that is
not in the peer project is reported without naming what the project holds.
"""

from __future__ import annotations

import ipaddress
import re
import uuid
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError

from peerings.exceptions import RequestInvalid
from peerings.models import Peering, Tenant

__all__ = [
    "ACCEPT_PROJECT_MISMATCH",
    "ACCEPT_PROJECT_REQUIRED",
    "ACCEPT_VPC_NOT_IN_PROJECT",
    "ACCEPT_VPC_NOT_REACHABLE",
    "ALREADY_DECIDED",
    "CIDR_IDENTICAL",
    "CIDR_IDENTICAL_HIDDEN",
    "CIDR_NESTED",
    "CIDR_NESTED_HIDDEN",
    "DECLINE_REASON_REQUIRED",
    "DESCRIPTION_FORBIDDEN_CHARACTERS",
    "DESCRIPTION_MAX_LENGTH",
    "DESCRIPTION_TOO_LONG",
    "GONE",
    "HELD_NOT_IN_CLOUD",
    "IN_FLIGHT",
    "NAME_CONTROL_CHARACTERS",
    "NAME_MAX_LENGTH",
    "NAME_REQUIRED",
    "NAME_TOO_LONG",
    "NOT_AN_APPROVER",
    "NOT_AN_APPROVER_TO_DELETE",
    "NOT_A_MEMBER",
    "NOT_A_REQUESTER_APPROVER",
    "NOT_A_TENANT_MEMBER",
    "NOT_CREATED_YET",
    "NOT_HELD",
    "NOT_PENDING",
    "NOT_REQUESTER",
    "NOT_THE_REQUESTER_TOO",
    "NOT_THE_REQUESTER_TO_APPROVE",
    "ORDERING_UNKNOWN",
    "PAIR_ALREADY_OPEN",
    "PROJECT_ID_INVALID",
    "REASON_MAX_LENGTH",
    "REASON_REQUIRED",
    "REASON_REQUIRED_FOR",
    "REASON_TOO_LONG",
    "REQUEST_VPC_NOT_OWNED",
    "SAME_VPC",
    "TENANT_FILTER_UNKNOWN",
    "TEXT_NUL",
    "TEXT_SURROGATE",
    "UNKNOWN_QUERY_PARAMETER",
    "UPDATE_NOTHING",
    "VPC_ID_INVALID",
    "Overlap",
    "PeeringPlan",
    "check_cidr_overlap",
    "check_peering_request",
    "control_characters",
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
NAME_CONTROL_CHARACTERS = "The name may not contain line breaks, tabs or other control characters."
TENANT_FILTER_UNKNOWN = (
    "No tenant has the id or project id “%(value)s”, and none of your peerings names that project: "
    "give a tenant's portal id or its project id."
)
UNKNOWN_QUERY_PARAMETER = "Unknown query parameter: this request takes {accepted}."
ORDERING_UNKNOWN = "Unknown ordering “%(value)s”: use one of {choices} (prefix - for descending)."
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
CIDR_IDENTICAL_HIDDEN = (
    "This VPC's range {local} overlaps the peer VPC's range entirely: they cannot be peered."
)
CIDR_NESTED = (
    "The ranges overlap: {outer} contains {inner}. Routes through the peering can then reach only "
    "subnets that do not overlap on either side. Confirm the overlap to request the peering anyway."
)
CIDR_NESTED_HIDDEN = (
    "This VPC's range {local} overlaps the peer VPC's range. Routes through the peering can then reach "
    "only subnets that do not overlap on either side. Confirm the overlap to request the peering anyway."
)
ACCEPT_VPC_NOT_REACHABLE = (
    "Check the peer VPC id and project id: project {project_id} has no such VPC the portal can peer with."
)
UPDATE_NOTHING = "Give a new name or a new description."
TEXT_NUL = "Null characters are not allowed."
TEXT_SURROGATE = "Unpaired surrogate characters are not allowed."

REASON_MAX_LENGTH = 1000
REASON_TOO_LONG = f"The reason may have at most {REASON_MAX_LENGTH} characters."
REASON_REQUIRED = "Say why you reject this request: the requester will see it."
DECLINE_REASON_REQUIRED = "Say why you decline this request: the requester will see it."
#: The decisions that need a reason (the requester reads it), by action, with the message when missing.
REASON_REQUIRED_FOR = {"reject": REASON_REQUIRED, "decline": DECLINE_REASON_REQUIRED}

# What a user may do (peerings/permissions.py) and what the workflow says when they may not.
NOT_A_MEMBER = "You are not a member of a tenant of this peering."
NOT_A_TENANT_MEMBER = "You are not a member of this tenant."
NOT_AN_APPROVER = "Only an approver of the accepter tenant may accept or reject this peering."
NOT_AN_APPROVER_TO_DELETE = (
    "Only the requester's members or an approver of the accepter tenant may delete a request pending "
    "acceptance (deleting it rejects it without a reason)."
)
NOT_THE_REQUESTER_TOO = (
    "You requested this peering: another approver of the accepter tenant must accept it (the tenant "
    "separates duties)."
)
NOT_A_REQUESTER_APPROVER = (
    "Only an approver of the requester tenant, or a portal admin, may approve or decline a request held "
    "for approval."
)
NOT_THE_REQUESTER_TO_APPROVE = (
    "You requested this peering: another approver of the requester tenant must approve it (the tenant "
    "separates duties)."
)
NOT_HELD = "Only a request awaiting approval can be {verb}; this one is {status}."
HELD_NOT_IN_CLOUD = (
    "This request is awaiting approval in the portal: nothing has been sent to the cloud yet, so there is "
    "nothing to refresh."
)
NOT_REQUESTER = "Only the requester's members can complete a request the cloud has not confirmed yet."
NOT_PENDING = "Only a peering pending acceptance can be {verb}; this one is {status}."
GONE = "This peering is {status}: there is nothing more to do with it."
NOT_CREATED_YET = "The cloud has not confirmed this peering yet; refresh it first."
IN_FLIGHT = (
    "Another operation on this peering ({operation}) is still waiting for the cloud; "
    "try again when it has finished."
)
ALREADY_DECIDED = "The peering is already {status} in the cloud; the portal now shows it so."

_PROJECT_ID_RE = re.compile(r"^[0-9a-f]{32}$")
_SURROGATE_RE = re.compile("[\ud800-\udfff]")
#: C0 and C1 controls (CR, LF and tab among them), DEL, and the Unicode line and paragraph
#: separators: none can be part of a one-line name, and a line break in one would end an
#: e-mail subject header. The cloud states no charset for names (its Terraform provider allows
#: only letters, digits, CJK and ``-._``), so refusing these is within what it accepts.
CONTROL_CHARACTERS_RE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")


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


def control_characters(value: str) -> bool:
    """Whether ``value`` holds a control character or a line separator (see ``CONTROL_CHARACTERS_RE``)."""
    return CONTROL_CHARACTERS_RE.search(value) is not None


def validate_name(value: str | None) -> str:
    """A peering name: 1 to 64 characters, not only spaces, no control character (CR, LF, tab,
    other C0/C1 controls, line separators) and no lone surrogate."""
    if value is None or not str(value).strip():
        raise ValidationError(NAME_REQUIRED, code="required")
    validate_text(value)
    if control_characters(value):
        raise ValidationError(NAME_CONTROL_CHARACTERS, code="control_characters")
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


def check_cidr_overlap(local: str, peer: str, *, show_peer: bool = True) -> Overlap | None:
    """``None`` when the blocks are disjoint (or unknown); else the refusal or the warning.

    Symmetric in ``local`` and ``peer``; with ``show_peer`` false the message never shows the
    peer's block (the requester is not a member of the peer tenant).
    """
    try:
        local_net = ipaddress.ip_network(local, strict=False)
        peer_net = ipaddress.ip_network(peer, strict=False)
    except ValueError:
        return None
    if local_net.version != peer_net.version or not local_net.overlaps(peer_net):
        return None
    if local_net == peer_net:
        message = CIDR_IDENTICAL if show_peer else CIDR_IDENTICAL_HIDDEN
        return Overlap(refused=True, message=message.format(local=local_net))
    if not show_peer:
        return Overlap(refused=False, message=CIDR_NESTED_HIDDEN.format(local=local_net))
    outer, inner = (peer_net, local_net) if local_net.subnet_of(peer_net) else (local_net, peer_net)
    return Overlap(refused=False, message=CIDR_NESTED.format(outer=outer, inner=inner))


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
    #: The VPCs' names and CIDR blocks as the cloud listed them ("" when not listed).
    requester_vpc_name: str = ""
    requester_vpc_cidr: str = ""
    accepter_vpc_name: str = ""
    accepter_vpc_cidr: str = ""
    #: The ranges overlap and the requester confirmed it.
    overlap_confirmed: bool = False


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
    name: str,
    description: str | None = "",
    request_vpc_id: Any,
    accept_vpc_id: Any,
    accept_project_id: str | None = None,
    confirm_overlap: bool = False,
    list_vpcs: Callable[[Tenant], list[dict]],
    member_of: Collection[int] = (),
) -> PeeringPlan:
    """Check a new peering request by ``tenant``; raise ``RequestInvalid`` on any broken rule.

    The caller has checked that the user may act for ``tenant``. ``list_vpcs(tenant)``
    reads a tenant's VPCs from the cloud (a recorded call); its failures propagate.
    ``member_of``: the user's tenant ids, which decide what they may learn of the peer's VPCs.
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
    # Before asking the cloud, only the tenant's own open peerings are checked: another
    # tenant's would tell anyone naming two VPC ids that they are peered. The workflow checks
    # every open peering again once the cloud has shown the request VPC to be the tenant's.
    if Peering.objects.open().on_either_side([tenant.pk]).between(request_vpc, accept_vpc).exists():
        raise RequestInvalid({"accept_vpc_id": [PAIR_ALREADY_OPEN]})

    # From here on the cloud is asked: first the tenant's own VPCs.
    own = _vpcs_by_id(list_vpcs(tenant))
    if request_vpc not in own:
        errors["request_vpc_id"] = [REQUEST_VPC_NOT_OWNED]
    accepter_tenant: Tenant | None = None
    peer_cidr = ""
    peer_vpc: dict = {}
    if accept_vpc in own:
        peer_vpc = own[accept_vpc]
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
            theirs = _vpcs_by_id(list_vpcs(accepter_tenant))
            if accept_vpc not in theirs:
                message = (
                    ACCEPT_VPC_NOT_IN_PROJECT if accepter_tenant.pk in member_of else ACCEPT_VPC_NOT_REACHABLE
                )
                raise RequestInvalid({"accept_vpc_id": [message.format(project_id=project_id)]})
            peer_vpc = theirs[accept_vpc]
            peer_cidr = peer_vpc.get("cidr", "")

    show_peer = accepter_tenant is not None and (accepter_tenant == tenant or accepter_tenant.pk in member_of)
    local_cidr = own[request_vpc].get("cidr", "")
    overlap = check_cidr_overlap(local_cidr, peer_cidr, show_peer=show_peer) if peer_cidr else None
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
        requester_vpc_name=str(own[request_vpc].get("name") or "")[:64],
        requester_vpc_cidr=str(local_cidr or "")[:64],
        accepter_vpc_name=str(peer_vpc.get("name") or "")[:64],
        accepter_vpc_cidr=str(peer_cidr or "")[:64],
        overlap_confirmed=overlap is not None,
    )
