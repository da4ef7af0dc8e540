"""``Idempotency-Key`` and the cloud-failure answers, end to end against the live simulator."""

from __future__ import annotations

import pytest

from peerings.choices import CallOperation, PeeringStatus
from peerings.models import IdempotencyKey, Peering, UpstreamCall
from tests.factories import create_body
from vpcsim.models import Peering as SimPeering

pytestmark = pytest.mark.usefixtures("cloud")

URL = "/api/v1/peerings/"


def test_a_replayed_create_returns_the_first_answer_and_the_cloud_sees_one_create(
    acme_api, prod_web, prod_db
):
    body = create_body(prod_web, prod_db)

    first = acme_api.post(URL, body, format="json", HTTP_IDEMPOTENCY_KEY="create-1")
    replay = acme_api.post(URL, body, format="json", HTTP_IDEMPOTENCY_KEY="create-1")

    assert first.status_code == replay.status_code == 201
    assert replay.json() == first.json()
    assert replay["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first
    assert replay["Location"] == first["Location"]
    assert SimPeering.objects.count() == 1
    assert Peering.objects.count() == 1
    assert UpstreamCall.objects.filter(operation=CallOperation.CREATE).count() == 1


def test_the_same_key_with_another_body_or_path_is_refused(acme_api, prod_web, prod_db):
    created = acme_api.post(URL, create_body(prod_web, prod_db), format="json", HTTP_IDEMPOTENCY_KEY="k")

    other_body = acme_api.post(
        URL, create_body(prod_web, prod_db, name="other"), format="json", HTTP_IDEMPOTENCY_KEY="k"
    )
    other_path = acme_api.patch(
        f"{URL}{created.json()['id']}/", {"name": "x"}, format="json", HTTP_IDEMPOTENCY_KEY="k"
    )

    for response in (other_body, other_path):
        assert response.status_code == 422
        assert response.json()["error"]["code"] == "idempotency_key_reused"
    assert SimPeering.objects.count() == 1
    assert SimPeering.objects.get().name == "web-to-peer"


def test_a_replayed_action_does_not_call_the_cloud_again(acme_api, globex_approver_api, prod_web, globex_app):
    created = acme_api.post(URL, create_body(prod_web, globex_app), format="json").json()
    accept = f"{URL}{created['id']}/accept/"

    first = globex_approver_api.post(accept, {}, format="json", HTTP_IDEMPOTENCY_KEY="accept-1")
    replay = globex_approver_api.post(accept, {}, format="json", HTTP_IDEMPOTENCY_KEY="accept-1")

    assert first.status_code == replay.status_code == 200
    assert replay.json() == first.json()
    assert replay["Idempotent-Replayed"] == "true"
    assert UpstreamCall.objects.filter(operation=CallOperation.ACCEPT).count() == 1


def test_a_cloud_outage_answers_503_and_is_not_stored(acme_api, acme_prod, prod_web, prod_db, closed_port):
    acme_prod.endpoint = f"http://127.0.0.1:{closed_port}"
    acme_prod.save()
    body = create_body(prod_web, prod_db)

    down = acme_api.post(URL, body, format="json", HTTP_IDEMPOTENCY_KEY="retry-me")

    assert down.status_code == 503
    error = down.json()["error"]
    assert error["code"] == "cloud_unavailable"
    assert set(error["cloud"]) == {"status", "code", "message"}
    assert not IdempotencyKey.objects.exists()

    acme_prod.endpoint = ""
    acme_prod.save()
    retried = acme_api.post(URL, body, format="json", HTTP_IDEMPOTENCY_KEY="retry-me")
    assert retried.status_code == 201, retried.json()
    assert "Idempotent-Replayed" not in retried
    assert IdempotencyKey.objects.get().response_status == 201


def test_a_decision_whose_answer_was_lost_is_confirmed_from_the_cloud(
    acme_api, globex_main, globex_approver, globex_approver_api, prod_web, globex_app, cloud_proxy
):
    created = acme_api.post(URL, create_body(prod_web, globex_app), format="json").json()
    globex_main.endpoint = cloud_proxy.url
    globex_main.save()
    cloud_proxy.modes["PUT"] = "forward-then-drop"  # every attempt is carried out, no answer comes back

    response = globex_approver_api.post(f"{URL}{created['id']}/accept/", {}, format="json")

    assert response.status_code == 200, response.json()
    assert (response.json()["status"], response.json()["decided_by"]) == (
        PeeringStatus.ACTIVE,
        globex_approver.username,
    )
    assert SimPeering.objects.get().status == PeeringStatus.ACTIVE


def test_an_unknown_outcome_answers_504_and_holds_the_peering_until_it_can_no_longer_land(
    acme_api, globex_main, globex_approver_api, prod_web, globex_app, cloud_proxy, expire_leases
):
    created = acme_api.post(URL, create_body(prod_web, globex_app), format="json").json()
    globex_main.endpoint = cloud_proxy.url
    globex_main.save()
    cloud_proxy.modes["PUT"] = "forward-then-drop"
    cloud_proxy.modes["GET"] = "503"  # nor can the portal ask the cloud what became of it

    response = globex_approver_api.post(f"{URL}{created['id']}/accept/", {}, format="json")

    assert response.status_code == 504
    error = response.json()["error"]
    assert error["code"] == "cloud_timeout"
    assert error["peering"]["id"] == created["id"]
    assert SimPeering.objects.get().status == PeeringStatus.ACTIVE  # the cloud did carry it out
    cloud_proxy.modes.clear()
    reject = {"path": f"{URL}{created['id']}/reject/", "data": {"reason": "no"}, "format": "json"}
    held = globex_approver_api.post(**reject, HTTP_IDEMPOTENCY_KEY="reject-1")
    assert held.status_code == 409
    assert held.json()["error"]["code"] == "operation_in_flight"
    assert int(held["Retry-After"]) >= 1
    assert acme_api.get(f"{URL}{created['id']}/").json()["operation_in_flight"] == "accept"
    expire_leases()
    # The in-flight answer was not final: the same key now gets the real answer (already accepted).
    retried = globex_approver_api.post(**reject, HTTP_IDEMPOTENCY_KEY="reject-1")
    assert "Idempotent-Replayed" not in retried
    assert retried.json()["error"]["code"] == "invalid_state"
    refreshed = acme_api.post(f"{URL}{created['id']}/refresh/")
    assert refreshed.json()["status"] == PeeringStatus.ACTIVE


def test_a_decision_the_cloud_refuses_because_the_peering_is_gone_answers_409(
    acme_api, globex_approver_api, prod_web, globex_app
):
    created = acme_api.post(URL, create_body(prod_web, globex_app), format="json").json()
    SimPeering.objects.all().delete()  # gone from the cloud behind the portal's back

    response = globex_approver_api.post(
        f"{URL}{created['id']}/reject/", {"reason": "no"}, format="json", HTTP_IDEMPOTENCY_KEY="r1"
    )

    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "invalid_state"
    assert error["peering"]["status"] == PeeringStatus.DELETED
    # A refusal is final: the same request gets the same answer without a second call.
    replay = globex_approver_api.post(
        f"{URL}{created['id']}/reject/", {"reason": "no"}, format="json", HTTP_IDEMPOTENCY_KEY="r1"
    )
    assert replay.status_code == 409
    assert replay.json() == response.json()
    assert UpstreamCall.objects.filter(operation=CallOperation.REJECT).count() == 1


def test_a_create_the_cloud_failed_says_it_was_kept_and_a_retry_answers_with_that_peering(
    acme_api, acme_prod, globex_main, prod_web, globex_app, cloud_proxy
):
    """Defect 4: after a 503 the answer names the SUBMITTING peering; a retry never gets a 400."""
    acme_prod.endpoint = cloud_proxy.url
    acme_prod.save()
    cloud_proxy.modes["POST"] = "503"
    body = create_body(prod_web, globex_app)

    down = acme_api.post(URL, body, format="json", HTTP_IDEMPOTENCY_KEY="req-1")

    assert down.status_code == 503
    error = down.json()["error"]
    kept = Peering.objects.get()
    assert error["peering"] == {
        "id": kept.pk,
        "url": f"http://testserver{URL}{kept.pk}/",
        "status": PeeringStatus.SUBMITTING,
    }
    assert "saved as SUBMITTING" in error["message"]
    assert "Nothing was changed" not in error["message"]

    # The same request again: the peering as it is now, and no second create.
    retried = acme_api.post(URL, body, format="json", HTTP_IDEMPOTENCY_KEY="req-1")
    assert retried.status_code == 202
    assert retried.json()["id"] == kept.pk
    assert retried["Location"] == error["peering"]["url"]
    assert [m for m, _, _ in cloud_proxy.seen].count("POST") == 1

    # Once the cloud has it (here through a refresh), the same retry answers 201.
    cloud_proxy.modes.clear()
    assert acme_api.post(f"{URL}{kept.pk}/refresh/").json()["status"] == PeeringStatus.PENDING_ACCEPTANCE
    confirmed = acme_api.post(URL, body, format="json", HTTP_IDEMPOTENCY_KEY="req-1")
    assert confirmed.status_code == 201
    assert (confirmed.json()["id"], confirmed.json()["status"]) == (kept.pk, PeeringStatus.PENDING_ACCEPTANCE)
    assert SimPeering.objects.count() == 1


def test_a_create_the_cloud_refuses_began_work_so_its_answer_is_stored(acme_api, prod_web):
    """A change sent to the cloud and refused there is final: the retry gets it without a second create."""
    unknown = {"vpc_id": "6f1b3c2e-0d4a-4b8e-9c7f-2a5d8e1f0b3c", "tenant_id": "f" * 32}
    body = {
        "name": "to-nowhere",
        "request_vpc_info": {"vpc_id": str(prod_web.vpc_id)},
        "accept_vpc_info": unknown,
    }

    first = acme_api.post(URL, body, format="json", HTTP_IDEMPOTENCY_KEY="nowhere")
    replay = acme_api.post(URL, body, format="json", HTTP_IDEMPOTENCY_KEY="nowhere")

    assert first.status_code == 422, first.json()
    assert first.json()["error"]["code"] == "cloud_refused"
    assert replay.status_code == 422
    # answered from the peering the key stands for (FAILED), as every kept create is
    assert replay.json()["error"]["code"] == "cloud_refused"
    assert replay.json()["error"]["peering"] == first.json()["error"]["peering"]
    assert replay["Idempotent-Replayed"] == "true"
    assert UpstreamCall.objects.filter(operation=CallOperation.CREATE).count() == 1
    assert IdempotencyKey.objects.get(key="nowhere").response_status == 422
