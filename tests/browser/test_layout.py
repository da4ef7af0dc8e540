"""What a person sees at 1,280 pixels: long names wrap (no sideways scroll), every status is a badge,
and the request form's checkbox sits on its label's line."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from peerings.choices import PeeringStatus as S
from tests.factories import MembershipFactory, PeeringFactory

pytestmark = pytest.mark.browser

LONG_NAME = "x" * 64  # the longest name the cloud takes, with nowhere to break


@pytest.fixture
def member_with_long_names(db):
    membership = MembershipFactory(user__username="wide", role="approver")
    tenant = membership.tenant
    PeeringFactory(requester_tenant=tenant, name=LONG_NAME, status=S.ACTIVE, requester_vpc_name="y" * 64)
    PeeringFactory(requester_tenant=tenant, name="held", status=S.AWAITING_APPROVAL, upstream_id=None)
    PeeringFactory(requester_tenant=tenant, name="declined", status=S.DECLINED, upstream_id=None)
    return membership.user


@pytest.mark.parametrize("path", ["/peerings/", "/"])
def test_a_64_character_name_does_not_widen_the_page(sign_in, portal, member_with_long_names, path):
    page = sign_in("wide")
    page.goto(f"{portal}{path}")
    expect(page.get_by_text(LONG_NAME).first).to_be_visible()
    scroll_width = page.evaluate("() => document.documentElement.scrollWidth")
    assert scroll_width <= 1280, scroll_width


def test_awaiting_approval_and_declined_are_coloured_badges_like_the_others(
    sign_in, portal, member_with_long_names
):
    page = sign_in("wide")
    page.goto(f"{portal}/peerings/")
    backgrounds = {
        label: page.locator(".badge", has_text=label).first.evaluate(
            "element => getComputedStyle(element).backgroundColor"
        )
        for label in ("Active", "Awaiting approval", "Declined")
    }
    plain = "rgba(0, 0, 0, 0)"
    assert plain not in backgrounds.values(), backgrounds
    assert backgrounds["Awaiting approval"] != backgrounds["Active"]


def test_the_admin_list_wraps_a_64_character_name_instead_of_clipping_columns(new_page, portal, db):
    from tests.browser.test_pages import admin_sign_in

    PeeringFactory(name=LONG_NAME, requester_vpc_name="y" * 64, accepter_vpc_name="z" * 64)
    page = new_page()
    admin_sign_in(page, portal)
    page.goto(f"{portal}/admin/peerings/peering/")
    expect(page.get_by_text(LONG_NAME)).to_be_visible()
    widths = page.evaluate(
        "() => [document.documentElement.scrollWidth, document.querySelector('#result_list').scrollWidth]"
    )
    assert max(widths) <= 1280, widths
