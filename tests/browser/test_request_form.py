"""The request form in a real browser: problems where the eye is, typed fields kept across a
reload for another tenant, and the peer found by tenant and VPC name."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from peerings.models import Peering
from tests.factories import MembershipFactory, SimVpcFactory
from vpcsim.models import Project

pytestmark = pytest.mark.browser


def open_form(page: Page) -> None:
    page.get_by_role("link", name="Request a peering").first.click()
    expect(page.get_by_role("heading", name="Request a peering")).to_be_visible()


def in_viewport(page: Page, selector: str) -> bool:
    return page.eval_on_selector(
        selector,
        "el => { const r = el.getBoundingClientRect(); return r.top >= 0 && r.bottom <= innerHeight; }",
    )


def test_the_overlap_warning_is_at_the_top_with_the_focus(
    new_page, sign_in, acme_member, globex_main, prod_web
):
    project = Project.objects.get(project_id=globex_main.project_id)
    inner = SimVpcFactory(project=project, name="globex-inner", cidr="10.1.128.0/17")
    alice = sign_in("alice")
    alice.set_viewport_size({"width": 1366, "height": 600})  # a small screen: the button is below the fold
    open_form(alice)
    alice.get_by_label("Your VPC").select_option(label="prod-web — 10.1.0.0/16")
    alice.get_by_label("Peer VPC id").fill(str(inner.vpc_id))
    alice.get_by_label("Peer project id").fill(globex_main.project_id)
    alice.get_by_label("Name").fill("web-to-inner")
    alice.get_by_role("button", name="Request the peering").click()

    warning = alice.get_by_role("group", name="The address ranges overlap")
    expect(warning).to_be_visible()
    expect(warning).to_be_focused()
    assert in_viewport(alice, "#overlap")
    assert not Peering.objects.exists()


def test_errors_are_summed_up_at_the_top_with_the_focus(sign_in, acme_member, prod_web):
    alice = sign_in("alice")
    alice.set_viewport_size({"width": 1366, "height": 600})
    open_form(alice)
    alice.get_by_label("Your VPC").select_option(label="prod-web — 10.1.0.0/16")
    alice.get_by_label("Peer VPC id").fill("not-a-uuid")
    alice.get_by_label("Name").fill("x")
    alice.get_by_role("button", name="Request the peering").click()

    summary = alice.get_by_role("alert").filter(has_text="The peering was not requested")
    expect(summary).to_be_focused()
    assert in_viewport(alice, "#problems")
    summary.get_by_role("link", name="Peer VPC id").click()
    expect(alice.get_by_label("Peer VPC id")).to_be_focused()


def test_changing_the_tenant_keeps_what_was_typed(
    sign_in, acme_member, acme_prod, acme_dev, prod_web, dev_app
):
    MembershipFactory(user=acme_member, tenant=acme_dev)
    alice = sign_in("alice")
    open_form(alice)
    alice.get_by_label(re.compile(r"^Tenant")).select_option(label=acme_prod.name)
    alice.get_by_label("Peer VPC id").fill(str(prod_web.vpc_id))
    alice.get_by_label("Name").fill("dev-to-web")
    alice.get_by_label("Description").fill("typed before choosing the tenant")

    alice.get_by_label(re.compile(r"^Tenant")).select_option(label=acme_dev.name)
    expect(alice).to_have_url(re.compile(rf"tenant={acme_dev.pk}"))
    expect(alice.get_by_label("Your VPC")).to_contain_text("dev-app — 10.10.0.0/16")
    expect(alice.get_by_label("Peer VPC id")).to_have_value(str(prod_web.vpc_id))
    expect(alice.get_by_label("Name")).to_have_value("dev-to-web")
    expect(alice.get_by_label("Description")).to_have_value("typed before choosing the tenant")

    alice.get_by_label("Your VPC").select_option(label="dev-app — 10.10.0.0/16")
    alice.get_by_label("Peer project id").fill(acme_prod.project_id)
    alice.get_by_role("button", name="Request the peering").click()
    expect(alice.get_by_role("heading", name="dev-to-web")).to_be_visible()


def test_the_peer_is_found_by_tenant_and_vpc_name(
    sign_in, acme_member, globex_approver, globex_main, prod_web, globex_app
):
    alice = sign_in("alice")
    open_form(alice)
    alice.get_by_label("Your VPC").select_option(label="prod-web — 10.1.0.0/16")
    alice.get_by_label("Name").fill("web-to-globex")
    alice.get_by_label("Peer tenant").select_option(label=f"{globex_main.name} ({globex_main.project_id})")

    # The page reloaded with the peer's VPCs, by name only: alice is not a member of Globex.
    listed = alice.get_by_role("region", name=f"VPCs of {globex_main.name}")
    expect(listed).to_contain_text("globex-app")
    expect(listed).not_to_contain_text("10.20.0.0/16")
    expect(alice.get_by_label("Peer project id")).to_have_value(globex_main.project_id)
    expect(alice.get_by_label("Name")).to_have_value("web-to-globex")
    expect(alice.get_by_label("Your VPC")).to_have_value(str(prod_web.vpc_id))
    listed.get_by_role("button", name="globex-app").click()
    expect(alice.get_by_label("Peer VPC id")).to_have_value(str(globex_app.vpc_id))
    alice.get_by_role("button", name="Request the peering").click()
    expect(alice.get_by_role("heading", name="web-to-globex")).to_be_visible()
    peering = Peering.objects.get()
    assert str(peering.accepter_vpc_id) == str(globex_app.vpc_id)

    grace = sign_in("grace")
    open_form(grace)
    grace.get_by_label("Peer tenant").select_option(label=f"{globex_main.name} ({globex_main.project_id})")
    # A member of the peer tenant sees its ranges.
    expect(grace.locator("#peer-vpcs option")).to_have_count(1)
    expect(grace.locator("#peer-vpcs option")).to_have_text("globex-app — 10.20.0.0/16")
