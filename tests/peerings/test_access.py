"""The tenant walls in one place: who sees a peering (``Peering.objects.visible_to``) and which
of its sides a user is on (``access.sides_of``)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from django.contrib.auth.models import AnonymousUser

from peerings import access
from peerings.choices import PeeringStatus
from peerings.models import Peering
from tests.factories import MembershipFactory, PeeringFactory, UserFactory


def peering(requester: int, accepter: int | None) -> SimpleNamespace:
    return SimpleNamespace(requester_tenant_id=requester, accepter_tenant_id=accepter)


@pytest.mark.parametrize(
    ("tenant_ids", "requester", "accepter", "sides"),
    [
        ({1}, 1, 2, ["requester"]),
        ({2}, 1, 2, ["accepter"]),
        ({1, 2, 3}, 1, 2, ["requester", "accepter"]),
        ({3}, 1, 2, []),
        ({1}, 1, None, ["requester"]),
        ({1: "approver"}, 1, 1, ["requester", "accepter"]),  # an actor's roles; both sides one tenant
        (set(), 1, None, []),
    ],
)
def test_the_sides_of_tenant_ids(tenant_ids, requester, accepter, sides):
    assert access.sides_of(tenant_ids, peering(requester, accepter)) == sides


@pytest.mark.django_db
def test_the_sides_of_a_user_are_read_from_their_memberships():
    row = PeeringFactory()
    requester_member, accepter_member, outsider = UserFactory(), UserFactory(), UserFactory()
    MembershipFactory(user=requester_member, tenant=row.requester_tenant)
    MembershipFactory(user=accepter_member, tenant=row.accepter_tenant)

    assert access.sides_of(requester_member, row) == ["requester"]
    assert access.sides_of(accepter_member, row) == ["accepter"]
    assert access.sides_of(outsider, row) == []
    assert access.sides_of(AnonymousUser(), row) == []


@pytest.mark.django_db
def test_visible_to_is_the_requesters_members_and_the_accepters_once_sent():
    sent = PeeringFactory()
    held = PeeringFactory(
        status=PeeringStatus.AWAITING_APPROVAL,
        upstream_id=None,
        requester_tenant=sent.requester_tenant,
        accepter_tenant=sent.accepter_tenant,
    )
    requester_member, accepter_member = UserFactory(), UserFactory()
    MembershipFactory(user=requester_member, tenant=sent.requester_tenant)
    MembershipFactory(user=accepter_member, tenant=sent.accepter_tenant)

    assert set(Peering.objects.visible_to(requester_member)) == {sent, held}
    assert set(Peering.objects.visible_to(accepter_member)) == {sent}
    assert not Peering.objects.visible_to(UserFactory()).exists()
    assert not Peering.objects.visible_to(AnonymousUser()).exists()
    assert access.seeing_tenant_ids(sent) == {sent.requester_tenant_id, sent.accepter_tenant_id}
    assert access.seeing_tenant_ids(held) == {held.requester_tenant_id}
