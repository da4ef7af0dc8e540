"""Routes through the three fronts against the simulator: the peering's page and its plan page, the REST
API (list, plan, apply, remove, delete with routes), and the admin's actions and inlines."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from peerings.choices import CallOperation, RouteState
from peerings.models import PeeringRoute, UpstreamCall
from peerings.routes.workflow import routes_apply
from tests.factories import MembershipFactory
from tests.peerings.routes_support import sdk_routes

pytestmark = pytest.mark.django_db


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


# --- Pages -------------------------------------------------------------------------------------------


def test_each_side_applies_its_routes_from_the_peering_page(
    cloud, accepted, acme_member, globex_member, acme_prod, globex_main, prod_web, globex_app
):
    for user, side, destination in (
        (acme_member, "requester", "10.20.0.0/16"),
        (globex_member, "accepter", "10.1.0.0/16"),
    ):
        browser = signed_in(user)
        detail = browser.get(reverse("peerings:detail", args=[accepted.pk])).content.decode()
        assert "Plan and apply routes" in detail
        plan = browser.get(reverse("peerings:routes", args=[accepted.pk]))
        body = plan.content.decode()
        assert plan.status_code == 200
        assert f"Apply 1 route: {destination}" in body
        assert body.count('name="side"') == 2  # apply and remove, for the user's one side only
        response = browser.post(
            reverse("peerings:routes", args=[accepted.pk]), {"side": side, "destinations": destination}
        )
        assert response.status_code == 302
        page = browser.get(response.url).content.decode()
        assert f"applied {destination}" in page
        assert "Applied" in page

    assert {d for d, *_ in sdk_routes(acme_prod, cloud.url, prod_web.vpc_id)} == {"10.20.0.0/16"}
    assert {d for d, *_ in sdk_routes(globex_main, cloud.url, globex_app.vpc_id)} == {"10.1.0.0/16"}


def test_the_plan_page_names_the_next_hop_the_user_may_see(cloud, accepted, acme_member):
    routes_apply(peering=accepted, acting_user=acme_member, side="requester")
    body = signed_in(acme_member).get(reverse("peerings:routes", args=[accepted.pk])).content.decode()
    detail = reverse("peerings:detail", args=[accepted.pk])
    assert f'<a href="{detail}">{accepted.name}</a> <span class="muted">(this peering)</span>' in body


def test_the_plan_page_shows_existing_routes_and_conflicts(cloud, accepted, acme_member):
    routes_apply(peering=accepted, acting_user=acme_member, side="requester")
    body = (
        signed_in(acme_member)
        .get(reverse("peerings:routes", args=[accepted.pk]), {"requester": "10.1.0.0/16, 10.20.5.0/24"})
        .content.decode()
    )
    assert "(this peering)" in body  # the route it already has
    assert "10.1.0.0/16 overlaps this VPC&#x27;s own range 10.1.0.0/16." in body
    assert "10.20.5.0/24 overlaps the route to 10.20.0.0/16 this VPC already has over this peering." in body
    assert "Apply " not in body  # nothing to apply while blocked


def test_a_blocked_apply_from_the_page_sends_nothing_and_says_why(cloud, accepted, acme_member):
    response = signed_in(acme_member).post(
        reverse("peerings:routes", args=[accepted.pk]), {"side": "requester", "destinations": "10.1.0.0/24"}
    )
    assert response.status_code == 200
    assert "Nothing was sent: resolve the conflicts first." in response.content.decode()
    assert not UpstreamCall.objects.filter(operation=CallOperation.CREATE_ROUTE).exists()


def test_remove_one_route_from_the_page(cloud, accepted, acme_member, acme_prod, prod_web):
    route = routes_apply(peering=accepted, acting_user=acme_member, side="requester").applied[0]
    response = signed_in(acme_member).post(
        reverse("peerings:routes-remove", args=[accepted.pk]), {"route": route.pk}
    )
    assert response.status_code == 302
    route.refresh_from_db()
    assert route.state == RouteState.REMOVED
    assert sdk_routes(acme_prod, cloud.url, prod_web.vpc_id) == set()


def test_the_delete_prompt_lists_the_routes_that_go_with_the_peering(
    cloud, accepted, acme_member, globex_member
):
    routes_apply(peering=accepted, acting_user=acme_member, side="requester")
    routes_apply(peering=accepted, acting_user=globex_member, side="accepter")
    body = signed_in(acme_member).get(reverse("peerings:delete", args=[accepted.pk])).content.decode()
    assert "The cloud removes its routes with it" in body
    assert "<code>10.20.0.0/16</code> in the requester" in body
    assert "<code>10.1.0.0/16</code> in the accepter" in body


def test_a_pending_peering_offers_no_routes(cloud, request_to_globex, acme_member):
    peering = request_to_globex()
    browser = signed_in(acme_member)
    assert (
        "Plan and apply routes"
        not in browser.get(reverse("peerings:detail", args=[peering.pk])).content.decode()
    )
    response = browser.get(reverse("peerings:routes", args=[peering.pk]))
    assert response.status_code == 302  # back to the peering, with the reason
    assert not UpstreamCall.objects.filter(operation=CallOperation.LIST_ROUTES).exists()


# --- REST API ----------------------------------------------------------------------------------------


def test_the_api_journey(cloud, accepted, acme_api, globex_api, acme_prod, prod_web):
    url = reverse("api:peering-routes", args=[accepted.pk])
    plan = acme_api.get(reverse("api:peering-routes-plan", args=[accepted.pk]))
    assert plan.status_code == 200
    (mine,) = plan.json()
    assert mine["side"] == "requester"
    assert mine["existing"] == []
    assert [p["destination"] for p in mine["proposed"] if p["to_send"]] == ["10.20.0.0/16"]

    applied = acme_api.post(url, {"side": "requester"}, format="json", HTTP_IDEMPOTENCY_KEY="routes-1")
    assert applied.status_code == 201
    assert [r["destination"] for r in applied.json()["applied"]] == ["10.20.0.0/16"]
    route = applied.json()["applied"][0]
    assert route["state"] == "applied"
    assert route["nexthop"] == accepted.upstream_id
    assert route["tenant"] == "acme-prod"
    replay = acme_api.post(url, {"side": "requester"}, format="json", HTTP_IDEMPOTENCY_KEY="routes-1")
    assert replay["Idempotent-Replayed"] == "true"
    assert UpstreamCall.objects.filter(operation=CallOperation.CREATE_ROUTE).count() == 1

    assert sdk_routes(acme_prod, cloud.url, prod_web.vpc_id) == {
        ("10.20.0.0/16", accepted.upstream_id, str(prod_web.vpc_id), acme_prod.project_id)
    }
    # Globex's member sees both sides' routes, and may not remove Acme's.
    assert [r["id"] for r in globex_api.get(url).json()["results"]] == [route["id"]]
    refused = globex_api.delete(reverse("api:peering-route-remove", args=[accepted.pk, route["id"]]))
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "not_permitted"

    removed = acme_api.delete(reverse("api:peering-route-remove", args=[accepted.pk, route["id"]]))
    assert removed.status_code == 200
    assert removed.json()["state"] == "removed"
    assert sdk_routes(acme_prod, cloud.url, prod_web.vpc_id) == set()


def test_api_conflicts_are_a_400_with_every_reason(cloud, accepted, acme_api):
    response = acme_api.post(
        reverse("api:peering-routes", args=[accepted.pk]),
        {"side": "requester", "destinations": ["10.1.0.0/16", "10.99.0.0/16"]},
        format="json",
    )
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert len(error["fields"]["destinations"]) == 4  # the refusal, then each conflict
    assert not UpstreamCall.objects.filter(operation=CallOperation.CREATE_ROUTE).exists()


def test_api_apply_on_a_pending_peering_is_409(cloud, request_to_globex, acme_api):
    peering = request_to_globex()
    response = acme_api.post(
        reverse("api:peering-routes", args=[peering.pk]), {"side": "requester"}, format="json"
    )
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "invalid_state"


def test_api_delete_lists_the_routes_removed_with_the_peering(cloud, accepted, acme_member, acme_api):
    routes_apply(peering=accepted, acting_user=acme_member, side="requester")
    response = acme_api.delete(reverse("api:peering-detail", args=[accepted.pk]))
    assert response.status_code == 200
    assert response.json()["status"] == "DELETED"
    assert [(r["destination"], r["state"]) for r in response.json()["routes_removed"]] == [
        ("10.20.0.0/16", "removed")
    ]


def test_api_request_with_routes_on_accept(cloud, acme_api, prod_web, globex_app, globex_main):
    body = {
        "name": "auto-routes",
        "request_vpc_info": {"vpc_id": str(prod_web.vpc_id)},
        "accept_vpc_info": {"vpc_id": str(globex_app.vpc_id), "tenant_id": globex_main.project_id},
        "routes_on_accept": True,
    }
    response = acme_api.post(reverse("api:peering-list"), body, format="json")
    assert response.status_code == 201
    assert PeeringRoute.objects.count() == 0
    from peerings.models import Peering

    assert Peering.objects.get(pk=response.json()["id"]).routes_on_accept is True


# --- Admin -------------------------------------------------------------------------------------------


def test_admin_applies_and_removes_the_routes_of_its_users_sides(
    cloud, accepted, admin_client, admin_user, acme_prod, prod_web, globex_main, globex_app
):
    MembershipFactory(user=admin_user, tenant=acme_prod)
    changelist = reverse("admin:peerings_peering_changelist")
    data = {"action": "apply_routes_selected", "_selected_action": [accepted.pk], "post": "yes"}
    response = admin_client.post(changelist, data, follow=True)
    assert "Routes applied for" in response.content.decode()
    assert {d for d, *_ in sdk_routes(acme_prod, cloud.url, prod_web.vpc_id)} == {"10.20.0.0/16"}
    assert sdk_routes(globex_main, cloud.url, globex_app.vpc_id) == set()  # not the admin's side

    page = admin_client.get(reverse("admin:peerings_peering_change", args=[accepted.pk])).content.decode()
    assert "10.20.0.0/16" in page
    assert "route history" in page.lower()
    # Routes name their VPC as the cloud listed it, the id only in a tooltip.
    assert f'<span title="{prod_web.vpc_id}">prod-web</span>' in page
    assert "10.20.0.0/16 in prod-web (requester)" in page
    assert f"in {prod_web.vpc_id}" not in page

    data["action"] = "remove_routes_selected"
    admin_client.post(changelist, data)
    assert sdk_routes(acme_prod, cloud.url, prod_web.vpc_id) == set()


def test_the_request_form_asks_for_routes_on_acceptance(
    cloud, acme_member, acme_prod, prod_web, globex_app, globex_main
):
    from peerings.models import Peering

    browser = signed_in(acme_member)
    assert (
        "Add the routes on both sides once it is accepted"
        in browser.get(reverse("peerings:request")).content.decode()
    )
    data = {
        "tenant": acme_prod.pk,
        "request_vpc_id": str(prod_web.vpc_id),
        "accept_vpc_id": str(globex_app.vpc_id),
        "accept_project_id": globex_main.project_id,
        "name": "form-auto-routes",
        "description": "",
        "routes_on_accept": "on",
    }
    response = browser.post(reverse("peerings:request"), data)
    assert response.status_code == 302
    assert Peering.objects.get(name="form-auto-routes").routes_on_accept is True


def test_hostile_route_ids_are_not_found(cloud, accepted, acme_member, acme_api):
    browser = signed_in(acme_member)
    for value in ("abc", "١٢", "9" * 40, "-1", ""):
        response = browser.post(reverse("peerings:routes-remove", args=[accepted.pk]), {"route": value})
        assert response.status_code == 302  # back to the peering: choose a route or a side
    too_long = acme_api.delete(f"/api/v1/peerings/{accepted.pk}/routes/{'9' * 40}/")
    assert too_long.status_code == 404
    assert acme_api.delete(f"/api/v1/peerings/{accepted.pk}/routes/123456/").status_code == 404
    assert not UpstreamCall.objects.filter(operation__in=["list_routes", "delete_route"]).exists()
