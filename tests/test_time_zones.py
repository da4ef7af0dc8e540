"""One way to write a time, with its zone, in the pages and the admin; each user picks the zone."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import Preferences
from peerings.models import Peering
from tests.factories import MembershipFactory, PeeringFactory

pytestmark = pytest.mark.django_db

WHEN = dt.datetime(2026, 1, 15, 12, 30, 5, tzinfo=dt.UTC)


@pytest.fixture
def peering(db):
    membership = MembershipFactory(user__username="zoe")
    peering = PeeringFactory(requester_tenant=membership.tenant, name="timed")
    Peering.objects.filter(pk=peering.pk).update(created_at=WHEN)
    return Peering.objects.get(pk=peering.pk), membership.user


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_times_are_shown_in_utc_by_default_with_the_zone(peering):
    peering, user = peering
    client = signed_in(user)
    for url in (
        reverse("peerings:list"),
        reverse("peerings:detail", args=[peering.pk]),
        reverse("peerings:dashboard"),
    ):
        html = client.get(url).content.decode()
        assert "2026-01-15 12:30:05 UTC" in html, url
        assert "Times in UTC" in html


def test_a_user_picks_their_zone(peering):
    peering, user = peering
    client = signed_in(user)
    response = client.post(reverse("preferences"), {"time_zone": "Europe/Paris"})
    assert response.status_code == 302
    assert Preferences.objects.get(user=user).time_zone == "Europe/Paris"
    html = client.get(reverse("peerings:detail", args=[peering.pk])).content.decode()
    assert "2026-01-15 13:30:05 CET" in html
    assert "Times in Europe/Paris" in html
    # A new session (another sign-in) finds the zone again.
    html = signed_in(user).get(reverse("peerings:list")).content.decode()
    assert "2026-01-15 13:30:05 CET" in html


def test_an_ambiguous_abbreviation_comes_with_its_offset(peering):
    peering, user = peering
    Preferences.objects.create(user=user, time_zone="Asia/Shanghai")
    html = signed_in(user).get(reverse("peerings:detail", args=[peering.pk])).content.decode()
    # "CST" alone could be China's (+0800) or Central America's (-0600).
    assert "2026-01-15 20:30:05 CST +0800" in html


def test_an_unknown_zone_is_refused(peering):
    _, user = peering
    response = signed_in(user).post(reverse("preferences"), {"time_zone": "Mars/Olympus"})
    assert response.status_code == 200
    assert response.context["form"].errors["time_zone"]
    assert not Preferences.objects.exists()


def test_the_admin_writes_times_the_same_way(admin_client, admin_user, peering):
    peering, _ = peering
    html = admin_client.get(reverse("admin:peerings_peering_changelist")).content.decode()
    assert "2026-01-15 12:30:05 UTC" in html
    Preferences.objects.create(user=admin_user, time_zone="Asia/Tokyo")
    admin_client.force_login(admin_user)  # the zone is read at sign-in
    html = admin_client.get(reverse("admin:peerings_peering_change", args=[peering.pk])).content.decode()
    assert "2026-01-15 21:30:05 JST" in html


def test_no_page_uses_another_time_format():
    from pathlib import Path

    for template in Path("templates").rglob("*.html"):
        formats = re.findall(r'\|date:"([^"]+)"', template.read_text())
        assert set(formats) <= {"DATETIME_FORMAT"}, template
