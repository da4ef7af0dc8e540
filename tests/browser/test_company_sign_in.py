"""Company sign-in in a real browser, against a real OpenID provider on loopback.

The provider (``tests/oidc_provider``: django-oauth-toolkit in a Django project of its own)
runs as a separate process with its own database and signing key; the portal is registered
there as a confidential client, PKCE required. Nothing of the protocol is mocked: the browser
goes to the provider's login page and back, the portal exchanges the code and checks the
ID token against the provider's published keys.
"""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit

import pytest
import requests
from playwright.sync_api import Page, expect

from accounts.models import ApiToken
from peerings.choices import MembershipSource, Role
from peerings.models import Membership
from sso.models import GroupMapping, MembershipChange
from sso.provider import forget_provider
from sso.views import DISABLED, NO_ROLES, STATE_UNKNOWN, UNREACHABLE
from tests.browser.conftest import PASSWORD
from tests.factories import MembershipFactory, UserFactory
from tests.oidc_provider.server import TestProvider

pytestmark = pytest.mark.browser

PROVIDER_NAME = "Example Corp SSO"
CLIENT_ID, CLIENT_SECRET = "portal", "portal-client-secret-for-tests"
NO_PKCE_CLIENT_ID = "portal-without-pkce"
OP_PASSWORD = "provider password 2026"


def _register(provider: TestProvider, portal_url: str) -> None:
    for client_id in (CLIENT_ID, NO_PKCE_CLIENT_ID):
        provider.add_client(
            client_id,
            secret=CLIENT_SECRET,
            redirect_uri=f"{portal_url}/accounts/oidc/callback/",
            post_logout_uri=f"{portal_url}/accounts/login/",
        )


@pytest.fixture(scope="module")
def provider(tmp_path_factory, _drained_live_server) -> Iterator[TestProvider]:
    running = TestProvider.start(tmp_path_factory.mktemp("oidc-provider"))
    try:
        _register(running, _drained_live_server.url)
        yield running
    finally:
        running.stop()


def _point_portal_at(settings, discovery_url: str, issuer: str, client_id: str = CLIENT_ID) -> None:
    settings.OIDC_ENABLED = True
    settings.OIDC_ISSUER = issuer
    settings.OIDC_DISCOVERY_URL = discovery_url
    settings.OIDC_PROVIDER_NAME = PROVIDER_NAME
    settings.OIDC_RP_CLIENT_ID = client_id
    settings.OIDC_RP_CLIENT_SECRET = CLIENT_SECRET
    forget_provider()


@pytest.fixture
def company_sign_in(settings, provider, portal) -> Iterator[TestProvider]:
    """The portal configured for the provider (as the OIDC_* variables would)."""
    _point_portal_at(settings, provider.discovery_url, provider.issuer)
    yield provider
    forget_provider()


def start_sign_in(page: Page, portal: str) -> None:
    page.goto(f"{portal}/")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    page.get_by_role("link", name=f"Sign in with {PROVIDER_NAME}").click()


def provider_login(page: Page, username: str) -> None:
    expect(page.get_by_role("heading", name="Test identity provider")).to_be_visible()
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(OP_PASSWORD)
    page.get_by_role("button", name="Log in to the provider").click()


def sso_sign_in(page: Page, portal: str, username: str) -> None:
    start_sign_in(page, portal)
    provider_login(page, username)
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()
    expect(page.get_by_text(f"Signed in as {username}")).to_be_visible()


def sign_out(page: Page) -> None:
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()


def roles(username: str) -> dict[str, tuple[str, str]]:
    return {
        m.tenant.name: (m.role, m.source)
        for m in Membership.objects.filter(user__username=username).select_related("tenant")
    }


def test_groups_give_roles_which_follow_the_provider_at_each_sign_in(
    company_sign_in, portal, new_page, acme_prod, acme_dev, globex_main
):
    GroupMapping.objects.create(group="cloud-acme-devs", tenant=acme_prod, role=Role.MEMBER)
    GroupMapping.objects.create(group="cloud-globex-approvers", tenant=globex_main, role=Role.APPROVER)
    GroupMapping.objects.create(group="cloud-globex-devs", tenant=globex_main, role=Role.MEMBER)
    company_sign_in.set_user(
        "hana", password=OP_PASSWORD, groups=["cloud-acme-devs", "cloud-globex-approvers"]
    )
    page = new_page()

    sso_sign_in(page, portal, "hana")
    memberships = page.get_by_role("table").first
    expect(memberships.get_by_role("row", name="globex-main")).to_contain_text("Approver")
    expect(memberships.get_by_role("row", name="acme-prod")).to_contain_text("Member")
    # An administrator grants a role by hand: the sync never touches it.
    MembershipFactory(user__username="hana", tenant=acme_dev, role=Role.APPROVER)

    hana = Membership.objects.filter(user__username="hana").first().user
    _, key = ApiToken.objects.create_token(hana, name="scripts")

    # Sign-out ends the provider's session too: the next sign-in asks for the password again.
    sign_out(page)
    # API tokens are not sessions: they outlive it.
    assert (
        requests.get(f"{portal}/api/v1/peerings/", headers={"Authorization": f"Token {key}"}).status_code
        == 200
    )
    company_sign_in.set_user("hana", password=OP_PASSWORD, groups=["cloud-globex-devs"])
    start_sign_in(page, portal)
    provider_login(page, "hana")
    expect(page.get_by_text("Signed in as hana")).to_be_visible()

    assert roles("hana") == {
        "globex-main": (Role.MEMBER, MembershipSource.OIDC),
        "acme-dev": (Role.APPROVER, MembershipSource.MANUAL),
    }
    expect(memberships.get_by_role("row", name="acme-prod")).to_have_count(0)
    expect(memberships.get_by_role("row", name="globex-main")).to_contain_text("Member")
    recorded = [
        (c.tenant.name, c.action, c.old_role, c.new_role, c.source)
        for c in MembershipChange.objects.filter(user__username="hana").order_by("id")
    ]
    assert sorted(recorded[:2]) == [
        ("acme-prod", "added", "", "member", "oidc"),
        ("globex-main", "added", "", "approver", "oidc"),
    ]
    assert sorted(recorded[2:]) == [
        ("acme-prod", "removed", "member", "", "oidc"),
        ("globex-main", "changed", "approver", "member", "oidc"),
    ]


def test_groups_that_map_to_nothing_sign_in_to_an_empty_dashboard_with_a_message(
    company_sign_in, portal, new_page, globex_main
):
    company_sign_in.set_user("ivan", password=OP_PASSWORD, groups=["cafeteria"])
    page = new_page()
    sso_sign_in(page, portal, "ivan")
    expect(page.get_by_text(NO_ROLES.format(name=PROVIDER_NAME))).to_be_visible()
    expect(page.get_by_text("You are not a member of any tenant yet")).to_be_visible()
    assert roles("ivan") == {}


def test_a_provider_that_is_down_gets_a_clear_message_and_local_sign_in_still_works(
    settings, portal, new_page, closed_port, acme_member
):
    _point_portal_at(
        settings,
        f"http://127.0.0.1:{closed_port}/o/.well-known/openid-configuration",
        f"http://127.0.0.1:{closed_port}/o",
    )
    page = new_page()
    start_sign_in(page, portal)
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    expect(page.get_by_text(UNREACHABLE.format(name=PROVIDER_NAME))).to_be_visible()

    page.get_by_label("Username").fill(acme_member.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page.get_by_text(f"Signed in as {acme_member.username}")).to_be_visible()


def test_a_user_disabled_in_the_portal_is_refused_and_loses_their_tokens(company_sign_in, portal, new_page):
    company_sign_in.set_user("jules", password=OP_PASSWORD, groups=[])
    page = new_page()
    sso_sign_in(page, portal, "jules")
    user = Membership._meta.get_field("user").related_model.objects.get(username="jules")
    token, key = ApiToken.objects.create_token(user, name="ci")

    user.is_active = False  # what a superuser does in the admin when the provider deactivates them
    user.save()

    page.reload()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()  # the session is over
    page.get_by_role("link", name=f"Sign in with {PROVIDER_NAME}").click()  # still signed in at the provider
    expect(page.get_by_text(DISABLED)).to_be_visible()
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert (
        requests.get(f"{portal}/api/v1/peerings/", headers={"Authorization": f"Token {key}"}).status_code
        == 401
    )


# --- Answers the portal must refuse ----------------------------------------------------------------------


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class TamperingProxy:
    """A loopback server in the path of the provider's token answer (a man in the middle).

    It serves the provider's discovery document with the token endpoint pointing at itself
    (or at ``token_endpoint``), relays the code exchange to the provider and rewrites the ID
    token's ``groups`` claim, keeping the provider's signature.
    """

    def __init__(self, provider: TestProvider, token_endpoint: str = "") -> None:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def _answer(self, body: dict) -> None:
                data = json.dumps(body).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                document = requests.get(provider.discovery_url, timeout=5).json()
                self._answer({**document, "token_endpoint": token_endpoint or f"{proxy.url}/token/"})

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                answer = requests.post(
                    f"{provider.issuer}/token/",
                    data=body,
                    headers={"Content-Type": self.headers["Content-Type"]},
                    timeout=5,
                ).json()
                header, payload, signature = answer["id_token"].split(".")
                claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
                claims["groups"] = ["cloud-globex-approvers"]
                answer["id_token"] = ".".join([header, _b64(json.dumps(claims).encode()), signature])
                self._answer(answer)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def test_a_tampered_id_token_is_refused(settings, provider, portal, new_page, globex_main):
    GroupMapping.objects.create(group="cloud-globex-approvers", tenant=globex_main, role=Role.APPROVER)
    provider.set_user("kim", password=OP_PASSWORD, groups=[])
    proxy = TamperingProxy(provider)
    try:
        _point_portal_at(settings, f"{proxy.url}/.well-known/openid-configuration", provider.issuer)
        page = new_page()
        start_sign_in(page, portal)
        provider_login(page, "kim")
        expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
        expect(page.get_by_role("status")).to_contain_text(
            f"Sign-in with {PROVIDER_NAME} failed: The ID token is not valid (Signature verification failed)"
        )
    finally:
        proxy.close()
        forget_provider()
    assert not UserFactory._meta.model.objects.filter(username="kim").exists()


def test_a_provider_going_down_during_a_sign_in_gets_a_clear_message(
    settings, provider, portal, new_page, closed_port
):
    provider.set_user("kurt", password=OP_PASSWORD, groups=[])
    # Its token endpoint stops answering between the browser's visit and the code exchange.
    proxy = TamperingProxy(provider, token_endpoint=f"http://127.0.0.1:{closed_port}/o/token/")
    try:
        _point_portal_at(settings, f"{proxy.url}/.well-known/openid-configuration", provider.issuer)
        page = new_page()
        start_sign_in(page, portal)
        provider_login(page, "kurt")
        expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
        expect(page.get_by_text(UNREACHABLE.format(name=PROVIDER_NAME))).to_be_visible()
    finally:
        proxy.close()
        forget_provider()


@pytest.fixture(scope="module")
def expiring_provider(tmp_path_factory, _drained_live_server) -> Iterator[TestProvider]:
    """A provider whose ID tokens are already an hour past their expiry when issued."""
    running = TestProvider.start(tmp_path_factory.mktemp("expiring-provider"), id_token_seconds=-3600)
    try:
        _register(running, _drained_live_server.url)
        yield running
    finally:
        running.stop()


def test_an_expired_id_token_is_refused(settings, expiring_provider, portal, new_page):
    expiring_provider.set_user("lee", password=OP_PASSWORD, groups=[])
    _point_portal_at(settings, expiring_provider.discovery_url, expiring_provider.issuer)
    page = new_page()
    start_sign_in(page, portal)
    provider_login(page, "lee")
    expect(page.get_by_role("status")).to_contain_text(
        f"Sign-in with {PROVIDER_NAME} failed: The ID token has expired."
    )
    forget_provider()
    assert not UserFactory._meta.model.objects.filter(username="lee").exists()


def provider_session(page: Page, provider: TestProvider, username: str) -> None:
    """Sign in at the provider itself, as a user who signed in there earlier in the day."""
    page.goto(f"http://127.0.0.1:{provider.port}/accounts/login/?next=/o/.well-known/openid-configuration")
    provider_login(page, username)
    expect(page.get_by_text('"issuer"')).to_be_visible()


def held_callback(page: Page, portal: str) -> str:
    """Start a sign-in in the page's browser and follow it to the provider and back, stopping
    before the portal's callback; return the callback URL (code and state) the provider sent.

    The requests share the browser's cookies (the portal's session holding the sign-in's state,
    nonce and verifier, the provider's session); a route could not stop a redirect's target.
    """
    url = f"{portal}/accounts/oidc/authenticate/"
    while "/accounts/oidc/callback/" not in url:
        response = page.context.request.get(url, max_redirects=0)
        assert response.status == 302, (url, response.status)
        url = urljoin(url, response.headers["location"])
    return url


def _with_state(callback: str, state: str) -> str:
    parts = urlsplit(callback)
    query = {key: values[0] for key, values in parse_qs(parts.query).items()}
    return parts._replace(query=urlencode({**query, "state": state})).geturl()


def _state(callback: str) -> str:
    return parse_qs(urlsplit(callback).query)["state"][0]


def test_a_callback_with_an_unknown_state_is_refused(company_sign_in, portal, new_page):
    company_sign_in.set_user("mia", password=OP_PASSWORD, groups=[])
    page = new_page()
    provider_session(page, company_sign_in, "mia")
    callback = held_callback(page, portal)

    page.goto(_with_state(callback, "forged-state"))
    expect(page.get_by_text(STATE_UNKNOWN)).to_be_visible()
    # The genuine answer, taken to another browser (login CSRF), is refused too.
    other = new_page()
    other.goto(callback)
    expect(other.get_by_text(STATE_UNKNOWN)).to_be_visible()
    expect(other.get_by_text("Signed in as mia")).to_have_count(0)
    # In the browser that started it, it signs in.
    page.goto(callback)
    expect(page.get_by_text("Signed in as mia")).to_be_visible()


def test_a_code_swapped_into_another_sign_in_is_refused_by_the_nonce_and_by_pkce(
    settings, company_sign_in, portal, new_page
):
    company_sign_in.set_user("noor", password=OP_PASSWORD, groups=[])
    # Without PKCE (a client the provider lets go without it), the nonce catches the swap.
    settings.OIDC_USE_PKCE = False
    settings.OIDC_RP_CLIENT_ID = NO_PKCE_CLIENT_ID
    page = new_page()
    provider_session(page, company_sign_in, "noor")
    first, second = held_callback(page, portal), held_callback(page, portal)
    page.goto(_with_state(first, _state(second)))
    expect(page.get_by_role("status")).to_contain_text("JWT Nonce verification failed")
    expect(page.get_by_text("Signed in as noor")).to_have_count(0)

    # With PKCE the provider itself refuses the code for the other sign-in's verifier.
    settings.OIDC_USE_PKCE = True
    settings.OIDC_RP_CLIENT_ID = CLIENT_ID
    first, second = held_callback(page, portal), held_callback(page, portal)
    page.goto(_with_state(first, _state(second)))
    expect(page.get_by_role("status")).to_contain_text("The provider refused to exchange the sign-in code.")
    expect(page.get_by_text("Signed in as noor")).to_have_count(0)
    # A state serves one attempt: the answer it was sent with is no good any more either.
    page.goto(second)
    expect(page.get_by_text(STATE_UNKNOWN)).to_be_visible()


def test_sign_in_needs_pkce_at_the_provider(settings, company_sign_in, portal, new_page):
    """The provider requires PKCE of the portal's client: a sign-in without it is turned away."""
    company_sign_in.set_user("olga", password=OP_PASSWORD, groups=[])
    settings.OIDC_USE_PKCE = False
    page = new_page()
    start_sign_in(page, portal)
    provider_login(page, "olga")
    expect(page.get_by_role("status")).to_contain_text(f"Sign-in with {PROVIDER_NAME} failed")
    expect(page.get_by_text("Signed in as olga")).to_have_count(0)
