"""The request rules: single-field validators, the overlap rule, and the full check (the facts
gathered from the database and the cloud, then the rules over them)."""

from __future__ import annotations

import uuid

import pytest
from django.core.exceptions import ValidationError

from peerings.choices import PeeringStatus
from peerings.exceptions import RequestInvalid
from peerings.models import Peering, UpstreamCall
from peerings.request_facts import gather_request_facts
from peerings.rules.messages import (
    ACCEPT_PROJECT_MISMATCH,
    ACCEPT_PROJECT_REQUIRED,
    ACCEPT_VPC_NOT_IN_PROJECT,
    ACCEPT_VPC_NOT_REACHABLE,
    CIDR_IDENTICAL,
    CIDR_IDENTICAL_HIDDEN,
    CIDR_NESTED,
    CIDR_NESTED_HIDDEN,
    DESCRIPTION_FORBIDDEN_CHARACTERS,
    DESCRIPTION_TOO_LONG,
    NAME_REQUIRED,
    NAME_TOO_LONG,
    PAIR_ALREADY_OPEN,
    PROJECT_ID_INVALID,
    REQUEST_VPC_NOT_OWNED,
    SAME_VPC,
    VPC_ID_INVALID,
)
from peerings.rules.overlap import check_cidr_overlap
from peerings.rules.request import plan_request
from peerings.selectors import user_roles
from peerings.validation import validate_description, validate_name, validate_project_id, validate_vpc_id
from peerings.vpcs import fetch_tenant_vpcs
from peerings.workflow import peering_request
from tests.factories import MembershipFactory, PeeringFactory, SimProjectFactory, SimVpcFactory, TenantFactory
from vpcsim.models import Project

S = PeeringStatus


def messages(exc: pytest.ExceptionInfo) -> list[str]:
    return exc.value.messages


# --- Single fields ----------------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["a", "x" * 64, "web to db", "数据库"])
def test_valid_names(value):
    assert validate_name(value) == value


@pytest.mark.parametrize(
    ("value", "message"), [(None, NAME_REQUIRED), ("", NAME_REQUIRED), ("  ", NAME_REQUIRED)]
)
def test_name_is_required(value, message):
    with pytest.raises(ValidationError) as caught:
        validate_name(value)
    assert messages(caught) == [message]


def test_name_has_at_most_64_characters():
    with pytest.raises(ValidationError) as caught:
        validate_name("x" * 65)
    assert messages(caught) == [NAME_TOO_LONG]


@pytest.mark.parametrize(
    ("value", "expected"), [(None, ""), ("", ""), ("d" * 255, "d" * 255), ("a & b", "a & b")]
)
def test_valid_descriptions(value, expected):
    assert validate_description(value) == expected


def test_description_has_at_most_255_characters():
    with pytest.raises(ValidationError) as caught:
        validate_description("d" * 256)
    assert messages(caught) == [DESCRIPTION_TOO_LONG]


@pytest.mark.parametrize("value", ["<script>", "a > b", "a < b"])
def test_description_refuses_angle_brackets(value):
    with pytest.raises(ValidationError) as caught:
        validate_description(value)
    assert messages(caught) == [DESCRIPTION_FORBIDDEN_CHARACTERS]


def test_vpc_ids_are_uuids():
    vpc_id = uuid.uuid4()
    assert validate_vpc_id(str(vpc_id)) == vpc_id
    assert validate_vpc_id(vpc_id) == vpc_id
    for bad in ("kunde1-VPC", "", None, "1234"):
        with pytest.raises(ValidationError) as caught:
            validate_vpc_id(bad)
        assert messages(caught) == [VPC_ID_INVALID]


def test_project_ids_are_32_hex_or_a_uuid():
    hex_id = uuid.uuid4().hex
    assert validate_project_id(hex_id) == hex_id
    assert validate_project_id(hex_id.upper()) == hex_id
    uuid_id = str(uuid.uuid4())
    assert validate_project_id(uuid_id) == uuid_id
    for bad in ("acme-prod", hex_id[:31], hex_id + "0", "g" * 32, ""):
        with pytest.raises(ValidationError) as caught:
            validate_project_id(bad)
        assert messages(caught) == [PROJECT_ID_INVALID]


# --- Overlapping ranges ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("local", "peer"),
    [
        ("10.1.0.0/16", "10.2.0.0/16"),
        ("10.1.0.0/16", "fd00::/8"),
        ("10.1.0.0/16", "not-a-cidr"),
        ("", "10.0.0.0/8"),
    ],
)
def test_disjoint_or_unknown_ranges_do_not_overlap(local, peer):
    assert check_cidr_overlap(local, peer) is None


def test_identical_ranges_are_refused():
    overlap = check_cidr_overlap("10.1.0.0/16", "10.1.0.0/16")
    assert overlap.refused
    assert overlap.message == CIDR_IDENTICAL.format(local="10.1.0.0/16")


@pytest.mark.parametrize(("local", "peer"), [("10.1.0.0/16", "10.1.5.0/24"), ("10.1.5.0/24", "10.1.0.0/16")])
def test_one_range_inside_the_other_is_a_warning_whichever_side_asks(local, peer):
    overlap = check_cidr_overlap(local, peer)
    assert not overlap.refused
    assert overlap.message == CIDR_NESTED.format(outer="10.1.0.0/16", inner="10.1.5.0/24")
    assert "subnets that do not overlap on either side" in overlap.message


@pytest.mark.parametrize(("local", "peer"), [("10.1.0.0/16", "10.1.5.0/24"), ("10.1.5.0/24", "10.1.0.0/16")])
def test_a_non_member_of_the_peer_learns_only_that_the_ranges_overlap(local, peer):
    overlap = check_cidr_overlap(local, peer, show_peer=False)
    assert overlap.message == CIDR_NESTED_HIDDEN.format(local=local)
    assert peer not in overlap.message
    identical = check_cidr_overlap(local, local, show_peer=False)
    assert identical.refused
    assert identical.message == CIDR_IDENTICAL_HIDDEN.format(local=local)


# --- The whole request: rules checked before anything is sent ------------------------------------------


def check_peering_request(*, member_of=(), **given):
    """Gather the facts, then run the rules over them (as ``workflow.peering_request`` does)."""
    return plan_request(gather_request_facts(acting_user=None, roles=member_of, **given))


def _check(tenant, **overrides):
    data = {
        "tenant": tenant,
        "list_vpcs": lambda *, tenant, **_: fetch_tenant_vpcs(tenant=tenant),
        "name": "web-to-db",
        "description": "",
        "request_vpc_id": uuid.uuid4(),
        "accept_vpc_id": uuid.uuid4(),
        "accept_project_id": uuid.uuid4().hex,
    }
    data.update(overrides)
    return check_peering_request(**data)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("name", "", NAME_REQUIRED),
        ("name", "n" * 65, NAME_TOO_LONG),
        ("description", "<b>", DESCRIPTION_FORBIDDEN_CHARACTERS),
        ("description", "d" * 256, DESCRIPTION_TOO_LONG),
        ("request_vpc_id", "web", VPC_ID_INVALID),
        ("accept_vpc_id", "db", VPC_ID_INVALID),
        ("accept_project_id", "acme-prod", PROJECT_ID_INVALID),
    ],
)
def test_field_rules_are_reported_by_field_with_nothing_sent(db, field, value, message):
    with pytest.raises(RequestInvalid) as caught:
        _check(TenantFactory(), **{field: value})
    assert caught.value.errors == {field: [message]}
    assert not caught.value.needs_confirmation
    assert not UpstreamCall.objects.exists()


def test_all_field_errors_come_together(db):
    with pytest.raises(RequestInvalid) as caught:
        _check(TenantFactory(), name="", request_vpc_id="x", accept_vpc_id="y")
    assert set(caught.value.errors) == {"name", "request_vpc_id", "accept_vpc_id"}


def test_a_vpc_cannot_be_peered_with_itself(db):
    vpc = uuid.uuid4()
    with pytest.raises(RequestInvalid) as caught:
        _check(TenantFactory(), request_vpc_id=vpc, accept_vpc_id=str(vpc))
    assert caught.value.errors == {"accept_vpc_id": [SAME_VPC]}
    assert not UpstreamCall.objects.exists()


@pytest.mark.parametrize("status", [S.SUBMITTING, S.PENDING_ACCEPTANCE, S.ACTIVE])
@pytest.mark.parametrize("reverse", [False, True])
def test_an_open_peering_between_the_same_vpcs_is_refused_either_way(db, status, reverse):
    existing = PeeringFactory(status=status)
    pair = (existing.requester_vpc_id, existing.accepter_vpc_id)
    request_vpc, accept_vpc = reversed(pair) if reverse else pair
    with pytest.raises(RequestInvalid) as caught:
        _check(existing.requester_tenant, request_vpc_id=request_vpc, accept_vpc_id=accept_vpc)
    assert caught.value.errors == {"accept_vpc_id": [PAIR_ALREADY_OPEN]}
    assert not UpstreamCall.objects.exists()


def test_another_tenants_open_peering_is_not_revealed_before_the_vpc_is_shown_to_be_ones_own(db):
    """Naming the two VPCs of someone else's peering answers as any VPC not one's own would."""
    theirs = PeeringFactory()
    listed = []
    with pytest.raises(RequestInvalid) as caught:
        _check(
            TenantFactory(),
            list_vpcs=lambda *, tenant, **_: listed.append(tenant) or [],
            request_vpc_id=theirs.requester_vpc_id,
            accept_vpc_id=theirs.accepter_vpc_id,
        )
    assert caught.value.errors == {"request_vpc_id": [REQUEST_VPC_NOT_OWNED]}
    assert len(listed) == 1


# --- The whole request: rules that need the cloud -------------------------------------------------------


def _request(tenant, user, request_vpc, accept_vpc, project_id=None, **kwargs):
    return check_peering_request(
        tenant=tenant,
        list_vpcs=lambda *, tenant, **_: fetch_tenant_vpcs(tenant=tenant, acting_user=user),
        member_of=set(user_roles(user)),
        name="check",
        request_vpc_id=request_vpc.vpc_id if hasattr(request_vpc, "vpc_id") else request_vpc,
        accept_vpc_id=accept_vpc.vpc_id if hasattr(accept_vpc, "vpc_id") else accept_vpc,
        accept_project_id=project_id,
        **kwargs,
    )


@pytest.mark.parametrize("status", [S.REJECTED, S.EXPIRED, S.DELETED, S.FAILED])
def test_a_closed_peering_does_not_block_the_pair(cloud, acme_prod, acme_member, prod_web, prod_db, status):
    PeeringFactory(
        status=status,
        requester_tenant=acme_prod,
        accepter_tenant=acme_prod,
        requester_vpc_id=prod_web.vpc_id,
        accepter_vpc_id=prod_db.vpc_id,
    )
    plan = _request(acme_prod, acme_member, prod_web, prod_db)
    assert (plan.accepter_tenant, plan.accepter_project_id) == (acme_prod, acme_prod.project_id)


def test_the_request_vpc_must_be_the_tenants(
    cloud, acme_prod, acme_member, globex_main, globex_app, prod_web
):
    with pytest.raises(RequestInvalid) as caught:
        _request(acme_prod, acme_member, globex_app, prod_web)
    assert caught.value.errors == {"request_vpc_id": [REQUEST_VPC_NOT_OWNED]}
    row = UpstreamCall.objects.get()
    assert (row.operation, row.tenant, row.acting_user, row.status_code) == (
        "list_vpcs",
        acme_prod,
        acme_member,
        200,
    )


def test_the_peer_project_is_required_for_a_vpc_of_another_project(
    cloud, acme_prod, acme_member, prod_web, globex_app
):
    with pytest.raises(RequestInvalid) as caught:
        _request(acme_prod, acme_member, prod_web, globex_app)
    assert caught.value.errors == {"accept_project_id": [ACCEPT_PROJECT_REQUIRED]}


def test_an_own_vpc_with_another_project_is_refused(cloud, acme_prod, acme_member, prod_web, prod_db):
    with pytest.raises(RequestInvalid) as caught:
        _request(acme_prod, acme_member, prod_web, prod_db, project_id=uuid.uuid4().hex)
    assert caught.value.errors == {
        "accept_project_id": [ACCEPT_PROJECT_MISMATCH.format(project_id=acme_prod.project_id)]
    }


def test_the_own_project_with_a_vpc_it_does_not_have_is_refused(
    cloud, acme_prod, acme_member, prod_web, globex_app
):
    with pytest.raises(RequestInvalid) as caught:
        _request(acme_prod, acme_member, prod_web, globex_app, project_id=acme_prod.project_id)
    assert caught.value.errors == {
        "accept_vpc_id": [ACCEPT_VPC_NOT_IN_PROJECT.format(project_id=acme_prod.project_id)]
    }


def test_a_portal_accepter_is_checked_with_its_own_keys(
    cloud, acme_prod, acme_dev, acme_member, prod_web, dev_app, globex_main, globex_app
):
    with pytest.raises(RequestInvalid) as caught:
        _request(acme_prod, acme_member, prod_web, dev_app, project_id=globex_main.project_id)
    # alice is not a member of globex-main: she is not told what the project holds
    assert caught.value.errors == {
        "accept_vpc_id": [ACCEPT_VPC_NOT_REACHABLE.format(project_id=globex_main.project_id)]
    }
    assert [(c.operation, c.tenant) for c in UpstreamCall.objects.order_by("id")] == [
        ("list_vpcs", acme_prod),
        ("list_vpcs", globex_main),
    ]

    plan = _request(acme_prod, acme_member, prod_web, globex_app, project_id=globex_main.project_id.upper())
    assert (plan.accepter_tenant, plan.accepter_project_id) == (globex_main, globex_main.project_id)


def test_an_external_accepter_is_not_checked(cloud, acme_prod, acme_member, prod_web):
    outside = SimProjectFactory(name="initech-main")
    vpc = SimVpcFactory(project=outside, name="initech-app", cidr="10.1.0.0/16")  # same range as prod-web
    plan = _request(acme_prod, acme_member, prod_web, vpc, project_id=outside.project_id)
    assert (plan.accepter_tenant, plan.accepter_project_id) == (None, outside.project_id)
    assert UpstreamCall.objects.count() == 1


def test_identical_peer_ranges_are_refused(cloud, acme_prod, acme_member, prod_web, globex_main):
    vpc = SimVpcFactory(
        project=Project.objects.get(name="globex-main"), name="globex-overlap", cidr="10.1.0.0/16"
    )
    message = CIDR_IDENTICAL_HIDDEN.format(local="10.1.0.0/16")  # alice is not a member of globex-main
    for confirm in (False, True):  # confirming does not lift a refusal
        with pytest.raises(RequestInvalid) as caught:
            peering_request(
                tenant=acme_prod,
                acting_user=acme_member,
                name="overlap",
                request_vpc_id=prod_web.vpc_id,
                accept_vpc_id=vpc.vpc_id,
                accept_project_id=globex_main.project_id,
                confirm_overlap=confirm,
            )
        assert caught.value.errors == {"accept_vpc_id": [message]}
        assert not caught.value.needs_confirmation
    assert not Peering.objects.exists()
    assert not UpstreamCall.objects.filter(operation="create").exists()


def test_a_partial_overlap_needs_confirmation(cloud, acme_prod, acme_member, prod_web, globex_main):
    vpc = SimVpcFactory(
        project=Project.objects.get(name="globex-main"), name="globex-inner", cidr="10.1.5.0/24"
    )
    data = {
        "tenant": acme_prod,
        "acting_user": acme_member,
        "name": "inner",
        "request_vpc_id": prod_web.vpc_id,
        "accept_vpc_id": vpc.vpc_id,
        "accept_project_id": globex_main.project_id,
    }
    with pytest.raises(RequestInvalid) as caught:
        peering_request(**data)
    assert caught.value.needs_confirmation
    assert caught.value.errors == {"confirm_overlap": [CIDR_NESTED_HIDDEN.format(local="10.1.0.0/16")]}
    assert not Peering.objects.exists()

    peering = peering_request(**data, confirm_overlap=True)
    assert peering.status == S.PENDING_ACCEPTANCE


def test_a_member_of_both_tenants_sees_both_ranges(cloud, acme_prod, acme_member, prod_web, globex_main):
    MembershipFactory(user=acme_member, tenant=globex_main)
    vpc = SimVpcFactory(project=Project.objects.get(name="globex-main"), name="globex-big", cidr="10.0.0.0/8")
    with pytest.raises(RequestInvalid) as caught:
        _request(acme_prod, acme_member, prod_web, vpc, project_id=globex_main.project_id)
    assert caught.value.errors == {
        "confirm_overlap": [CIDR_NESTED.format(outer="10.0.0.0/8", inner="10.1.0.0/16")]
    }


def test_overlap_between_the_tenants_own_vpcs_is_checked(cloud, acme_prod, acme_member, prod_web):
    inner = SimVpcFactory(
        project=Project.objects.get(name="acme-prod"), name="prod-inner", cidr="10.1.1.0/24"
    )
    # Its own VPCs: the ranges are shown, and the answer is the same whichever way round.
    message = CIDR_NESTED.format(outer="10.1.0.0/16", inner="10.1.1.0/24")
    for local, peer in ((prod_web, inner), (inner, prod_web)):
        with pytest.raises(RequestInvalid) as caught:
            _request(acme_prod, acme_member, local, peer)
        assert caught.value.needs_confirmation
        assert caught.value.errors == {"confirm_overlap": [message]}
    plan = _request(acme_prod, acme_member, prod_web, inner, confirm_overlap=True)
    assert plan.accepter_tenant == acme_prod
