"""Lists read by keyset (``next`` carries a cursor); ``?page=`` keeps page numbers and an exact count."""

from __future__ import annotations

import pytest

from peerings.api import pagination
from peerings.choices import Role
from peerings.paginators import CappedCountPaginator
from tests.factories import MembershipFactory, PeeringFactory
from tests.peerings.api.errors import api_error


@pytest.fixture
def five(me):
    home = MembershipFactory(user=me, role=Role.MEMBER).tenant
    return [PeeringFactory(requester_tenant=home, name=f"p{n}") for n in range(5)]


def _walk(api, url):
    seen, pages = [], 0
    while url:
        body = api.get(url).json()
        seen += [row["id"] for row in body["results"]]
        url, pages = body["next"], pages + 1
        assert pages < 10
    return seen, pages


def test_next_links_carry_a_cursor_and_walk_every_row_once(client_for, me, five):
    api = client_for(me)
    first = api.get("/api/v1/peerings/?page_size=2").json()
    assert (first["count"], first["count_capped"], first["previous"]) == (5, False, None)
    assert "cursor=" in first["next"]
    assert "page=" not in first["next"].replace("page_size", "")
    seen, pages = _walk(api, "/api/v1/peerings/?page_size=2")
    expected = [p.pk for p in sorted(five, key=lambda p: (p.created_at, p.pk), reverse=True)]
    assert (seen, pages) == (expected, 3)


def test_a_cursor_follows_the_ordering_asked_for(client_for, me, five):
    seen, _ = _walk(client_for(me), "/api/v1/peerings/?page_size=2&ordering=-name")
    assert seen == [p.pk for p in sorted(five, key=lambda p: p.name, reverse=True)]


def test_page_numbers_keep_working_with_an_exact_count(client_for, me, five, monkeypatch):
    monkeypatch.setattr(pagination, "COUNT_LIMIT", 2)
    api = client_for(me)
    second = api.get("/api/v1/peerings/?page=2&page_size=2").json()
    assert (second["count"], second["count_capped"]) == (5, False)  # under the pages' own limit
    assert "page=3" in second["next"]
    assert second["previous"] is not None
    capped = api.get("/api/v1/peerings/?page_size=2").json()
    assert (capped["count"], capped["count_capped"]) == (2, True)


def test_numbered_pages_count_only_to_the_page_asked_for(client_for, me, five, monkeypatch):
    """Past the limit a page counts to its end and one row more: its cost is its depth, not the table's."""
    monkeypatch.setattr(CappedCountPaginator, "count_limit", 2)
    api = client_for(me)
    first = api.get("/api/v1/peerings/?page=1&page_size=1").json()
    assert (first["count"], first["count_capped"]) == (2, True)
    second = api.get("/api/v1/peerings/?page=2&page_size=1").json()
    assert (second["count"], second["count_capped"]) == (3, True)  # two pages and a row of the third
    assert "page=3" in second["next"]
    last = api.get("/api/v1/peerings/?page=5&page_size=1").json()
    assert (last["count"], last["count_capped"], last["next"]) == (5, False, None)
    names = [
        api.get(f"/api/v1/peerings/?page={n}&page_size=1").json()["results"][0]["name"] for n in range(1, 6)
    ]
    assert sorted(names) == [f"p{n}" for n in range(5)]  # every row reachable, none twice


@pytest.mark.parametrize("cursor", ["garbage", "eyJvIjpbIm5hbWUiXSwidiI6WzFdfQ"])
def test_a_bad_or_foreign_cursor_is_not_found(client_for, me, five, cursor):
    assert api_error(client_for(me).get(f"/api/v1/peerings/?cursor={cursor}")) == (404, "not_found", [])


def test_the_page_list_counts_up_to_its_limit_and_beyond_on_request(client, me, five, monkeypatch):
    monkeypatch.setattr(CappedCountPaginator, "count_limit", 2)
    monkeypatch.setattr("peerings.views.PeeringListView.paginate_by", 1)
    client.force_login(me)
    assert "(2+ peerings)" in client.get("/peerings/").content.decode()
    assert "(5 peerings)" in client.get("/peerings/?page=4").content.decode()


def test_the_cursor_reads_a_column_from_the_row_and_selects_only_an_alias():
    from peerings.filtersets import CREATED_ALIAS, with_created
    from peerings.models import Peering

    peerings = with_created(Peering.objects.all())
    assert pagination._attname(peerings, "created_at") == "created_at"
    assert pagination._attname(peerings, "id") == "id"
    assert pagination._attname(peerings, CREATED_ALIAS) is None
    assert pagination._attname(peerings, "requester_tenant") is None
    assert pagination._attname(peerings.defer("name"), "name") is None
    assert pagination._attname(peerings.only("id"), "name") is None
    assert pagination._attname(peerings.only("id", "name"), "name") == "name"


@pytest.mark.parametrize("path", ["/api/v1/peerings/", "/api/v1/calls/"])
def test_the_prepared_read_answers_what_the_orm_path_answers(client_for, me, five, path, monkeypatch):
    """A list read with no filter named runs its prepared statement (peerings.api.listing); the
    same read naming a filter that keeps every row goes through the ORM: the same pages."""
    from peerings.api.pagination import PreparedList
    from tests.factories import UpstreamCallFactory

    for peering in five:
        UpstreamCallFactory(peering=peering, tenant=peering.requester_tenant)
    prepared = []
    monkeypatch.setattr(PreparedList, "page", _counted(PreparedList.page, prepared))
    api = client_for(me)
    everything = "created_after=2000-01-01T00:00:00Z"  # a filter named, every row kept: the ORM path
    for size in (1, 2, 3, 50):
        plain, through_orm = f"{path}?page_size={size}", f"{path}?page_size={size}&{everything}"
        assert _walk(api, plain) == _walk(api, through_orm)
        first, orm_first = api.get(plain).json(), api.get(through_orm).json()
        assert (first["count"], first["count_capped"]) == (orm_first["count"], orm_first["count_capped"])
        assert first["results"] == orm_first["results"]
    assert prepared  # the plain reads went the prepared way


def _counted(method, calls):
    def page(self, *args, **kwargs):
        calls.append(args)
        return method(self, *args, **kwargs)

    return page
