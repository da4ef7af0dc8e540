"""A small simulated cloud: two accounts, three projects, a few VPCs, and signed clients for them.

* ``alpha`` (account "alpha", project "alpha-main"): VPCs 10.0.0.0/16 and 10.1.0.0/16
* ``alpha_dev`` (account "alpha", project "alpha-dev"): VPC 10.2.0.0/16
* ``beta`` (account "beta", project "beta-main"): VPCs 192.168.0.0/16 and 172.16.0.0/16
"""

from __future__ import annotations

import pytest
from django.test import Client

from tests.vpcsim.support import PEERINGS, Party, SignedClient, peering_body
from vpcsim import provision


def _party(*, account: str, project: str, vpcs: dict[str, str]) -> Party:
    acc = provision.create_account(name=account)
    prj = provision.create_project(account=acc, name=project)
    key = acc.access_keys.get()
    made = [provision.create_vpc(project=prj, name=name, cidr=cidr) for name, cidr in vpcs.items()]
    return Party(project=prj, vpcs=made, access_key=key.access_key, secret_key=key.secret_key)


@pytest.fixture(autouse=True)
def _replay_check_default(settings):
    """The simulator's default (no replay refusal, as the cloud), whatever the environment says."""
    settings.VPCSIM_REPLAY_CHECK = "off"


@pytest.fixture
def replays_refused(settings):
    """The opt-in hardening: replayed write signatures refused."""
    settings.VPCSIM_REPLAY_CHECK = "writes"


@pytest.fixture
def alpha() -> Party:
    return _party(
        account="alpha", project="alpha-main", vpcs={"alpha-web": "10.0.0.0/16", "alpha-db": "10.1.0.0/16"}
    )


@pytest.fixture
def alpha_dev(alpha: Party) -> Party:
    return _party(account="alpha", project="alpha-dev", vpcs={"alpha-dev": "10.2.0.0/16"})


@pytest.fixture
def beta() -> Party:
    return _party(
        account="beta", project="beta-main", vpcs={"beta-app": "192.168.0.0/16", "beta-ops": "172.16.0.0/16"}
    )


@pytest.fixture
def api(client: Client):
    """``api(party)`` -> a :class:`SignedClient` speaking as that party."""

    def make(party: Party) -> SignedClient:
        return SignedClient(
            client, access_key=party.access_key, secret_key=party.secret_key, project_id=party.project_id
        )

    return make


@pytest.fixture
def make_peering(api):
    """``make_peering(requester, accepter, request_vpc=0, accept_vpc=0)`` -> the created peering."""

    def make(
        requester: Party, accepter: Party, *, request_vpc: int = 0, accept_vpc: int = 0, name: str = "link"
    ) -> dict:
        body = peering_body(
            requester.vpc_ids[request_vpc], accepter.vpc_ids[accept_vpc], accepter.project_id, name=name
        )
        response = api(requester).post(PEERINGS, body)
        assert response.status_code == 201, response.content
        return response.json()["peering"]

    return make
