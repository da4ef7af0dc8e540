"""The routes journey in a real browser: alice requests a peering to Globex, grace accepts it, then
alice (Acme's side) and gary (Globex's side) each apply their routes from the peering's page; the
official SDK then sees exactly those routes in the simulator."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from peerings.models import Peering
from tests.browser.test_journeys import badge, request_peering
from tests.peerings.routes_support import sdk_routes

pytestmark = pytest.mark.browser


def apply_my_routes(page: Page, destination: str) -> None:
    """From the peering's page: plan, check the proposal, apply it."""
    page.get_by_role("link", name="Plan and apply routes…").click()
    expect(page.get_by_role("heading", name="Routes proposed")).to_be_visible()
    expect(page.get_by_text("Will be added")).to_be_visible()
    page.get_by_role("button", name=f"Apply 1 route: {destination}").click()
    expect(page.get_by_role("status")).to_contain_text(f"applied {destination}")
    routes = page.get_by_role("table").filter(has=page.get_by_text("The peering's routes, in both VPCs"))
    expect(routes.get_by_role("row").filter(has_text=destination)).to_contain_text("Applied")


def test_request_accept_then_each_side_applies_its_routes(
    sign_in, cloud, acme_member, globex_member, globex_approver, acme_prod, globex_main, prod_web, globex_app
):
    alice = sign_in("alice")
    request_peering(
        alice,
        vpc="prod-web — 10.1.0.0/16",
        peer_vpc_id=str(globex_app.vpc_id),
        peer_project_id=globex_main.project_id,
        name="web-to-globex",
    )
    expect(badge(alice)).to_have_text("Pending acceptance")
    url = alice.url

    grace = sign_in("grace")
    grace.goto(url)
    grace.get_by_role("button", name="Accept the peering").click()
    expect(badge(grace)).to_have_text("Active")

    alice.goto(url)
    apply_my_routes(alice, "10.20.0.0/16")
    gary = sign_in("gary")
    gary.goto(url)
    apply_my_routes(gary, "10.1.0.0/16")

    peering = Peering.objects.get(name="web-to-globex")
    assert sdk_routes(acme_prod, cloud.url, prod_web.vpc_id) == {
        ("10.20.0.0/16", peering.upstream_id, str(prod_web.vpc_id), acme_prod.project_id)
    }
    assert sdk_routes(globex_main, cloud.url, globex_app.vpc_id) == {
        ("10.1.0.0/16", peering.upstream_id, str(globex_app.vpc_id), globex_main.project_id)
    }


def test_routes_asked_for_on_acceptance_are_credited_to_the_requester(
    sign_in, cloud, acme_member, globex_approver, acme_prod, globex_main, prod_web, globex_app
):
    from peerings.workflow import peering_accept, peering_request

    peering = peering_request(
        tenant=acme_prod,
        acting_user=acme_member,
        name="routes-on-accept",
        request_vpc_id=prod_web.vpc_id,
        accept_vpc_id=globex_app.vpc_id,
        accept_project_id=globex_main.project_id,
        routes_on_accept=True,
    )
    peering_accept(peering=peering, acting_user=globex_approver)  # the jobs run (no broker in tests)
    alice = sign_in("alice")
    alice.goto(f"{cloud.url}/peerings/{peering.pk}/")
    routes = alice.get_by_role("table").filter(has=alice.get_by_text("The peering's routes, in both VPCs"))
    expect(routes.get_by_role("row").filter(has_text="10.20.0.0/16")).to_contain_text(
        "by the portal on acceptance, as alice asked"
    )
    history = alice.get_by_role("table").filter(has=alice.get_by_text("Route events, newest first"))
    expect(history).to_contain_text("the portal, as alice asked")
    expect(history).not_to_contain_text("Sync from the cloud")
