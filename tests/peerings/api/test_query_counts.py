"""List endpoints run the same number of queries for 2 rows as for 20."""

from __future__ import annotations

import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from peerings.choices import CallOperation, ChangeSource
from peerings.models import Peering, StatusChange, UpstreamCall
from tests.factories import MembershipFactory, PeeringFactory, TenantFactory, UserFactory


@pytest.fixture
def peering(home, me):
    return PeeringFactory(requester_tenant=home, requested_by=me)


def _peerings(home, me, n):
    for _ in range(n):
        PeeringFactory(requester_tenant=home, requested_by=me, decided_by=UserFactory())


def _calls(home, peering, me, n):
    for _ in range(n):
        UpstreamCall.objects.create(
            tenant=home,
            peering=peering,
            acting_user=me,
            operation=CallOperation.SHOW,
            method="GET",
            url="http://cloud/",
            status_code=200,
            correlation_id=uuid.uuid4().hex,
        )


def _changes(home, peering, me, n):
    for _ in range(n):
        StatusChange.objects.create(
            peering=peering, old_status="", new_status="SUBMITTING", actor=me, source=ChangeSource.API
        )


def _tenants(home, peering, me, n):
    for _ in range(n):
        MembershipFactory(user=me, tenant=TenantFactory())


@pytest.mark.parametrize(
    ("path", "grow"),
    [
        ("/api/v1/peerings/", lambda home, peering, me, n: _peerings(home, me, n)),
        ("/api/v1/calls/", _calls),
        ("/api/v1/peerings/{peering}/calls/", _calls),
        ("/api/v1/peerings/{peering}/status-changes/", _changes),
        ("/api/v1/tenants/", _tenants),
    ],
)
def test_list_query_count_does_not_grow_with_rows(client_for, me, home, peering, path, grow):
    api = client_for(me)
    url = path.format(peering=peering.pk)
    api.get(url)  # the token's first use is written once (last_used_at); later uses read it only

    def count(rows: int) -> int:
        grow(home, peering, me, rows)
        with CaptureQueriesContext(connection) as queries:
            response = api.get(url)
        assert response.status_code == 200
        assert response.json()["count"] >= rows
        return len(queries)

    small = count(2)
    large = count(18)  # 20 rows in all

    assert large == small


@pytest.mark.django_db(transaction=True)
def test_a_create_reads_the_users_roles_once_before_the_cloud_call(
    cloud, client_for, acme_member, prod_web, globex_app, globex_main
):
    """The membership check, the request rules and the answer share one read of the user's roles:
    the token's statement."""
    api = client_for(acme_member)
    body = {
        "name": "counted",
        "request_vpc_info": {"vpc_id": prod_web.vpc_id},
        "accept_vpc_info": {"vpc_id": globex_app.vpc_id, "tenant_id": globex_main.project_id},
    }
    with CaptureQueriesContext(connection) as queries:
        response = api.post("/api/v1/peerings/", body, format="json")
    assert response.status_code == 201, response.content
    statements = [q["sql"] for q in queries.captured_queries]
    every_role = [sql for sql in statements if '"peerings_membership"."role" AS' in sql]  # selected
    assert len(every_role) == 1, every_role
    assert '"accounts_apitoken"' in every_role[0]


def _count_statements(queries) -> list[str]:
    return [q["sql"] for q in queries.captured_queries if q["sql"].startswith("SELECT COUNT(*)")]


def test_a_one_row_page_runs_two_statements_the_token_with_roles_and_the_page_with_its_count(api, me, home):
    """The token with the caller's roles, then the page carrying its capped count; a first page that
    holds the whole list is its own count."""
    _peerings(home, me, 3)
    api.get("/api/v1/peerings/")  # the token's first use is written once

    with CaptureQueriesContext(connection) as queries:
        body = api.get("/api/v1/peerings/?page_size=1").json()
    assert (body["count"], body["count_capped"], len(body["results"])) == (3, False, 1)
    token, page = (q["sql"] for q in queries.captured_queries)  # two statements, no more
    assert '"accounts_apitoken"' in token
    assert '"peerings_membership"."role"' in token
    assert page.startswith('SELECT "peerings_peering"')
    assert "SELECT COUNT(*)" in page
    assert "peerings_membership" not in page  # the walls name the tenants read with the token

    with CaptureQueriesContext(connection) as queries:
        body = api.get("/api/v1/peerings/").json()
    assert (body["count"], body["count_capped"], len(body["results"])) == (3, False, 3)
    assert len(queries) == 2
    assert _count_statements(queries) == []

    after = api.get("/api/v1/peerings/?page_size=2").json()["next"]
    with CaptureQueriesContext(connection) as queries:  # after a cursor, the rows left are not the count
        body = api.get(after).json()
    assert (body["count"], len(body["results"])) == (3, 1)
    assert len(queries) == 2


def test_a_cursor_past_the_last_row_counts_alone(api, me, home):
    """An empty page after a cursor has no row to carry the count: it is read on its own."""
    _peerings(home, me, 3)
    after = api.get("/api/v1/peerings/?page_size=2").json()["next"]
    Peering.objects.filter(requester_tenant=home).order_by("created_at", "id").first().delete()
    with CaptureQueriesContext(connection) as queries:
        body = api.get(after).json()
    assert (body["count"], body["count_capped"], body["results"]) == (2, False, [])
    assert len(_count_statements(queries)) == 1


def test_a_caller_without_tenants_reads_an_empty_page_from_the_token_statement_alone(client_for):
    """No tenant, no peering: the page and its count need no statement."""
    api = client_for(UserFactory())
    api.get("/api/v1/peerings/")
    with CaptureQueriesContext(connection) as queries:
        body = api.get("/api/v1/peerings/?page_size=1").json()
    assert (body["count"], body["count_capped"], body["results"]) == (0, False, [])
    assert len(queries) == 1


def test_a_list_of_every_status_on_both_sides_reads_no_column_per_row(api, me, home):
    """The list leaves its users' and tenants' unshown columns unread: no row's actions reach for one."""
    from peerings.choices import PeeringStatus

    api.get("/api/v1/peerings/")
    PeeringFactory(requester_tenant=home, requested_by=me, decided_by=me, approved_by=me)
    with CaptureQueriesContext(connection) as one:
        assert api.get("/api/v1/peerings/").status_code == 200
    home.separate_duties = True  # the approver's own requests: the rule reads both tenants' flag
    home.save()
    for status in PeeringStatus.values:
        other = TenantFactory(separate_duties=True)
        PeeringFactory(requester_tenant=home, accepter_tenant=other, status=status, requested_by=me)
        PeeringFactory(requester_tenant=other, accepter_tenant=home, status=status, requested_by=me)
    with CaptureQueriesContext(connection) as every:
        body = api.get("/api/v1/peerings/?page_size=200").json()
    assert body["count"] > len(PeeringStatus.values)
    assert len(every) == len(one)  # both fit their page: no count
