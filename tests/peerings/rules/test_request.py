"""plan_request over plain facts: each stage, the order of the stages, what the plan holds."""

from __future__ import annotations

import dataclasses
import uuid

import pytest

from peerings.exceptions import RequestInvalid
from peerings.rules.messages import (
    ACCEPT_PROJECT_MISMATCH,
    ACCEPT_PROJECT_REQUIRED,
    ACCEPT_VPC_NOT_IN_PROJECT,
    ACCEPT_VPC_NOT_REACHABLE,
    CIDR_IDENTICAL,
    CIDR_IDENTICAL_HIDDEN,
    CIDR_NESTED,
    CIDR_NESTED_HIDDEN,
    NAME_REQUIRED,
    PAIR_ALREADY_OPEN,
    REQUEST_VPC_NOT_OWNED,
    SAME_VPC,
    VPC_ID_INVALID,
)
from peerings.rules.request import PeeringPlan, RequestFacts, RequestInput, TenantFacts, plan_request

WEB, DB, APP = (uuid.UUID(int=n) for n in (1, 2, 3))
ACME = TenantFacts(id=1, name="acme-prod", project_id="a" * 32, record="acme row")
GLOBEX = TenantFacts(id=2, name="globex-main", project_id="b" * 32, record="globex row")
OUTSIDE = "c" * 32
NOT_IN_ACME = ACCEPT_VPC_NOT_IN_PROJECT.format(project_id=ACME.project_id)
NOT_IN_GLOBEX = ACCEPT_VPC_NOT_IN_PROJECT.format(project_id=GLOBEX.project_id)
ACME_VPCS = (
    {"id": str(WEB), "name": "prod-web", "cidr": "10.1.0.0/16"},
    {"id": str(DB), "name": "prod-db", "cidr": "10.2.0.0/16"},
)
GLOBEX_VPCS = ({"id": str(APP), "name": "globex-app", "cidr": "10.20.0.0/16"},)


def facts(**given) -> RequestFacts:
    """acme-prod's member asks for prod-web to prod-db; ``given`` changes the input or the facts."""
    fields = {f.name for f in dataclasses.fields(RequestInput)}
    entered = {"name": "web-to-db", "request_vpc_id": WEB, "accept_vpc_id": DB}
    entered.update({k: v for k, v in given.items() if k in fields})
    known = {"requester": ACME, "member_of": frozenset({ACME.id}), "requester_vpcs": ACME_VPCS}
    known.update({k: v for k, v in given.items() if k not in fields})
    return RequestFacts(input=RequestInput(**entered), **known)


def refused(f: RequestFacts) -> RequestInvalid:
    with pytest.raises(RequestInvalid) as caught:
        plan_request(f)
    return caught.value


def test_a_request_between_own_vpcs_is_planned_with_the_listed_names_and_ranges():
    assert plan_request(facts(description="d")) == PeeringPlan(
        name="web-to-db",
        description="d",
        request_vpc_id=WEB,
        accept_vpc_id=DB,
        accepter_project_id=ACME.project_id,
        accepter_tenant="acme row",
        requester_vpc_name="prod-web",
        requester_vpc_cidr="10.1.0.0/16",
        accepter_vpc_name="prod-db",
        accepter_vpc_cidr="10.2.0.0/16",
        overlap_confirmed=False,
    )


def test_the_shape_is_reported_first_every_field_together():
    error = refused(facts(name="", request_vpc_id="x", accept_vpc_id=DB, pair_open=True, requester_vpcs=()))
    assert error.errors == {"name": [NAME_REQUIRED], "request_vpc_id": [VPC_ID_INVALID]}
    assert refused(facts(accept_vpc_id=str(WEB))).errors == {"accept_vpc_id": [SAME_VPC]}


def test_an_open_pair_is_refused_before_the_vpc_list_is_read():
    assert refused(facts(pair_open=True, requester_vpcs=())).errors == {"accept_vpc_id": [PAIR_ALREADY_OPEN]}


def test_the_requester_vpc_must_be_listed_for_the_tenant():
    error = refused(facts(request_vpc_id=APP))
    assert error.errors == {"request_vpc_id": [REQUEST_VPC_NOT_OWNED]}


@pytest.mark.parametrize(
    ("accept_vpc", "project", "errors"),
    [
        (DB, OUTSIDE, {"accept_project_id": [ACCEPT_PROJECT_MISMATCH.format(project_id=ACME.project_id)]}),
        (APP, None, {"accept_project_id": [ACCEPT_PROJECT_REQUIRED]}),
        (
            APP,
            ACME.project_id,
            {"accept_vpc_id": [NOT_IN_ACME]},
        ),
    ],
)
def test_the_peer_project_against_the_own_list(accept_vpc, project, errors):
    assert refused(facts(accept_vpc_id=accept_vpc, accept_project_id=project)).errors == errors


def test_own_list_errors_come_together():
    error = refused(facts(request_vpc_id=APP, accept_vpc_id=uuid.UUID(int=9)))
    assert error.errors == {
        "request_vpc_id": [REQUEST_VPC_NOT_OWNED],
        "accept_project_id": [ACCEPT_PROJECT_REQUIRED],
    }


def test_a_portal_accepter_must_list_the_peer_vpc_and_a_non_member_is_not_told_what_it_holds():
    asked = {"accept_vpc_id": uuid.UUID(int=9), "accept_project_id": GLOBEX.project_id, "accepter": GLOBEX}
    error = refused(facts(**asked, accepter_vpcs=GLOBEX_VPCS))
    assert error.errors == {"accept_vpc_id": [ACCEPT_VPC_NOT_REACHABLE.format(project_id=GLOBEX.project_id)]}
    member = refused(facts(**asked, accepter_vpcs=GLOBEX_VPCS, member_of=frozenset({1, 2})))
    assert member.errors == {
        "accept_vpc_id": [ACCEPT_VPC_NOT_IN_PROJECT.format(project_id=GLOBEX.project_id)]
    }


def test_a_portal_accepter_is_in_the_plan():
    plan = plan_request(
        facts(
            accept_vpc_id=APP, accept_project_id=GLOBEX.project_id, accepter=GLOBEX, accepter_vpcs=GLOBEX_VPCS
        )
    )
    assert (plan.accepter_tenant, plan.accepter_project_id, plan.accepter_vpc_name) == (
        "globex row",
        GLOBEX.project_id,
        "globex-app",
    )


def test_a_project_outside_the_portal_is_not_checked():
    plan = plan_request(facts(accept_vpc_id=APP, accept_project_id=OUTSIDE))
    assert (plan.accepter_tenant, plan.accepter_project_id, plan.accepter_vpc_cidr) == (None, OUTSIDE, "")


def _overlapping(cidr: str, **given) -> RequestFacts:
    theirs = ({"id": str(APP), "name": "globex-overlap", "cidr": cidr},)
    return facts(
        accept_vpc_id=APP, accept_project_id=GLOBEX.project_id, accepter=GLOBEX, accepter_vpcs=theirs, **given
    )


def test_identical_ranges_are_refused_even_confirmed_and_hidden_from_a_non_member():
    for confirm in (False, True):
        error = refused(_overlapping("10.1.0.0/16", confirm_overlap=confirm))
        assert error.errors == {"accept_vpc_id": [CIDR_IDENTICAL_HIDDEN.format(local="10.1.0.0/16")]}
        assert not error.needs_confirmation
    member = refused(_overlapping("10.1.0.0/16", member_of=frozenset({1, 2})))
    assert member.errors == {"accept_vpc_id": [CIDR_IDENTICAL.format(local="10.1.0.0/16")]}


def test_a_nested_range_needs_confirmation():
    error = refused(_overlapping("10.1.5.0/24"))
    assert error.needs_confirmation
    assert error.errors == {"confirm_overlap": [CIDR_NESTED_HIDDEN.format(local="10.1.0.0/16")]}
    assert plan_request(_overlapping("10.1.5.0/24", confirm_overlap=True)).overlap_confirmed


def test_own_vpcs_show_both_ranges_whichever_way_round():
    inner = {"id": str(APP), "name": "prod-inner", "cidr": "10.1.1.0/24"}
    message = CIDR_NESTED.format(outer="10.1.0.0/16", inner="10.1.1.0/24")
    for local, peer in ((WEB, APP), (APP, WEB)):
        error = refused(facts(request_vpc_id=local, accept_vpc_id=peer, requester_vpcs=(*ACME_VPCS, inner)))
        assert error.errors == {"confirm_overlap": [message]}


def test_listed_labels_are_cut_to_the_stored_length():
    long = ({"id": str(WEB), "name": "w" * 80, "cidr": "10.1.0.0/16"}, ACME_VPCS[1])
    assert plan_request(facts(requester_vpcs=long)).requester_vpc_name == "w" * 64
