"""Peering endpoints through the Django test client: every rule and transition, allowed and refused."""

from __future__ import annotations

import datetime as dt
import re
import uuid

import pytest

from tests.vpcsim.support import PEERINGS, neutron_error, peering_body
from vpcsim import clock, provision
from vpcsim.models import Peering

pytestmark = pytest.mark.django_db

TIME_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$")


def url(peering: dict | str, action: str = "") -> str:
    peering_id = peering if isinstance(peering, str) else peering["id"]
    return f"{PEERINGS}/{peering_id}" + (f"/{action}" if action else "")


# --- create ---------------------------------------------------------------------------------


def test_cross_account_create_is_pending_and_fills_both_tenants(api, alpha, beta):
    body = peering_body(alpha.vpc_ids[0], beta.vpc_ids[0], beta.project_id, name="to-beta", description="hi")
    response = api(alpha).post(PEERINGS, body)

    assert response.status_code == 201
    peering = response.json()["peering"]
    assert peering["status"] == "PENDING_ACCEPTANCE"
    assert peering["name"] == "to-beta"
    assert peering["description"] == "hi"
    assert peering["request_vpc_info"] == {"vpc_id": alpha.vpc_ids[0], "tenant_id": alpha.project_id}
    assert peering["accept_vpc_info"] == {"vpc_id": beta.vpc_ids[0], "tenant_id": beta.project_id}
    assert uuid.UUID(peering["id"])
    assert TIME_RE.match(peering["created_at"])
    assert peering["created_at"] == peering["updated_at"]


def test_same_account_other_project_is_active_at_once(api, alpha, alpha_dev):
    body = peering_body(alpha.vpc_ids[0], alpha_dev.vpc_ids[0], alpha_dev.project_id)
    response = api(alpha).post(PEERINGS, body)

    assert response.status_code == 201
    assert response.json()["peering"]["status"] == "ACTIVE"


def test_same_project_needs_no_tenant_id_and_fills_it(api, alpha):
    response = api(alpha).post(PEERINGS, peering_body(alpha.vpc_ids[0], alpha.vpc_ids[1]))

    assert response.status_code == 201
    peering = response.json()["peering"]
    assert peering["status"] == "ACTIVE"
    assert peering["accept_vpc_info"]["tenant_id"] == alpha.project_id


@pytest.mark.parametrize("request_tenant", ["", "own"])
def test_request_tenant_id_may_be_empty_or_own(api, alpha, beta, request_tenant):
    body = peering_body(alpha.vpc_ids[0], beta.vpc_ids[0], beta.project_id)
    body["peering"]["request_vpc_info"]["tenant_id"] = alpha.project_id if request_tenant == "own" else ""

    assert api(alpha).post(PEERINGS, body).status_code == 201


def test_create_timestamps_come_from_the_simulator_clock(api, alpha, beta):
    clock.set_offset(dt.timedelta(days=400))
    expected = (clock.now()).strftime("%Y-%m-%dT%H:%M")

    peering = api(alpha).post(PEERINGS, peering_body(alpha.vpc_ids[0], beta.vpc_ids[0], beta.project_id))

    assert peering.json()["peering"]["created_at"].startswith(expected)


def test_overlapping_cidrs_are_allowed(api, alpha):
    twin = provision.create_vpc(project=alpha.project, name="alpha-twin", cidr="10.0.0.0/16")

    response = api(alpha).post(PEERINGS, peering_body(alpha.vpc_ids[0], str(twin.vpc_id)))

    assert response.status_code == 201


def _invalid(field: str, reason: str) -> str:
    return f"Invalid input for {field}. Reason: {reason}"


@pytest.mark.parametrize(
    ("mutate", "error_type", "message"),
    [
        (
            lambda b: b.pop("peering"),
            "BadRequest",
            "Bad peering request: Unable to find 'peering' in request body",
        ),
        (
            lambda b: b.update(peering=[]),
            "BadRequest",
            "Bad peering request: Unable to find 'peering' in request body",
        ),
        (lambda b: b["peering"].pop("name"), "InvalidInput", _invalid("name", "Missing required attribute.")),
        (
            lambda b: b["peering"].update(name=""),
            "InvalidInput",
            _invalid("name", "'' is too short, minimum length is 1 and maximum is 64."),
        ),
        (
            lambda b: b["peering"].update(name="n" * 65),
            "InvalidInput",
            _invalid("name", f"'{'n' * 65}' exceeds maximum length of 64."),
        ),
        (
            lambda b: b["peering"].update(name=7),
            "InvalidInput",
            _invalid("name", "'7' is not a valid string."),
        ),
        (
            lambda b: b["peering"].update(description="<b>"),
            "InvalidInput",
            _invalid("description", "'<b>' must not contain '<' or '>'."),
        ),
        (
            lambda b: b["peering"].update(description="d" * 256),
            "InvalidInput",
            _invalid("description", f"'{'d' * 256}' exceeds maximum length of 255."),
        ),
        (
            lambda b: b["peering"].pop("request_vpc_info"),
            "InvalidInput",
            _invalid("request_vpc_info", "Missing required attribute."),
        ),
        (
            lambda b: b["peering"].update(accept_vpc_info="vpc"),
            "InvalidInput",
            _invalid("accept_vpc_info", "'vpc' is not a dictionary."),
        ),
        (
            lambda b: b["peering"]["accept_vpc_info"].pop("vpc_id"),
            "InvalidInput",
            _invalid("accept_vpc_info", "Missing required key 'vpc_id'."),
        ),
        (
            lambda b: b["peering"]["accept_vpc_info"].update(vpc_id="kunde1-VPC"),
            "InvalidInput",
            _invalid("accept_vpc_info", "'kunde1-VPC' is not a valid UUID."),
        ),
        (
            lambda b: b["peering"]["request_vpc_info"].update(vpc_id="x"),
            "InvalidInput",
            _invalid("request_vpc_info", "'x' is not a valid UUID."),
        ),
        (
            lambda b: b["peering"]["accept_vpc_info"].update(region="eu"),
            "InvalidInput",
            _invalid("accept_vpc_info", "Unrecognized key(s) 'region'."),
        ),
        (
            lambda b: b["peering"].update(status="ACTIVE"),
            "BadRequest",
            "Bad peering request: Unrecognized attribute(s) 'status'",
        ),
    ],
)
def test_create_validation(api, alpha, beta, mutate, error_type, message):
    body = peering_body(alpha.vpc_ids[0], beta.vpc_ids[0], beta.project_id)
    mutate(body)

    response = api(alpha).post(PEERINGS, body)

    assert response.status_code == 400
    assert neutron_error(response) == {"type": error_type, "message": message, "detail": ""}
    assert not Peering.objects.exists()


@pytest.mark.parametrize(("name", "description"), [("n" * 64, "d" * 255), ("é" * 64, "ü" * 255), ("n", "")])
def test_names_and_descriptions_up_to_the_limits_are_stored_whole(api, alpha, beta, name, description):
    """64 and 255 characters (not bytes: multi-byte ones too) are kept as sent, and shown back."""
    body = peering_body(
        alpha.vpc_ids[0], beta.vpc_ids[0], beta.project_id, name=name, description=description
    )

    response = api(alpha).post(PEERINGS, body)

    assert response.status_code == 201
    created = response.json()["peering"]
    assert (created["name"], created["description"]) == (name, description)
    stored = Peering.objects.get()
    assert (stored.name, stored.description) == (name, description)
    shown = api(beta).get(url(created)).json()["peering"]
    assert (shown["name"], shown["description"]) == (name, description)


@pytest.mark.parametrize("raw", [b"{not json", b"", b"\xff\xfe"])
def test_malformed_json_is_400(api, alpha, raw):
    response = api(alpha).request("POST", PEERINGS, raw=raw)

    assert response.status_code == 400
    error = neutron_error(response)
    assert error["type"] == "MalformedRequestBody"
    assert error["message"].startswith("Malformed request body: ")


ACCEPT_WRONG = "Invalid input for operation: Accept VPC id or tenant id is incorrect."
REQUEST_WRONG = "Invalid input for operation: Request VPC id or tenant id is incorrect."


def test_other_projects_vpc_without_tenant_id_is_refused(api, alpha, beta):
    response = api(alpha).post(PEERINGS, peering_body(alpha.vpc_ids[0], beta.vpc_ids[0]))

    assert response.status_code == 400
    assert neutron_error(response) == {"type": "InvalidInput", "message": ACCEPT_WRONG, "detail": ""}


def test_tenant_id_that_does_not_own_the_accept_vpc_is_refused(api, alpha, alpha_dev, beta):
    response = api(alpha).post(
        PEERINGS, peering_body(alpha.vpc_ids[0], beta.vpc_ids[0], alpha_dev.project_id)
    )

    assert response.status_code == 400
    assert neutron_error(response)["message"] == ACCEPT_WRONG


def test_unknown_accept_vpc_is_refused(api, alpha, beta):
    response = api(alpha).post(PEERINGS, peering_body(alpha.vpc_ids[0], str(uuid.uuid4()), beta.project_id))

    assert response.status_code == 400
    assert neutron_error(response)["message"] == ACCEPT_WRONG


def test_request_vpc_must_be_the_callers(api, alpha, alpha_dev, beta):
    """A VPC of another project, even of the same account, is not the caller's."""
    response = api(alpha).post(PEERINGS, peering_body(alpha_dev.vpc_ids[0], beta.vpc_ids[0], beta.project_id))

    assert response.status_code == 400
    assert neutron_error(response) == {"type": "InvalidInput", "message": REQUEST_WRONG, "detail": ""}


def test_request_tenant_id_of_another_project_is_refused(api, alpha, beta):
    body = peering_body(alpha.vpc_ids[0], beta.vpc_ids[0], beta.project_id)
    body["peering"]["request_vpc_info"]["tenant_id"] = beta.project_id

    response = api(alpha).post(PEERINGS, body)

    assert response.status_code == 400
    assert neutron_error(response)["message"] == REQUEST_WRONG


def test_same_vpc_on_both_sides_is_refused(api, alpha):
    response = api(alpha).post(PEERINGS, peering_body(alpha.vpc_ids[0], alpha.vpc_ids[0]))

    assert response.status_code == 400
    assert neutron_error(response) == {
        "type": "InvalidInput",
        "message": "Invalid input for operation: Request VPC and accept VPC must be different.",
        "detail": "",
    }


@pytest.mark.parametrize("reverse", [False, True], ids=["same-direction", "reverse-direction"])
def test_second_live_peering_between_the_same_vpcs_is_409(api, make_peering, alpha, beta, reverse):
    first = make_peering(alpha, beta)
    if reverse:
        response = api(beta).post(PEERINGS, peering_body(beta.vpc_ids[0], alpha.vpc_ids[0], alpha.project_id))
    else:
        response = api(alpha).post(PEERINGS, peering_body(alpha.vpc_ids[0], beta.vpc_ids[0], beta.project_id))

    assert response.status_code == 409
    request_vpc, accept_vpc = (beta, alpha) if reverse else (alpha, beta)
    assert neutron_error(response) == {
        "type": "VpcPeeringExists",
        "message": f"A VPC peering connection between VPC {request_vpc.vpc_ids[0]} and VPC "
        f"{accept_vpc.vpc_ids[0]} already exists: {first['id']}.",
        "detail": "",
    }
    assert Peering.objects.count() == 1


def test_duplicate_of_an_active_peering_is_409(api, make_peering, alpha):
    first = make_peering(alpha, alpha, request_vpc=0, accept_vpc=1)

    response = api(alpha).post(PEERINGS, peering_body(alpha.vpc_ids[1], alpha.vpc_ids[0]))

    assert response.status_code == 409
    assert neutron_error(response) == {
        "type": "VpcPeeringExists",
        "message": f"A VPC peering connection between VPC {alpha.vpc_ids[1]} and VPC "
        f"{alpha.vpc_ids[0]} already exists: {first['id']}.",
        "detail": "",
    }
    assert Peering.objects.count() == 1


def test_a_rejected_peering_does_not_block_a_new_one(api, make_peering, alpha, beta):
    first = make_peering(alpha, beta)
    assert api(beta).put(url(first, "reject")).status_code == 200

    response = api(alpha).post(PEERINGS, peering_body(alpha.vpc_ids[0], beta.vpc_ids[0], beta.project_id))

    assert response.status_code == 201


def test_other_vpc_pairs_are_independent(api, make_peering, alpha, beta):
    make_peering(alpha, beta, request_vpc=0, accept_vpc=0)

    assert (
        api(alpha)
        .post(PEERINGS, peering_body(alpha.vpc_ids[0], beta.vpc_ids[1], beta.project_id))
        .status_code
        == 201
    )
    assert (
        api(alpha)
        .post(PEERINGS, peering_body(alpha.vpc_ids[1], beta.vpc_ids[0], beta.project_id))
        .status_code
        == 201
    )


# --- show and visibility ------------------------------------------------------------------------


def test_both_sides_see_the_peering(api, make_peering, alpha, beta):
    peering = make_peering(alpha, beta)

    for party in (alpha, beta):
        response = api(party).get(url(peering))
        assert response.status_code == 200
        assert response.json() == {"peering": peering}
        listed = api(party).get(PEERINGS).json()["peerings"]
        assert [p["id"] for p in listed] == [peering["id"]]


def test_a_third_project_sees_nothing(api, make_peering, alpha, alpha_dev, beta):
    """alpha-dev shares alpha's account but is not a side of the peering."""
    peering = make_peering(alpha, beta)

    assert api(alpha_dev).get(PEERINGS).json() == {"peerings": [], "peerings_links": []}
    response = api(alpha_dev).get(url(peering))
    assert response.status_code == 404
    assert neutron_error(response) == {
        "type": "VpcPeeringNotFound",
        "message": f"VPC peering connection {peering['id']} could not be found.",
        "detail": "",
    }
    refused = [api(alpha_dev).put(url(peering, action)) for action in ("accept", "reject")]
    refused += [
        api(alpha_dev).put(url(peering), {"peering": {"name": "x"}}),
        api(alpha_dev).delete(url(peering)),
    ]
    assert [(r.status_code, neutron_error(r)["type"]) for r in refused] == [(404, "VpcPeeringNotFound")] * 4
    assert Peering.objects.get().name == "link"


@pytest.mark.parametrize("peering_id", [str(uuid.uuid4()), "not-a-uuid"])
def test_unknown_peering_is_404(api, alpha, peering_id):
    response = api(alpha).get(url(peering_id))

    assert response.status_code == 404
    assert neutron_error(response)["type"] == "VpcPeeringNotFound"


# --- update -------------------------------------------------------------------------------------


@pytest.mark.parametrize("side", ["requester", "accepter"])
def test_either_side_may_update_name_and_description(api, make_peering, alpha, beta, side):
    peering = make_peering(alpha, beta)
    clock.advance(dt.timedelta(hours=1))
    caller = alpha if side == "requester" else beta

    response = api(caller).put(url(peering), {"peering": {"name": "renamed", "description": "new"}})

    assert response.status_code == 200
    updated = response.json()["peering"]
    assert (updated["name"], updated["description"]) == ("renamed", "new")
    assert updated["status"] == "PENDING_ACCEPTANCE"
    assert updated["created_at"] == peering["created_at"]
    assert updated["updated_at"] > peering["updated_at"]
    assert api(alpha).get(url(peering)).json()["peering"]["name"] == "renamed"


def test_update_one_attribute_leaves_the_other(api, make_peering, alpha, beta):
    peering = make_peering(alpha, beta)
    api(alpha).put(url(peering), {"peering": {"description": "only this"}})

    shown = api(alpha).get(url(peering)).json()["peering"]

    assert (shown["name"], shown["description"]) == ("link", "only this")


@pytest.mark.parametrize(
    ("body", "error_type", "message"),
    [
        (
            {"peering": {}},
            "BadRequest",
            "Bad peering request: At least one of 'name' and 'description' must be given",
        ),
        ({}, "BadRequest", "Bad peering request: Unable to find 'peering' in request body"),
        (
            {"peering": {"status": "ACTIVE"}},
            "BadRequest",
            "Bad peering request: Cannot update read-only attribute status",
        ),
        (
            {"peering": {"accept_vpc_info": {"vpc_id": str(uuid.uuid4())}}},
            "BadRequest",
            "Bad peering request: Cannot update read-only attribute accept_vpc_info",
        ),
        (
            {"peering": {"colour": "red"}},
            "BadRequest",
            "Bad peering request: Unrecognized attribute(s) 'colour'",
        ),
        (
            {"peering": {"name": ""}},
            "InvalidInput",
            _invalid("name", "'' is too short, minimum length is 1 and maximum is 64."),
        ),
        (
            {"peering": {"description": "a>b"}},
            "InvalidInput",
            _invalid("description", "'a>b' must not contain '<' or '>'."),
        ),
    ],
)
def test_update_validation(api, make_peering, alpha, beta, body, error_type, message):
    peering = make_peering(alpha, beta)

    response = api(alpha).put(url(peering), body)

    assert response.status_code == 400
    assert neutron_error(response) == {"type": error_type, "message": message, "detail": ""}
    assert api(alpha).get(url(peering)).json()["peering"] == peering


def test_update_with_malformed_json_is_400(api, make_peering, alpha, beta):
    peering = make_peering(alpha, beta)

    response = api(alpha).request("PUT", url(peering), raw=b'{"peering": ')

    assert response.status_code == 400
    assert neutron_error(response)["type"] == "MalformedRequestBody"


# --- accept / reject ------------------------------------------------------------------------------


@pytest.mark.parametrize(("action", "status"), [("accept", "ACTIVE"), ("reject", "REJECTED")])
def test_accepter_answers_with_the_bare_peering(api, make_peering, alpha, beta, action, status):
    peering = make_peering(alpha, beta)

    response = api(beta).put(url(peering, action))

    assert response.status_code == 200
    body = response.json()
    assert "peering" not in body
    assert body["id"] == peering["id"]
    assert body["status"] == status
    assert body["request_vpc_info"] == peering["request_vpc_info"]
    assert api(alpha).get(url(peering)).json()["peering"]["status"] == status


@pytest.mark.parametrize("action", ["accept", "reject"])
def test_requester_may_not_answer(api, make_peering, alpha, beta, action):
    peering = make_peering(alpha, beta)

    response = api(alpha).put(url(peering, action))

    assert response.status_code == 403
    assert neutron_error(response) == {
        "type": "PolicyNotAuthorized",
        "message": f"Only the accepter project may {action} VPC peering connection {peering['id']}.",
        "detail": "",
    }
    assert Peering.objects.get().status == "PENDING_ACCEPTANCE"


@pytest.mark.parametrize("first", ["accept", "reject"])
@pytest.mark.parametrize("second", ["accept", "reject"])
def test_only_pending_peerings_can_be_answered(api, make_peering, alpha, beta, first, second):
    peering = make_peering(alpha, beta)
    assert api(beta).put(url(peering, first)).status_code == 200
    status = Peering.objects.get().status

    response = api(beta).put(url(peering, second))

    assert response.status_code == 409
    assert neutron_error(response) == {
        "type": "VpcPeeringInvalidState",
        "message": f"VPC peering connection {peering['id']} is {status}; only a PENDING_ACCEPTANCE "
        f"connection can be {second}ed.",
        "detail": "",
    }
    assert Peering.objects.get().status == status


def test_same_account_peering_is_already_active_so_accept_is_409(api, make_peering, alpha, alpha_dev):
    peering = make_peering(alpha, alpha_dev)

    response = api(alpha_dev).put(url(peering, "accept"))

    assert response.status_code == 409
    assert neutron_error(response) == {
        "type": "VpcPeeringInvalidState",
        "message": f"VPC peering connection {peering['id']} is ACTIVE; only a PENDING_ACCEPTANCE "
        "connection can be accepted.",
        "detail": "",
    }


def test_requester_is_refused_before_state_is_checked(api, make_peering, alpha, alpha_dev):
    peering = make_peering(alpha, alpha_dev)

    response = api(alpha).put(url(peering, "accept"))

    assert response.status_code == 403
    assert neutron_error(response)["type"] == "PolicyNotAuthorized"
    assert Peering.objects.get().status == "ACTIVE"


def test_accept_ignores_a_body(api, make_peering, alpha, beta):
    peering = make_peering(alpha, beta)

    response = api(beta).put(url(peering, "accept"), {"peering": {"name": "ignored"}})

    assert response.status_code == 200
    assert response.json()["name"] == "link"


# --- delete -------------------------------------------------------------------------------------


@pytest.mark.parametrize("side", ["requester", "accepter"])
@pytest.mark.parametrize("state", ["pending", "accept", "reject"])
def test_either_side_deletes_in_any_state(api, make_peering, alpha, beta, side, state):
    peering = make_peering(alpha, beta)
    if state != "pending":
        api(beta).put(url(peering, state))
    caller = alpha if side == "requester" else beta

    response = api(caller).delete(url(peering))

    assert response.status_code == 204
    assert response.content == b""
    gone = [api(party).get(url(peering)) for party in (alpha, beta)] + [api(caller).delete(url(peering))]
    assert [(r.status_code, neutron_error(r)["type"]) for r in gone] == [(404, "VpcPeeringNotFound")] * 3


def test_deleting_frees_the_vpc_pair(api, make_peering, alpha, beta):
    peering = make_peering(alpha, beta)
    api(beta).delete(url(peering))

    assert (
        api(alpha)
        .post(PEERINGS, peering_body(alpha.vpc_ids[0], beta.vpc_ids[0], beta.project_id))
        .status_code
        == 201
    )


# --- expiry -------------------------------------------------------------------------------------


def test_pending_peering_expires_after_the_period(api, make_peering, alpha, beta):
    peering = make_peering(alpha, beta)
    created = Peering.objects.get().created_at

    clock.advance(dt.timedelta(days=7) - dt.timedelta(minutes=1))
    assert api(beta).get(url(peering)).json()["peering"]["status"] == "PENDING_ACCEPTANCE"

    clock.advance(dt.timedelta(minutes=2))
    shown = api(beta).get(url(peering)).json()["peering"]

    assert shown["status"] == "EXPIRED"
    stored = Peering.objects.get()
    assert stored.status == "EXPIRED"
    assert stored.updated_at == created + dt.timedelta(days=7)
    assert shown["updated_at"] == (created + dt.timedelta(days=7)).strftime("%Y-%m-%dT%H:%M:%S")


def test_expiry_period_is_a_setting(api, make_peering, alpha, beta, settings):
    settings.VPCSIM_PENDING_EXPIRY_SECONDS = 60
    peering = make_peering(alpha, beta)

    clock.advance(dt.timedelta(seconds=61))

    assert api(alpha).get(PEERINGS, query={"status": "EXPIRED"}).json()["peerings"][0]["id"] == peering["id"]


def test_expired_peering_cannot_be_accepted_and_frees_the_pair(api, make_peering, alpha, beta):
    peering = make_peering(alpha, beta)
    clock.advance(dt.timedelta(days=8))

    response = api(beta).put(url(peering, "accept"))

    assert response.status_code == 409
    assert "is EXPIRED" in neutron_error(response)["message"]
    again = api(alpha).post(PEERINGS, peering_body(alpha.vpc_ids[0], beta.vpc_ids[0], beta.project_id))
    assert again.status_code == 201
    assert again.json()["peering"]["status"] == "PENDING_ACCEPTANCE"


def test_active_peerings_do_not_expire(api, make_peering, alpha, alpha_dev):
    peering = make_peering(alpha, alpha_dev)

    clock.advance(dt.timedelta(days=30))

    assert api(alpha).get(url(peering)).json()["peering"]["status"] == "ACTIVE"


def test_an_expired_peering_can_still_be_deleted(api, make_peering, alpha, beta):
    peering = make_peering(alpha, beta)
    clock.advance(dt.timedelta(days=8))

    assert api(alpha).delete(url(peering)).status_code == 204
    assert not Peering.objects.exists()
