"""Groups → tenant roles: the sync run at each sign-in, and its record."""

from __future__ import annotations

import pytest

from peerings.choices import MembershipSource, Role
from peerings.models import Membership
from sso.groups import memberships_sync
from sso.models import GroupMapping, MembershipChange
from tests.factories import MembershipFactory, TenantFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def acme():
    return TenantFactory(name="Acme")


@pytest.fixture
def globex():
    return TenantFactory(name="Globex")


def roles(user) -> dict[str, tuple[str, str]]:
    return {m.tenant.name: (m.role, m.source) for m in Membership.objects.filter(user=user)}


def changes(user) -> list[tuple[str, str, str, str]]:
    return [
        (c.tenant.name, c.action, c.old_role, c.new_role)
        for c in MembershipChange.objects.filter(user=user).order_by("id")
    ]


def test_groups_add_change_and_remove_group_memberships_and_record_each(acme, globex):
    GroupMapping.objects.create(group="acme-devs", tenant=acme, role=Role.MEMBER)
    GroupMapping.objects.create(group="globex-approvers", tenant=globex, role=Role.APPROVER)
    GroupMapping.objects.create(group="globex-devs", tenant=globex, role=Role.MEMBER)
    user = UserFactory()

    memberships_sync(user=user, groups=["acme-devs", "globex-approvers", "unmapped"])
    assert roles(user) == {
        "Acme": (Role.MEMBER, MembershipSource.OIDC),
        "Globex": (Role.APPROVER, MembershipSource.OIDC),
    }
    memberships_sync(user=user, groups=["globex-devs"])
    assert roles(user) == {"Globex": (Role.MEMBER, MembershipSource.OIDC)}

    assert changes(user) == [
        ("Acme", "added", "", "member"),
        ("Globex", "added", "", "approver"),
        ("Globex", "changed", "approver", "member"),
        ("Acme", "removed", "member", ""),
    ]
    last = MembershipChange.objects.filter(user=user).latest("id")
    assert (last.source, last.groups) == (MembershipSource.OIDC, ["globex-devs"])


def test_the_same_groups_again_change_and_record_nothing(acme):
    GroupMapping.objects.create(group="acme-devs", tenant=acme, role=Role.MEMBER)
    user = UserFactory()
    memberships_sync(user=user, groups=["acme-devs"])
    assert memberships_sync(user=user, groups=["acme-devs"]) == []
    assert MembershipChange.objects.filter(user=user).count() == 1


def test_several_groups_for_one_tenant_give_the_highest_role(acme):
    GroupMapping.objects.create(group="acme-devs", tenant=acme, role=Role.MEMBER)
    GroupMapping.objects.create(group="acme-leads", tenant=acme, role=Role.APPROVER)
    user = UserFactory()
    memberships_sync(user=user, groups=["acme-devs", "acme-leads"])
    assert roles(user) == {"Acme": (Role.APPROVER, MembershipSource.OIDC)}


def test_memberships_granted_by_hand_are_never_changed_or_removed(acme, globex):
    GroupMapping.objects.create(group="acme-leads", tenant=acme, role=Role.APPROVER)
    user = UserFactory()
    MembershipFactory(user=user, tenant=acme, role=Role.MEMBER)  # by hand: source manual
    MembershipFactory(user=user, tenant=globex, role=Role.APPROVER)

    memberships_sync(user=user, groups=["acme-leads"])
    memberships_sync(user=user, groups=[])

    assert roles(user) == {
        "Acme": (Role.MEMBER, MembershipSource.MANUAL),
        "Globex": (Role.APPROVER, MembershipSource.MANUAL),
    }
    assert changes(user) == []
