"""The pages' one mapping of the portal's errors to what they say (pure: no database)."""

from __future__ import annotations

import pytest

from peerings.exceptions import (
    CloudBusy,
    CloudRefused,
    CloudUnavailable,
    InvalidState,
    NotPermitted,
    OperationInFlight,
    RequestInvalid,
)
from peerings.page_errors import error_message

HINT = "The routes section shows which routes exist."


@pytest.mark.parametrize(
    ("exc", "said"),
    [
        (
            CloudRefused("bad CIDR", status=400, code="VPC.0101"),
            "The cloud refused the request (VPC.0101): bad CIDR",
        ),
        (CloudRefused("no", status=403), "The cloud refused the request (HTTP 403): no"),
        (
            CloudUnavailable("timed out"),
            "The cloud's VPC API is unavailable (no answer): timed out Try again later.",
        ),
        (
            CloudUnavailable("timed out", outcome_unknown=True, status=504),
            "The cloud's VPC API is unavailable (HTTP 504): timed out The outcome is unknown: "
            "refresh the peering before trying again.",
        ),
    ],
)
def test_a_cloud_error_is_described_with_its_code_and_what_to_do(exc, said):
    assert error_message(exc) == said
    assert error_message(exc, cloud_hint=HINT) == f"{said} {HINT}"


@pytest.mark.parametrize(
    "exc",
    [
        NotPermitted("Not yours."),
        InvalidState("Gone."),
        OperationInFlight("Busy.", retry_after=3),
        CloudBusy(),
        RequestInvalid({"name": ["Too long."], "__all__": ["And more."]}),
    ],
)
def test_any_other_error_says_its_own_message_whatever_the_hint(exc):
    assert error_message(exc, cloud_hint=HINT) == exc.message
