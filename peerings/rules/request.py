"""The rules of a new peering request, as pure functions over facts gathered beforehand.

:func:`plan_request` takes a :class:`RequestFacts` (the input, the requester tenant, the user's
tenants, the VPC lists, the accepter tenant, whether the pair is already peered) and returns a
:class:`PeeringPlan`, or raises ``RequestInvalid`` keyed by the create input's field names, with
``needs_confirmation`` when only an overlap waits for the user's confirmation.

The rules come in stages, in the order the facts are gathered
(:func:`peerings.request_facts.gather_request_facts` calls each stage before reading more, so a
broken rule stops it before the cloud is asked): :func:`check_shape` (the input alone; every
broken field reported together), :func:`check_pair` (an open peering of the tenant's own between
the two VPCs), :func:`check_requester_vpcs` (the tenant's own VPC list), :func:`check_accepter_vpcs`
(the accepter tenant's list, when the project is a portal tenant), then the overlap
(:mod:`peerings.rules.overlap`).

**Need to know**: a requester who is not a member of the peer tenant is told that the ranges
overlap, never the peer's range, and a peer VPC that is not in the peer project is reported
without naming what the project holds. For a peer outside the portal the overlap check is
skipped: the cloud itself does not refuse overlapping peerings.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError

from peerings.exceptions import RequestInvalid
from peerings.rules.limits import VPC_LABEL_MAX_LENGTH
from peerings.rules.messages import (
    ACCEPT_PROJECT_MISMATCH,
    ACCEPT_PROJECT_REQUIRED,
    ACCEPT_VPC_NOT_IN_PROJECT,
    ACCEPT_VPC_NOT_REACHABLE,
    PAIR_ALREADY_OPEN,
    REQUEST_VPC_NOT_OWNED,
    SAME_VPC,
)
from peerings.rules.overlap import check_cidr_overlap
from peerings.validation import validate_description, validate_name, validate_project_id, validate_vpc_id

__all__ = [
    "PeeringPlan",
    "RequestFacts",
    "RequestInput",
    "RequestShape",
    "TenantFacts",
    "check_accepter_vpcs",
    "check_pair",
    "check_requester_vpcs",
    "check_shape",
    "plan_request",
    "vpcs_by_id",
]

Errors = dict[str, list[str]]


@dataclass(frozen=True)
class RequestInput:
    """The request as the user gave it, not yet checked."""

    name: Any
    description: Any = ""
    request_vpc_id: Any = None
    accept_vpc_id: Any = None
    accept_project_id: str | None = None
    confirm_overlap: bool = False


@dataclass(frozen=True)
class TenantFacts:
    """A portal tenant as the rules see it. ``record`` is the caller's own object for it (the
    ``Tenant`` row), handed back in the plan; the rules never read it."""

    id: int
    name: str
    project_id: str
    record: Any = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class RequestFacts:
    """Everything the rules of a request need, gathered beforehand.

    A list is empty when it was not read: the gathering stops at the first stage whose rule
    fails, and :func:`plan_request` reports that stage before it looks at later facts.
    """

    input: RequestInput
    requester: TenantFacts
    #: The user's tenants (ids): they decide what the user may learn of the peer's VPCs.
    member_of: frozenset[int] = frozenset()
    #: The requester tenant already has a pending or active peering between the two VPCs.
    pair_open: bool = False
    #: The requester tenant's VPCs, as the cloud listed them (dicts with ``id``, ``name``, ``cidr``).
    requester_vpcs: Sequence[Mapping[str, Any]] = ()
    #: The portal tenant of the accepter project, when the peer VPC is not one of the requester's.
    accepter: TenantFacts | None = None
    #: The accepter tenant's VPCs, when ``accepter`` is set.
    accepter_vpcs: Sequence[Mapping[str, Any]] = ()


@dataclass(frozen=True)
class RequestShape:
    """The input once every field passed its own rule (:func:`check_shape`)."""

    name: str
    description: str
    request_vpc_id: uuid.UUID
    accept_vpc_id: uuid.UUID
    accept_project_id: str | None


@dataclass(frozen=True)
class PeeringPlan:
    """A request that passed every rule, ready to be saved and sent."""

    name: str
    description: str
    request_vpc_id: uuid.UUID
    accept_vpc_id: uuid.UUID
    accepter_project_id: str
    #: The accepter tenant's ``record`` (the ``Tenant`` row), or ``None`` outside the portal.
    accepter_tenant: Any
    #: The VPCs' names and CIDR blocks as the cloud listed them ("" when not listed).
    requester_vpc_name: str = ""
    requester_vpc_cidr: str = ""
    accepter_vpc_name: str = ""
    accepter_vpc_cidr: str = ""
    #: The ranges overlap and the requester confirmed it.
    overlap_confirmed: bool = False


def _field(errors: Errors, name: str, validator: Callable[[Any], Any], value: Any) -> Any:
    try:
        return validator(value)
    except ValidationError as exc:
        errors.setdefault(name, []).extend(exc.messages)
        return None


def vpcs_by_id(vpcs: Sequence[Mapping[str, Any]]) -> dict[uuid.UUID, Mapping[str, Any]]:
    """A VPC list by id; entries without a UUID id are left out."""
    found = {}
    for vpc in vpcs:
        try:
            found[uuid.UUID(str(vpc.get("id")))] = vpc
        except ValueError:
            continue
    return found


def check_shape(given: RequestInput) -> RequestShape:
    """Each field's own rule, and the two VPCs differ; every broken field is reported together."""
    errors: Errors = {}
    name = _field(errors, "name", validate_name, given.name)
    description = _field(errors, "description", validate_description, given.description)
    request_vpc = _field(errors, "request_vpc_id", validate_vpc_id, given.request_vpc_id)
    accept_vpc = _field(errors, "accept_vpc_id", validate_vpc_id, given.accept_vpc_id)
    project_id = None
    if given.accept_project_id:
        project_id = _field(errors, "accept_project_id", validate_project_id, given.accept_project_id)
    if request_vpc is not None and request_vpc == accept_vpc:
        errors.setdefault("accept_vpc_id", []).append(SAME_VPC)
    if errors:
        raise RequestInvalid(errors)
    return RequestShape(name, description, request_vpc, accept_vpc, project_id)


def check_pair(pair_open: bool) -> None:
    """Refuse a pair the requester tenant already has a pending or active peering between.

    Only the tenant's own peerings are a fact before the cloud is asked: another tenant's would
    tell anyone naming two VPC ids that they are peered (the workflow checks every open peering
    again when it saves the request).
    """
    if pair_open:
        raise RequestInvalid({"accept_vpc_id": [PAIR_ALREADY_OPEN]})


def check_requester_vpcs(
    shape: RequestShape, requester: TenantFacts, vpcs: Sequence[Mapping[str, Any]]
) -> str | None:
    """The rules on the requester tenant's own VPC list; the accepter project to look up, or
    ``None`` when the peer VPC is one of the requester's own."""
    own = vpcs_by_id(vpcs)
    errors: Errors = {}
    if shape.request_vpc_id not in own:
        errors["request_vpc_id"] = [REQUEST_VPC_NOT_OWNED]
    project_id = shape.accept_project_id
    if shape.accept_vpc_id in own:
        if project_id and project_id != requester.project_id:
            errors["accept_project_id"] = [ACCEPT_PROJECT_MISMATCH.format(project_id=requester.project_id)]
        project_id = None
    elif not project_id:
        errors["accept_project_id"] = [ACCEPT_PROJECT_REQUIRED]
    elif project_id == requester.project_id:
        errors["accept_vpc_id"] = [ACCEPT_VPC_NOT_IN_PROJECT.format(project_id=project_id)]
    if errors:
        raise RequestInvalid(errors)
    return project_id


def check_accepter_vpcs(
    shape: RequestShape,
    accepter: TenantFacts,
    vpcs: Sequence[Mapping[str, Any]],
    *,
    member_of: frozenset[int] = frozenset(),
) -> None:
    """The peer VPC is one of the accepter tenant's; a non-member is not told what it holds."""
    if shape.accept_vpc_id not in vpcs_by_id(vpcs):
        message = ACCEPT_VPC_NOT_IN_PROJECT if accepter.id in member_of else ACCEPT_VPC_NOT_REACHABLE
        raise RequestInvalid({"accept_vpc_id": [message.format(project_id=accepter.project_id)]})


def _label(value: Any) -> str:
    return str(value or "")[:VPC_LABEL_MAX_LENGTH]


def plan_request(facts: RequestFacts) -> PeeringPlan:
    """Every rule of a new request over ``facts``, stage by stage; the plan, or ``RequestInvalid``."""
    shape = check_shape(facts.input)
    check_pair(facts.pair_open)
    requester = facts.requester
    project_id = check_requester_vpcs(shape, requester, facts.requester_vpcs)
    own = vpcs_by_id(facts.requester_vpcs)
    accepter: TenantFacts | None = requester
    peer_vpc: Mapping[str, Any] = {}
    if project_id is None:  # the peer VPC is the requester's own
        project_id, peer_vpc = requester.project_id, own[shape.accept_vpc_id]
    else:
        accepter = facts.accepter
        if accepter is not None:
            check_accepter_vpcs(shape, accepter, facts.accepter_vpcs, member_of=facts.member_of)
            peer_vpc = vpcs_by_id(facts.accepter_vpcs)[shape.accept_vpc_id]
    peer_cidr = peer_vpc.get("cidr", "")

    show_peer = accepter is not None and (accepter.id == requester.id or accepter.id in facts.member_of)
    local_cidr = own[shape.request_vpc_id].get("cidr", "")
    overlap = check_cidr_overlap(local_cidr, peer_cidr, show_peer=show_peer) if peer_cidr else None
    if overlap is not None and overlap.refused:
        raise RequestInvalid({"accept_vpc_id": [overlap.message]})
    if overlap is not None and not facts.input.confirm_overlap:
        raise RequestInvalid({"confirm_overlap": [overlap.message]}, needs_confirmation=True)

    return PeeringPlan(
        name=shape.name,
        description=shape.description,
        request_vpc_id=shape.request_vpc_id,
        accept_vpc_id=shape.accept_vpc_id,
        accepter_project_id=project_id,
        accepter_tenant=None if accepter is None else accepter.record,
        requester_vpc_name=_label(own[shape.request_vpc_id].get("name")),
        requester_vpc_cidr=_label(local_cidr),
        accepter_vpc_name=_label(peer_vpc.get("name")),
        accepter_vpc_cidr=_label(peer_cidr),
        overlap_confirmed=overlap is not None,
    )
