"""A staff approver in the admin, as the demo's bob: the "Approvers" group opens the screens, his tenant
roles decide what is in them (his tenants' peerings to decide, none of another tenant's, no global
settings)."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from playwright.sync_api import expect

from accounts.groups import APPROVERS
from peerings.choices import PeeringStatus as S
from peerings.choices import Role
from tests.browser.conftest import PASSWORD
from tests.factories import MembershipFactory, PeeringFactory, TenantFactory

pytestmark = pytest.mark.browser


@pytest.fixture
def staff_approver(db):
    membership = MembershipFactory(
        user__username="bob", user__is_staff=True, tenant__name="Acme", role=Role.APPROVER
    )
    membership.user.groups.add(Group.objects.get(name=APPROVERS))
    PeeringFactory(name="to-acme", status=S.PENDING_ACCEPTANCE, accepter_tenant=membership.tenant)
    PeeringFactory(name="elsewhere", status=S.ACTIVE, requester_tenant=TenantFactory(name="Initech"))
    return membership.user


def test_a_staff_approver_sees_his_tenants_in_the_admin_and_no_global_settings(
    new_page, portal, staff_approver
):
    page = new_page()
    page.goto(f"{portal}/admin/login/")
    page.get_by_label("Username").fill("bob")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Administration")).to_be_visible()
    expect(page.get_by_text("You don’t have permission to view or edit anything")).to_have_count(0)
    expect(page.get_by_role("link", name="Peerings", exact=True)).to_be_visible()
    expect(page.get_by_role("link", name="Users")).to_have_count(0)  # global: the superusers'

    page.get_by_role("link", name="Peerings", exact=True).click()
    expect(page.locator("#result_list")).to_contain_text("to-acme")
    expect(page.locator("#result_list")).not_to_contain_text("elsewhere")

    page.goto(f"{portal}/admin/peerings/tenant/")
    page.get_by_role("link", name="Acme").click()
    expect(page.locator("input[name=name]")).to_be_visible()  # he may rename his tenant
    expect(page.locator("[name=separate_duties]")).to_have_count(0)  # not turn off its duties
    expect(page.locator("[name=endpoint]")).to_have_count(0)
