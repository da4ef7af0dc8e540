"""The self-service pages, through Django's test client, against the live simulator.

Rows that need no cloud come from the factories; peerings that must exist in the cloud
are made with the workflow (as the pages themselves would).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable

import pytest
from django.contrib.messages import get_messages
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import resolve, reverse
from django.utils.html import escape

from peerings.choices import CallOperation, ChangeSource, PeeringStatus, Role
from peerings.models import Peering, StatusChange, Tenant, UpstreamCall
from peerings.rules.messages import (
    ACCEPT_PROJECT_REQUIRED,
    CIDR_NESTED_HIDDEN,
    DESCRIPTION_FORBIDDEN_CHARACTERS,
    NAME_REQUIRED,
    NOT_AN_APPROVER,
    PAIR_ALREADY_OPEN,
    PROJECT_ID_INVALID,
    REASON_REQUIRED,
    REQUEST_VPC_NOT_OWNED,
    SAME_VPC,
    UPDATE_NOTHING,
    VPC_ID_INVALID,
)
from tests.factories import (
    MembershipFactory,
    PeeringFactory,
    SimVpcFactory,
    StatusChangeFactory,
    TenantFactory,
    UpstreamCallFactory,
    UserFactory,
)
from vpcsim.models import Peering as SimPeering

pytestmark = pytest.mark.django_db

S = PeeringStatus
PASSWORD = "correct horse battery staple"  # tests.factories.UserFactory's


# --- Helpers ---------------------------------------------------------------------------------------------


@pytest.fixture
def as_user(db) -> Callable[..., Client]:
    """``as_user(user)``: a test client signed in as ``user`` (CSRF checks on when asked)."""

    def make(user, *, csrf: bool = False) -> Client:
        client = Client(enforce_csrf_checks=csrf)
        client.force_login(user)
        return client

    return make


def messages_of(response) -> list[tuple[str, str]]:
    return [(m.level_tag, str(m)) for m in get_messages(response.wsgi_request)]


def page(response) -> str:
    return response.content.decode()


def detail(peering: Peering) -> str:
    return reverse("peerings:detail", args=[peering.pk])


def action(name: str, peering: Peering) -> str:
    return reverse(f"peerings:{name}", args=[peering.pk])


def listed(response) -> list[str]:
    """Names of the peerings a page's tables link to, in order."""
    return re.findall(r'<td><a href="/peerings/\d+/">([^<]+)</a></td>', page(response))


def request_data(tenant: Tenant, request_vpc, accept_vpc, **extra) -> dict:
    """The request form as a browser posts it, from simulator VPCs (accept_project_id left to extra)."""
    data = {
        "tenant": tenant.pk,
        "request_vpc_id": str(getattr(request_vpc, "vpc_id", request_vpc)),
        "accept_vpc_id": str(getattr(accept_vpc, "vpc_id", accept_vpc)),
        "accept_project_id": "",
        "name": "web-to-peer",
        "description": "",
    }
    return {**data, **extra}


def nothing_saved() -> None:
    """No peering, no status change and no call but the VPC lists that fill the form; nothing in the cloud."""
    assert not Peering.objects.exists()
    assert not StatusChange.objects.exists()
    assert not UpstreamCall.objects.exclude(operation=CallOperation.LIST_VPCS).exists()
    assert not UpstreamCall.objects.filter(peering__isnull=False).exists()
    assert not SimPeering.objects.exists()


@pytest.fixture
def foreign(db) -> Peering:
    """A peering between two tenants nobody in these tests belongs to."""
    return PeeringFactory(name="someone-elses")


# --- URLs, sign-in, login required ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "namespace"),
    [
        ("/", "peerings"),
        ("/peerings/", "peerings"),
        ("/peerings/new/", "peerings"),
        ("/peerings/7/accept/", "peerings"),
        ("/accounts/login/", ""),
        ("/v2.0/vpc/peerings", "vpcsim"),
        ("/v2.0/vpc/peerings/7", "vpcsim"),
        (f"/v1/{uuid.uuid4().hex}/vpcs", "vpcsim"),
        ("/api/v1/peerings/", "api"),
    ],
)
def test_portal_urls_leave_the_simulators_paths_alone(path, namespace):
    assert resolve(path).namespace == namespace


def test_login_page_and_sign_in(client, acme_member):
    response = client.get(reverse("login"))
    assert response.status_code == 200
    assert '<label for="id_username">' in page(response)

    response = client.post(reverse("login"), {"username": "alice", "password": "wrong"})
    assert response.status_code == 200
    assert "enter a correct username and password" in page(response)

    response = client.post(reverse("login"), {"username": "alice", "password": PASSWORD})
    assert response.status_code == 302
    assert response.url == reverse("peerings:dashboard")
    assert client.get(reverse("peerings:dashboard")).context["user"] == acme_member


def test_sign_out_is_a_post(as_user, acme_member):
    client = as_user(acme_member)
    assert "Sign out" in page(client.get(reverse("peerings:dashboard")))
    response = client.post(reverse("logout"))
    assert response.status_code == 302
    assert response.url == reverse("login")
    assert client.get(reverse("peerings:dashboard")).status_code == 302


@pytest.mark.parametrize(
    ("name", "method"),
    [
        ("dashboard", "get"),
        ("list", "get"),
        ("request", "get"),
        ("request", "post"),
        ("detail", "get"),
        ("edit", "get"),
        ("edit", "post"),
        ("accept", "post"),
        ("reject", "post"),
        ("refresh", "post"),
        ("delete", "get"),
        ("delete", "post"),
    ],
)
def test_anonymous_is_sent_to_sign_in(client, name, method):
    peering = PeeringFactory()
    args = [] if name in {"dashboard", "list", "request"} else [peering.pk]
    url = reverse(f"peerings:{name}", args=args)
    response = getattr(client, method)(url)
    assert response.status_code == 302
    assert response.url == f"{reverse('login')}?next={url}"
    assert Peering.objects.get().status == S.PENDING_ACCEPTANCE


def test_every_page_renders_for_a_member(cloud, as_user, acme_member, pending):
    client = as_user(acme_member)
    pages = {
        reverse("peerings:dashboard"): "Your tenants",
        reverse("peerings:list"): "web-to-globex",
        reverse("peerings:request"): "prod-web — 10.1.0.0/16",
        detail(pending): "Status history",
        action("edit", pending): "Rename or edit the description",
        action("delete", pending): "Yes, delete it",
    }
    for url, text in pages.items():
        response = client.get(url)
        assert response.status_code == 200, url
        assert text in page(response), url
        html = page(response)
        assert '<html lang="en">' in html
        assert 'href="/api/v1/docs/"' in html
        assert 'href="/admin/"' not in html  # not staff


def test_staff_see_the_admin_link(as_user, acme_member):
    acme_member.is_staff = True
    acme_member.save()
    assert 'href="/admin/"' in page(as_user(acme_member).get(reverse("peerings:dashboard")))


def test_action_urls_refuse_get(as_user, acme_member, acme_prod):
    peering = PeeringFactory(requester_tenant=acme_prod)
    client = as_user(acme_member)
    for name in ("accept", "reject", "refresh"):
        assert client.get(action(name, peering)).status_code == 405


def test_posts_need_the_csrf_token(as_user, globex_approver, globex_main):
    peering = PeeringFactory(accepter_tenant=globex_main)
    response = as_user(globex_approver, csrf=True).post(action("accept", peering), {"accept-reason": "ok"})
    assert response.status_code == 403
    assert Peering.objects.get().status == S.PENDING_ACCEPTANCE


# --- Tenant walls ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "method"),
    [
        ("detail", "get"),
        ("edit", "get"),
        ("edit", "post"),
        ("accept", "post"),
        ("reject", "post"),
        ("refresh", "post"),
        ("delete", "get"),
        ("delete", "post"),
    ],
)
def test_another_tenants_peering_is_not_found(as_user, acme_member, foreign, name, method):
    response = getattr(as_user(acme_member), method)(
        action(name, foreign), {"name": "x", "reject-reason": "x"}
    )
    assert response.status_code == 404
    foreign.refresh_from_db()
    assert (foreign.status, foreign.name) == (S.PENDING_ACCEPTANCE, "someone-elses")
    assert not UpstreamCall.objects.exists()


def test_lists_show_only_the_users_tenants_peerings(as_user, acme_member, acme_prod, foreign):
    PeeringFactory(name="mine", requester_tenant=acme_prod)
    PeeringFactory(name="addressed-to-me", accepter_tenant=acme_prod)
    client = as_user(acme_member)
    assert sorted(listed(client.get(reverse("peerings:list")))) == ["addressed-to-me", "mine"]
    dashboard = client.get(reverse("peerings:dashboard"))
    assert sorted(listed(dashboard)) == ["addressed-to-me", "mine"]
    assert "someone-elses" not in page(dashboard)


def test_a_user_without_tenant_is_told_so(as_user, outsider):
    client = as_user(outsider)
    assert "not a member of any tenant" in page(client.get(reverse("peerings:dashboard")))
    response = client.get(reverse("peerings:request"))
    assert response.status_code == 200
    assert "not a member of any tenant" in page(response)
    assert not UpstreamCall.objects.exists()


# --- Dashboard ---------------------------------------------------------------------------------------------


def test_dashboard_shows_roles_and_what_waits_for_the_approver(
    as_user, globex_approver, globex_member, globex_main, acme_prod
):
    waiting = PeeringFactory(name="please-accept", requester_tenant=acme_prod, accepter_tenant=globex_main)
    PeeringFactory(name="already-active", accepter_tenant=globex_main, status=S.ACTIVE)
    PeeringFactory(name="outgoing", requester_tenant=globex_main, accepter_tenant=acme_prod)

    response = as_user(globex_approver).get(reverse("peerings:dashboard"))
    assert [m.role for m in response.context["memberships"]] == [Role.APPROVER]
    assert "globex-main" in page(response)
    assert '<span class="role role-approver">Approver</span>' in page(response)
    assert response.context["waiting"] == [waiting]
    assert {p.name for p in response.context["recent"]} == {"please-accept", "already-active", "outgoing"}

    # A member of the same tenant decides nothing.
    response = as_user(globex_member).get(reverse("peerings:dashboard"))
    assert response.context["waiting"] == []
    assert "you are not an approver" in page(response)


# --- The list: filters and pages -----------------------------------------------------------------------


@pytest.fixture
def mixed(acme_prod, acme_dev, acme_member):
    """alice belongs to acme-prod and acme-dev; peerings in several statuses and directions."""
    MembershipFactory(user=acme_member, tenant=acme_dev)
    other = TenantFactory(name="other")
    return {
        "out-pending": PeeringFactory(name="out-pending", requester_tenant=acme_prod, accepter_tenant=other),
        "out-active": PeeringFactory(
            name="out-active", requester_tenant=acme_dev, accepter_tenant=other, status=S.ACTIVE
        ),
        "in-rejected": PeeringFactory(
            name="in-rejected", requester_tenant=other, accepter_tenant=acme_prod, status=S.REJECTED
        ),
    }


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({}, ["in-rejected", "out-active", "out-pending"]),
        ({"status": [S.ACTIVE, S.REJECTED]}, ["in-rejected", "out-active"]),
        ({"direction": "outgoing"}, ["out-active", "out-pending"]),
        ({"direction": "incoming"}, ["in-rejected"]),
        ({"name": "PEND"}, ["out-pending"]),
        ({"tenant": "acme-dev"}, ["out-active"]),
        ({"status": S.PENDING_ACCEPTANCE, "direction": "incoming"}, []),
    ],
)
def test_list_filters(as_user, acme_member, acme_dev, mixed, query, expected):
    if query.get("tenant") == "acme-dev":
        query = {**query, "tenant": str(acme_dev.pk)}
    response = as_user(acme_member).get(reverse("peerings:list"), query)
    assert response.status_code == 200
    assert sorted(listed(response)) == expected


def test_list_filter_form_offers_the_users_tenants(as_user, acme_member, mixed, acme_dev):
    html = page(as_user(acme_member).get(reverse("peerings:list"), {"tenant": acme_dev.pk}))
    assert f'<option value="{acme_dev.pk}" selected>acme-dev</option>' in html
    assert ">other<" not in html.split("<table")[0]  # not the user's tenant: not offered
    assert 'type="checkbox" name="status" value="ACTIVE"' in html
    assert '<label for="id_direction">Direction:</label>' in html
    assert '<option value="" selected>Any direction</option>' in html
    assert '<label for="id_tenant">Tenant:</label>' in html
    assert "invalid name" not in html


def test_list_shows_filter_errors(as_user, acme_member, mixed):
    response = as_user(acme_member).get(reverse("peerings:list"), {"status": "BOGUS"})
    assert response.status_code == 200
    assert "Select a valid choice. BOGUS is not one of the available choices." in page(response)


def test_list_is_paginated_and_keeps_the_filters(as_user, acme_member, acme_prod):
    for n in range(30):
        PeeringFactory(name=f"p{n:02}", requester_tenant=acme_prod, status=S.ACTIVE)
    PeeringFactory(name="pending-one", requester_tenant=acme_prod)
    client = as_user(acme_member)
    first = client.get(reverse("peerings:list"), {"status": S.ACTIVE})
    assert len(listed(first)) == 25
    assert "Page 1 of 2 (30 peerings)" in page(first)
    assert 'href="?status=ACTIVE&amp;page=2"' in page(first)
    second = client.get(reverse("peerings:list"), {"status": S.ACTIVE, "page": 2})
    assert len(listed(second)) == 5
    assert set(listed(first)).isdisjoint(listed(second))
    assert "pending-one" not in listed(first) + listed(second)


# --- The request form ------------------------------------------------------------------------------------


def test_request_form_lists_the_tenants_vpcs_from_the_cloud(cloud, as_user, acme_member, prod_web, prod_db):
    response = as_user(acme_member).get(reverse("peerings:request"))
    html = page(response)
    assert f'<option value="{prod_web.vpc_id}">prod-web — 10.1.0.0/16</option>' in html
    assert f'<option value="{prod_db.vpc_id}">prod-db — 10.2.0.0/16</option>' in html
    assert 'type="hidden" name="tenant"' in html  # one tenant: no select
    assert UpstreamCall.objects.get().operation == CallOperation.LIST_VPCS


def test_request_form_tenant_select_and_preselection(
    cloud, as_user, acme_member, acme_prod, acme_dev, dev_app, prod_web
):
    MembershipFactory(user=acme_member, tenant=acme_dev)
    client = as_user(acme_member)
    html = page(client.get(reverse("peerings:request")))
    assert '<select name="tenant"' in html
    assert f'<option value="{acme_dev.pk}" selected>acme-dev</option>' in html  # the first by name
    assert "dev-app — 10.10.0.0/16" in html
    assert "prod-web" not in html

    html = page(client.get(reverse("peerings:request"), {"tenant": acme_prod.pk}))
    assert f'<option value="{acme_prod.pk}" selected>acme-prod</option>' in html
    assert "prod-web — 10.1.0.0/16" in html
    assert "dev-app" not in html


def test_request_same_account_is_active_at_once(
    cloud, as_user, acme_member, acme_prod, acme_dev, prod_web, dev_app
):
    data = request_data(acme_prod, prod_web, dev_app, accept_project_id=acme_dev.project_id)
    response = as_user(acme_member).post(reverse("peerings:request"), {**data, "description": "prod to dev"})
    peering = Peering.objects.get()
    assert response.status_code == 302
    assert response.url == detail(peering)
    assert (peering.status, peering.description, peering.requested_by) == (
        S.ACTIVE,
        "prod to dev",
        acme_member,
    )
    assert peering.status_changes.filter(source=ChangeSource.USER).count() == 2
    assert messages_of(response) == [("success", "Peering “web-to-peer” requested: it is Active.")]


def test_request_cross_account_waits_for_acceptance(
    cloud, as_user, acme_member, acme_prod, globex_main, prod_web, globex_app
):
    data = request_data(acme_prod, prod_web, globex_app, accept_project_id=globex_main.project_id)
    response = as_user(acme_member).post(reverse("peerings:request"), data, follow=True)
    assert response.status_code == 200
    peering = Peering.objects.get()
    assert (peering.status, peering.accepter_tenant) == (S.PENDING_ACCEPTANCE, globex_main)
    assert "Pending acceptance" in page(response)


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"name": "  "}, "name", NAME_REQUIRED),
        ({"description": "<b>bold</b>"}, "description", DESCRIPTION_FORBIDDEN_CHARACTERS),
        ({"accept_vpc_id": "not-a-vpc"}, "accept_vpc_id", VPC_ID_INVALID),
        ({"accept_vpc_id": "same"}, "accept_vpc_id", SAME_VPC),
        ({"accept_project_id": "xyz"}, "accept_project_id", PROJECT_ID_INVALID),
        ({"accept_project_id": ""}, "accept_project_id", ACCEPT_PROJECT_REQUIRED),
        ({"request_vpc_id": "globex"}, "request_vpc_id", REQUEST_VPC_NOT_OWNED),
    ],
)
def test_request_errors_land_on_their_field_and_nothing_is_saved(
    cloud, as_user, acme_member, acme_prod, globex_main, prod_web, globex_app, change, field, message
):
    data = request_data(acme_prod, prod_web, globex_app, accept_project_id=globex_main.project_id)
    if change.get("accept_vpc_id") == "same":
        change = {"accept_vpc_id": str(prod_web.vpc_id), "accept_project_id": ""}
    if change.get("request_vpc_id") == "globex":
        change = {
            "request_vpc_id": str(globex_app.vpc_id),
            "accept_vpc_id": str(prod_web.vpc_id),
            "accept_project_id": "",
        }
    response = as_user(acme_member).post(reverse("peerings:request"), {**data, **change})
    assert response.status_code == 200
    form = response.context["form"]
    assert form.errors == {field: [message]}
    assert escape(message) in page(response)
    assert 'aria-invalid="true"' in page(response)
    # The form keeps what was typed and lists the VPCs again.
    assert "prod-web — 10.1.0.0/16" in page(response)
    nothing_saved()


def test_request_of_a_pair_already_open(cloud, as_user, acme_member, pending, acme_prod, globex_main):
    data = request_data(
        acme_prod, pending.requester_vpc_id, pending.accepter_vpc_id, accept_project_id=globex_main.project_id
    )
    response = as_user(acme_member).post(reverse("peerings:request"), data)
    assert response.context["form"].errors == {"accept_vpc_id": [PAIR_ALREADY_OPEN]}
    assert Peering.objects.count() == 1


def test_overlap_warning_then_confirm(cloud, as_user, acme_member, acme_prod, globex_main, prod_web):
    inner = SimVpcFactory(project=globex_main_project(globex_main), name="globex-inner", cidr="10.1.128.0/17")
    data = request_data(acme_prod, prod_web, inner, accept_project_id=globex_main.project_id)
    client = as_user(acme_member)

    response = client.post(reverse("peerings:request"), data)
    warning = CIDR_NESTED_HIDDEN.format(local="10.1.0.0/16")  # alice is not a member of globex-main
    assert response.context["form"].errors == {"confirm_overlap": [warning]}
    assert 'name="confirm_overlap"' in page(response)
    assert "The address ranges overlap" in page(response)
    nothing_saved()

    response = client.post(reverse("peerings:request"), {**data, "confirm_overlap": "on"})
    peering = Peering.objects.get()
    assert response.url == detail(peering)
    assert peering.status == S.PENDING_ACCEPTANCE


def globex_main_project(tenant: Tenant):
    from vpcsim.models import Project

    return Project.objects.get(project_id=tenant.project_id)


def test_the_confirm_box_is_hidden_until_needed(cloud, as_user, acme_member):
    html = page(as_user(acme_member).get(reverse("peerings:request")))
    assert 'name="confirm_overlap"' not in html


def test_request_form_shows_a_cloud_outage(cloud, as_user, acme_member, acme_prod, closed_port):
    acme_prod.endpoint = f"http://127.0.0.1:{closed_port}"
    acme_prod.save()
    response = as_user(acme_member).get(reverse("peerings:request"))
    assert response.status_code == 200
    html = page(response)
    assert "The VPCs of acme-prod could not be listed." in html
    assert "The cloud&#x27;s VPC API is unavailable" in html
    assert re.search(r'<button type="submit" class="button"\s+disabled>Request the peering', html)
    assert UpstreamCall.objects.get().status_code is None


def test_request_kept_when_the_cloud_is_down(
    cloud_proxy, as_user, acme_member, acme_prod, globex_main, prod_web, globex_app
):
    acme_prod.endpoint = cloud_proxy.url
    acme_prod.save()
    cloud_proxy.modes["POST /v2.0/vpc/peerings"] = "503"
    data = request_data(acme_prod, prod_web, globex_app, accept_project_id=globex_main.project_id)
    response = as_user(acme_member).post(reverse("peerings:request"), data)

    assert response.status_code == 200
    html = page(response)
    assert "The cloud&#x27;s VPC API is unavailable (VPC.0500): Service unavailable" in html
    peering = Peering.objects.get()
    assert peering.status == S.SUBMITTING
    assert response.context["kept"] == peering
    assert f'<a href="{detail(peering)}">web-to-peer</a>' in html
    assert "to refresh it" in html
    create = UpstreamCall.objects.get(operation=CallOperation.CREATE)
    assert (create.peering, create.status_code) == (peering, 503)


def test_request_refused_by_the_cloud_is_kept_as_failed(cloud, as_user, acme_member, acme_prod, prod_web):
    # A project outside the portal: only the cloud can tell that the VPC is not there.
    data = request_data(acme_prod, prod_web, uuid.uuid4(), accept_project_id=uuid.uuid4().hex)
    response = as_user(acme_member).post(reverse("peerings:request"), data)
    peering = Peering.objects.get()
    assert peering.status == S.FAILED
    html = page(response)
    assert f"The cloud refused the request ({peering.error_code}): {escape(peering.error_message)}" in html
    assert f'<a href="{detail(peering)}">web-to-peer</a>' in html
    # The detail page shows why it failed.
    html = page(as_user(acme_member).get(detail(peering)))
    assert "The cloud refused this peering" in html
    assert peering.error_code in html
    assert "This request is failed." in html  # nothing to do with it but ask again
    assert "Request again…" in html


def test_request_again_opens_the_form_filled_with_the_same_request(
    as_user, acme_member, acme_prod, globex_member
):
    peer = Tenant.objects.create(name="peer", project_id=uuid.uuid4().hex, access_key="AK", secret_key="SK")
    peering = PeeringFactory(
        requester_tenant=acme_prod,
        accepter_tenant=peer,
        status=S.REJECTED,
        name="again",
        description="for the batch jobs",
    )
    html = page(as_user(acme_member).get(detail(peering)))
    link = re.search(r'href="([^"]+)">Request again…', html).group(1).replace("&amp;", "&")
    path, _, query = link.partition("?")
    assert path == reverse("peerings:request")
    params = dict(pair.split("=", 1) for pair in query.split("&"))
    assert params == {
        "tenant": str(acme_prod.pk),
        "request_vpc_id": str(peering.requester_vpc_id),
        "accept_vpc_id": str(peering.accepter_vpc_id),
        "name": "again",
        "description": "for+the+batch+jobs",
        "accept_project_id": peer.project_id,
        "peer_tenant": str(peer.pk),
    }
    form = page(as_user(acme_member).get(link))
    assert 'value="again"' in form
    assert "for the batch jobs</textarea>" in form
    assert f'value="{peering.accepter_vpc_id}"' in form
    # The accepter's side (and a request still open) is offered nothing of the kind.
    MembershipFactory(user=globex_member, tenant=peer)
    assert "Request again" not in page(as_user(globex_member).get(detail(peering)))
    peering.status = S.PENDING_ACCEPTANCE
    peering.save()
    assert "Request again" not in page(as_user(acme_member).get(detail(peering)))


# --- Detail and actions ----------------------------------------------------------------------------------


def buttons(response) -> set[str]:
    """The action URLs a detail page offers (forms and links)."""
    html = page(response)
    return set(re.findall(r'(?:action|href)="/peerings/\d+/(accept|reject|edit|refresh|delete)/"', html))


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        ("acme_member", {"edit", "refresh", "delete"}),
        ("globex_member", {"edit", "refresh"}),
        ("globex_approver", {"accept", "reject", "edit", "refresh", "delete"}),
    ],
)
def test_detail_offers_the_actions_of_the_users_role(request, as_user, pending, who, expected):
    response = as_user(request.getfixturevalue(who)).get(detail(pending))
    assert buttons(response) == expected


def test_detail_offers_nothing_on_a_deleted_peering(as_user, acme_member, acme_prod):
    peering = PeeringFactory(requester_tenant=acme_prod, status=S.DELETED)
    assert buttons(as_user(acme_member).get(detail(peering))) == set()


def test_detail_shows_the_peering_and_its_history(as_user, pending, acme_member, globex_main):
    html = page(as_user(acme_member).get(detail(pending)))
    for text in (
        "web-to-globex",
        '<span class="badge status-pending_acceptance">Pending acceptance</span>',
        pending.upstream_id,
        str(pending.requester_vpc_id),
        str(pending.accepter_vpc_id),
        globex_main.project_id,
        "by alice",
        "Requested.",  # the status change's reason
        "Create peering",  # the call's operation
    ):
        assert text in html, text
    assert UpstreamCall.objects.get(operation=CallOperation.CREATE).correlation_id in html


def test_accept_with_a_reason(as_user, pending, globex_approver):
    response = as_user(globex_approver).post(action("accept", pending), {"accept-reason": "Looks right"})
    assert response.status_code == 302
    assert response.url == detail(pending)
    assert messages_of(response) == [("success", "Peering accepted.")]
    pending.refresh_from_db()
    assert (pending.status, pending.decided_by, pending.decision_reason) == (
        S.ACTIVE,
        globex_approver,
        "Looks right",
    )
    change = pending.status_changes.order_by("-id").first()
    assert (change.new_status, change.reason, change.source) == (S.ACTIVE, "Looks right", ChangeSource.USER)
    assert SimPeering.objects.get().status == S.ACTIVE


def test_reject_needs_a_reason(as_user, pending, globex_approver):
    client = as_user(globex_approver)
    response = client.post(action("reject", pending), {"reject-reason": "  "}, follow=True)
    # Refused: back on the peering's own URL (not …/reject/), the reason's error in place.
    assert response.redirect_chain == [(detail(pending), 302)]
    assert response.status_code == 200
    assert response.context["reject_form"].errors == {"reason": [REASON_REQUIRED]}
    assert escape(REASON_REQUIRED) in page(response)
    pending.refresh_from_db()
    assert pending.status == S.PENDING_ACCEPTANCE

    response = client.post(action("reject", pending), {"reject-reason": "Wrong VPC"}, follow=True)
    pending.refresh_from_db()
    assert (pending.status, pending.decision_reason) == (S.REJECTED, "Wrong VPC")
    assert messages_of(response) == [("success", "Peering rejected.")]
    assert "Wrong VPC" in page(response)


@pytest.mark.parametrize("who", ["acme_member", "acme_approver", "globex_member"])
def test_only_the_accepters_approver_decides(request, as_user, pending, who):
    client = as_user(request.getfixturevalue(who))
    response = client.post(action("accept", pending), {"accept-reason": ""})
    assert response.status_code == 302
    assert messages_of(response) == [("error", NOT_AN_APPROVER)]
    pending.refresh_from_db()
    assert pending.status == S.PENDING_ACCEPTANCE
    assert not UpstreamCall.objects.filter(operation=CallOperation.ACCEPT).exists()


def test_accepting_an_active_peering_is_refused(as_user, active, acme_approver):
    response = as_user(acme_approver).post(action("accept", active), {})
    level, text = messages_of(response)[0]
    assert level == "error"
    assert text == "Only a peering pending acceptance can be accepted; this one is Active."


def test_rename_and_describe(as_user, pending, globex_member):
    client = as_user(globex_member)
    form = client.get(action("edit", pending)).context["form"]
    assert form.initial == {"name": "web-to-globex", "description": "web to globex"}
    response = client.post(action("edit", pending), {"name": "web-to-app", "description": "For the app"})
    assert response.url == detail(pending)
    assert messages_of(response) == [("success", "Peering “web-to-app” updated.")]
    pending.refresh_from_db()
    assert (pending.name, pending.description) == ("web-to-app", "For the app")
    sim = SimPeering.objects.get()
    assert (sim.name, sim.description) == ("web-to-app", "For the app")
    # The accepter's member acted with the accepter's keys.
    assert UpstreamCall.objects.get(operation=CallOperation.UPDATE).tenant.name == "globex-main"


@pytest.mark.parametrize(
    ("data", "errors"),
    [
        ({"name": "web-to-globex", "description": "web to globex"}, {"__all__": [UPDATE_NOTHING]}),
        (
            {"name": "web-to-globex", "description": "a <b>"},
            {"description": [DESCRIPTION_FORBIDDEN_CHARACTERS]},
        ),
        ({"name": "", "description": ""}, {"name": [NAME_REQUIRED]}),
    ],
)
def test_edit_errors(as_user, pending, acme_member, data, errors):
    response = as_user(acme_member).post(action("edit", pending), data)
    assert response.status_code == 200
    assert response.context["form"].errors == errors
    assert not UpstreamCall.objects.filter(operation=CallOperation.UPDATE).exists()


def test_refresh(as_user, active, acme_member):
    before = active.last_synced_at
    response = as_user(acme_member).post(action("refresh", active))
    assert messages_of(response) == [("success", "Peering refreshed from the cloud. It is active.")]
    active.refresh_from_db()
    assert active.last_synced_at > before
    show = UpstreamCall.objects.get(operation=CallOperation.SHOW)
    assert (show.acting_user, show.status_code) == (acme_member, 200)


def test_refresh_reports_a_cloud_outage(as_user, active, acme_member, acme_prod, closed_port):
    acme_prod.endpoint = f"http://127.0.0.1:{closed_port}"
    acme_prod.save()
    response = as_user(acme_member).post(action("refresh", active), follow=True)
    [(level, text)] = messages_of(response)
    assert level == "error"
    assert text == (
        "The cloud's VPC API is unavailable (ConnectionError): Could not connect to the VPC API. "
        "Try again later."
    )
    assert "The last call to the cloud failed" in page(response)


def test_delete_asks_first_then_deletes(as_user, active, acme_member):
    client = as_user(acme_member)
    response = client.get(action("delete", active))
    assert "Yes, delete it" in page(response)
    active.refresh_from_db()
    assert active.status == S.ACTIVE  # asking changes nothing

    response = client.post(action("delete", active), follow=True)
    active.refresh_from_db()
    assert active.status == S.DELETED
    assert messages_of(response) == [("success", "Peering deleted.")]
    assert not SimPeering.objects.exclude(status=S.DELETED).exists()
    assert buttons(response) == set()

    response = client.post(action("delete", active))
    [(level, text)] = messages_of(response)
    assert (level, text) == ("error", "This peering is Deleted: there is nothing more to do with it.")


# --- Query counts ----------------------------------------------------------------------------------------


def count_queries(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def _grow_peerings(tenant, n: int) -> None:
    other = TenantFactory()
    for i in range(n):
        PeeringFactory(
            requester_tenant=other if i % 2 else tenant,
            accepter_tenant=tenant if i % 2 else other,
            requested_by=UserFactory(),
            decided_by=UserFactory(),
        )


@pytest.mark.parametrize("name", ["list", "dashboard"])
def test_list_pages_run_as_many_queries_for_20_rows_as_for_2(as_user, me, home, name):
    client = as_user(me)
    url = reverse(f"peerings:{name}")
    _grow_peerings(home, 2)
    few = count_queries(client, url)
    _grow_peerings(home, 18)
    assert count_queries(client, url) == few


def test_detail_runs_as_many_queries_for_20_history_rows_as_for_2(as_user, me, home):
    peering = PeeringFactory(requester_tenant=home, requested_by=me)
    client = as_user(me)

    def grow(n: int) -> None:
        for _ in range(n):
            StatusChangeFactory(peering=peering, actor=UserFactory())
            UpstreamCallFactory(peering=peering, tenant=TenantFactory(), acting_user=UserFactory())

    grow(2)
    few = count_queries(client, detail(peering))
    grow(18)
    assert count_queries(client, detail(peering)) == few
    assert page(client.get(detail(peering))).count("<time") >= 40
