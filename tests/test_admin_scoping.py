"""Tenant walls in the admin: staff tied to tenants see and act on their tenants' rows only.

Per admin page: the changelist lists only the rows of the staff member's tenants, a row
outside opens on nothing (a redirect), and the actions never reach it; superusers see all.
"""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from notifications.models import Delivery, Event, NotificationPreference, WebhookEndpoint
from peerings.choices import Role
from peerings.models import Membership
from tests.factories import (
    MembershipFactory,
    PeeringFactory,
    StatusChangeFactory,
    TenantFactory,
    UpstreamCallFactory,
    UserFactory,
)

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
