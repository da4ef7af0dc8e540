"""Tenant walls in the admin: staff tied to tenants see and act on their tenants' rows only.

Per admin page: the changelist lists only the rows of the staff member's tenants, a row
outside opens on nothing (a redirect), and the actions never reach it; superusers see all.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.apps import apps
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse
from django.utils import timezone

from accounts.models import ApiToken, Preferences
from notifications.models import Delivery, Event, NotificationPreference, WebhookEndpoint
from peerings.choices import PeeringStatus, Role
from peerings.models import Membership, Tenant
from sso.models import GroupMapping, Identity, MembershipChange
from tests.factories import (
    MembershipFactory,
    PeeringFactory,
    SimAccountFactory,
    SimProjectFactory,
    SimVpcFactory,
    StatusChangeFactory,
    TenantFactory,
    UpstreamCallFactory,
    UserFactory,
    tenant_admin_form,
)
from vpcsim import models as sim_models

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    acme, globex = TenantFactory(name="acme"), TenantFactory(name="globex")
    other = TenantFactory(name="other")
    staff = UserFactory(username="sam", is_staff=True)
    staff.user_permissions.set(
        Permission.objects.filter(content_type__app_label__in=["peerings", "notifications"])
    )
    sam = MembershipFactory(user=staff, tenant=acme, role=Role.MEMBER)
    gina = MembershipFactory(user__username="gina", tenant=globex, role=Role.APPROVER)
    shared = PeeringFactory(requester_tenant=acme, accepter_tenant=globex, name="acme-globex")
    private = PeeringFactory(requester_tenant=other, accepter_tenant=globex, name="other-globex")
    acme_hook = WebhookEndpoint.objects.create(tenant=acme, url="https://acme.test/hook", secret="s1")
    globex_hook = WebhookEndpoint.objects.create(tenant=globex, url="https://globex.test/hook", secret="s2")
    shared_event = Event.objects.create(kind="peering.requested", peering=shared)
    private_event = Event.objects.create(kind="peering.requested", peering=private)
    globex_test = Event.objects.create(kind="webhook.test", endpoint=globex_hook)

    def delivery(event, channel, recipient, **kwargs):
        return Delivery.objects.create(event=event, channel=channel, recipient=recipient, **kwargs)

    rows = {
        "tenant": ([acme], [globex, other]),
        "membership": ([sam], [gina]),
        "peering": ([shared], [private]),
        "upstreamcall": (
            [
                UpstreamCallFactory(tenant=acme),
                UpstreamCallFactory(tenant=globex, peering=shared),  # globex's keys, acme's peering
            ],
            [UpstreamCallFactory(tenant=globex, peering=private), UpstreamCallFactory(tenant=other)],
        ),
        "statuschange": ([StatusChangeFactory(peering=shared)], [StatusChangeFactory(peering=private)]),
        "webhookendpoint": ([acme_hook], [globex_hook]),
        "event": ([shared_event], [private_event, globex_test]),
        "delivery": (
            [
                delivery(
                    shared_event,
                    "webhook",
                    f"webhook:{acme_hook.pk}",
                    endpoint=acme_hook,
                    address=acme_hook.url,
                ),
                delivery(shared_event, "email", f"user:{gina.user.pk}", user=gina.user),
            ],
            [
                # the same shared event, to globex's webhook: globex's business only
                delivery(
                    shared_event,
                    "webhook",
                    f"webhook:{globex_hook.pk}",
                    endpoint=globex_hook,
                    address=globex_hook.url,
                ),
                delivery(private_event, "email", f"user:{gina.user.pk}", user=gina.user),
            ],
        ),
        "notificationpreference": (
            [NotificationPreference.objects.create(user=staff)],
            [NotificationPreference.objects.create(user=gina.user)],
        ),
    }
    return {"staff": staff, "rows": rows, "acme": acme, "globex": globex, "globex_hook": globex_hook}


NOTIFICATIONS = {"webhookendpoint", "event", "delivery", "notificationpreference"}
PAGES = [
    "tenant",
    "membership",
    "peering",
    "upstreamcall",
    "statuschange",
    "webhookendpoint",
    "event",
    "delivery",
    "notificationpreference",
]


def url(model: str, view: str, *args) -> str:
    app = "notifications" if model in NOTIFICATIONS else "peerings"
    return reverse(f"admin:{app}_{model}_{view}", args=args)


def listed(client, model: str) -> set[int]:
    response = client.get(url(model, "changelist"))
    assert response.status_code == 200
    return {obj.pk for obj in response.context["cl"].result_list}


@pytest.mark.parametrize("model", PAGES)
def test_staff_see_only_their_tenants_rows(world, client, model):
    visible, hidden = world["rows"][model]
    client.force_login(world["staff"])
    assert listed(client, model) == {obj.pk for obj in visible}
    assert client.get(url(model, "change", visible[0].pk)).status_code == 200
    for obj in hidden:
        response = client.get(url(model, "change", obj.pk))
        assert response.status_code == 302, (model, obj)  # "doesn't exist. Perhaps it was deleted?"
        assert response["Location"] == reverse("admin:index")


@pytest.mark.parametrize("model", PAGES)
def test_superusers_see_everything(world, admin_client, model):
    visible, hidden = world["rows"][model]
    assert {obj.pk for obj in visible + hidden} <= listed(admin_client, model)


def test_staff_without_a_tenant_see_nothing(world, client):
    loner = UserFactory(username="lone", is_staff=True)
    loner.user_permissions.set(Permission.objects.filter(content_type__app_label="peerings"))
    client.force_login(loner)
    assert listed(client, "peering") == set()
    assert listed(client, "tenant") == set()


def test_tenant_choices_and_filters_are_scoped(world, client):
    client.force_login(world["staff"])
    page = client.get(url("membership", "changelist")).content.decode()
    assert "globex" not in page
    # A member (not an approver) of acme adds nothing to it; as its approver, to acme only,
    # not to globex, where he is a member.
    assert client.get(url("webhookendpoint", "add")).status_code == 403
    assert client.get(url("membership", "add")).status_code == 403
    Membership.objects.filter(user=world["staff"]).update(role=Role.APPROVER)
    MembershipFactory(user=world["staff"], tenant=world["globex"], role=Role.MEMBER)
    form = client.get(url("webhookendpoint", "add")).context["adminform"].form
    assert [t.name for t in form.fields["tenant"].queryset] == ["acme"]
    form = client.get(url("membership", "add")).context["adminform"].form
    assert list(form.fields["tenant"].queryset) == [world["acme"]]
    assert client.get(url("tenant", "add")).status_code == 403  # a new tenant would be out of sight


def test_actions_never_reach_rows_outside(world, client, django_capture_on_commit_callbacks):
    client.force_login(world["staff"])
    events = Event.objects.count()
    with django_capture_on_commit_callbacks():
        client.post(
            url("webhookendpoint", "changelist"),
            {"action": "send_test_event", "_selected_action": [world["globex_hook"].pk]},
        )
    assert Event.objects.count() == events  # the globex hook was not selectable

    hidden_change = world["rows"]["statuschange"][1][0]
    response = client.post(
        url("statuschange", "changelist"),
        {"action": "export_jsonl", "_selected_action": [hidden_change.pk]},
    )
    exported = b"".join(response.streaming_content) if response.streaming else b""
    assert exported == b""  # no row: the hidden one is not in the admin's queryset

    hidden_peering = world["rows"]["peering"][1][0]
    calls = hidden_peering.upstream_calls.count()
    response = client.post(
        url("peering", "changelist"),
        {"action": "refresh_selected", "_selected_action": [hidden_peering.pk]},
    )
    assert response.status_code == 302
    assert hidden_peering.upstream_calls.count() == calls  # nothing was sent for it


def test_an_events_page_shows_only_the_deliveries_within_the_walls(world, client, admin_client):
    shared_event = world["rows"]["event"][0][0]
    client.force_login(world["staff"])
    page = client.get(url("event", "change", shared_event.pk)).content.decode()
    assert "https://acme.test/hook" in page
    assert "https://globex.test/hook" not in page  # globex's webhook delivery of the same event
    page = admin_client.get(url("event", "change", shared_event.pk)).content.decode()
    assert "https://globex.test/hook" in page


def test_tenant_filters_list_every_tenant_for_superusers_and_the_rows_tenants_for_staff(world, client):
    idle = TenantFactory(name="idle")  # no peering, no call: not among the rows' tenants
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    for model in ("peering", "upstreamcall"):
        page = client.get(url(model, "changelist")).content.decode()
        assert f"tenant__id__exact={idle.pk}" in page  # every tenant, without reading every row
    client.force_login(world["staff"])
    page = client.get(url("peering", "changelist")).content.decode()
    assert f"tenant__id__exact={idle.pk}" not in page
    assert f"tenant__id__exact={world['globex'].pk}" in page  # the other side of acme's peering
    other = TenantFactory._meta.model.objects.get(name="other")
    assert f"tenant__id__exact={other.pk}" not in page  # no row of it within acme's walls


# --- Every registered admin, walked: nothing outside the walls, no global setting, for staff -----------
#
# For each model in ``admin.site._registry`` (a new admin is a new case, and fails until it has a row
# in ``WALLS``), a staff user holding every model permission of that model probes a row that is not
# theirs: another tenant's (one held for approval and addressed to the prober's tenant among them),
# another user's (a superuser's token), or a global setting (users, sign-in lockouts, the simulator).
# The probers: staff without a tenant, and staff who approve for another tenant. The changelist does
# not list it, its page does not open, a forged change, delete, add or any action leaves everything as
# it was, and no answer shows its marker.


@dataclass(frozen=True)
class Wall:
    """How to probe one admin: its foreign row, that row's marker, and a forged add."""

    foreign: Callable[[dict], Any]
    marker: str | None = None
    add: Callable[[dict], dict] = lambda estate: {}
    #: The rows a forged add must not create (default: no row of any registered model).
    forged: Callable[[dict], Any] | None = None


def _sim_peering(estate: dict) -> sim_models.Peering:
    vpc_a, vpc_b = SimVpcFactory(name="zz-sim-vpc"), SimVpcFactory()
    now = timezone.now()
    return sim_models.Peering.objects.create(
        name="zz-sim-peering",
        status="ACTIVE",
        request_vpc=vpc_a,
        request_project=vpc_a.project,
        accept_vpc=vpc_b,
        accept_project=vpc_b.project,
        created_at=now,
        updated_at=now,
    )


def _access(model: Any) -> Callable[[dict], Any]:
    fields = {"user_agent": "zz-agent", "ip_address": "203.0.113.9", "username": "zz-root"}
    fields |= {"http_accept": "*/*", "path_info": "/accounts/login/"}
    if model is AccessAttempt:
        fields |= {"get_data": "", "post_data": "", "failures_since_start": 3}
    return lambda estate: model.objects.create(**fields)


WALLS: dict[str, Wall] = {
    "peerings.Tenant": Wall(
        lambda e: e["theirs"],
        "zz-theirs",
        lambda e: tenant_admin_form(name="zz-forged", access_key="AKFORGED", secret_key="forged-sk"),
        lambda e: Tenant.objects.filter(name="zz-forged"),
    ),
    "peerings.Membership": Wall(
        lambda e: e["their_membership"],
        "zz-their-user",
        lambda e: {"user": e["prober"].pk, "tenant": e["theirs"].pk, "role": Role.APPROVER},
        lambda e: Membership.objects.filter(tenant=e["theirs"], user=e["prober"]),
    ),
    "peerings.Peering": Wall(lambda e: e["held"], "zz-held-peering"),
    "peerings.UpstreamCall": Wall(lambda e: e["call"], "zz-foreign-call"),
    "peerings.StatusChange": Wall(lambda e: e["change"], "zz-foreign-change"),
    "notifications.Event": Wall(lambda e: e["event"], "zz-held-peering"),
    "notifications.Delivery": Wall(lambda e: e["delivery"], "zz-foreign-address"),
    "notifications.WebhookEndpoint": Wall(
        lambda e: e["hook"],
        "zz-foreign-hook",
        lambda e: {"tenant": e["theirs"].pk, "url": "https://zz-forged.test/", "is_active": "on"},
        lambda e: WebhookEndpoint.objects.filter(tenant=e["theirs"]).exclude(pk=e["hook"].pk),
    ),
    "notifications.NotificationPreference": Wall(
        lambda e: NotificationPreference.objects.create(user=e["their_user"], email_enabled=True),
        "zz-their-user",
        lambda e: {"user": e["bystander"].pk},
        lambda e: NotificationPreference.objects.filter(user=e["bystander"]),
    ),
    "accounts.ApiToken": Wall(
        lambda e: ApiToken.objects.create_token(e["root"], name="zz-foreign-token")[0],
        "zz-foreign-token",
        lambda e: {"user": e["root"].pk, "name": "zz-forged-token", "expires_at_0": "", "expires_at_1": ""},
        lambda e: ApiToken.objects.filter(user=e["root"]).exclude(name="zz-foreign-token"),
    ),
    "accounts.Preferences": Wall(
        lambda e: Preferences.objects.create(user=e["root"], time_zone="Asia/Kathmandu"),
        "Kathmandu",
        lambda e: {"user": e["bystander"].pk, "time_zone": "Europe/Paris"},
        lambda e: Preferences.objects.filter(user=e["bystander"]),
    ),
    "auth.User": Wall(
        lambda e: e["root"],
        "zz-root",
        lambda e: {"username": "zz-forged", "password1": "Forged-pass-123!", "password2": "Forged-pass-123!"},
        lambda e: get_user_model().objects.filter(username="zz-forged"),
    ),
    "auth.Group": Wall(
        lambda e: Group.objects.create(name="zz-foreign-group"),
        "zz-foreign-group",
        lambda e: {"name": "zz-forged-group"},
        lambda e: Group.objects.filter(name="zz-forged-group"),
    ),
    "axes.AccessAttempt": Wall(_access(AccessAttempt), "zz-agent"),
    "axes.AccessLog": Wall(_access(AccessLog), "zz-agent"),
    "axes.AccessFailureLog": Wall(_access(AccessFailureLog), "zz-agent"),
    "vpcsim.Account": Wall(lambda e: SimAccountFactory(name="zz-sim-account"), "zz-sim-account"),
    "vpcsim.Project": Wall(lambda e: SimProjectFactory(name="zz-sim-project"), "zz-sim-project"),
    "vpcsim.Vpc": Wall(lambda e: SimVpcFactory(name="zz-sim-vpc"), "zz-sim-vpc"),
    "vpcsim.Peering": Wall(_sim_peering, "zz-sim-peering"),
    "vpcsim.Route": Wall(
        lambda e: sim_models.Route.objects.create(
            nexthop=(p := _sim_peering(e)),
            destination="198.51.100.0/24",
            vpc=p.request_vpc,
            project=p.request_project,
        ),
        "198.51.100.0/24",
    ),
    "vpcsim.FaultRule": Wall(
        lambda e: sim_models.FaultRule.objects.create(operation="create", kind="error", times=1),
        forged=lambda e: sim_models.FaultRule.objects.all(),
    ),
    # Company sign-in: which group grants which tenant role is global configuration.
    "sso.GroupMapping": Wall(
        lambda e: GroupMapping.objects.create(group="zz-idp-group", tenant=e["theirs"], role=Role.APPROVER),
        "zz-idp-group",
        lambda e: {"group": "zz-forged-group", "tenant": e["mine"].pk, "role": Role.APPROVER},
        lambda e: GroupMapping.objects.filter(group="zz-forged-group"),
    ),
    "sso.Identity": Wall(
        lambda e: Identity.objects.create(user=e["root"], issuer="https://zz-idp.test", subject="zz-subject"),
        "zz-subject",
    ),
    "sso.MembershipChange": Wall(
        lambda e: MembershipChange.objects.create(
            user=e["their_user"], tenant=e["theirs"], action="added", new_role=Role.APPROVER, source="oidc"
        ),
        "zz-their-user",
    ),
}
REGISTERED = sorted(model._meta.label for model in admin.site._registry)
PROBERS = ["staff without a tenant", "approver of another tenant"]


@pytest.fixture
def estate(no_cloud_calls):
    """Tenants ``mine`` (the prober's, when they have one) and ``theirs``; a request ``theirs``
    holds for approval, addressed to ``mine``, with its history, call, event and e-mail."""
    mine, theirs = TenantFactory(name="zz-mine"), TenantFactory(name="zz-theirs")
    their_membership = MembershipFactory(user__username="zz-their-user", tenant=theirs, role=Role.APPROVER)
    held = PeeringFactory(
        name="zz-held-peering",
        status=PeeringStatus.AWAITING_APPROVAL,
        upstream_id=None,
        requester_tenant=theirs,
        accepter_tenant=mine,
        requested_by=their_membership.user,
    )
    event = Event.objects.create(kind="peering.held", peering=held)
    return {
        "mine": mine,
        "theirs": theirs,
        "their_membership": their_membership,
        "their_user": their_membership.user,
        "held": held,
        "change": StatusChangeFactory(
            peering=held,
            old_status="",
            new_status=PeeringStatus.AWAITING_APPROVAL,
            reason="zz-foreign-change",
        ),
        "call": UpstreamCallFactory(tenant=theirs, peering=held, correlation_id="zz-foreign-call"),
        "event": event,
        "delivery": Delivery.objects.create(
            event=event,
            channel="email",
            recipient=f"user:{their_membership.user.pk}",
            user=their_membership.user,
            address="zz-foreign-address@example.com",
        ),
        "hook": WebhookEndpoint.objects.create(
            tenant=theirs, url="https://zz-foreign-hook.test/", secret="s"
        ),
        "root": UserFactory(username="zz-root", is_staff=True, is_superuser=True),
        "bystander": UserFactory(username="zz-bystander"),
    }


def _snapshot(obj: Any) -> dict | None:
    return type(obj)._default_manager.filter(pk=obj.pk).values().first()


def _counts() -> dict[str, int]:
    return {model._meta.label: model._default_manager.count() for model in admin.site._registry}


def _body(response: Any) -> str:
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content).decode()
    return response.content.decode()


@pytest.mark.parametrize("prober", PROBERS)
@pytest.mark.parametrize("label", REGISTERED)
def test_every_registered_admin_keeps_staff_within_the_walls(estate, client, rf, label, prober):
    wall = WALLS.get(label)
    assert wall is not None, f"{label} is registered in the admin but not walled here: add it to WALLS"
    model = apps.get_model(label)
    model_admin = admin.site._registry[model]
    foreign = wall.foreign(estate)
    user = UserFactory(username="zz-prober", is_staff=True)
    user.user_permissions.set(
        Permission.objects.filter(content_type=ContentType.objects.get_for_model(model))
    )
    if prober == "approver of another tenant":
        MembershipFactory(user=user, tenant=estate["mine"], role=Role.APPROVER)
    estate["prober"] = user
    client.force_login(user)
    meta = model._meta
    named = f"admin:{meta.app_label}_{meta.model_name}"
    before, counts = _snapshot(foreign), _counts()

    def shows_nothing(response: Any) -> None:
        assert response.status_code in (200, 302, 403), (label, response.status_code)
        if wall.marker is not None:
            assert wall.marker not in _body(response), label

    response = client.get(reverse(f"{named}_changelist"))
    shows_nothing(response)
    if response.status_code == 200:
        assert foreign.pk not in {row.pk for row in response.context["cl"].result_list}
    for view in ("change", "delete", "history"):
        response = client.get(reverse(f"{named}_{view}", args=[foreign.pk]))
        assert response.status_code in (302, 403), (label, view)  # "not found" or forbidden
        shows_nothing(response)
    forged = wall.add(estate)
    shows_nothing(client.post(reverse(f"{named}_change", args=[foreign.pk]), forged))
    shows_nothing(client.post(reverse(f"{named}_delete", args=[foreign.pk]), {"post": "yes"}))
    request = rf.get("/")
    request.user = estate["root"]
    for action in model_admin.get_actions(request):
        data = {"action": action, "_selected_action": [foreign.pk], "post": "yes", "reason": "forged"}
        shows_nothing(client.post(reverse(f"{named}_changelist"), {**data, "index": "0"}))
    assert (_snapshot(foreign), _counts()) == (before, counts), label

    created = wall.forged(estate) if wall.forged else None
    forged_before = list(created.values_list("pk", flat=True)) if created is not None else None
    shows_nothing(client.post(reverse(f"{named}_add"), forged))
    if created is not None:
        assert list(created.all().values_list("pk", flat=True)) == forged_before, label
    else:
        assert _counts() == counts, label
    assert _snapshot(foreign) == before, label


def test_the_walk_covers_no_admin_that_is_not_registered():
    assert set(WALLS) == set(REGISTERED)
