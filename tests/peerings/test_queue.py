"""The approver's queue page: what waits for me, oldest first, time left, bulk decisions, nav count."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from peerings.choices import PeeringStatus as S
from peerings.models import Peering
from peerings.workflow import peering_request
from tests.factories import MembershipFactory, PeeringFactory

QUEUE = reverse("peerings:queue")


@pytest.fixture
def two_pending(cloud, acme_prod, globex_main, acme_member, prod_web, prod_db, globex_app):
    return [
        peering_request(
            tenant=acme_prod,
            acting_user=acme_member,
            name=name,
            request_vpc_id=vpc.vpc_id,
            accept_vpc_id=globex_app.vpc_id,
            accept_project_id=globex_main.project_id,
        )
        for name, vpc in (("first-web", prod_web), ("second-db", prod_db))
    ]


def test_the_queue_lists_what_waits_oldest_first_with_time_left(client, globex_approver, two_pending):
    client.force_login(globex_approver)
    response = client.get(QUEUE)
    assert response.status_code == 200
    rows = response.context["rows"]
    assert [r["peering"].name for r in rows] == ["first-web", "second-db"]
    assert all(r["can_decide"] and not r["expired"] for r in rows)
    page = response.content.decode()
    assert "6\xa0days" in page  # the cloud's 7 days, minus the moments the test took
    assert 'aria-label="2 waiting for your decision">2</span>' in page  # the count in the navigation


def test_bulk_reject_with_one_reason(client, globex_approver, two_pending):
    client.force_login(globex_approver)
    ids = [p.pk for p in two_pending]
    response = client.post(
        QUEUE, {"action": "reject", "reason": "Not this quarter", "peerings": ids}, follow=True
    )
    assert response.status_code == 200
    for peering in Peering.objects.filter(pk__in=ids):
        assert peering.status == S.REJECTED
        assert peering.decision_reason == "Not this quarter"
        assert peering.decided_by == globex_approver
    assert "Rejected 2 peering(s): first-web, second-db." in response.content.decode()
    assert response.context["rows"] == []
    assert "waiting for your decision" not in response.content.decode().split("<main", 1)[0]  # no count


def test_bulk_accept_of_a_selection(client, globex_approver, two_pending):
    client.force_login(globex_approver)
    client.post(QUEUE, {"action": "accept", "peerings": [two_pending[1].pk]})
    statuses = dict(Peering.objects.values_list("name", "status"))
    assert statuses == {"first-web": S.PENDING_ACCEPTANCE, "second-db": S.ACTIVE}


def test_reject_needs_a_reason_and_nothing_changes(client, globex_approver, two_pending):
    client.force_login(globex_approver)
    response = client.post(QUEUE, {"action": "reject", "reason": " ", "peerings": [two_pending[0].pk]})
    assert response.status_code == 200
    assert response.context["form"].errors["reason"]
    assert set(Peering.objects.values_list("status", flat=True)) == {S.PENDING_ACCEPTANCE}
    # The missing reason is said at the top, like the request form's errors, linking to the box.
    page = response.content.decode()
    alert = page.split('id="queue-errors"', 1)[1].split("</div>", 1)[0]
    assert 'href="#id_reason"' in alert
    assert page.index('id="queue-errors"') < page.index("<table")


@pytest.mark.django_db
def test_declining_held_requests_says_declined_and_accepting_says_approved(client, settings):
    """A held request is approved or declined (never sent); the message names what was done."""
    mine = MembershipFactory(user__username="gate", role="approver")
    held = PeeringFactory(
        status=S.AWAITING_APPROVAL, requester_tenant=mine.tenant, upstream_id=None, name="held-one"
    )
    client.force_login(mine.user)
    response = client.post(
        QUEUE, {"action": "reject", "reason": "Use the hub", "peerings": [held.pk]}, follow=True
    )
    held.refresh_from_db()
    assert held.status == S.DECLINED
    page = response.content.decode()
    assert "Declined 1 peering(s): held-one." in page
    assert "Rejected" not in page


@pytest.mark.django_db
def test_an_approver_has_the_queue_in_the_navigation(client):
    mine = MembershipFactory(user__username="approver", role="approver")
    client.force_login(mine.user)
    nav = client.get(reverse("peerings:list")).content.decode().split("<main", 1)[0]
    assert f'href="{QUEUE}"' in nav


@pytest.mark.django_db
def test_only_my_queue_can_be_decided(client):
    mine = MembershipFactory(user__username="me", role="approver")
    theirs = PeeringFactory(status=S.PENDING_ACCEPTANCE)  # addressed to another tenant
    waiting = PeeringFactory(status=S.PENDING_ACCEPTANCE, accepter_tenant=mine.tenant)
    client.force_login(mine.user)
    response = client.post(QUEUE, {"action": "accept", "peerings": [theirs.pk]})
    assert response.status_code == 200
    assert "peerings" in response.context["form"].errors
    assert [r["peering"] for r in response.context["rows"]] == [waiting]


@pytest.mark.django_db
def test_members_have_an_empty_queue_and_no_count(client):
    member = MembershipFactory(user__username="m", role="member")
    PeeringFactory(status=S.PENDING_ACCEPTANCE, accepter_tenant=member.tenant)
    client.force_login(member.user)
    response = client.get(QUEUE)
    assert response.context["rows"] == []
    assert "Nothing is waiting for your decision." in response.content.decode()
    assert "badge" not in response.content.decode().split("<main", 1)[0]


def test_the_queue_needs_a_sign_in(client, db):
    assert client.get(QUEUE).status_code == 302


@pytest.mark.django_db
def test_a_long_queue_comes_in_pages_and_the_count_is_capped(client, settings):
    from peerings import context_processors
    from peerings.views import DecisionQueueView

    mine = MembershipFactory(user__username="busy", role="approver")
    waiting = [PeeringFactory(status=S.PENDING_ACCEPTANCE, accepter_tenant=mine.tenant) for _ in range(5)]
    client.force_login(mine.user)
    page_size, limit = DecisionQueueView.page_size, context_processors.COUNT_LIMIT
    DecisionQueueView.page_size, context_processors.COUNT_LIMIT = 2, 3
    try:
        first = client.get(QUEUE)
        last = client.get(QUEUE, {"page": 3})
        # a peering on another page can still be decided (the workflow checks it; here it is refused)
        posted = client.post(QUEUE, {"action": "reject", "reason": "", "peerings": [waiting[-1].pk]})
    finally:
        DecisionQueueView.page_size, context_processors.COUNT_LIMIT = page_size, limit
    assert len(first.context["rows"]) == 2
    assert "Page 1 of 3 (5 waiting)" in first.content.decode()
    assert 'aria-label="3+ waiting for your decision">3+</span>' in first.content.decode()
    assert [r["peering"].pk for r in last.context["rows"]] == [waiting[-1].pk]
    assert "reason" in posted.context["form"].errors  # chosen from page 3, validated as a choice
    assert "peerings" not in posted.context["form"].errors


@pytest.mark.django_db
def test_the_queue_runs_as_many_queries_for_twelve_rows_as_for_two(client):
    """Tenants, requesters and each VPC's name and range come with the page, not one row at a time."""
    mine = MembershipFactory(user__username="busy", role="approver")
    client.force_login(mine.user)

    def queries(rows: int) -> int:
        for _ in range(rows):
            PeeringFactory(status=S.PENDING_ACCEPTANCE, accepter_tenant=mine.tenant, accepter_vpc_name="app")
            PeeringFactory(status=S.AWAITING_APPROVAL, requester_tenant=mine.tenant, upstream_id=None)
        with CaptureQueriesContext(connection) as captured:
            response = client.get(QUEUE)
        assert response.status_code == 200
        assert "<strong>app</strong>" in response.content.decode()
        return len(captured)

    assert queries(1) == queries(5)  # 2 rows, then 12


@pytest.mark.django_db
def test_the_navigation_of_a_user_who_approves_nothing_counts_nothing(client):
    """No tenant to decide for: no count of waiting peerings (it would test every waiting row)."""
    member = MembershipFactory(user__username="plain", role="member")
    PeeringFactory(status=S.PENDING_ACCEPTANCE, accepter_tenant=member.tenant)
    client.force_login(member.user)
    with CaptureQueriesContext(connection) as captured:
        response = client.get(reverse("peerings:list"))
    assert response.status_code == 200
    assert "My queue" not in response.content.decode()  # nothing to decide: no link to an empty queue
    waiting_reads = [q["sql"] for q in captured.captured_queries if "PENDING_ACCEPTANCE" in q["sql"]]
    assert waiting_reads == []


@pytest.mark.django_db
def test_an_approver_counts_only_their_tenants_waiting_peerings(client):
    mine = MembershipFactory(user__username="approver", role="approver")
    PeeringFactory(status=S.PENDING_ACCEPTANCE, accepter_tenant=mine.tenant)
    PeeringFactory(status=S.AWAITING_APPROVAL, requester_tenant=mine.tenant, upstream_id=None)
    PeeringFactory(
        status=S.AWAITING_APPROVAL, accepter_tenant=mine.tenant, upstream_id=None
    )  # not mine to approve
    PeeringFactory(status=S.PENDING_ACCEPTANCE)  # another tenant's
    client.force_login(mine.user)
    body = client.get(reverse("peerings:list")).content.decode()
    assert 'aria-label="2 waiting for your decision">2</span>' in body
