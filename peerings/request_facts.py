"""Gathering the facts a new peering request is judged on (:mod:`peerings.rules.request`).

The order keeps the cloud out as long as possible: the input's shape (no read at all), then the
tenant's own open peerings (the database), then the tenant's VPC list (one recorded call) and,
when the accepter project is another portal tenant, that tenant's VPC list (a second call). Each
stage's rule runs before the next read, so a broken rule raises ``RequestInvalid`` before any
further read; :func:`peerings.rules.request.plan_request` then runs every rule over the facts.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Collection
from typing import Any

from peerings.models import Peering, Tenant
from peerings.rules.request import (
    RequestFacts,
    RequestInput,
    TenantFacts,
    check_pair,
    check_requester_vpcs,
    check_shape,
)

__all__ = ["gather_request_facts", "tenant_facts"]


def tenant_facts(tenant: Tenant) -> TenantFacts:
    """A tenant as the rules see it, carrying the row for the plan."""
    return TenantFacts(id=tenant.pk, name=tenant.name, project_id=tenant.project_id, record=tenant)


def gather_request_facts(
    *,
    tenant: Tenant,
    acting_user: Any,
    roles: Collection[int],
    name: Any,
    description: Any = "",
    request_vpc_id: Any,
    accept_vpc_id: Any,
    accept_project_id: str | None = None,
    confirm_overlap: bool = False,
    list_vpcs: Callable[..., list[dict]],
) -> RequestFacts:
    """The facts of a request by ``tenant`` (the caller checked the user may act for it).

    ``roles``: the user's tenant ids (a roles mapping will do). ``list_vpcs(tenant=, wanted=,
    acting_user=)`` reads a tenant's VPCs (:func:`peerings.vpcs.request_vpcs`: a cached list
    when it holds every VPC in ``wanted``); its failures propagate.
    """
    given = RequestInput(
        name=name,
        description=description,
        request_vpc_id=request_vpc_id,
        accept_vpc_id=accept_vpc_id,
        accept_project_id=accept_project_id,
        confirm_overlap=confirm_overlap,
    )

    def wanted(listed: Tenant) -> list[Any]:
        """The VPCs a list must hold for the rules to pass: a cached list without them is re-read."""
        if listed.pk != tenant.pk:
            return [accept_vpc_id]
        same_project = not accept_project_id or accept_project_id == tenant.project_id
        return [request_vpc_id, accept_vpc_id] if same_project else [request_vpc_id]

    shape = check_shape(given)
    pair_open = (
        Peering.objects.open()
        .on_either_side([tenant.pk])
        .between(shape.request_vpc_id, shape.accept_vpc_id)
        .exists()
    )
    facts = RequestFacts(
        input=given, requester=tenant_facts(tenant), member_of=frozenset(roles), pair_open=pair_open
    )
    check_pair(pair_open)

    # From here on the cloud is asked: first the tenant's own VPCs.
    own = tuple(list_vpcs(tenant=tenant, wanted=wanted(tenant), acting_user=acting_user))
    facts = dataclasses.replace(facts, requester_vpcs=own)
    project_id = check_requester_vpcs(shape, facts.requester, own)
    if project_id is None:  # the peer VPC is one of the tenant's own
        return facts
    accepter = Tenant.objects.filter(project_id=project_id).first()
    if accepter is None:  # a project outside the portal: its VPCs cannot be listed
        return facts
    theirs = tuple(list_vpcs(tenant=accepter, wanted=wanted(accepter), acting_user=acting_user))
    return dataclasses.replace(facts, accepter=tenant_facts(accepter), accepter_vpcs=theirs)
