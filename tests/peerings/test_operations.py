"""The operation engine's own rules: paging through the cloud's lists, and where clients come from.

The engine's steps (begin, send, commit) are walked by every workflow test against the simulator;
these are the parts that need neither a database nor a cloud.
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from peerings import operations
from peerings.operations import list_pages, next_marker
from peerings.upstream import tenant_client


def page_of(*ids: str, next_marker_: str | None = None) -> dict:
    links = [{"rel": "next", "href": f"https://vpc.example/v2.0/vpc/peerings?limit=2&marker={next_marker_}"}]
    return {"peerings": [{"id": i} for i in ids], "peerings_links": links if next_marker_ else []}


def test_the_next_marker_comes_from_the_next_link_first():
    data = page_of("a", "b", next_marker_="from-link")
    assert next_marker(data, data["peerings"], links="peerings_links", page_size=2) == "from-link"


def test_without_a_link_a_full_page_continues_after_its_last_item_and_a_short_one_ends():
    full, short = page_of("a", "b"), page_of("c")
    assert next_marker(full, full["peerings"], links="peerings_links", page_size=2) == "b"
    assert next_marker(short, short["peerings"], links="peerings_links", page_size=2) is None


class FakeCloud:
    """Answers list pages from ``pages`` (marker -> page) and records each marker asked."""

    def __init__(self, pages: dict[str | None, dict]) -> None:
        self.pages = pages
        self.asked: list[str | None] = []

    def send(self, call):
        return call(self)

    def list_peerings(self, *, marker: str | None):
        self.asked.append(marker)
        return SimpleNamespace(data=self.pages[marker])


def read_all(cloud: FakeCloud, *, max_pages: int) -> list:
    """Every peering the fake cloud lists, in pages of two."""
    return list_pages(
        cloud.send,
        lambda client, marker: client.list_peerings(marker=marker),
        items="peerings",
        links="peerings_links",
        page_size=2,
        max_pages=max_pages,
    )


def test_every_page_is_read_in_order_until_the_last():
    cloud = FakeCloud({None: page_of("a", "b"), "b": page_of("c", "d"), "d": page_of("e")})
    items = read_all(cloud, max_pages=10)
    assert [item["id"] for item in items] == ["a", "b", "c", "d", "e"]
    assert cloud.asked == [None, "b", "d"]


def test_a_cloud_that_loops_is_read_at_most_max_pages_times():
    cloud = FakeCloud({None: page_of("a", "b"), "b": page_of("a", "b")})
    items = read_all(cloud, max_pages=3)
    assert len(cloud.asked) == 3
    assert len(items) == 6


def test_clients_come_from_the_configured_factory(settings):
    assert settings.VPC_CLIENT_FACTORY == "peerings.upstream.tenant_client"
    assert operations.client_factory() is tenant_client

    def fake(tenant, **kwargs):
        raise AssertionError("not called here")

    settings.VPC_CLIENT_FACTORY = fake
    assert operations.client_factory() is fake
    assert operations.Operation(tenant=None).clients is fake


def test_an_operation_without_a_peering_cannot_commit():
    with pytest.raises(TypeError, match="no peering"):
        operations.Operation(tenant=None).commit(None, lambda p: None)
