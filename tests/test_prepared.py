"""Prepared reads (portal.prepared): the ORM's statement compiled once per shape, run with new values.

They must answer exactly what the queryset answers, build nothing once a shape is known, and
refuse a builder whose values would change more than their own parameters.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.db.models import F, Value
from django.db.models.functions import Concat
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from peerings.choices import PeeringStatus
from peerings.models import Peering
from portal.prepared import PreparedRead, ShapeError
from tests.factories import PeeringFactory, TenantFactory, UserFactory

pytestmark = pytest.mark.django_db


def _peerings(*, tenant_ids: list[int], since: dt.datetime, status: str):
    """Joins (select_related), a deferred column, an annotation, a list, a time and a string."""
    return (
        Peering.objects.filter(requester_tenant__in=tenant_ids, created_at__gte=since, status=status)
        .select_related("requester_tenant", "requested_by")
        .defer("description")
        .annotate(label=Concat(F("name"), Value("@"), F("requester_tenant__name")))
        .order_by("-created_at", "-id")
    )


def _same(prepared: list[Peering], orm: list[Peering]) -> None:
    assert [p.pk for p in prepared] == [p.pk for p in orm]
    for mine, theirs in zip(prepared, orm, strict=True):
        assert (mine.name, mine.status, mine.created_at, mine.label) == (
            theirs.name,
            theirs.status,
            theirs.created_at,
            theirs.label,
        )
        assert mine.requester_tenant.name == theirs.requester_tenant.name
        assert mine.requested_by_id == theirs.requested_by_id
        assert "description" in mine.get_deferred_fields()


@pytest.fixture
def world():
    tenants = TenantFactory.create_batch(4)
    user = UserFactory()
    for n, tenant in enumerate(tenants):
        for status in (PeeringStatus.ACTIVE, PeeringStatus.PENDING_ACCEPTANCE):
            PeeringFactory.create_batch(n + 1, requester_tenant=tenant, status=status, requested_by=user)
    return tenants


def test_it_answers_what_the_queryset_answers_for_every_value(world, django_assert_num_queries):
    read = PreparedRead(_peerings)
    past = timezone.now() - dt.timedelta(days=1)
    cases = [
        ([world[0].pk], past, PeeringStatus.ACTIVE),
        ([world[1].pk, world[3].pk], past, PeeringStatus.ACTIVE),
        ([world[2].pk, world[0].pk], past, PeeringStatus.PENDING_ACCEPTANCE),
        ([world[3].pk], timezone.now() + dt.timedelta(days=1), PeeringStatus.ACTIVE),
        ([t.pk for t in world], past, PeeringStatus.ACTIVE),
    ]
    for tenant_ids, since, status in cases:
        values = {"tenant_ids": tenant_ids, "since": since, "status": status}
        orm = list(_peerings(**values))
        with django_assert_num_queries(1):  # one statement: the joined rows come with it
            rows = read.rows(**values)
            [row.requester_tenant.name for row in rows]  # read with the rows, not after them
        _same(rows, orm)
    assert any(read.rows(tenant_ids=[t.pk for t in world], since=past, status=PeeringStatus.ACTIVE))


def test_a_known_shape_is_not_built_again(world):
    built = []

    def build(*, tenant_ids: list[int]):
        built.append(list(tenant_ids))
        return Peering.objects.filter(requester_tenant__in=tenant_ids).order_by("id")

    read = PreparedRead(build)
    read.rows(tenant_ids=[world[0].pk])
    assert len(built) == 2  # compiled twice with stand-ins, to check the values are parameters
    assert all(ids[0] < 0 for ids in built)  # never with the real ones

    assert [p.pk for p in read.rows(tenant_ids=[world[1].pk])] == sorted(
        Peering.objects.filter(requester_tenant=world[1]).values_list("pk", flat=True)
    )
    assert len(built) == 2
    read.rows(tenant_ids=[world[1].pk, world[2].pk])  # a list of another length is another shape
    assert len(built) == 4


def test_the_shape_is_the_builders_positional_arguments(world):
    def build(limit: int, *, tenant_ids: list[int]):
        return Peering.objects.filter(requester_tenant__in=tenant_ids).order_by("id")[:limit]

    read = PreparedRead(build)
    everything = [world[3].pk]
    assert len(read.rows(2, tenant_ids=everything)) == 2
    assert len(read.rows(3, tenant_ids=everything)) == 3
    assert len(read.rows(2, tenant_ids=everything)) == 2


def test_a_value_that_changes_the_sql_text_is_refused(world):
    def in_the_offset(*, count: int):
        return Peering.objects.order_by("id")[abs(count) :]

    with pytest.raises(ShapeError, match="SQL's text"):
        PreparedRead(in_the_offset).rows(count=3)


def test_a_value_that_is_transformed_is_refused(world):
    def searched(*, text: str):
        return Peering.objects.filter(name__icontains=text)  # the parameter is %text%, not text

    with pytest.raises(ShapeError, match="not only its parameters"):
        PreparedRead(searched).rows(text="peering")


def test_values_rows_are_refused(world):
    def names(*, tenant_ids: list[int]):
        return Peering.objects.filter(requester_tenant__in=tenant_ids).values("name")

    with pytest.raises(ShapeError, match="model rows only"):
        PreparedRead(names).rows(tenant_ids=[world[0].pk])


def test_an_empty_list_reads_nothing_and_asks_nothing(world):
    read = PreparedRead(lambda *, tenant_ids: Peering.objects.filter(requester_tenant__in=tenant_ids))
    with CaptureQueriesContext(connection) as queries:
        assert read.rows(tenant_ids=[]) == []
        assert read.rows(tenant_ids=[]) == []
    assert len(queries) == 0


def test_a_none_value_is_a_shape_of_its_own(world):
    def by_user(*, user_id: int | None):
        return Peering.objects.filter(requested_by_id=user_id).order_by("id")

    read = PreparedRead(by_user)
    requester = Peering.objects.exclude(requested_by=None).first().requested_by_id
    unrequested = PeeringFactory(requested_by=None)
    assert [p.pk for p in read.rows(user_id=None)] == [unrequested.pk]
    assert len(read.rows(user_id=requester)) == Peering.objects.filter(requested_by_id=requester).count()


def test_it_keeps_at_most_max_shapes_statements(world):
    read = PreparedRead(
        lambda size, *, tenant_ids: Peering.objects.filter(requester_tenant__in=tenant_ids).order_by("id")[
            :size
        ],
        max_shapes=3,
    )
    ids = [world[3].pk]
    for size in range(1, 8):
        assert len(read.rows(size, tenant_ids=ids)) == size
    assert len(read._compiled) == 3
    assert [key[1] for key in read._compiled] == [(5,), (6,), (7,)]  # the latest shapes
