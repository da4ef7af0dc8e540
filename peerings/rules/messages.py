"""Every user-facing refusal and error message of the peering rules and permissions.

Fronts, the workflow and tests import them from here; the route rules keep their own catalogue
(:mod:`peerings.routes.messages`). Placeholders: ``{...}`` for ``str.format``, ``%(value)s`` for
Django's validators.
"""

from __future__ import annotations

from peerings.rules.limits import DESCRIPTION_MAX_LENGTH, NAME_MAX_LENGTH, REASON_MAX_LENGTH

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
    "DESCRIPTION_TOO_LONG",
    "GONE",
    "HELD_NOT_IN_CLOUD",
    "IN_FLIGHT",
    "NAME_CONTROL_CHARACTERS",
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
    "REASON_REQUIRED",
    "REASON_TOO_LONG",
    "REQUEST_VPC_NOT_OWNED",
    "SAME_VPC",
    "TENANT_FILTER_UNKNOWN",
    "TEXT_NUL",
    "TEXT_SURROGATE",
    "UNKNOWN_QUERY_PARAMETER",
    "UPDATE_NOTHING",
    "VPC_ID_INVALID",
]

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
#: The one answer to an update that changes nothing (the workflow and the API's serializer).
UPDATE_NOTHING = "Give a new name or a new description."
TEXT_NUL = "Null characters are not allowed."
TEXT_SURROGATE = "Unpaired surrogate characters are not allowed."

REASON_TOO_LONG = f"The reason may have at most {REASON_MAX_LENGTH} characters."
REASON_REQUIRED = "Say why you reject this request: the requester will see it."
DECLINE_REASON_REQUIRED = "Say why you decline this request: the requester will see it."

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
