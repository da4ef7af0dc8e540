"""``Idempotency-Key`` mechanics on writes the workflow refuses before the cloud, or a stand-in for it.

As Stripe does it, only an answer of a request that began work is stored: a success (here the
``decided`` stand-in for the workflow) or the cloud's refusal (``test_idempotency_cloud.py``); a
request refused before any work started frees its key for the fixed request.
"""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.utils import timezone

from peerings import workflow
from peerings.api.idempotency import IN_PROGRESS, STALE_AFTER
from peerings.choices import PeeringStatus, Role
from peerings.exceptions import CloudUnavailable
from peerings.models import IdempotencyKey
from tests.factories import MembershipFactory, PeeringFactory


@pytest.fixture
def active(home):
    """A peering addressed to ``me``'s tenant (``me`` approves there) that can no longer be accepted."""
    return PeeringFactory(accepter_tenant=home, status=PeeringStatus.ACTIVE)


@pytest.fixture
def decided(monkeypatch):
    """A stand-in for the workflow's decision: it succeeds (200) without a cloud; the calls it got."""
    calls = []

    def decide(*, peering, **kwargs):
        calls.append(kwargs["action"])
        return peering

    monkeypatch.setattr(workflow, "peering_decide", decide)
    return calls


def _accept(api, peering, key=None, body=None):
    headers = {} if key is None else {"HTTP_IDEMPOTENCY_KEY": key}
    return api.post(f"/api/v1/peerings/{peering.pk}/accept/", body or {}, format="json", **headers)


def _reserved(key: str) -> IdempotencyKey:
    """Turn the stored answer for ``key`` back into a reservation, as if its request were running."""
    IdempotencyKey.objects.filter(key=key).update(response_status=IN_PROGRESS, response_body=None)
    return IdempotencyKey.objects.get(key=key)


def test_a_success_is_stored_and_replayed(api, active, decided):
    first = _accept(api, active, "key-1")
    replay = _accept(api, active, "key-1")

    assert first.status_code == replay.status_code == 200
    assert replay.json() == first.json()
    assert replay["Idempotent-Replayed"] == "true"
    assert decided == ["accept"]  # the replay came from the store
    stored = IdempotencyKey.objects.get()
    assert (stored.method, stored.path, stored.response_status) == (
        "POST",
        f"/api/v1/peerings/{active.pk}/accept/",
        200,
    )
    assert stored.response_body == first.json()


def test_a_refusal_before_any_work_is_not_stored(api, active):
    """A state that does not allow it (409 invalid_state) is answered afresh each time."""
    first = _accept(api, active, "key-1")
    again = _accept(api, active, "key-1")

    assert first.status_code == again.status_code == 409
    assert again.json()["error"]["code"] == "invalid_state"
    assert "Idempotent-Replayed" not in again
    assert not IdempotencyKey.objects.exists()


def test_a_body_that_fails_validation_frees_the_key_for_the_fixed_body(api, home, decided):
    pending = PeeringFactory(accepter_tenant=home, status=PeeringStatus.PENDING_ACCEPTANCE)
    path = f"/api/v1/peerings/{pending.pk}/reject/"

    invalid = api.post(path, {}, format="json", HTTP_IDEMPOTENCY_KEY="fix-me")
    assert (invalid.status_code, invalid.json()["error"]["code"]) == (400, "invalid")
    assert not IdempotencyKey.objects.exists()

    fixed = api.post(path, {"reason": "no"}, format="json", HTTP_IDEMPOTENCY_KEY="fix-me")
    assert fixed.status_code == 200
    assert "Idempotent-Replayed" not in fixed
    assert decided == ["reject"]
    assert IdempotencyKey.objects.get().response_status == 200


def test_an_unknown_query_parameter_is_refused_before_the_key_is_taken(api, active, decided):
    refused = api.post(
        f"/api/v1/peerings/{active.pk}/accept/?dry_run=1", {}, format="json", HTTP_IDEMPOTENCY_KEY="q"
    )

    assert refused.status_code == 400
    assert list(refused.json()["error"]["fields"]) == ["dry_run"]
    assert not IdempotencyKey.objects.exists()
    assert decided == []


def test_another_body_method_or_path_with_the_same_key_is_422(api, active, decided):
    _accept(api, active, "key-1")

    other_body = _accept(api, active, "key-1", {"reason": "different"})
    other_path = api.post(
        f"/api/v1/peerings/{active.pk}/reject/", {"reason": "x"}, format="json", HTTP_IDEMPOTENCY_KEY="key-1"
    )
    other_method = api.patch(
        f"/api/v1/peerings/{active.pk}/", {"name": "x"}, format="json", HTTP_IDEMPOTENCY_KEY="key-1"
    )

    for response in (other_body, other_path, other_method):
        assert response.status_code == 422
        assert response.json()["error"]["code"] == "idempotency_key_reused"
        assert "Idempotent-Replayed" not in response
    assert decided == ["accept"]  # the first only


def test_the_same_body_in_another_json_spelling_is_a_replay(api, active, decided):
    path = f"/api/v1/peerings/{active.pk}/reject/"
    first = api.post(path, '{"reason": "x"}', content_type="application/json", HTTP_IDEMPOTENCY_KEY="k")
    again = api.post(path, '{ "reason":"x" }', content_type="application/json", HTTP_IDEMPOTENCY_KEY="k")

    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert decided == ["reject"]


def test_keys_are_per_user(client_for, api, home, active, decided):
    colleague = MembershipFactory(tenant=home, role=Role.APPROVER).user
    _accept(api, active, "shared")

    theirs = _accept(client_for(colleague), active, "shared")

    assert theirs.status_code == 200
    assert decided == ["accept", "accept"]
    assert "Idempotent-Replayed" not in theirs
    assert IdempotencyKey.objects.filter(key="shared").count() == 2


def test_reads_and_requests_without_a_key_store_nothing(api, active):
    api.get(f"/api/v1/peerings/{active.pk}/", HTTP_IDEMPOTENCY_KEY="read")
    _accept(api, active)

    assert not IdempotencyKey.objects.exists()


@pytest.mark.parametrize("key", ["", "x" * 256, "has space", "tab\tkey", "é"])
def test_a_malformed_key_is_400(api, active, key):
    response = _accept(api, active, key)

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_idempotency_key"
    assert not IdempotencyKey.objects.exists()


def test_a_5xx_is_not_stored_so_the_client_can_retry(api, home, monkeypatch):
    peering = PeeringFactory(requester_tenant=home)

    refreshed = []

    def down(**kwargs):
        refreshed.append("down")
        raise CloudUnavailable("Down.", status=503)

    def up(*, peering, **kwargs):
        refreshed.append("up")
        return peering

    monkeypatch.setattr(workflow, "peering_refresh", down)
    failed = api.post(f"/api/v1/peerings/{peering.pk}/refresh/", HTTP_IDEMPOTENCY_KEY="retry")
    assert failed.status_code == 503
    assert not IdempotencyKey.objects.exists()

    monkeypatch.setattr(workflow, "peering_refresh", up)
    retried = api.post(f"/api/v1/peerings/{peering.pk}/refresh/", HTTP_IDEMPOTENCY_KEY="retry")
    assert retried.status_code == 200
    assert refreshed == ["down", "up"]
    assert "Idempotent-Replayed" not in retried
    assert IdempotencyKey.objects.get().response_status == 200


def test_a_duplicate_while_the_first_runs_is_409(api, active, decided):
    _accept(api, active, "busy")
    _reserved("busy")

    response = _accept(api, active, "busy")

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "idempotency_key_in_use"
    assert IdempotencyKey.objects.get().response_status == IN_PROGRESS  # still the first one's
    assert decided == ["accept"]  # the duplicate never reached the workflow


def test_a_stale_reservation_is_taken_over(api, active, decided):
    _accept(api, active, "stale")
    row = _reserved("stale")
    IdempotencyKey.objects.filter(pk=row.pk).update(
        created_at=timezone.now() - STALE_AFTER - timedelta(seconds=1)
    )

    response = _accept(api, active, "stale")

    assert response.status_code == 200
    assert "Idempotent-Replayed" not in response
    assert decided == ["accept", "accept"]
    assert IdempotencyKey.objects.get().response_status == 200


@pytest.mark.django_db(transaction=True)
def test_concurrent_duplicates_run_once(client_for):
    """Two identical requests at once: the unique constraint lets one in, the other gets 409."""
    approver = MembershipFactory(role=Role.APPROVER)
    peering = PeeringFactory(requester_tenant=approver.tenant)
    started, release = threading.Event(), threading.Event()
    runs = []

    def slow_refresh(*, peering, **kwargs):
        runs.append(peering.pk)
        started.set()
        assert release.wait(10)
        return peering

    original = workflow.peering_refresh
    workflow.peering_refresh = slow_refresh
    results = {}
    try:
        first_api, second_api = client_for(approver.user), client_for(approver.user)
        url = f"/api/v1/peerings/{peering.pk}/refresh/"
        first = threading.Thread(
            target=lambda: results.setdefault("first", first_api.post(url, HTTP_IDEMPOTENCY_KEY="same"))
        )
        first.start()
        assert started.wait(10)
        results["second"] = second_api.post(url, HTTP_IDEMPOTENCY_KEY="same")
        release.set()
        first.join(10)
    finally:
        workflow.peering_refresh = original
        release.set()

    assert results["first"].status_code == 200
    assert results["second"].status_code == 409
    assert results["second"].json()["error"]["code"] == "idempotency_key_in_use"
    assert runs == [peering.pk]
    third = client_for(approver.user).post(
        f"/api/v1/peerings/{peering.pk}/refresh/", HTTP_IDEMPOTENCY_KEY="same"
    )
    assert third["Idempotent-Replayed"] == "true"
    assert third.json() == results["first"].json()
