"""A new request may check VPCs against a tenant's list kept briefly in the shared cache."""

from __future__ import annotations

import pytest
from django.core.cache import cache

from peerings.choices import ChangeSource, PeeringStatus
from peerings.exceptions import RequestInvalid
from peerings.models import UpstreamCall
from peerings.rules.messages import REQUEST_VPC_NOT_OWNED
from peerings.workflow import peering_delete, peering_request
from tests.factories import SimVpcFactory


@pytest.fixture
def cached(settings):
    settings.VPC_LIST_CACHE_SECONDS = 30
    cache.clear()
    yield
    cache.clear()


def _request(tenant, user, request_vpc, accept_vpc, accept_project, name="cached"):
    return peering_request(
        tenant=tenant,
        acting_user=user,
        name=name,
        request_vpc_id=str(request_vpc.vpc_id),
        accept_vpc_id=str(accept_vpc.vpc_id),
        accept_project_id=accept_project.project_id,
        source=ChangeSource.API,
    )


def _lists() -> int:
    return UpstreamCall.objects.filter(operation="list_vpcs").count()


def test_a_second_request_reads_the_lists_from_the_cache(
    cached, cloud, acme_prod, globex_main, acme_member, prod_web, globex_app
):
    first = _request(acme_prod, acme_member, prod_web, globex_app, globex_main, name="first")
    assert (first.status, _lists()) == (PeeringStatus.PENDING_ACCEPTANCE, 2)
    peering_delete(peering=first, acting_user=acme_member)

    second = _request(acme_prod, acme_member, prod_web, globex_app, globex_main, name="second")
    assert (second.status, _lists()) == (PeeringStatus.PENDING_ACCEPTANCE, 2)  # no new list call


def test_a_vpc_missing_from_the_cached_list_is_read_again(
    cached, cloud, acme_prod, globex_main, acme_member, prod_web, globex_app
):
    first = _request(acme_prod, acme_member, prod_web, globex_app, globex_main, name="first")
    peering_delete(peering=first, acting_user=acme_member)
    fresh = SimVpcFactory(project=prod_web.project, name="prod-new", cidr="10.99.0.0/16")

    peering = _request(acme_prod, acme_member, fresh, globex_app, globex_main, name="fresh")
    assert peering.status == PeeringStatus.PENDING_ACCEPTANCE
    assert _lists() == 3  # the requester's list again, not the accepter's


def test_the_rules_still_refuse_what_the_cloud_does_not_list(
    cached, cloud, acme_prod, globex_main, acme_member, prod_web, globex_app
):
    first = _request(acme_prod, acme_member, prod_web, globex_app, globex_main, name="first")
    peering_delete(peering=first, acting_user=acme_member)
    with pytest.raises(RequestInvalid) as refused:
        _request(acme_prod, acme_member, globex_app, prod_web, acme_prod, name="not-mine")
    assert refused.value.errors["request_vpc_id"] == [REQUEST_VPC_NOT_OWNED]
