"""A request held, declined or withdrawn before it was sent is its requester's alone (issue 19).

The peer tenant has not been asked: its members do not see such a request on any front — the
pages, the REST API (lists, details, the status-change and call feeds, exports), the admin, and the
e-mails and webhooks of its events. Once sent, both sides see it.
"""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse

from notifications import delivery
from notifications.models import Event, WebhookEndpoint
from peerings import access, selectors, workflow
from peerings.choices import ChangeSource, PeeringStatus, Role
from peerings.history import record_status_change
from tests.factories import MembershipFactory, PeeringFactory, TenantFactory, UpstreamCallFactory

pytestmark = pytest.mark.django_db

NOT_SENT = ["zz-held", "zz-declined", "zz-withdrawn"]


@pytest.fixture
def sides(no_cloud_calls, django_capture_on_commit_callbacks):
    """Tenant ``req`` holds its requests; three of them never reached ``peer``; one did (``zz-sent``)."""
    req, peer = TenantFactory(name="req"), TenantFactory(name="peer")
    requester = MembershipFactory(user__username="rita", tenant=req, role=Role.MEMBER).user
    approver = MembershipFactory(user__username="rob", tenant=req, role=Role.APPROVER).user
    peer_member = MembershipFactory(user__username="pam", tenant=peer, role=Role.MEMBER).user
    peer_approver = MembershipFactory(user__username="pat", tenant=peer, role=Role.APPROVER).user
    WebhookEndpoint.objects.create(tenant=req, url="https://req.test/hook", secret="r")
    WebhookEndpoint.objects.create(tenant=peer, url="https://peer.test/hook", secret="p")
    peerings = {}
    for name in [*NOT_SENT, "zz-sent"]:
        held = name != "zz-sent"
        peering = PeeringFactory(
            name=name,
            status=PeeringStatus.AWAITING_APPROVAL if held else PeeringStatus.PENDING_ACCEPTANCE,
            upstream_id=None if held else PeeringFactory.upstream_id.function(),
            requester_tenant=req,
            accepter_tenant=peer,
            requested_by=requester,
        )
        record_status_change(  # its event is written with it
            peering=peering,
            old_status="",
            new_status=peering.status,
            actor=requester,
            reason=f"{name}-reason",
            source=ChangeSource.USER,
        )
        UpstreamCallFactory(tenant=req, peering=peering, correlation_id=f"{name}-call")
        peerings[name] = peering
    with django_capture_on_commit_callbacks():  # the deliveries are planned, not sent
        workflow.peering_decline(
            peering=peerings["zz-declined"], acting_user=approver, reason="zz-declined-why"
        )
        workflow.peering_delete(peering=peerings["zz-withdrawn"], acting_user=requester)
    return {
        "peerings": peerings,
        "requester": requester,
        "peer_member": peer_member,
        "peer_approver": peer_approver,
        "approver": approver,
    }


def shown(body: str) -> list[str]:
    return sorted(name for name in [*NOT_SENT, "zz-sent"] if name in body)


def page_bodies(client: Client, sides: dict) -> str:
    urls = [reverse("peerings:dashboard"), reverse("peerings:list"), reverse("peerings:queue")]
    urls += [
        f"{reverse('peerings:list')}?status={status}"
        for status in ("AWAITING_APPROVAL", "DECLINED", "DELETED")
    ]
    return "".join(client.get(url).content.decode() for url in urls)


def api_bodies(api) -> str:
    urls = [
        reverse("api:peering-list"),
        reverse("api:status-change-list"),
        reverse("api:status-change-export"),
        reverse("api:call-list"),
        reverse("api:call-export"),
    ]
    bodies = []
    for url in urls:
        response = api.get(url)
        assert response.status_code == 200, url
        streamed = getattr(response, "streaming", False)
        bodies.append(
            b"".join(response.streaming_content).decode() if streamed else response.content.decode()
        )
    return "".join(bodies)


@pytest.mark.parametrize("who", ["peer_member", "peer_approver"])
def test_the_peer_sees_none_of_them_on_the_pages(client, sides, who):
    client.force_login(sides[who])
    assert shown(page_bodies(client, sides)) == ["zz-sent"]
    for name in NOT_SENT:
        assert client.get(reverse("peerings:detail", args=[sides["peerings"][name].pk])).status_code == 404


@pytest.mark.parametrize("who", ["peer_member", "peer_approver"])
def test_the_peer_sees_none_of_them_in_the_api(client_for, sides, who):
    api = client_for(sides[who])
    body = api_bodies(api)
    assert shown(body) == ["zz-sent"]
    assert [n for n in NOT_SENT if f"{n}-reason" in body or f"{n}-call" in body or "why" in body] == []
    for name in NOT_SENT:
        peering = sides["peerings"][name]
        assert api.get(reverse("api:peering-detail", args=[peering.pk])).status_code == 404
        assert api.get(reverse("api:peering-status-changes", args=[peering.pk])).status_code == 404


def test_the_requester_sees_all_of_them(client, client_for, sides):
    client.force_login(sides["requester"])
    assert shown(page_bodies(client, sides)) == sorted([*NOT_SENT, "zz-sent"])
    assert shown(api_bodies(client_for(sides["requester"]))) == sorted([*NOT_SENT, "zz-sent"])


def test_the_peer_sees_none_of_them_in_the_admin(client, sides):
    staff = sides["peer_approver"]
    staff.is_staff = True
    staff.save()
    staff.user_permissions.set(
        Permission.objects.filter(content_type__app_label__in=["peerings", "notifications"])
    )
    client.force_login(staff)
    for model in (
        "peerings_peering",
        "peerings_statuschange",
        "peerings_upstreamcall",
        "notifications_event",
    ):
        body = client.get(reverse(f"admin:{model}_changelist")).content.decode()
        assert [n for n in NOT_SENT if n in body] == [], model
    for name in NOT_SENT:
        url = reverse("admin:peerings_peering_change", args=[sides["peerings"][name].pk])
        assert client.get(url).status_code == 302  # "not found"


def test_their_events_reach_the_requesters_side_only(sides):
    peer_users = {sides["peer_member"].pk, sides["peer_approver"].pk}
    events = Event.objects.filter(peering__name__in=NOT_SENT)
    kinds = sorted(events.values_list("kind", flat=True))
    assert kinds == ["peering.declined", "peering.deleted", "peering.held", "peering.held", "peering.held"]
    for event in events:
        assert [e.url for e in delivery.webhook_endpoints(event)] == ["https://req.test/hook"], event.kind
        assert {user.pk for user in delivery.email_recipients(event)} & peer_users == set(), event.kind
    sent = Event.objects.get(peering__name="zz-sent")
    assert {e.url for e in delivery.webhook_endpoints(sent)} == {
        "https://req.test/hook",
        "https://peer.test/hook",
    }


def test_a_withdrawal_after_sending_stays_visible_to_the_peer(sides):
    peering = sides["peerings"]["zz-sent"]
    peering.status = PeeringStatus.DELETED
    peering.save()
    assert not access.is_held_back(peering)
    assert access.is_held_back(sides["peerings"]["zz-withdrawn"])
    assert list(selectors.visible_peerings(sides["peer_member"]).values_list("name", flat=True)) == [
        "zz-sent"
    ]
