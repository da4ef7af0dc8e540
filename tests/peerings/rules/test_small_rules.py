"""Separation of duties, the pending deadline, reasons for decisions, and the limits in messages."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest

from peerings.rules import decisions, duties, expiry, limits, messages

NOW = datetime(2026, 1, 10, 12, 0, tzinfo=UTC)
DAY = 24 * 3600
SIDES = ("requester", "accepter")


@pytest.mark.parametrize(
    ("rule", "side"), [(duties.may_accept, "accepter"), (duties.may_approve, "requester")]
)
@pytest.mark.parametrize(
    ("user", "requested_by", "separate", "allowed"),
    [
        (7, 7, True, False),
        (7, 7, False, True),
        (7, 8, True, True),
        (7, None, True, True),
        (None, None, True, True),
    ],
)
def test_separated_duties_bar_only_the_requester(rule, side, user, requested_by, separate, allowed):
    tenants = {f"{s}_tenant": SimpleNamespace(separate_duties=separate and s == side) for s in SIDES}
    request = SimpleNamespace(requested_by_id=requested_by, **tenants)
    assert rule(user, request) is allowed


def test_duties_read_the_tenant_only_for_the_requester():
    """Reading a tenant may cost a query: only the requester's own decision needs it."""
    request = SimpleNamespace(requested_by_id=8, requester_tenant=None, accepter_tenant=None)
    assert duties.may_accept(7, request)
    assert duties.may_approve(7, request)


def test_the_deadline_is_the_lifetime_after_creation():
    assert expiry.pending_deadline(NOW, lifetime=7 * DAY) == NOW + timedelta(days=7)


def test_the_job_warns_exactly_the_requests_expiring_within_the_warning():
    horizon = expiry.warned_if_created_before(NOW, lifetime=7 * DAY, warning=DAY)
    for created in (horizon, horizon - timedelta(seconds=1), horizon + timedelta(seconds=1)):
        deadline = expiry.pending_deadline(created, lifetime=7 * DAY)
        assert expiry.expiring_soon(deadline, NOW, warning=DAY) is (created <= horizon)


def test_the_deadline_defaults_to_the_settings(settings):
    settings.PENDING_EXPIRY_SECONDS = 3 * DAY
    assert expiry.pending_deadline(NOW) == NOW + timedelta(days=3)


@pytest.mark.parametrize(
    ("action", "reason", "problem"),
    [
        ("reject", "", messages.REASON_REQUIRED),
        ("reject", "  \n", messages.REASON_REQUIRED),
        ("decline", None, messages.DECLINE_REASON_REQUIRED),
        ("reject", "wrong VPC", None),
        ("accept", "", None),
        ("approve", "", None),
    ],
)
def test_a_reject_or_a_decline_needs_a_reason(action, reason, problem):
    assert decisions.reason_problem(action, reason) == problem
    assert decisions.needs_reason(action) is (action in ("reject", "decline"))


def test_the_messages_state_the_limits():
    assert str(limits.NAME_MAX_LENGTH) in messages.NAME_TOO_LONG
    assert str(limits.DESCRIPTION_MAX_LENGTH) in messages.DESCRIPTION_TOO_LONG
    assert str(limits.REASON_MAX_LENGTH) in messages.REASON_TOO_LONG
