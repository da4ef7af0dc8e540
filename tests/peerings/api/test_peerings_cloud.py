"""Peering writes through the API against the live simulator: request, decide, rename, delete, refresh."""

from __future__ import annotations

import datetime as dt

import pytest

from peerings.choices import CallOperation, ChangeSource, PeeringStatus
from peerings.models import Peering, StatusChange, UpstreamCall
from tests.factories import MembershipFactory, SimVpcFactory, create_body
from tests.peerings.api.errors import api_error
from vpcsim import clock
from vpcsim.models import Peering as SimPeering

pytestmark = pytest.mark.usefixtures("cloud")

URL = "/api/v1/peerings/"


def _request_cross(api, prod_web, globex_app, **extra):
    response = api.post(URL, create_body(prod_web, globex_app, **extra), format="json")
    assert response.status_code == 201, response.json()
    return response.json()


def test_same_account_request_is_active_and_carries_both_kinds_of_fields(
    acme_api, acme_prod, prod_web, prod_db
):
    response = acme_api.post(URL, create_body(prod_web, prod_db, description="web to db"), format="json")

    assert response.status_code == 201, response.json()
    body = response.json()
    sim = SimPeering.objects.get()
    assert body["status"] == PeeringStatus.ACTIVE == sim.status
    assert body["peering_id"] == str(sim.peering_id)
    assert body["request_vpc_info"] == {
        "vpc_id": str(prod_web.vpc_id),
        "tenant_id": prod_web.project.project_id,
        "vpc_name": "prod-web",
        "cidr": "10.1.0.0/16",
        "tenant": {"id": acme_prod.pk, "name": acme_prod.name},
    }
    assert body["accept_vpc_info"] == {
        "vpc_id": str(prod_db.vpc_id),
        "tenant_id": prod_db.project.project_id,
        "vpc_name": "prod-db",
        "cidr": "10.2.0.0/16",
        "tenant": {"id": acme_prod.pk, "name": acme_prod.name},
    }
    assert body["description"] == "web to db"
    assert body["requested_by"] == "alice"
    assert body["created_at"] is not None
    assert body["created_at"] is not None
    assert body["error"] is None
    assert response["Location"] == body["url"] == f"http://testserver{URL}{body['id']}/"
    assert body["history"]["calls"].endswith(f"{URL}{body['id']}/calls/")
    assert StatusChange.objects.filter(peering_id=body["id"], source=ChangeSource.API).exists()


def test_cross_account_request_waits_for_the_peer_approver(
    acme_api, globex_api, globex_approver_api, prod_web, globex_app
):
    created = _request_cross(acme_api, prod_web, globex_app)
    assert created["status"] == PeeringStatus.PENDING_ACCEPTANCE
    accept = f"{URL}{created['id']}/accept/"

    # The requester's side may not accept, nor may a plain member of the peer.
    for api in (acme_api, globex_api):
        refused = api.post(accept, {}, format="json")
        assert refused.status_code == 403
        assert refused.json()["error"]["code"] == "not_permitted"

    accepted = globex_approver_api.post(accept, {"reason": "approved in ticket 42"}, format="json")

    assert accepted.status_code == 200, accepted.json()
    body = accepted.json()
    assert body["status"] == PeeringStatus.ACTIVE == SimPeering.objects.get().status
    assert body["decided_by"] == "grace"
    assert body["decision_reason"] == "approved in ticket 42"
    assert body["decided_at"] is not None

    again = globex_approver_api.post(accept, {}, format="json")
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "invalid_state"


def test_reject_needs_a_reason_and_records_it(acme_api, globex_approver_api, prod_web, globex_app):
    created = _request_cross(acme_api, prod_web, globex_app)
    reject = f"{URL}{created['id']}/reject/"

    missing = globex_approver_api.post(reject, {}, format="json")
    assert missing.status_code == 400
    assert missing.json()["error"]["fields"] == {"reason": ["This field is required."]}

    rejected = globex_approver_api.post(reject, {"reason": "wrong VPC"}, format="json")

    assert rejected.status_code == 200, rejected.json()
    assert rejected.json()["status"] == PeeringStatus.REJECTED == SimPeering.objects.get().status
    assert rejected.json()["decision_reason"] == "wrong VPC"


def test_patch_renames_in_the_cloud(acme_api, prod_web, prod_db):
    created = acme_api.post(URL, create_body(prod_web, prod_db), format="json").json()

    response = acme_api.patch(
        f"{URL}{created['id']}/", {"name": "renamed", "description": "new"}, format="json"
    )

    assert response.status_code == 200, response.json()
    assert response.json()["name"] == "renamed"
    sim = SimPeering.objects.get()
    assert (sim.name, sim.description) == ("renamed", "new")


@pytest.mark.parametrize(
    ("body", "field"),
    [({}, "non_field_errors"), ({"name": "x" * 65}, "name"), ({"description": "<b>"}, "description")],
)
def test_patch_checks_its_input_before_the_cloud(acme_api, prod_web, prod_db, body, field):
    created = acme_api.post(URL, create_body(prod_web, prod_db), format="json").json()
    calls = UpstreamCall.objects.count()

    response = acme_api.patch(f"{URL}{created['id']}/", body, format="json")

    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]
    assert UpstreamCall.objects.count() == calls


def test_delete_answers_the_deleted_peering_from_either_side(
    acme_api, globex_api, globex_approver_api, prod_web, globex_app
):
    created = _request_cross(acme_api, prod_web, globex_app)
    # A plain member of the accepter may not delete a request addressed to it (a silent rejection).
    assert globex_api.delete(f"{URL}{created['id']}/").status_code == 403

    response = globex_approver_api.delete(f"{URL}{created['id']}/")

    assert response.status_code == 200, response.json()
    assert response.json()["status"] == PeeringStatus.DELETED
    assert not SimPeering.objects.exclude(status=PeeringStatus.DELETED).exists()
    again = acme_api.delete(f"{URL}{created['id']}/")
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "invalid_state"


def test_refresh_reads_the_cloud_again(acme_api, prod_web, globex_app, settings):
    created = _request_cross(acme_api, prod_web, globex_app)
    clock.advance(dt.timedelta(seconds=settings.VPCSIM_PENDING_EXPIRY_SECONDS + 60))

    response = acme_api.post(f"{URL}{created['id']}/refresh/")

    assert response.status_code == 200, response.json()
    assert response.json()["status"] == PeeringStatus.EXPIRED
    assert Peering.objects.get().status == PeeringStatus.EXPIRED


def test_partial_overlap_needs_confirmation(acme_api, prod_web, globex_app):
    inside = SimVpcFactory(project=globex_app.project, name="inside", cidr="10.1.5.0/24")
    body = create_body(prod_web, inside)

    warned = acme_api.post(URL, body, format="json")

    assert warned.status_code == 400
    error = warned.json()["error"]
    assert error["code"] == "overlap_confirmation_required"
    assert list(error["fields"]) == ["confirm_overlap"]
    assert not SimPeering.objects.exists()

    confirmed = acme_api.post(URL, {**body, "confirm_overlap": True}, format="json")
    assert confirmed.status_code == 201, confirmed.json()


def test_input_errors_come_back_per_field_in_the_cloud_names(acme_api, prod_web, prod_db, globex_app):
    response = acme_api.post(URL, create_body(globex_app, prod_db), format="json")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid"
    assert list(response.json()["error"]["fields"]) == ["request_vpc_info.vpc_id"]

    bad_uuid = acme_api.post(
        URL,
        {"name": "x", "request_vpc_info": {"vpc_id": "prod-web"}, "accept_vpc_info": {"vpc_id": "nope"}},
        format="json",
    )
    assert bad_uuid.status_code == 400
    assert set(bad_uuid.json()["error"]["fields"]) == {"request_vpc_info.vpc_id", "accept_vpc_info.vpc_id"}


def test_cannot_request_from_a_tenant_one_is_not_in(acme_api, client_for, outsider, prod_web, globex_app):
    body = create_body(globex_app, prod_web, tenant_id=globex_app.project.project_id)

    response = acme_api.post(URL, body, format="json")

    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {
        "request_vpc_info.tenant_id": ["You are not a member of this tenant."]
    }
    nobody = client_for(outsider).post(URL, create_body(prod_web, globex_app), format="json")
    assert nobody.status_code == 400
    assert "request_vpc_info.tenant_id" in nobody.json()["error"]["fields"]
    assert not Peering.objects.exists()
    assert not UpstreamCall.objects.filter(operation=CallOperation.CREATE).exists()


def test_a_member_of_several_tenants_names_the_requesting_one(
    client_for, acme_member, acme_dev, prod_web, dev_app, globex_app
):
    MembershipFactory(user=acme_member, tenant=acme_dev)
    api = client_for(acme_member)

    ambiguous = api.post(URL, create_body(dev_app, globex_app), format="json")
    assert ambiguous.status_code == 400
    assert "request_vpc_info.tenant_id" in ambiguous.json()["error"]["fields"]

    chosen = api.post(URL, create_body(dev_app, globex_app, tenant_id=acme_dev.project_id), format="json")
    assert chosen.status_code == 201, chosen.json()
    assert chosen.json()["request_vpc_info"]["tenant_id"] == acme_dev.project_id


def test_tenant_vpcs_come_from_the_cloud(acme_api, acme_prod, globex_main, prod_web, prod_db):
    response = acme_api.get(f"/api/v1/tenants/{acme_prod.pk}/vpcs/")

    assert response.status_code == 200
    page = response.json()
    assert (page["count"], page["count_capped"], page["next"], page["previous"]) == (2, False, None, None)
    assert {(v["id"], v["name"], v["cidr"]) for v in page["results"]} == {
        (str(prod_web.vpc_id), "prod-web", "10.1.0.0/16"),
        (str(prod_db.vpc_id), "prod-db", "10.2.0.0/16"),
    }
    assert UpstreamCall.objects.filter(
        operation=CallOperation.LIST_VPCS, acting_user__username="alice"
    ).exists()
    assert acme_api.get(f"/api/v1/tenants/{globex_main.pk}/vpcs/").status_code == 404


def test_history_of_a_peering_is_visible_to_both_sides_only(
    acme_api, globex_approver_api, client_for, outsider, prod_web, globex_app
):
    created = _request_cross(acme_api, prod_web, globex_app)
    globex_approver_api.post(f"{URL}{created['id']}/accept/", {}, format="json")

    for api in (acme_api, globex_approver_api):
        calls = api.get(created["history"]["calls"]).json()["results"]
        assert [c["operation"] for c in calls] == [CallOperation.ACCEPT, CallOperation.CREATE]
        changes = api.get(created["history"]["status_changes"]).json()["results"]
        assert [(c["old_status"], c["new_status"]) for c in changes] == [
            (PeeringStatus.PENDING_ACCEPTANCE, PeeringStatus.ACTIVE),
            (PeeringStatus.SUBMITTING, PeeringStatus.PENDING_ACCEPTANCE),
            ("", PeeringStatus.SUBMITTING),
        ]
        assert changes[0]["actor"] == "grace"

    stranger = client_for(outsider)
    for history in (created["history"]["calls"], created["history"]["status_changes"]):
        assert api_error(stranger.get(history)) == (404, "not_found", [])
    assert stranger.get("/api/v1/calls/").json()["count"] == 0
