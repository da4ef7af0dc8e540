"""People's journeys through the portal in a real browser (Chromium), against the live simulator."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from peerings.choices import PeeringStatus
from peerings.models import Peering
from peerings.workflow import peering_request
from tests.factories import SimVpcFactory
from vpcsim.models import Project

pytestmark = pytest.mark.browser

S = PeeringStatus


def request_peering(page: Page, *, vpc: str, peer_vpc_id: str, name: str, peer_project_id: str = "") -> None:
    """Fill and send the request form from the navigation bar."""
    page.get_by_role("link", name="Request a peering").first.click()
    expect(page.get_by_role("heading", name="Request a peering")).to_be_visible()
    page.get_by_label("Your VPC").select_option(label=vpc)
    page.get_by_label("Peer VPC id").fill(peer_vpc_id)
    page.get_by_label("Peer project id").fill(peer_project_id)
    page.get_by_label("Name").fill(name)
    page.get_by_role("button", name="Request the peering").click()


def badge(page: Page):
    return page.locator(".page-head .badge")


def history_rows(page: Page):
    return page.get_by_role("region", name="Status history").get_by_role("row")


def test_cross_account_request_then_accept(
    sign_in, acme_member, globex_approver, globex_main, prod_web, globex_app
):
    alice = sign_in("alice")
    request_peering(
        alice,
        vpc="prod-web — 10.1.0.0/16",
        peer_vpc_id=str(globex_app.vpc_id),
        peer_project_id=globex_main.project_id,
        name="web-to-globex",
    )
    expect(alice.get_by_role("heading", name="web-to-globex")).to_be_visible()
    expect(badge(alice)).to_have_text("Pending acceptance")
    expect(alice.get_by_role("status")).to_contain_text("Peering “web-to-globex” requested")
    alice.get_by_role("button", name="Sign out").click()
    expect(alice.get_by_role("heading", name="Sign in")).to_be_visible()

    grace = sign_in("grace")
    waiting = grace.get_by_role("region", name="Waiting for your decision")
    waiting.get_by_role("link", name="web-to-globex").click()
    expect(badge(grace)).to_have_text("Pending acceptance")
    grace.get_by_label("Reason (optional)").fill("Approved for the app")
    grace.get_by_role("button", name="Accept the peering").click()

    expect(grace.get_by_role("status")).to_have_text("Peering accepted.")
    expect(badge(grace)).to_have_text("Active")
    expect(grace.get_by_role("region", name="Details")).to_contain_text("Approved for the app")
    rows = history_rows(grace)
    expect(rows).to_have_count(4)  # header, accepted, created, requested
    expect(rows.nth(1)).to_contain_text("Pending acceptance → Active")
    expect(rows.nth(1)).to_contain_text("grace")
    expect(rows.nth(1)).to_contain_text("Approved for the app")
    expect(grace.get_by_role("region", name="Calls to the cloud")).to_contain_text("Accept peering")
    assert Peering.objects.get().status == S.ACTIVE


def test_reject_with_a_reason(
    sign_in, acme_prod, acme_member, globex_approver, globex_main, prod_web, globex_app
):
    peering = peering_request(
        tenant=acme_prod,
        acting_user=acme_member,
        name="web-to-globex",
        request_vpc_id=prod_web.vpc_id,
        accept_vpc_id=globex_app.vpc_id,
        accept_project_id=globex_main.project_id,
    )
    grace = sign_in("grace")
    grace.get_by_role("region", name="Waiting for your decision").get_by_role(
        "link", name="web-to-globex"
    ).click()
    reason = grace.get_by_label("Reason:", exact=True)
    expect(reason).to_have_attribute("required", "")  # the browser asks for a reason first
    reason.fill("Wrong VPC: use globex-db")
    grace.get_by_role("button", name="Reject the peering").click()

    expect(grace.get_by_role("status")).to_have_text("Peering rejected.")
    expect(badge(grace)).to_have_text("Rejected")
    expect(grace.get_by_role("region", name="Details")).to_contain_text("Wrong VPC: use globex-db")
    expect(history_rows(grace).nth(1)).to_contain_text("Pending acceptance → Rejected")
    peering.refresh_from_db()
    assert (peering.status, peering.decision_reason) == (S.REJECTED, "Wrong VPC: use globex-db")


def test_overlap_warning_then_confirm(sign_in, acme_member, globex_main, prod_web):
    project = Project.objects.get(project_id=globex_main.project_id)
    inner = SimVpcFactory(project=project, name="globex-inner", cidr="10.1.128.0/17")
    alice = sign_in("alice")
    request_peering(
        alice,
        vpc="prod-web — 10.1.0.0/16",
        peer_vpc_id=str(inner.vpc_id),
        peer_project_id=globex_main.project_id,
        name="web-to-inner",
    )
    expect(alice.get_by_role("heading", name="The address ranges overlap")).to_be_visible()
    expect(alice.get_by_text(re.compile(r"10\.1\.0\.0/16 overlaps the peer VPC's range"))).to_be_visible()
    assert not Peering.objects.exists()

    alice.get_by_label("I understand the overlap; request the peering anyway").check()
    alice.get_by_role("button", name="Request the peering").click()
    expect(alice.get_by_role("heading", name="web-to-inner")).to_be_visible()
    expect(badge(alice)).to_have_text("Pending acceptance")
    # The peering says what happens next, by when, and that its ranges overlap.
    next_step = alice.get_by_role("note", name="What happens next")
    expect(next_step).to_contain_text("Next: an approver of globex-main accepts or rejects it in the cloud.")
    expect(next_step).to_contain_text(
        re.compile(r"the cloud expires it on \d{4}-\d\d-\d\d .* \(in 6\xa0days")
    )
    expect(alice.get_by_role("note", name="Overlapping ranges")).to_contain_text("The requester confirmed it")


def test_same_account_is_active_at_once_then_deleted(sign_in, acme_member, prod_web, prod_db):
    alice = sign_in("alice")
    request_peering(alice, vpc="prod-web — 10.1.0.0/16", peer_vpc_id=str(prod_db.vpc_id), name="web-to-db")
    expect(alice.get_by_role("heading", name="web-to-db")).to_be_visible()
    expect(badge(alice)).to_have_text("Active")

    alice.get_by_role("link", name="Delete…").click()
    expect(alice.get_by_role("heading", name="Delete “web-to-db”?")).to_be_visible()
    alice.get_by_role("button", name="Yes, delete it").click()
    expect(alice.get_by_role("status")).to_have_text("Peering deleted.")
    expect(badge(alice)).to_have_text("Deleted")
    expect(alice.get_by_role("region", name="Actions")).to_contain_text("There is nothing you can do")
    assert Peering.objects.get().status == S.DELETED


def test_a_held_request_waits_in_the_approvers_queue_then_goes_to_the_cloud(
    sign_in, acme_prod, acme_member, acme_approver, globex_approver, globex_main, prod_web, globex_app
):
    acme_prod.approval_policy = "hold"
    acme_prod.save()
    alice = sign_in("alice")
    request_peering(
        alice,
        vpc="prod-web — 10.1.0.0/16",
        peer_vpc_id=str(globex_app.vpc_id),
        peer_project_id=globex_main.project_id,
        name="held-to-globex",
    )
    expect(badge(alice)).to_have_text("Awaiting approval")
    expect(alice.get_by_role("status").first).to_contain_text("waits for one of its approvers")
    assert Peering.objects.get().upstream_id is None

    anna = sign_in("anna")
    anna.get_by_role("link", name=re.compile("My queue")).click()
    row = anna.get_by_role("row", name=re.compile("held-to-globex"))
    expect(row).to_contain_text("approval in the portal")
    row.get_by_role("link", name="held-to-globex").click()
    anna.get_by_role("region", name="Actions").get_by_label("Reason (optional)").first.fill("CHG-12")
    anna.get_by_role("button", name="Approve and send to the cloud").click()
    expect(anna.get_by_role("status")).to_contain_text("Peering approved. It is now pending acceptance.")
    expect(badge(anna)).to_have_text("Pending acceptance")
    expect(history_rows(anna).nth(2)).to_contain_text("Awaiting approval → Submitting")

    grace = sign_in("grace")
    grace.get_by_role("region", name="Waiting for your decision").get_by_role(
        "link", name="held-to-globex"
    ).click()
    grace.get_by_role("button", name="Accept the peering").click()
    expect(badge(grace)).to_have_text("Active")
    peering = Peering.objects.get()
    assert (peering.status, peering.approved_by.username) == (S.ACTIVE, "anna")
