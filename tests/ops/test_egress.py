"""The egress policy and its sessions (ops/egress.py), with the policy on and real loopback listeners.

Each refusal test proves, with a listener's record, that nothing reached the refused address.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import requests
from urllib3.util.connection import create_connection

from ops import egress
from ops.egress import EgressPolicy, EgressRefused, check_url
from tests.egress_support import fake_dns

BARE = EgressPolicy()


@pytest.mark.parametrize(
    ("address", "kind"),
    [
        ("127.0.0.1", "loopback"),
        ("127.8.9.10", "loopback"),
        ("::1", "loopback"),
        ("10.0.0.1", "private"),
        ("172.16.5.4", "private"),
        ("192.168.1.1", "private"),
        ("169.254.169.254", "link-local"),
        ("fe80::1", "link-local"),
        ("0.0.0.0", "unspecified"),
        ("::", "unspecified"),
        ("224.0.0.1", "multicast"),
        ("ff02::1", "multicast"),
        ("240.0.0.1", "private"),  # reserved, and listed as private by ipaddress
        ("100.64.0.1", "not globally routable"),
        ("fc00::1", "private"),
        ("::ffff:127.0.0.1", "loopback"),
        ("::ffff:169.254.169.254", "link-local"),
        ("64:ff9b::7f00:1", "reserved"),  # NAT64 of 127.0.0.1
        ("2002:7f00:1::", "not globally routable"),  # 6to4 of 127.0.0.1
    ],
)
def test_internal_addresses_are_refused(address, kind):
    assert BARE.address_refusal(address) == kind


@pytest.mark.parametrize("address", ["93.184.216.34", "1.1.1.1", "2606:4700:4700::1111", "::ffff:8.8.8.8"])
def test_global_addresses_pass(address):
    assert BARE.address_refusal(address) is None


def test_the_allow_list_names_exactly_what_it_allows():
    policy = EgressPolicy.build(
        networks=["127.0.0.1/32", "10.20.0.0/16"], hosts=["hooks.corp.example", ".svc.example"]
    )
    assert policy.address_refusal("127.0.0.1") is None
    assert policy.address_refusal("::ffff:127.0.0.1") is None  # the mapped form of an allowed address
    assert policy.address_refusal("127.0.0.2") == "loopback"
    assert policy.address_refusal("10.20.3.4") is None
    assert policy.address_refusal("10.21.0.1") == "private"
    assert policy.host_allowed("hooks.corp.example")
    assert policy.host_allowed("a.svc.example")
    assert not policy.host_allowed("corp.example")
    assert not policy.host_allowed("svc.example.org")
    with pytest.raises(ValueError, match="does not appear to be an IPv4 or IPv6 network"):
        EgressPolicy.build(networks=["not-a-network"])


@pytest.mark.parametrize(
    "url",
    [
        "http://169.254.169.254/latest/meta-data/iam/security-credentials/",
        "http://10.0.0.1/hook",
        "http://0.0.0.0:8000/",
        "http://metadata.google.internal/computeMetadata/v1/",
        "http://metadata/computeMetadata/v1/",
        "http://localhost:8000/api/v1/peerings/",
        "http://printer.local/",
        "http://127.0.0.1:6379/",
        "http://127.1/",  # short form of 127.0.0.1
        "http://2130706433/",  # 127.0.0.1 as one number
        "http://0x7f000001/",
        "http://[::1]:8000/",
        "http://[::ffff:169.254.169.254]/",
        "http://user@127.0.0.1/",
    ],
)
def test_input_check_refuses_internal_urls(egress_on, url):
    with pytest.raises(EgressRefused, match="egress policy"):
        check_url(url)


def test_input_check_resolves_names(egress_on, monkeypatch):
    monkeypatch.setattr(
        egress,
        "_lookup",
        fake_dns(
            {
                "hooks.example.com": ["93.184.216.34"],
                "internal.example.com": ["127.0.0.1"],
                "both.example.com": ["93.184.216.34", "10.0.0.5"],
            }
        ),
    )
    check_url("https://hooks.example.com/portal")
    check_url("https://not-yet-in-dns.example.com/portal")  # left to the connection-time check
    with pytest.raises(EgressRefused, match="loopback"):
        check_url("https://internal.example.com/portal")
    with pytest.raises(EgressRefused, match="private"):  # one internal answer is enough
        check_url("https://both.example.com/portal")
    with pytest.raises(EgressRefused, match="Only http"):
        check_url("file:///etc/passwd")


# --- The sessions, against real listeners ------------------------------------------------------------


def test_a_guarded_session_never_contacts_a_loopback_listener(egress_on, listeners):
    listener = listeners()
    with egress.session() as http, pytest.raises(EgressRefused, match="loopback"):
        http.get(listener.url + "/latest/meta-data")
    with egress.session() as http, pytest.raises(EgressRefused, match="local or internal name"):
        http.get(f"http://localhost:{listener.port}/")
    assert listener.requests == []


def test_a_name_resolving_to_loopback_is_refused_at_connection(egress_on, listeners, monkeypatch):
    listener = listeners()
    monkeypatch.setattr(egress, "_lookup", fake_dns({"innocent.example.com": ["127.0.0.1"]}))
    with egress.session() as http, pytest.raises(EgressRefused):
        http.post(f"http://innocent.example.com:{listener.port}/hook", data=b"{}")
    assert listener.requests == []


def test_dns_rebinding_cannot_move_the_connection(egress_on, listeners, monkeypatch):
    """The record answers a public address when the URL is checked, loopback when it is called."""
    listener = listeners()
    answers = iter([["93.184.216.34"], ["127.0.0.1"]])
    monkeypatch.setattr(egress, "_lookup", fake_dns({"rebind.example.com": lambda: next(answers)}))
    url = f"http://rebind.example.com:{listener.port}/hook"
    check_url(url)  # accepted at input time
    with egress.session() as http, pytest.raises(EgressRefused, match="loopback"):
        http.get(url)
    assert listener.requests == []


def test_the_address_actually_connected_to_is_checked(egress_on, listeners, monkeypatch):
    """A public answer whose connection lands on loopback (a NAT, a tunnel): closed before a byte is sent."""
    listener = listeners()
    monkeypatch.setattr(egress, "_lookup", fake_dns({"public.example.com": ["93.184.216.34"]}))

    def land_on_loopback(address, *args, **kwargs) -> socket.socket:
        return create_connection(("127.0.0.1", listener.port), *args, **kwargs)

    monkeypatch.setattr(egress, "create_connection", land_on_loopback)
    with egress.session() as http, pytest.raises(EgressRefused, match="loopback"):
        http.get(f"http://public.example.com:{listener.port}/")
    assert listener.requests == []


def test_a_redirect_is_never_followed(settings, listeners):
    """An allowed listener redirecting to an internal one: the 302 is the answer, nothing else is called."""
    settings.EGRESS_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    settings.EGRESS_ALLOWED_HOSTS = []
    internal = listeners("127.0.0.2")
    front = listeners(status=302, location=internal.url + "/latest/meta-data")
    with egress.session() as http:
        response = http.get(front.url, allow_redirects=True)
    assert response.status_code == 302
    assert response.history == []
    assert len(front.requests) == 1
    assert internal.requests == []
    with egress.session() as http, pytest.raises(EgressRefused, match="loopback"):
        http.get(internal.url)  # and 127.0.0.2 itself is outside the allow-list
    assert internal.requests == []


def test_an_allow_listed_network_is_reached(settings, listeners):
    settings.EGRESS_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    settings.EGRESS_ALLOWED_HOSTS = []
    listener = listeners()
    with egress.session() as http:
        assert http.get(listener.url + "/ok").status_code == 200
    assert [r["path"] for r in listener.requests] == ["/ok"]


def test_the_policy_is_read_at_each_connection(settings, listeners):
    """One process session serves both settings: the allow-list as it is when a connection opens."""
    listener = listeners()
    http = egress.session()
    settings.EGRESS_ALLOWED_NETWORKS, settings.EGRESS_ALLOWED_HOSTS = [], []
    with pytest.raises(EgressRefused):
        http.get(listener.url)
    settings.EGRESS_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    assert http.get(listener.url).status_code == 200
    http.close()
    assert len(listener.requests) == 1


def test_a_trusted_session_is_not_checked(egress_on, listeners):
    """The operator's own endpoints (VPC_API_ENDPOINT, the readiness probe) may be internal."""
    listener = listeners()
    with egress.session(trusted=True) as http:
        assert http.get(listener.url).status_code == 200
    assert len(listener.requests) == 1


def test_a_guarded_session_refuses_a_proxy(egress_on, listeners, monkeypatch):
    listener = listeners()
    monkeypatch.setenv("HTTP_PROXY", listener.url)
    monkeypatch.setattr(egress, "_lookup", fake_dns({"hooks.example.com": ["93.184.216.34"]}))
    with egress.session() as http, pytest.raises(EgressRefused, match="proxy"):
        http.get("http://hooks.example.com/", proxies={"http": listener.url})
    assert listener.requests == []


def test_refusals_are_request_errors_the_callers_already_handle(egress_on):
    with egress.session() as http, pytest.raises(requests.ConnectionError):
        http.get("http://10.0.0.1/")


def test_a_malformed_allowed_network_stops_the_start():
    env = {
        "PATH": os.environ.get("PATH", ""),
        "DJANGO_SETTINGS_MODULE": "portal.settings",
        "DJANGO_SECRET_KEY": "x" * 60,
        "PORTAL_ENCRYPTION_KEYS": "dGVzdC1vbmx5LWZpZWxkLWVuY3J5cHRpb24ta2V5LTE=",
        "EGRESS_ALLOWED_NETWORKS": "127.0.0.1/32,10.0.0.0/33",
    }
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        cwd=Path(__file__).resolve().parents[2],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "ImproperlyConfigured: EGRESS_ALLOWED_NETWORKS" in result.stderr
