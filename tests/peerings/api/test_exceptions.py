"""The one error shape, and the mapping of the portal's exception family onto HTTP statuses."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions

from peerings import workflow
from peerings.api.exceptions import api_exception_handler, flatten_errors
from peerings.exceptions import (
    CloudRefused,
    CloudUnavailable,
    InvalidState,
    NotPermitted,
    PortalError,
    RequestInvalid,
)
from tests.factories import MembershipFactory, PeeringFactory


def _handle(exc: Exception):
    response = api_exception_handler(exc, {"view": None})
    return response.status_code, response.data


@pytest.mark.parametrize(
    ("exc", "status", "code"),
    [
        (NotPermitted(), 403, "not_permitted"),
        (InvalidState("Nope."), 409, "invalid_state"),
        (PortalError(), 400, "invalid"),
        (Http404(), 404, "not_found"),
        (exceptions.NotAuthenticated(), 401, "not_authenticated"),
        (exceptions.AuthenticationFailed(), 401, "authentication_failed"),
        (exceptions.PermissionDenied(), 403, "permission_denied"),
        (exceptions.MethodNotAllowed("PUT"), 405, "method_not_allowed"),
        (exceptions.UnsupportedMediaType("text/plain"), 415, "unsupported_media_type"),
        (exceptions.ParseError(), 400, "parse_error"),
        (exceptions.Throttled(wait=3), 429, "throttled"),
    ],
)
def test_status_and_code(exc, status, code):
    got_status, body = _handle(exc)

    assert got_status == status
    assert body["error"]["code"] == code
    assert isinstance(body["error"]["message"], str)
    assert body["error"]["message"]
    assert set(body) == {"error"}


def test_a_cloud_refusal_is_422_with_what_the_cloud_said():
    exc = CloudRefused("Accept VPC id or tenant id is incorrect.", status=400, code="InvalidInput")

    status, body = _handle(exc)

    assert status == 422
    assert body == {
        "error": {
            "code": "cloud_refused",
            "message": "Accept VPC id or tenant id is incorrect.",
            "cloud": {
                "status": 400,
                "code": "InvalidInput",
                "message": "Accept VPC id or tenant id is incorrect.",
            },
        }
    }


def test_cloud_unavailable_is_503_and_an_unknown_outcome_504():
    down_status, down = _handle(CloudUnavailable(status=502, code="VPC.0500"))
    unknown_status, unknown = _handle(CloudUnavailable(outcome_unknown=True))

    assert (down_status, down["error"]["code"]) == (503, "cloud_unavailable")
    assert down["error"]["cloud"] == {
        "status": 502,
        "code": "VPC.0500",
        "message": CloudUnavailable.default_message,
    }
    assert (unknown_status, unknown["error"]["code"]) == (504, "cloud_timeout")
    assert "refresh" in unknown["error"]["message"]


def test_request_invalid_uses_the_apis_field_names():
    exc = RequestInvalid({"accept_vpc_id": ["Bad."], "accept_project_id": ["Worse."], "__all__": ["Both."]})

    status, body = _handle(exc)

    assert status == 400
    assert body["error"]["code"] == "invalid"
    assert body["error"]["fields"] == {
        "accept_vpc_info.vpc_id": ["Bad."],
        "accept_vpc_info.tenant_id": ["Worse."],
        "non_field_errors": ["Both."],
    }


def test_an_overlap_warning_asks_for_confirmation():
    status, body = _handle(RequestInvalid({"confirm_overlap": ["Overlaps."]}, needs_confirmation=True))

    assert status == 400
    assert body["error"] == {
        "code": "overlap_confirmation_required",
        "message": "Overlaps.",
        "fields": {"confirm_overlap": ["Overlaps."]},
    }


def test_validation_errors_are_flattened_per_field():
    exc = exceptions.ValidationError(
        {
            "name": ["Too long."],
            "request_vpc_info": {"vpc_id": ["Not a UUID."]},
            "non_field_errors": ["Oops."],
        }
    )

    status, body = _handle(exc)

    assert status == 400
    assert body["error"]["fields"] == {
        "name": ["Too long."],
        "request_vpc_info.vpc_id": ["Not a UUID."],
        "non_field_errors": ["Oops."],
    }
    assert body["error"]["message"] == "name: Too long."


def test_a_django_validation_error_is_a_400():
    status, body = _handle(DjangoValidationError({"name": ["Nope."]}))

    assert status == 400
    assert body["error"]["fields"] == {"name": ["Nope."]}


def test_flatten_errors_handles_lists_of_objects():
    assert flatten_errors({"items": [{}, {"a": ["x"]}]}) == {"items.1.a": ["x"]}
    assert flatten_errors(["Whole body."]) == {"non_field_errors": ["Whole body."]}


def test_an_unexpected_error_is_logged_and_answers_500_in_the_same_shape(client_for, db, monkeypatch, caplog):
    membership = MembershipFactory()
    peering = PeeringFactory(requester_tenant=membership.tenant)

    def broken(**kwargs):
        raise RuntimeError("bug")

    monkeypatch.setattr(workflow, "peering_refresh", broken)

    response = client_for(membership.user).post(f"/api/v1/peerings/{peering.pk}/refresh/")

    assert response.status_code == 500
    assert response.json() == {
        "error": {"code": "server_error", "message": "An unexpected error occurred; it has been logged."}
    }
    assert "bug" in caplog.text


def test_unknown_methods_and_media_types_answer_in_the_error_shape(client_for, db):
    membership = MembershipFactory()
    peering = PeeringFactory(requester_tenant=membership.tenant)
    api = client_for(membership.user)

    put = api.put(f"/api/v1/peerings/{peering.pk}/", {"name": "x"}, format="json")
    form = api.post("/api/v1/peerings/", {"name": "x"})  # multipart

    assert put.status_code == 405
    assert put.json()["error"]["code"] == "method_not_allowed"
    assert form.status_code == 415
    assert form.json()["error"]["code"] == "unsupported_media_type"


@pytest.mark.parametrize("path", ["/api/v1/peerings/abc/", "/api/v1/peerings/1%0A2/", "/api/v1/nothing-here"])
def test_unknown_api_paths_are_404_in_the_error_shape(client_for, db, path):
    api = client_for(MembershipFactory().user)

    for response in (api.get(path), api.patch(path, {}, format="json")):
        assert response.status_code == 404
        assert response.json() == {"error": {"code": "not_found", "message": "Not found."}}
