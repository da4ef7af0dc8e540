"""The map and the search in a real browser: each viewer's walls on the drawing, a click that opens a
peering, and the navigation's search finding a peering by an address inside its range."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser


@pytest.fixture
def peered(acme_to_globex):
    return acme_to_globex()


def drawn(page: Page, portal: str) -> dict:
    page.goto(f"{portal}/map/")
    expect(page.locator("#network-map[data-ready=true]")).to_be_attached()
    expect(page.get_by_role("status")).to_contain_text("2 tenant(s), 2 VPC(s), 1 peering(s).")
    vpcs = "window.portalMap.nodes('[kind = \"vpc\"]')"
    return page.evaluate(f"() => Object.fromEntries({vpcs}.map(n => [n.data('name'), n.data('label')]))")


def test_the_map_draws_each_viewers_walls(sign_in, portal, peered):
    assert drawn(sign_in("alice"), portal) == {
        "acme-web": "acme-web\n10.1.0.0/16",
        "globex-core": "globex-core",
    }
    assert drawn(sign_in("carol"), portal) == {
        "acme-web": "acme-web\n10.1.0.0/16",
        "globex-core": "globex-core\n172.16.0.0/16",
    }


def test_a_click_on_a_peering_opens_it(sign_in, portal, peered):
    alice = sign_in("alice")
    drawn(alice, portal)
    x, y = alice.evaluate(
        """() => {
            const edge = window.portalMap.edges()[0];
            const box = document.getElementById('network-map').getBoundingClientRect();
            const p = edge.renderedMidpoint();
            return [box.left + p.x, box.top + p.y];
        }"""
    )
    alice.mouse.click(x, y)
    expect(alice).to_have_url(re.compile(rf"/peerings/{peered.pk}/$"))
    expect(alice.get_by_role("heading", name="acme-to-globex")).to_be_visible()


def test_the_navigation_search_finds_a_peering_by_an_address_in_its_range(sign_in, portal, peered):
    carol = sign_in("carol")
    search = carol.get_by_role("search", name="Search").get_by_role("searchbox")
    search.fill("172.16.40.1")
    search.press("Enter")
    expect(carol.get_by_role("heading", name="Search", exact=True)).to_be_visible()
    expect(carol.get_by_role("region", name="VPCs")).to_contain_text("contains 172.16.40.1")
    carol.get_by_role("region", name="Peerings").get_by_role("link", name="acme-to-globex").click()
    expect(carol.get_by_role("heading", name="acme-to-globex")).to_be_visible()
