"""The approval policy's events end to end: e-mails (file backend) and signed webhooks (a loopback
receiver) when a request is held, approved and declined in the portal."""

from __future__ import annotations

import json

import pytest

from notifications.models import Event, EventKind, WebhookEndpoint
from peerings.choices import ApprovalPolicy, Role
from peerings.workflow import peering_approve, peering_decline
from tests.notifications.test_webhooks import SECRET, verify

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def held(mailbox, receiver, acme_prod, globex_main, acme_approver, globex_approver, request_to_globex):
    """alice's request, held by acme-prod; acme-prod and globex-main each have a webhook."""
    acme_prod.approval_policy = ApprovalPolicy.HOLD
    acme_prod.save()
    for tenant in (acme_prod, globex_main):
        WebhookEndpoint.objects.create(tenant=tenant, url=f"{receiver.url}/{tenant.pk}", secret=SECRET)
    return request_to_globex()


def test_a_held_request_emails_the_requester_tenants_approvers_only(held, mailbox):
    (mail,) = mailbox.messages()
    assert mail["To"] == "anna@example.com"  # not grace (globex): the peer has not been asked yet
    assert "waits for your approval" in mail["Subject"]
    text = mailbox.text(mail)
    assert "holds its requests for approval in the portal" in text
    assert "10.1.0.0/16" in text  # the requester's range: anna is a member of acme-prod
    assert "10.20.0.0/16" not in text  # the peer's range: anna is not a member of globex-main
    assert f"/peerings/{held.pk}/" in text
    assert "Approve or decline it" in mailbox.html(mail)
    assert Event.objects.get().kind == EventKind.HELD


def test_approved_tells_the_requester_then_the_peer_is_asked(held, mailbox, acme_approver):
    peering_approve(peering=held, acting_user=acme_approver)
    (approved,) = mailbox.to("alice@example.com")
    assert "approved and sent to the cloud" in approved["Subject"]
    assert "approved by anna" in mailbox.text(approved)
    (asked,) = mailbox.to("grace@example.com")  # the cloud's request reached the peer's approvers
    assert "waits for your decision" in asked["Subject"]
    kinds = list(Event.objects.order_by("id").values_list("kind", flat=True))
    assert kinds == [EventKind.HELD, EventKind.APPROVED, EventKind.REQUESTED]


def test_declined_tells_the_requester_with_the_reason(held, mailbox, acme_approver):
    peering_decline(peering=held, acting_user=acme_approver, reason="Use the transit hub")
    (mail,) = mailbox.to("alice@example.com")
    assert "declined" in mail["Subject"]
    assert "Reason given by acme-prod (anna):\n> Use the transit hub" in mailbox.text(mail)
    assert "nothing was sent to the cloud" in mailbox.text(mail)
    assert not mailbox.to("grace@example.com")


def test_webhooks_receive_signed_held_and_approved_events(held, receiver, acme_approver, acme_prod):
    peering_approve(peering=held, acting_user=acme_approver)
    for request in receiver.requests:
        assert verify(request["headers"], request["body"])
    by_path: dict[str, list[str]] = {}
    for request in receiver.requests:
        by_path.setdefault(request["path"].rsplit("/", 1)[-1], []).append(json.loads(request["body"])["type"])
    assert by_path[str(acme_prod.pk)] == ["peering.held", "peering.approved", "peering.requested"]
    # The portal's gate is the requester's business: the peer hears of the request once it is sent.
    assert by_path[str(held.accepter_tenant_id)] == ["peering.requested"]


def test_the_requester_is_not_asked_to_approve_their_own_request(
    mailbox, acme_prod, acme_member, acme_approver, request_to_globex
):
    acme_prod.approval_policy = ApprovalPolicy.HOLD
    acme_prod.save()
    acme_member.memberships.update(role=Role.APPROVER)  # alice may approve others' requests, not hers
    request_to_globex()
    assert [m["To"] for m in mailbox.messages()] == ["anna@example.com"]
