"""The simulator's read-only admin: pages render, nothing can be added, secret keys never show."""

from __future__ import annotations

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("model", ["account", "project", "vpc", "peering", "route"])
def test_changelists_render_without_add(admin_client, make_peering, alpha, beta, model):
    make_peering(alpha, beta)

    response = admin_client.get(reverse(f"admin:vpcsim_{model}_changelist"))

    assert response.status_code == 200
    assert admin_client.get(reverse(f"admin:vpcsim_{model}_add")).status_code == 403


def test_account_page_shows_the_access_key_but_not_the_secret(admin_client, alpha):
    account = alpha.project.account

    response = admin_client.get(reverse("admin:vpcsim_account_change", args=[account.pk]))

    assert response.status_code == 200
    assert alpha.access_key in response.content.decode()
    assert alpha.secret_key not in response.content.decode()
