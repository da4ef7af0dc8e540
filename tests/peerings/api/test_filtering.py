"""The list filters: a FilterSet is built only when a parameter names one of its filters."""

from __future__ import annotations

import pytest

from peerings.choices import PeeringStatus
from peerings.filtersets import PeeringFilterSet
from tests.factories import PeeringFactory


@pytest.fixture
def two(home, me):
    return [
        PeeringFactory(requester_tenant=home, requested_by=me, status=PeeringStatus.ACTIVE),
        PeeringFactory(requester_tenant=home, requested_by=me, status=PeeringStatus.REJECTED),
    ]


def test_a_list_without_filter_parameters_builds_no_filterset(api, two, monkeypatch):
    built = []
    real_init = PeeringFilterSet.__init__

    def counted(self, *args, **kwargs):
        built.append(self)
        real_init(self, *args, **kwargs)

    monkeypatch.setattr(PeeringFilterSet, "__init__", counted)

    body = api.get("/api/v1/peerings/?page_size=5").json()
    assert body["count"] == 2
    assert built == []

    body = api.get("/api/v1/peerings/?status=ACTIVE").json()
    assert [row["status"] for row in body["results"]] == ["ACTIVE"]
    assert len(built) == 1


def test_a_bad_filter_value_is_still_refused(api, two):
    response = api.get("/api/v1/peerings/?ordering=nope")
    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["ordering"]
