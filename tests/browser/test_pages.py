"""Pages in a real browser: the admin's peering and call tables fit a 1366-pixel screen and
paginate; a refused reject leaves the browser on the peering's own URL."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from peerings.rules.messages import REASON_REQUIRED
from peerings.workflow import peering_request
from tests.browser.conftest import PASSWORD
from tests.factories import PeeringFactory, TenantFactory, UpstreamCallFactory, UserFactory

pytestmark = pytest.mark.browser


def admin_sign_in(page: Page, portal: str) -> None:
    UserFactory(username="root", is_staff=True, is_superuser=True)
    page.goto(f"{portal}/admin/login/")
    page.get_by_label("Username").fill("root")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Administration")).to_be_visible()


@pytest.mark.parametrize("model", ["peering", "upstreamcall"])
def test_the_admin_tables_fit_1366_pixels_and_paginate(new_page, portal, model):
    tenant = TenantFactory(name="A tenant with a rather long name, Ltd")
    for index in range(60):
        peering = PeeringFactory(
            requester_tenant=tenant,
            name=f"a-fairly-long-peering-name-{index:02}",
            requester_vpc_name="production-web-frontends",
            requester_vpc_cidr="10.100.0.0/16",
            accepter_vpc_name="shared-services-database",
        )
        UpstreamCallFactory(tenant=tenant, peering=peering, error_code="VPC.0101")
    page = new_page()
    page.set_viewport_size({"width": 1366, "height": 768})
    admin_sign_in(page, portal)
    page.goto(f"{portal}/admin/peerings/{model}/")
    expect(page.locator("#result_list")).to_be_visible()
    widths = page.evaluate(
        "() => [document.documentElement.scrollWidth, document.querySelector('#result_list').scrollWidth]"
    )
    assert max(widths) <= 1366, widths
    expect(page.locator("#result_list tbody tr")).to_have_count(50)
    expect(page.locator(".paginator")).to_contain_text("2")


def test_the_admin_peering_page_fits_and_links_every_call(new_page, portal):
    peering = PeeringFactory(name="with-a-long-history")
    for _ in range(30):
        UpstreamCallFactory(tenant=peering.requester_tenant, peering=peering, error_code="VPC.0101")
    page = new_page()
    page.set_viewport_size({"width": 1366, "height": 768})
    admin_sign_in(page, portal)
    page.goto(f"{portal}/admin/peerings/peering/{peering.pk}/change/")
    calls = page.locator(".inline-group").filter(has_text="the newest 20").locator("tbody tr.has_original")
    expect(calls).to_have_count(20)
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 1366
    page.get_by_role("link", name="Every call made for this peering, page by page →").click()
    expect(page.locator("#result_list tbody tr")).to_have_count(30)


def test_a_refused_reject_stays_on_the_peerings_url(
    sign_in, portal, acme_prod, acme_member, globex_approver, globex_main, prod_web, globex_app
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
    grace.goto(f"{portal}/peerings/{peering.pk}/")
    grace.locator("textarea[name=reject-reason]").fill("   ")  # passes the browser's check, not the portal's
    grace.get_by_role("button", name="Reject the peering").click()
    expect(grace.get_by_text(REASON_REQUIRED)).to_be_visible()
    assert grace.url == f"{portal}/peerings/{peering.pk}/"
