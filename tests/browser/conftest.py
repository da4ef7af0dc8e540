"""Browser tests: Debian's Chromium, driven by Playwright's sync API, against the live server.

Chromium must be installed (CI installs it): a missing browser fails these tests, it never
skips them. Playwright's sync API keeps an event loop running in the test thread, and Django
refuses synchronous database calls from a thread with a running loop; the browser fixture
therefore allows them (``DJANGO_ALLOW_ASYNC_UNSAFE``) for as long as it runs, and only here.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PASSWORD = "correct horse battery staple"  # tests.factories.UserFactory's


@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    if not os.path.exists(CHROMIUM):
        pytest.fail(
            f"Chromium is not installed at {CHROMIUM} (apt-get install chromium); the browser tests need it"
        )
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            yield browser
            browser.close()


@pytest.fixture
def portal(cloud) -> str:
    """The portal's base URL; the tenants' cloud (the simulator) is served by the same live server."""
    return cloud.url


@pytest.fixture
def new_page(browser: Browser) -> Iterator[Callable[[], Page]]:
    """``new_page()``: a page in a fresh browser context (its own cookies), closed after the test."""
    contexts = []

    def make() -> Page:
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        context.set_default_timeout(15_000)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def sign_in(portal: str, new_page: Callable[[], Page]) -> Callable[[str], Page]:
    """``sign_in(username)``: a new page, signed in through the login form, on the dashboard."""

    def go(username: str) -> Page:
        page = new_page()
        page.goto(f"{portal}/")
        expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
        page.get_by_label("Username").fill(username)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()
        expect(page.get_by_text(f"Signed in as {username}")).to_be_visible()
        return page

    return go
