"""Start the test OpenID provider as a process of its own on a loopback port.

From Python (the tests' fixtures)::

    provider = TestProvider.start(directory)
    provider.add_client("portal", secret="…", redirect_uri="http://127.0.0.1:8000/accounts/oidc/callback/")
    provider.set_user("grace", password="…", groups=["globex-approvers"])
    provider.stop()

From a shell (the demo, ``make run-sso``)::

    python -m tests.oidc_provider.server --port 8001 --directory var/oidc-provider \\
        --client portal:secret:http://127.0.0.1:8000 --user grace:password:globex-approvers
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

__all__ = ["TestProvider", "free_port"]

ROOT = Path(__file__).resolve().parents[2]
SETTINGS = "tests.oidc_provider.settings"
START_TIMEOUT = 30.0


def free_port() -> int:
    """A loopback port nothing listens on (now)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class TestProvider:
    """A running provider: its issuer URL and the process serving it."""

    directory: Path
    port: int
    env: dict[str, str]
    process: subprocess.Popen | None = field(default=None, repr=False)

    __test__ = False  # not a pytest test class

    @property
    def issuer(self) -> str:
        return f"http://127.0.0.1:{self.port}/o"

    @property
    def discovery_url(self) -> str:
        return f"{self.issuer}/.well-known/openid-configuration"

    @classmethod
    def start(cls, directory: Path, *, port: int | None = None, id_token_seconds: int = 300) -> TestProvider:
        """Migrate a fresh database in ``directory``, make a signing key and serve; wait until it answers."""
        directory.mkdir(parents=True, exist_ok=True)
        port = port or free_port()
        key_file = directory / "signing-key.pem"
        if not key_file.exists():
            key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
            key_file.write_bytes(
                key.private_bytes(
                    serialization.Encoding.PEM,
                    serialization.PrivateFormat.PKCS8,
                    serialization.NoEncryption(),
                )
            )
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": SETTINGS,
            "OP_DIR": str(directory),
            "OP_ISSUER": f"http://127.0.0.1:{port}/o",
            "OP_ID_TOKEN_EXPIRE_SECONDS": str(id_token_seconds),
            "PYTHONPATH": str(ROOT),
        }
        provider = cls(directory=directory, port=port, env=env)
        provider.manage("migrate", "--no-input", "-v", "0")
        log = (directory / "server.log").open("ab")
        provider.process = subprocess.Popen(
            [sys.executable, "-m", "django", "runserver", f"127.0.0.1:{port}", "--noreload"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        provider.wait_until_ready()
        return provider

    def manage(self, *args: str) -> None:
        subprocess.run([sys.executable, "-m", "django", *args], cwd=ROOT, env=self.env, check=True)

    def wait_until_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(f"the test provider exited; see {self.directory / 'server.log'}")
            try:
                if requests.get(self.discovery_url, timeout=1).ok:
                    return
            except requests.ConnectionError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"the test provider did not answer in {START_TIMEOUT} s")
            time.sleep(0.1)

    def add_client(
        self, client_id: str, *, secret: str, redirect_uri: str, post_logout_uri: str = ""
    ) -> None:
        args = ["op_client", client_id, "--secret", secret, "--redirect-uri", redirect_uri]
        if post_logout_uri:
            args += ["--post-logout-uri", post_logout_uri]
        self.manage(*args)

    def set_user(
        self, username: str, *, password: str, groups: list[str] = (), email: str = "", active: bool = True
    ) -> None:
        args = ["op_user", username, "--password", password, "--groups", ",".join(groups)]
        if email:
            args += ["--email", email]
        if not active:
            args.append("--inactive")
        self.manage(*args)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description="Serve the test OpenID provider until interrupted.")
    parser.add_argument("--port", type=int, default=8001)
    parser.add_argument("--directory", type=Path, default=ROOT / "var" / "oidc-provider")
    parser.add_argument("--client", action="append", default=[], help="client_id:secret:portal_base_url")
    parser.add_argument("--user", action="append", default=[], help="username:password:group,group")
    options = parser.parse_args()
    provider = TestProvider.start(options.directory, port=options.port)
    try:
        for spec in options.client:
            client_id, secret, base = spec.split(":", 2)
            provider.add_client(
                client_id,
                secret=secret,
                redirect_uri=f"{base}/accounts/oidc/callback/",
                post_logout_uri=f"{base}/accounts/login/",
            )
        for spec in options.user:
            username, password, groups = spec.split(":", 2)
            provider.set_user(username, password=password, groups=groups.split(","))
        print(f"Test OpenID provider at {provider.issuer}", flush=True)
        provider.process.wait()
    finally:
        provider.stop()


if __name__ == "__main__":
    main()
