"""PostgreSQL stopped under a running app server: clean 503s, then recovery without a restart.

The test makes its own PostgreSQL cluster (``initdb``, ``pg_ctl`` on a spare port, in a temporary
folder), migrates it with ``bin/release``, starts one app server (``bin/start-web``, 2 workers)
on it, and stops that cluster with ``pg_ctl -m immediate`` (as a crash would: pooled connections
break). Every answer while it is down is a 503 with ``Retry-After``: in the API's error shape
under ``/api/``, a plain page for the pages; never a 500, never an empty body. Started again, the
same server answers 200 by itself.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import requests

from tests.multiprocess.services import (
    PostgresCluster,
    Processes,
    api_user,
    bin_release,
    free_port,
    portal_env,
    stub_cloud,
    wait_for,
)

pytestmark = pytest.mark.multiprocess

START_TIMEOUT = 90
RECOVERY_TIMEOUT = 30


@dataclass
class Portal:
    url: str
    key: str
    cluster: PostgresCluster
    processes: Processes
    session: requests.Session

    def api(self, path: str = "peerings/", **headers: str) -> requests.Response:
        return requests.get(
            f"{self.url}/api/v1/{path}", headers={"Authorization": f"Token {self.key}", **headers}, timeout=30
        )


def _sign_in(url: str, username: str, password: str) -> requests.Session:
    session = requests.Session()
    form = session.get(f"{url}/accounts/login/", timeout=10)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.text).group(1)
    answer = session.post(
        f"{url}/accounts/login/",
        data={"username": username, "password": password, "csrfmiddlewaretoken": token},
        headers={"Referer": f"{url}/accounts/login/"},
        timeout=10,
        allow_redirects=False,
    )
    assert answer.status_code == 302, answer.text[:500]
    return session


@pytest.fixture(scope="module")
def portal(tmp_path_factory) -> Iterator[Portal]:
    tmp = tmp_path_factory.mktemp("database-down")
    cluster = PostgresCluster()
    processes = Processes(tmp)
    with stub_cloud() as cloud:
        try:
            cluster.create()
            cluster.create_database("portal")
            env = portal_env(
                tmp, cloud, DATABASE_URL=cluster.url("portal"), DATABASE_UNAVAILABLE_RETRY_AFTER="3"
            )
            bin_release(env)
            key = api_user(env, "reader", "pw-for-the-test-42")
            port = free_port()
            processes.start("web", ["bin/start-web"], {**env, "GUNICORN_BIND": f"127.0.0.1:{port}"})
            url = f"http://127.0.0.1:{port}"
            wait_for(
                lambda: requests.get(f"{url}/readyz/", timeout=5).status_code == 200,
                timeout=START_TIMEOUT,
                what=f"the app server ready\n{processes.logs()}",
            )
            session = _sign_in(url, "reader", "pw-for-the-test-42")
            yield Portal(url=url, key=key, cluster=cluster, processes=processes, session=session)
        finally:
            processes.stop()
            cluster.destroy()


def test_a_stopped_database_answers_503_everywhere_then_recovers_by_itself(portal: Portal):
    # Warm: every worker thread has a pooled connection to break.
    assert [portal.api().status_code for _ in range(8)] == [200] * 8
    assert portal.session.get(f"{portal.url}/peerings/", timeout=10).status_code == 200

    portal.cluster.stop("immediate")

    answers = [portal.api() for _ in range(8)]
    answers += [
        requests.get(f"{portal.url}/api/v1/peerings/", headers={"Authorization": "Token wrong"}, timeout=30)
    ]
    for answer in answers:
        assert answer.status_code == 503, (answer.status_code, answer.text[:300], portal.processes.logs())
        assert answer.headers["Retry-After"] == "3"
        assert answer.json()["error"]["code"] == "database_unavailable"
    pages = [portal.session.get(f"{portal.url}{path}", timeout=30) for path in ("/peerings/", "/", "/admin/")]
    for page in pages:
        assert page.status_code == 503, (page.status_code, page.text[:300])
        assert page.headers["Retry-After"] == "3"
        assert "Briefly unavailable" in page.text
    ready = requests.get(f"{portal.url}/readyz/", timeout=30)
    assert (ready.status_code, ready.json()) == (503, {"status": "unavailable"})
    assert requests.get(f"{portal.url}/healthz/", timeout=10).status_code == 200  # the process lives

    portal.cluster.start()

    wait_for(lambda: portal.api().status_code == 200, timeout=RECOVERY_TIMEOUT, what="the API back")
    assert [portal.api().status_code for _ in range(8)] == [200] * 8
    assert portal.session.get(f"{portal.url}/peerings/", timeout=10).status_code == 200  # same session
    assert requests.get(f"{portal.url}/readyz/", timeout=10).status_code == 200
    log = portal.processes.log("web")
    assert '"status": 500' not in log
