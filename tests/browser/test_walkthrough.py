"""The README's "first five minutes", in a real browser, taking its screenshots: a request across
tenants, its acceptance, each side's routes, and a request held for approval in the approver's queue.

Screenshots go to ``SCREENSHOTS_DIR`` when it is set (``make screenshots`` sets ``docs/screenshots``),
else to a temporary directory: the walk-through is tested either way.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from peerings.choices import ApprovalPolicy, Role
from tests.browser.test_journeys import badge
from tests.factories import MembershipFactory

pytestmark = pytest.mark.browser


@pytest.fixture
def shots(tmp_path) -> Path:
    target = Path(os.environ.get("SCREENSHOTS_DIR") or tmp_path)
    target.mkdir(parents=True, exist_ok=True)
    return target


def snap(page: Page, shots: Path, name: str) -> None:
    page.screenshot(path=str(shots / f"{name}.png"))
    assert (shots / f"{name}.png").stat().st_size > 1000


def fill_request(page: Page, tenant: Any, vpc: str, name: str, peer: Any, peer_vpc: str) -> None:
    """Fill the request form from the navigation: the tenant and its VPC, a name, the peer picked by name."""
    page.get_by_role("link", name="Request a peering").first.click()
    page.get_by_label(re.compile(r"^Tenant")).select_option(label=tenant.name)
    expect(page.get_by_label("Your VPC")).to_contain_text(vpc.split(" — ")[0])
    page.get_by_label("Your VPC").select_option(label=vpc)
    page.get_by_label("Name").fill(name)
    page.get_by_label("Peer tenant").select_option(label=f"{peer.name} ({peer.project_id})")
    page.get_by_role("region", name=f"VPCs of {peer.name}").get_by_role("button", name=peer_vpc).click()


def test_first_five_minutes(
    sign_in,
    shots,
    acme_member,
    acme_approver,
    acme_prod,
    acme_dev,
    globex_approver,
    globex_main,
    prod_web,
    globex_app,
):
    MembershipFactory(user=acme_member, tenant=acme_dev)
    MembershipFactory(user=acme_approver, tenant=acme_dev, role=Role.APPROVER)
    alice = sign_in("alice")
    alice.set_viewport_size({"width": 1280, "height": 800})
    snap(alice, shots, "1-dashboard")

    fill_request(alice, acme_prod, "prod-web — 10.1.0.0/16", "web-to-globex", globex_main, "globex-app")
    snap(alice, shots, "2-request-form")
    alice.get_by_role("button", name="Request the peering").click()
    expect(alice.get_by_role("heading", name="web-to-globex")).to_be_visible()
    snap(alice, shots, "3-peering-pending")

    alice.get_by_role("navigation", name="Main").get_by_role("link", name="Peerings").click()
    expect(alice.get_by_role("link", name="web-to-globex")).to_be_visible()
    snap(alice, shots, "4-peerings-list")

    grace = sign_in("grace")
    grace.set_viewport_size({"width": 1280, "height": 800})
    grace.get_by_role("region", name="Waiting for your decision").get_by_role(
        "link", name="web-to-globex"
    ).click()
    grace.get_by_role("button", name="Accept the peering").click()
    expect(grace.get_by_role("status")).to_have_text("Peering accepted.")
    snap(grace, shots, "5-peering-accepted")

    # Each side applies its own routes: alice Acme's (the proposal sits beside what the VPC has).
    alice.get_by_role("link", name="web-to-globex").click()
    alice.get_by_role("link", name="Plan and apply routes…").click()
    expect(alice.get_by_role("heading", name="Routes proposed")).to_be_visible()
    snap(alice, shots, "6-route-plan")
    alice.get_by_role("button", name="Apply 1 route: 10.20.0.0/16").click()
    expect(alice.get_by_role("status")).to_contain_text("applied 10.20.0.0/16")

    # A tenant that holds its requests: alice's request waits in anna's queue before the cloud sees it.
    acme_dev.approval_policy = ApprovalPolicy.HOLD
    acme_dev.save(update_fields=["approval_policy"])
    fill_request(alice, acme_dev, "dev-app — 10.10.0.0/16", "dev-to-globex", globex_main, "globex-app")
    alice.get_by_role("button", name="Request the peering").click()
    expect(badge(alice)).to_have_text("Awaiting approval")

    anna = sign_in("anna")
    anna.set_viewport_size({"width": 1280, "height": 800})
    anna.get_by_role("link", name=re.compile("My queue")).click()
    expect(anna.get_by_role("row", name=re.compile("dev-to-globex"))).to_contain_text(
        "approval in the portal"
    )
    snap(anna, shots, "7-approver-queue")
