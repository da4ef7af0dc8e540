"""The simulator driven by the official Huawei Cloud SDK (huaweicloudsdkvpc v2) over real HTTP.

Every call goes through ``VpcClient`` against pytest-django's live server, so
signing, paths, status codes and bodies are checked for wire compatibility.
"""

from __future__ import annotations

import datetime as dt
import json
from urllib.parse import parse_qs, urlsplit

import pytest
from huaweicloudsdkcore.auth.credentials import BasicCredentials
from huaweicloudsdkcore.exceptions.exceptions import ClientRequestException
from huaweicloudsdkvpc.v2 import (
    AcceptVpcPeeringRequest,
    CreateVpcPeeringOption,
    CreateVpcPeeringRequest,
    CreateVpcPeeringRequestBody,
    CreateVpcRouteOption,
    CreateVpcRouteRequest,
    CreateVpcRouteRequestBody,
    DeleteVpcPeeringRequest,
    DeleteVpcRouteRequest,
    ListVpcPeeringsRequest,
    ListVpcRoutesRequest,
    ListVpcsRequest,
    RejectVpcPeeringRequest,
    ShowVpcPeeringRequest,
    ShowVpcRouteRequest,
    UpdateVpcPeeringOption,
    UpdateVpcPeeringRequest,
    UpdateVpcPeeringRequestBody,
    VpcClient,
    VpcInfo,
)

from tests.vpcsim.support import Party
from vpcsim import clock

pytestmark = pytest.mark.django_db(transaction=True)


def sdk(live_server, party: Party, *, secret_key: str | None = None) -> VpcClient:
    credentials = BasicCredentials(party.access_key, secret_key or party.secret_key, party.project_id)
    return VpcClient.new_builder().with_credentials(credentials).with_endpoints([live_server.url]).build()


def create(client: VpcClient, request_vpc: str, accept_vpc: str, tenant_id: str | None, name: str = "link"):
    option = CreateVpcPeeringOption(
        name=name,
        description=f"{name} peering",
        request_vpc_info=VpcInfo(vpc_id=request_vpc),
        accept_vpc_info=VpcInfo(vpc_id=accept_vpc, tenant_id=tenant_id),
    )
    return client.create_vpc_peering(
        CreateVpcPeeringRequest(body=CreateVpcPeeringRequestBody(peering=option))
    )


def neutron(exc: ClientRequestException) -> dict:
    """The SDK leaves a NeutronError body unparsed in ``error_msg``."""
    return json.loads(exc.error_msg)["NeutronError"]


@pytest.fixture
def alpha_sdk(live_server, alpha):
    return sdk(live_server, alpha)


@pytest.fixture
def beta_sdk(live_server, beta):
    return sdk(live_server, beta)


def test_list_vpcs(alpha_sdk, alpha):
    response = alpha_sdk.list_vpcs(ListVpcsRequest())

    assert response.status_code == 200
    assert sorted(v.id for v in response.vpcs) == sorted(alpha.vpc_ids)
    web = next(v for v in response.vpcs if v.name == "alpha-web")
    assert (web.cidr, web.status, web.tenant_id, web.enterprise_project_id) == (
        "10.0.0.0/16",
        "OK",
        alpha.project_id,
        "0",
    )
    # The SDK's Vpc model parses created_at into a datetime (older releases left the string).
    created = web.created_at
    assert isinstance(created, dt.datetime) or dt.datetime.strptime(created, "%Y-%m-%dT%H:%M:%S")
    paged = alpha_sdk.list_vpcs(ListVpcsRequest(limit=1))
    assert len(paged.vpcs) == 1


def test_same_account_peering_is_active(live_server, alpha, alpha_dev, alpha_sdk):
    response = create(alpha_sdk, alpha.vpc_ids[0], alpha_dev.vpc_ids[0], alpha_dev.project_id)

    assert response.status_code == 201
    peering = response.peering
    assert peering.status == "ACTIVE"
    assert (peering.request_vpc_info.tenant_id, peering.accept_vpc_info.tenant_id) == (
        alpha.project_id,
        alpha_dev.project_id,
    )
    assert peering.description == "link peering"
    dev_view = sdk(live_server, alpha_dev).show_vpc_peering(ShowVpcPeeringRequest(peering_id=peering.id))
    assert dev_view.peering.status == "ACTIVE"


def test_cross_account_request_accept_and_delete(alpha_sdk, beta_sdk, alpha, beta):
    created = create(alpha_sdk, alpha.vpc_ids[0], beta.vpc_ids[0], beta.project_id).peering
    assert created.status == "PENDING_ACCEPTANCE"

    shown = beta_sdk.show_vpc_peering(ShowVpcPeeringRequest(peering_id=created.id))
    assert shown.status_code == 200
    assert shown.peering.to_dict() == created.to_dict()

    accepted = beta_sdk.accept_vpc_peering(AcceptVpcPeeringRequest(peering_id=created.id))
    assert accepted.status_code == 200
    assert (accepted.id, accepted.status) == (created.id, "ACTIVE")
    assert alpha_sdk.show_vpc_peering(ShowVpcPeeringRequest(peering_id=created.id)).peering.status == "ACTIVE"

    deleted = alpha_sdk.delete_vpc_peering(DeleteVpcPeeringRequest(peering_id=created.id))
    assert deleted.status_code == 204
    with pytest.raises(ClientRequestException) as excinfo:
        beta_sdk.show_vpc_peering(ShowVpcPeeringRequest(peering_id=created.id))
    assert excinfo.value.status_code == 404
    assert neutron(excinfo.value)["type"] == "VpcPeeringNotFound"
    assert excinfo.value.request_id


def test_reject(alpha_sdk, beta_sdk, alpha, beta):
    created = create(alpha_sdk, alpha.vpc_ids[0], beta.vpc_ids[0], beta.project_id).peering

    rejected = beta_sdk.reject_vpc_peering(RejectVpcPeeringRequest(peering_id=created.id))

    assert rejected.status == "REJECTED"
    listed = alpha_sdk.list_vpc_peerings(ListVpcPeeringsRequest(status="REJECTED"))
    assert [p.id for p in listed.peerings] == [created.id]


def test_accept_refusals_surface_as_client_errors(alpha_sdk, beta_sdk, alpha, beta):
    created = create(alpha_sdk, alpha.vpc_ids[0], beta.vpc_ids[0], beta.project_id).peering

    with pytest.raises(ClientRequestException) as by_requester:
        alpha_sdk.accept_vpc_peering(AcceptVpcPeeringRequest(peering_id=created.id))
    assert by_requester.value.status_code == 403
    assert neutron(by_requester.value)["type"] == "PolicyNotAuthorized"

    beta_sdk.reject_vpc_peering(RejectVpcPeeringRequest(peering_id=created.id))
    with pytest.raises(ClientRequestException) as not_pending:
        beta_sdk.accept_vpc_peering(AcceptVpcPeeringRequest(peering_id=created.id))
    assert not_pending.value.status_code == 409
    assert neutron(not_pending.value)["type"] == "VpcPeeringInvalidState"
    assert not_pending.value.error_code == "409"


def test_update(alpha_sdk, beta_sdk, alpha, beta):
    created = create(alpha_sdk, alpha.vpc_ids[0], beta.vpc_ids[0], beta.project_id).peering
    body = UpdateVpcPeeringRequestBody(peering=UpdateVpcPeeringOption(name="renamed", description="by beta"))

    updated = beta_sdk.update_vpc_peering(UpdateVpcPeeringRequest(peering_id=created.id, body=body))

    assert updated.status_code == 200
    assert (updated.peering.name, updated.peering.description) == ("renamed", "by beta")
    assert alpha_sdk.show_vpc_peering(ShowVpcPeeringRequest(peering_id=created.id)).peering.name == "renamed"


def test_create_validation_errors(alpha_sdk, alpha, beta):
    with pytest.raises(ClientRequestException) as not_uuid:
        create(alpha_sdk, alpha.vpc_ids[0], "kunde1-VPC", beta.project_id)
    assert not_uuid.value.status_code == 400
    assert neutron(not_uuid.value) == {
        "type": "InvalidInput",
        "message": "Invalid input for accept_vpc_info. Reason: 'kunde1-VPC' is not a valid UUID.",
        "detail": "",
    }

    with pytest.raises(ClientRequestException) as no_tenant:
        create(alpha_sdk, alpha.vpc_ids[0], beta.vpc_ids[0], None)
    assert no_tenant.value.status_code == 400
    assert neutron(no_tenant.value)["message"] == (
        "Invalid input for operation: Accept VPC id or tenant id is incorrect."
    )

    create(alpha_sdk, alpha.vpc_ids[0], beta.vpc_ids[0], beta.project_id)
    # Another name: the identical request within the same second would be a replay (401).
    with pytest.raises(ClientRequestException) as duplicate:
        create(alpha_sdk, alpha.vpc_ids[0], beta.vpc_ids[0], beta.project_id, name="link-again")
    assert duplicate.value.status_code == 409
    assert neutron(duplicate.value)["type"] == "VpcPeeringExists"


def test_list_filters_and_paging(live_server, alpha_sdk, alpha, alpha_dev, beta):
    made = [
        create(alpha_sdk, alpha.vpc_ids[i], vpc, tenant, name=f"p{i}{n}").peering.id
        for i in (0, 1)
        for n, (vpc, tenant) in enumerate(
            [(beta.vpc_ids[0], beta.project_id), (alpha_dev.vpc_ids[0], alpha_dev.project_id)]
        )
    ]
    made.sort()

    everything = alpha_sdk.list_vpc_peerings(ListVpcPeeringsRequest())
    assert [p.id for p in everything.peerings] == made
    assert not everything.peerings_links

    by_vpc = alpha_sdk.list_vpc_peerings(ListVpcPeeringsRequest(vpc_id=beta.vpc_ids[0]))
    assert {p.name for p in by_vpc.peerings} == {"p00", "p10"}
    by_status = alpha_sdk.list_vpc_peerings(
        ListVpcPeeringsRequest(status="ACTIVE", tenant_id=alpha_dev.project_id)
    )
    assert {p.name for p in by_status.peerings} == {"p01", "p11"}
    by_name = alpha_sdk.list_vpc_peerings(ListVpcPeeringsRequest(name="p11"))
    assert [p.name for p in by_name.peerings] == ["p11"]
    by_id = alpha_sdk.list_vpc_peerings(ListVpcPeeringsRequest(id=made[2]))
    assert [p.id for p in by_id.peerings] == [made[2]]

    seen, marker = [], None
    while True:
        page = alpha_sdk.list_vpc_peerings(ListVpcPeeringsRequest(limit=3, marker=marker))
        seen += [p.id for p in page.peerings]
        if not page.peerings_links:
            break
        [link] = page.peerings_links
        assert link.rel == "next"
        assert link.href.startswith(f"{live_server.url}/v2.0/vpc/peerings?")
        marker = parse_qs(urlsplit(link.href).query)["marker"][0]
        assert marker == seen[-1]
    assert seen == made

    with pytest.raises(ClientRequestException) as bad_marker:
        alpha_sdk.list_vpc_peerings(
            ListVpcPeeringsRequest(limit=3, marker="00000000-0000-0000-0000-000000000000")
        )
    assert bad_marker.value.status_code == 400


def test_routes(live_server, alpha_sdk, alpha, alpha_dev):
    peering = create(alpha_sdk, alpha.vpc_ids[0], alpha_dev.vpc_ids[0], alpha_dev.project_id).peering
    option = CreateVpcRouteOption(
        destination="10.2.0.0/16", nexthop=peering.id, type="peering", vpc_id=alpha.vpc_ids[0]
    )

    created = alpha_sdk.create_vpc_route(CreateVpcRouteRequest(body=CreateVpcRouteRequestBody(route=option)))

    assert created.status_code == 201
    route = created.route
    assert (route.nexthop, route.vpc_id, route.tenant_id, route.type) == (
        peering.id,
        alpha.vpc_ids[0],
        alpha.project_id,
        "peering",
    )
    shown = alpha_sdk.show_vpc_route(ShowVpcRouteRequest(route_id=route.id))
    assert shown.route.destination == "10.2.0.0/16"
    listed = alpha_sdk.list_vpc_routes(ListVpcRoutesRequest(vpc_id=alpha.vpc_ids[0], limit=10))
    assert [r.id for r in listed.routes] == [route.id]
    assert not listed.routes_links
    assert not sdk(live_server, alpha_dev).list_vpc_routes(ListVpcRoutesRequest()).routes

    assert alpha_sdk.delete_vpc_route(DeleteVpcRouteRequest(route_id=route.id)).status_code == 204
    with pytest.raises(ClientRequestException) as gone:
        alpha_sdk.show_vpc_route(ShowVpcRouteRequest(route_id=route.id))
    assert gone.value.status_code == 404
    assert neutron(gone.value)["type"] == "RouteNotFound"


def test_deleting_a_peering_removes_its_routes(alpha_sdk, alpha, alpha_dev):
    peering = create(alpha_sdk, alpha.vpc_ids[0], alpha_dev.vpc_ids[0], alpha_dev.project_id).peering
    option = CreateVpcRouteOption(
        destination="10.2.0.0/16", nexthop=peering.id, type="peering", vpc_id=alpha.vpc_ids[0]
    )
    alpha_sdk.create_vpc_route(CreateVpcRouteRequest(body=CreateVpcRouteRequestBody(route=option)))

    alpha_sdk.delete_vpc_peering(DeleteVpcPeeringRequest(peering_id=peering.id))

    assert not alpha_sdk.list_vpc_routes(ListVpcRoutesRequest()).routes


def test_clock_moved_by_the_test_is_seen_by_the_server(alpha_sdk, beta_sdk, alpha, beta):
    created = create(alpha_sdk, alpha.vpc_ids[0], beta.vpc_ids[0], beta.project_id).peering

    clock.advance(dt.timedelta(days=7, minutes=1))

    assert beta_sdk.show_vpc_peering(ShowVpcPeeringRequest(peering_id=created.id)).peering.status == "EXPIRED"
    with pytest.raises(ClientRequestException) as excinfo:
        beta_sdk.accept_vpc_peering(AcceptVpcPeeringRequest(peering_id=created.id))
    assert excinfo.value.status_code == 409


def test_wrong_secret_key_is_401(live_server, alpha):
    client = sdk(live_server, alpha, secret_key="W" * 40)

    with pytest.raises(ClientRequestException) as excinfo:
        client.list_vpc_peerings(ListVpcPeeringsRequest())

    assert excinfo.value.status_code == 401
    assert excinfo.value.error_code == "APIGW.0301"
    assert excinfo.value.error_msg == "Incorrect IAM authentication information: verify aksk signature fail"


def test_project_of_another_account_is_403(live_server, alpha, beta):
    credentials = BasicCredentials(alpha.access_key, alpha.secret_key, beta.project_id)
    client = VpcClient.new_builder().with_credentials(credentials).with_endpoints([live_server.url]).build()

    with pytest.raises(ClientRequestException) as excinfo:
        client.list_vpc_peerings(ListVpcPeeringsRequest())

    assert excinfo.value.status_code == 403
    assert excinfo.value.error_code == "APIGW.0302"


@pytest.fixture
def one_second(monkeypatch):
    """Pin the SDK's signing clock to one second: every request it signs carries the same X-Sdk-Date."""
    import huaweicloudsdkcore.signer.signer as signer

    pinned = dt.datetime.now(dt.UTC).replace(microsecond=0, tzinfo=None)

    class PinnedClock(dt.datetime):
        @classmethod
        def utcnow(cls) -> dt.datetime:
            return pinned

    monkeypatch.setattr(signer, "datetime", PinnedClock)
    return pinned


def test_the_same_calls_twice_in_one_second_get_the_clouds_answers(
    alpha_sdk, beta_sdk, alpha, beta, one_second, settings
):
    """Create, accept, delete, then the same again within one second (identical signatures for the
    identical create and list): the cloud answers every one, and so does the default simulator."""
    from portal import settings as portal_settings

    settings.VPCSIM_REPLAY_CHECK = portal_settings.VPCSIM_REPLAY_CHECK  # the shipped default
    rounds = []
    for _ in range(2):
        created = create(alpha_sdk, alpha.vpc_ids[0], beta.vpc_ids[0], beta.project_id)
        accepted = beta_sdk.accept_vpc_peering(AcceptVpcPeeringRequest(peering_id=created.peering.id))
        listed = alpha_sdk.list_vpc_peerings(ListVpcPeeringsRequest(status="ACTIVE"))
        deleted = alpha_sdk.delete_vpc_peering(DeleteVpcPeeringRequest(peering_id=created.peering.id))
        rounds.append(
            (
                created.status_code,
                created.peering.status,
                accepted.status_code,
                accepted.status,
                [p.id for p in listed.peerings] == [created.peering.id],
                deleted.status_code,
            )
        )

    assert rounds == [(201, "PENDING_ACCEPTANCE", 200, "ACTIVE", True, 204)] * 2
