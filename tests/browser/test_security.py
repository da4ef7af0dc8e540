"""In a real browser: the Content-Security-Policy blocks nothing the portal needs; a lockout reads clearly."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.factories import UserFactory

pytestmark = pytest.mark.browser


def _violations(page) -> list[str]:
    messages: list[str] = []
    page.on(
        "console",
        lambda message: (
            messages.append(message.text)
            if "Content Security Policy" in message.text or "Refused to" in message.text
            else None
        ),
    )
    return messages


def test_pages_admin_and_api_docs_render_under_the_policy(sign_in, portal, acme_member):
    acme_member.is_staff = acme_member.is_superuser = True
    acme_member.save()
    page = sign_in(acme_member.username)
    violations = _violations(page)

    page.goto(f"{portal}/api/v1/docs/")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("VPC peering portal API")
    expect(page.locator(".opblock").first).to_be_visible()
    page.locator(".opblock-summary").first.click()  # expand an operation: more of Swagger UI's code runs
    expect(page.locator(".opblock-body").first).to_be_visible()

    for path in [
        "/",
        "/peerings/",
        "/peerings/new/",
        "/admin/",
        "/admin/peerings/peering/",
        "/admin/accounts/apitoken/add/",
    ]:
        page.goto(f"{portal}{path}")
        expect(page.locator("body")).to_be_visible()
    assert violations == []


def test_lockout_message_on_the_sign_in_page(new_page, portal, settings, db):
    settings.AXES_FAILURE_LIMIT = 2
    UserFactory(username="mallory")
    page = new_page()
    for password in ["wrong", "wrong", "correct horse battery staple"]:
        page.goto(f"{portal}/accounts/login/")
        page.get_by_label("Username").fill("mallory")
        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Sign-in locked")).to_be_visible()
    expect(page.get_by_role("alert")).to_contain_text("Too many failed sign-in attempts")
