"""The one permission source, walked cell by cell: role, status, confirmed, in flight, action.

In every cell, what the pages, the admin and the REST API offer is exactly what the workflow
lets through: an offered action reaches the point of calling the cloud, and one not offered
is refused before anything is sent.
"""

from __future__ import annotations

import itertools
import re
from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from peerings import permissions, workflow
from peerings.choices import PeeringStatus, Role
from peerings.exceptions import InvalidState, NotPermitted
from peerings.models import Peering
from peerings.permissions import Action
from peerings.routes import workflow as route_workflow
from tests.factories import MembershipFactory, PeeringFactory, UserFactory

ROLES: dict[str, list[tuple[str, Role]]] = {
    "requester member": [("requester", Role.MEMBER)],
    "requester approver": [("requester", Role.APPROVER)],
    "accepter member": [("accepter", Role.MEMBER)],
    "accepter approver": [("accepter", Role.APPROVER)],
    "member of both": [("requester", Role.MEMBER), ("accepter", Role.APPROVER)],
    "the requester, approver of both": [("requester", Role.APPROVER), ("accepter", Role.APPROVER)],
    "outsider": [],
    "portal admin (superuser, no membership)": [],
}
#: Statuses in which only the requester's side sees a peering (the peer was never sent it).
HELD_BACK = {PeeringStatus.AWAITING_APPROVAL, PeeringStatus.DECLINED}
CELLS = list(itertools.product(ROLES, PeeringStatus.values, [True, False], [False, True]))


class Sent(Exception):
    """Raised instead of calling the cloud: the workflow let the action through."""


class NoCloud:
    def __getattr__(self, name: str):
        def call(*args, **kwargs):
            raise Sent(name)

        return call


@pytest.fixture
def no_cloud(settings):
    settings.VPC_CLIENT_FACTORY = lambda tenant, **options: NoCloud()


#: What an action may change before it reaches the cloud (or instead of it): put back after each.
RESTORED = (
    "inflight_operation",
    "inflight_token",
    "inflight_until",
    "status",
    "decided_by",
    "decided_at",
    "decision_reason",
    "approved_by",
    "approved_at",
    "approval_reason",
)


def workflow_allows(action: Action, peering: Peering, user) -> bool:
    """Whether the workflow carries ``action`` out: gets as far as calling the cloud, or (a portal-only
    change: declining, withdrawing a held request) completes; the row is put back after."""
    copy = Peering.objects.get(pk=peering.pk)
    calls = {
        Action.ACCEPT: lambda: workflow.peering_accept(peering=copy, acting_user=user),
        Action.REJECT: lambda: workflow.peering_reject(peering=copy, acting_user=user, reason="no"),
        Action.UPDATE: lambda: workflow.peering_update(peering=copy, acting_user=user, name="renamed"),
        Action.REFRESH: lambda: workflow.peering_refresh(peering=copy, acting_user=user),
        Action.DELETE: lambda: workflow.peering_delete(peering=copy, acting_user=user),
        Action.APPROVE: lambda: workflow.peering_approve(peering=copy, acting_user=user),
        Action.DECLINE: lambda: workflow.peering_decline(peering=copy, acting_user=user, reason="no"),
    }
    if action in permissions.ROUTE_ACTIONS:  # offered when the user may act on either side's routes
        return any(route_workflow_allows(action, peering, user, side) for side in ("requester", "accepter"))
    try:
        calls[action]()
    except Sent:
        return True
    except (NotPermitted, InvalidState):
        return False
    else:
        portal_only = {Action.DECLINE: PeeringStatus.DECLINED, Action.DELETE: PeeringStatus.DELETED}
        assert peering.status == PeeringStatus.AWAITING_APPROVAL, f"{action} neither sent nor refused"
        assert copy.status == portal_only[action]
        return True
    finally:  # undo what the action changed
        Peering.objects.filter(pk=peering.pk).update(**{name: getattr(peering, name) for name in RESTORED})


def route_workflow_allows(action: Action, peering: Peering, user, side: str) -> bool:
    """Whether the route workflow gets as far as calling the cloud for ``side`` (the row is put back)."""
    copy = Peering.objects.get(pk=peering.pk)
    operation = route_workflow.routes_apply if action == Action.APPLY_ROUTES else route_workflow.routes_remove
    options = {"destinations": ["192.0.2.0/24"]} if action == Action.APPLY_ROUTES else {}
    try:
        operation(peering=copy, acting_user=user, side=side, **options)
    except Sent:
        return True
    except (NotPermitted, InvalidState):
        return False
    finally:
        Peering.objects.filter(pk=peering.pk).update(**{name: getattr(peering, name) for name in RESTORED})
    raise AssertionError(f"{action} on the {side}'s side neither sent nor refused")


PAGE_LINK = re.compile(
    r'(?:href|action)="/peerings/\d+/(accept|reject|approve|decline|edit|refresh|delete|routes)/"'
)
ADMIN_BUTTON = re.compile(
    r'<form method="post" action="[^"]+" class="peering-operation">.*?name="action" value="(\w+)"', re.S
)
ADMIN_KINDS = {
    "accept_selected": "accept",
    "reject_selected": "reject",
    "refresh_selected": "refresh",
    "delete_selected_in_cloud": "delete",
    "approve_selected": "approve",
    "decline_selected": "decline",
    "apply_routes_selected": "apply_routes",
    "remove_routes_selected": "remove_routes",
}
#: The page's link to the routes page offers both (apply and remove there; the rules are the same).
PAGE_KINDS = {"edit": {"update"}, "routes": {"apply_routes", "remove_routes"}}


def page_offers(client: Client, peering: Peering) -> set[str] | None:
    response = client.get(reverse("peerings:detail", args=[peering.pk]))
    if response.status_code == 404:
        return None
    found = set(PAGE_LINK.findall(response.content.decode()))
    return {kind for name in found for kind in PAGE_KINDS.get(name, {name})}


def admin_offers(client: Client, peering: Peering) -> set[str]:
    html = client.get(reverse("admin:peerings_peering_change", args=[peering.pk])).content.decode()
    return {ADMIN_KINDS[name] for name in ADMIN_BUTTON.findall(html)}


def api_offers(client: APIClient, peering: Peering) -> set[str] | None:
    response = client.get(reverse("api:peering-detail", args=[peering.pk]))
    if response.status_code == 404:
        return None
    return set(response.json()["allowed_actions"])


@pytest.mark.parametrize(("role", "status", "confirmed", "in_flight"), CELLS)
def test_every_front_offers_exactly_what_the_workflow_accepts(
    db, no_cloud, client_for, role, status, confirmed, in_flight
):
    peering = PeeringFactory(
        status=status,
        upstream_id=None if not confirmed else PeeringFactory.upstream_id.function(),
        inflight_operation="delete" if in_flight else "",
        inflight_token="t" * 32 if in_flight else "",
        inflight_until=timezone.now() + timedelta(minutes=5) if in_flight else None,
    )
    user = UserFactory(is_staff=True, is_superuser=role.startswith("portal admin"))
    user.user_permissions.add(
        *Permission.objects.filter(
            codename__in=["view_peering", "change_peering"], content_type__app_label="peerings"
        )
    )
    for side, tenant_role in ROLES[role]:
        MembershipFactory(user=user, tenant=getattr(peering, f"{side}_tenant"), role=tenant_role)
    if role.startswith("the requester"):  # the accepter tenant separates duties (the default)
        Peering.objects.filter(pk=peering.pk).update(requested_by=user)
        peering.requested_by = user

    offered = {str(a) for a in permissions.allowed_actions(peering, permissions.actor_for(user, peering))}
    accepted = {str(a) for a in Action if workflow_allows(a, peering, user)}
    assert offered == accepted

    browser = Client()
    browser.force_login(user)
    api = client_for(user)
    # The accepter's side sees a request only once it is sent (not held or declined in the portal).
    sides = {side for side, _ in ROLES[role]}
    if "requester" not in sides and (not sides or status in HELD_BACK):
        assert (page_offers(browser, peering), api_offers(api, peering)) == (None, None)
    else:
        assert page_offers(browser, peering) == offered
        assert api_offers(api, peering) == offered
    assert admin_offers(browser, peering) == offered - {"update"}  # the admin does not rename


def test_the_matrix_has_cells_that_allow_and_cells_that_refuse_each_action(db):
    """Guard against a matrix that passes because nothing is ever allowed (or refused)."""
    seen: dict[Action, set[bool]] = {action: set() for action in Action}
    for role, status, confirmed, in_flight in CELLS:
        peering = PeeringFactory.build(
            status=status,
            upstream_id="x" if confirmed else None,
            requester_tenant_id=1,
            accepter_tenant_id=2,
            inflight_token="t" if in_flight else "",
            inflight_until=timezone.now() + timedelta(minutes=5) if in_flight else None,
        )
        roles = {1 if side == "requester" else 2: r for side, r in ROLES[role]}
        actor = permissions.Actor(None, roles, superuser=role.startswith("portal admin"))
        allowed = permissions.allowed_actions(peering, actor)
        for action in Action:
            seen[action].add(action in allowed)
    assert all(values == {True, False} for values in seen.values())
