"""The README's "first five minutes", in a real browser, on the demo a newcomer sees (``seed_demo``),
taking its screenshots: a request across tenants, its acceptance, each side's routes, and a request
held for approval in the approver's queue.

Screenshots go to ``SCREENSHOTS_DIR`` when it is set (``make screenshots`` sets ``docs/screenshots``),
else to a temporary directory: the walk-through is tested either way.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from demo.seed import DEMO_PASSWORD, seed
from tests.browser.test_journeys import badge

pytestmark = pytest.mark.browser


@pytest.fixture
def shots(tmp_path) -> Path:
    target = Path(os.environ.get("SCREENSHOTS_DIR") or tmp_path)
    target.mkdir(parents=True, exist_ok=True)
    return target


@pytest.fixture
def demo(cloud) -> dict:
    """The demo world of ``make run`` (``seed_demo``), its tenants in the live server's simulator."""
    return seed()


@pytest.fixture
def demo_sign_in(demo, portal: str, new_page: Callable[[], Page]) -> Callable[[str], Page]:
    """``demo_sign_in(username)``: a new 1,280-pixel page, signed in with the demo's password."""

    def go(username: str) -> Page:
        page = new_page()
        page.set_viewport_size({"width": 1280, "height": 800})
        page.goto(f"{portal}/")
        page.get_by_label("Username").fill(username)
        page.get_by_label("Password").fill(DEMO_PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_text(f"Signed in as {username}")).to_be_visible()
        return page

    return go


def snap(page: Page, shots: Path, name: str) -> None:
    page.screenshot(path=str(shots / f"{name}.png"))
    assert (shots / f"{name}.png").stat().st_size > 1000


def fill_request(page: Page, tenant: str, vpc: str, name: str, peer: str, peer_vpc: str) -> None:
    """Fill the request form from the navigation: the tenant and its VPC, a name, the peer picked by name."""
    page.get_by_role("link", name="Request a peering").first.click()
    page.get_by_label(re.compile(r"^Tenant")).select_option(label=tenant)
    expect(page.get_by_label("Your VPC")).to_contain_text(vpc.split(" — ")[0])
    page.get_by_label("Your VPC").select_option(label=vpc)
    page.get_by_label("Name").fill(name)
    peer_tenant = page.get_by_label("Peer tenant")
    option = peer_tenant.locator("option").filter(has_text=re.compile(rf"^{peer} \(")).first
    peer_tenant.select_option(value=option.get_attribute("value"))
    page.get_by_role("region", name=f"VPCs of {peer}").get_by_role("button", name=peer_vpc).click()


def test_first_five_minutes(demo_sign_in, shots):
    alice = demo_sign_in("alice")
    expect(alice.get_by_role("heading", name="Dashboard")).to_be_visible()
    snap(alice, shots, "1-dashboard")

    fill_request(
        alice, "Acme Production", "prod-web — 10.10.0.0/16", "web-to-globex", "Globex", "globex-core"
    )
    snap(alice, shots, "2-request-form")
    alice.get_by_role("button", name="Request the peering").click()
    expect(alice.get_by_role("heading", name="web-to-globex")).to_be_visible()
    expect(badge(alice)).to_have_text("Pending acceptance")
    snap(alice, shots, "3-peering-pending")

    alice.get_by_role("navigation", name="Main").get_by_role("link", name="Peerings").click()
    expect(alice.get_by_role("link", name="web-to-globex")).to_be_visible()
    snap(alice, shots, "4-peerings-list")

    carol = demo_sign_in("carol")
    carol.get_by_role("region", name="Waiting for your decision").get_by_role(
        "link", name="web-to-globex"
    ).click()
    carol.get_by_role("button", name="Accept the peering").click()
    expect(carol.get_by_role("status")).to_have_text("Peering accepted.")
    snap(carol, shots, "5-peering-accepted")

    # Each side applies its own routes: alice Acme's (the proposal sits beside what the VPC has).
    alice.get_by_role("link", name="web-to-globex").click()
    alice.get_by_role("link", name="Plan and apply routes…").click()
    expect(alice.get_by_role("heading", name="Routes proposed")).to_be_visible()
    snap(alice, shots, "6-route-plan")
    alice.get_by_role("button", name="Apply 1 route: 172.16.0.0/16").click()
    expect(alice.get_by_role("status")).to_contain_text("applied 172.16.0.0/16")

    # Acme Staging holds its requests: alice's request waits in bob's queue before the cloud sees it.
    fill_request(
        alice, "Acme Staging", "stage-web — 10.40.0.0/16", "stage-to-globex", "Globex", "globex-core"
    )
    alice.get_by_role("button", name="Request the peering").click()
    expect(badge(alice)).to_have_text("Awaiting approval")

    bob = demo_sign_in("bob")
    bob.get_by_role("link", name=re.compile("My queue")).click()
    expect(bob.get_by_role("row", name=re.compile("stage-to-globex"))).to_contain_text(
        "approval in the portal"
    )
    snap(bob, shots, "7-approver-queue")

    # The map of alice's tenants and their peers, the active peering drawn from Acme to Globex.
    alice.get_by_role("navigation", name="Main").get_by_role("link", name="Map").click()
    expect(alice.locator("#network-map[data-ready=true]")).to_be_attached()
    snap(alice, shots, "8-network-map")
