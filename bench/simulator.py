"""The simulator with the official SDK against moto_server with boto3: the same cross-account work.

One cycle: account A requests a peering to account B's VPC, B accepts it, A deletes it
(huaweicloudsdkvpc against the simulator; boto3 ``ec2`` against moto_server). Both are
served by one process with a few threads on loopback (gunicorn gthread, one worker; moto's
werkzeug server, threaded), and measured in alternating blocks of cycles in one run.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from bench.report import Table, median

__all__ = ["bench_simulator", "sdk_client"]


def sdk_client(endpoint: str, tenant: object):
    from huaweicloudsdkcore.auth.credentials import BasicCredentials
    from huaweicloudsdkcore.http.http_config import HttpConfig
    from huaweicloudsdkvpc.v2 import VpcClient

    config = HttpConfig.get_default_config()
    config.retry_times = 0
    credentials = BasicCredentials(tenant.access_key.reveal(), tenant.secret_key.reveal(), tenant.project_id)
    return (
        VpcClient.new_builder()
        .with_http_config(config)
        .with_credentials(credentials)
        .with_endpoints([endpoint])
        .build()
    )


def sdk_create(client, request_vpc: str, accept_vpc: str, accept_project: str, name: str) -> str:
    from huaweicloudsdkvpc.v2 import (
        CreateVpcPeeringOption,
        CreateVpcPeeringRequest,
        CreateVpcPeeringRequestBody,
        VpcInfo,
    )

    option = CreateVpcPeeringOption(
        name=name,
        request_vpc_info=VpcInfo(vpc_id=request_vpc),
        accept_vpc_info=VpcInfo(vpc_id=accept_vpc, tenant_id=accept_project),
    )
    body = CreateVpcPeeringRequestBody(peering=option)
    return client.create_vpc_peering(CreateVpcPeeringRequest(body=body)).peering.id


def _sdk_cycle(endpoint: str) -> Callable[[int], None]:
    from huaweicloudsdkvpc.v2 import AcceptVpcPeeringRequest, DeleteVpcPeeringRequest, ListVpcsRequest

    from peerings.models import Tenant

    acme, globex = Tenant.objects.get(name="Acme Production"), Tenant.objects.get(name="Globex")
    a, b = sdk_client(endpoint, acme), sdk_client(endpoint, globex)
    vpc_a = a.list_vpcs(ListVpcsRequest()).vpcs[0].id
    vpc_b = b.list_vpcs(ListVpcsRequest()).vpcs[0].id

    def cycle(n: int) -> None:
        peering = sdk_create(a, vpc_a, vpc_b, globex.project_id, f"bench-sdk-{n}")
        b.accept_vpc_peering(AcceptVpcPeeringRequest(peering_id=peering))
        a.delete_vpc_peering(DeleteVpcPeeringRequest(peering_id=peering))

    return cycle


def _boto_cycle(endpoint: str) -> Callable[[int], None]:
    import boto3
    from botocore.config import Config

    def client(account: str):
        ec2 = boto3.client(
            "ec2",
            endpoint_url=endpoint,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
            config=Config(retries={"max_attempts": 1}),
        )

        def add_account(request, **kwargs) -> None:
            request.headers["x-moto-account-id"] = account

        ec2.meta.events.register("before-sign.ec2.*", add_account)
        return ec2

    account_a, account_b = "111111111111", "222222222222"
    a, b = client(account_a), client(account_b)
    vpc_a = a.create_vpc(CidrBlock="10.1.0.0/16")["Vpc"]["VpcId"]
    vpc_b = b.create_vpc(CidrBlock="10.2.0.0/16")["Vpc"]["VpcId"]

    def cycle(n: int) -> None:
        made = a.create_vpc_peering_connection(VpcId=vpc_a, PeerVpcId=vpc_b, PeerOwnerId=account_b)
        peering = made["VpcPeeringConnection"]["VpcPeeringConnectionId"]
        b.accept_vpc_peering_connection(VpcPeeringConnectionId=peering)
        a.delete_vpc_peering_connection(VpcPeeringConnectionId=peering)

    return cycle


def bench_simulator(
    table: Table, simulator_url: str, moto_url: str, blocks: int = 6, per_block: int = 15
) -> None:
    sides = {
        "simulator + huaweicloudsdkvpc": _sdk_cycle(simulator_url),
        "moto_server + boto3": _boto_cycle(moto_url),
    }
    rates: dict[str, list[float]] = {name: [] for name in sides}
    cycle_ms: dict[str, list[float]] = {name: [] for name in sides}
    n = 0
    for cycle in sides.values():  # warm up both
        for _ in range(3):
            n += 1
            cycle(n)
    for block in range(blocks):
        order = list(sides.items()) if block % 2 == 0 else list(reversed(sides.items()))
        for name, cycle in order:
            started = time.perf_counter()
            for _ in range(per_block):
                n += 1
                t = time.perf_counter()
                cycle(n)
                cycle_ms[name].append((time.perf_counter() - t) * 1000)
            rates[name].append(per_block / (time.perf_counter() - started))
    names = list(sides)
    ours, theirs = median(rates[names[0]]), median(rates[names[1]])
    for name in names:
        table.row(
            f"cycles/s, {name} (create+accept+delete)",
            f"{median(rates[name]):6.1f}/s, median cycle {median(cycle_ms[name]):6.1f} ms",
        )
    ratio = ours / theirs
    table.row(
        "simulator rate / moto rate",
        f"{ours:.1f} / {theirs:.1f}",
        f"{ratio:.2f}x",
        ">= 1.5x",
        "holds" if ratio >= 1.5 else "FAILS",
    )
