"""The provider's discovery document (read once, kept, refused when it names another issuer), and the
sign-out's way to its end-session endpoint through the pages' Content-Security-Policy."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.test import Client
from django.urls import reverse

from sso.provider import ProviderUnavailable, forget_provider, get_provider
from tests.factories import UserFactory

ISSUER = "https://sso.example.test/realms/acme"
DOCUMENT = {
    "issuer": ISSUER,
    "authorization_endpoint": f"{ISSUER}/auth",
    "token_endpoint": f"{ISSUER}/token",
    "userinfo_endpoint": f"{ISSUER}/userinfo",
    "jwks_uri": f"{ISSUER}/certs",
}


@pytest.fixture
def served() -> Iterator[tuple[str, list[dict], list[str]]]:
    """A loopback server answering the document in ``answers[0]``; ``hits`` lists the requests."""
    answers: list[dict] = [DOCUMENT]
    hits: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:
            pass

        def do_GET(self) -> None:
            hits.append(self.path)
            body = json.dumps(answers[0]).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/.well-known/openid-configuration", answers, hits
    server.shutdown()
    server.server_close()


@pytest.fixture
def configured(settings, served):
    url, answers, hits = served
    settings.OIDC_DISCOVERY_URL = url
    settings.OIDC_ISSUER = ISSUER
    forget_provider()
    yield answers, hits
    forget_provider()


def test_the_document_is_read_once_and_kept(configured):
    _, hits = configured
    assert get_provider().token_endpoint == f"{ISSUER}/token"
    assert get_provider().end_session_endpoint == ""
    assert len(hits) == 1


def test_a_document_naming_another_issuer_is_refused_and_not_kept(configured):
    answers, hits = configured
    answers[0] = {**DOCUMENT, "issuer": "https://evil.example.test"}
    with pytest.raises(ProviderUnavailable, match="not OIDC_ISSUER"):
        get_provider()
    answers[0] = DOCUMENT
    assert get_provider().issuer == ISSUER
    assert len(hits) == 2


def test_a_document_without_an_endpoint_is_refused(configured):
    answers, _ = configured
    answers[0] = {key: value for key, value in DOCUMENT.items() if key != "jwks_uri"}
    with pytest.raises(ProviderUnavailable, match="jwks_uri"):
        get_provider()


def test_an_unreachable_provider_is_reported(settings, closed_port):
    settings.OIDC_DISCOVERY_URL = f"http://127.0.0.1:{closed_port}/.well-known/openid-configuration"
    with pytest.raises(ProviderUnavailable, match="could not be read"):
        get_provider()


@pytest.mark.django_db
def test_pages_of_a_provider_signed_in_user_let_the_sign_out_form_reach_the_provider(settings, configured):
    answers, _ = configured
    answers[0] = {**DOCUMENT, "end_session_endpoint": "https://sso.example.test:8443/logout"}
    settings.OIDC_ENABLED = True
    user = UserFactory()
    client = Client()
    client.force_login(user)
    assert "sso.example.test" not in client.get(reverse("peerings:dashboard"))["Content-Security-Policy"]

    session = client.session
    session["oidc_id_token"] = "header.payload.signature"
    session.save()
    policy = client.get(reverse("peerings:dashboard"))["Content-Security-Policy"]
    assert "form-action 'self' https://sso.example.test:8443" in policy
