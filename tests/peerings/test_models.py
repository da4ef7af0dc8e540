"""Model rules: append-only history, secrets at rest, constraints, the status map."""

from __future__ import annotations

import pytest
from django.core import serializers
from django.db import IntegrityError, connection, transaction
from django.db.models import ProtectedError

from peerings.choices import OPEN_STATUSES, TRANSITIONS, PeeringStatus, Role
from peerings.models import Peering, StatusChange, Tenant, UpstreamCall
from peerings.secrets import Secret, fernet
from tests.factories import (
    MembershipFactory,
    PeeringFactory,
    StatusChangeFactory,
    TenantFactory,
    UpstreamCallFactory,
    UserFactory,
)

S = PeeringStatus
pytestmark = pytest.mark.django_db


# --- Append-only history ---------------------------------------------------------------------------


@pytest.fixture(params=[UpstreamCallFactory, StatusChangeFactory], ids=["UpstreamCall", "StatusChange"])
def history_row(request):
    return request.param()


def test_history_rows_cannot_be_saved_again(history_row):
    history_row.error_message = history_row.reason = "rewritten"
    with pytest.raises(TypeError, match="append-only"):
        history_row.save()
    fresh = type(history_row).objects.get(pk=history_row.pk)
    assert "rewritten" not in (getattr(fresh, "error_message", ""), getattr(fresh, "reason", ""))


def test_history_rows_cannot_be_deleted(history_row):
    with pytest.raises(TypeError, match="append-only"):
        history_row.delete()
    assert type(history_row).objects.filter(pk=history_row.pk).exists()


def test_history_querysets_cannot_update_or_delete(history_row):
    rows = type(history_row).objects.all()
    with pytest.raises(TypeError, match="append-only"):
        rows.update(created_at=None)
    with pytest.raises(TypeError, match="append-only"):
        rows.delete()
    assert rows.count() == 1


def test_a_peering_with_history_cannot_be_deleted():
    change = StatusChangeFactory()
    with pytest.raises(ProtectedError):
        change.peering.delete()


def test_deleting_a_user_does_not_rewrite_their_history():
    call = UpstreamCallFactory(acting_user=UserFactory())
    change = StatusChangeFactory(actor=call.acting_user)
    with pytest.raises(ProtectedError):
        call.acting_user.delete()
    assert UpstreamCall.objects.get(pk=call.pk).acting_user_id == call.acting_user_id
    assert StatusChange.objects.get(pk=change.pk).actor_id == call.acting_user_id


# --- Secrets at rest ----------------------------------------------------------------------------------


def test_tenant_keys_are_stored_encrypted_and_never_printed():
    tenant = TenantFactory(access_key="AKPLAINTEXT000000001", secret_key="sk-plaintext-do-not-show")
    with connection.cursor() as cursor:
        cursor.execute("SELECT access_key, secret_key FROM peerings_tenant WHERE id = %s", [tenant.pk])
        raw_ak, raw_sk = cursor.fetchone()

    assert "AKPLAINTEXT000000001" not in raw_ak
    assert "sk-plaintext-do-not-show" not in raw_sk
    assert fernet().decrypt(raw_sk.encode()).decode() == "sk-plaintext-do-not-show"

    tenant = Tenant.objects.get(pk=tenant.pk)
    assert isinstance(tenant.secret_key, Secret)
    assert tenant.secret_key.reveal() == "sk-plaintext-do-not-show"
    assert tenant.access_key.reveal() == "AKPLAINTEXT000000001"
    shown = " ".join(
        [repr(tenant), str(tenant), repr(tenant.secret_key), str(tenant.secret_key), f"{tenant.access_key}"]
    )
    dumped = serializers.serialize("json", [tenant])
    for text in (shown, dumped):
        assert "sk-plaintext-do-not-show" not in text
        assert "AKPLAINTEXT000000001" not in text


def test_each_save_encrypts_afresh():
    first, second = TenantFactory(secret_key="same"), TenantFactory(secret_key="same")
    with connection.cursor() as cursor:
        cursor.execute("SELECT secret_key FROM peerings_tenant WHERE id IN (%s, %s)", [first.pk, second.pk])
        values = {row[0] for row in cursor.fetchall()}
    assert len(values) == 2


# --- Constraints --------------------------------------------------------------------------------------


def _integrity_error(**kwargs):
    with pytest.raises(IntegrityError), transaction.atomic():
        PeeringFactory(**kwargs)


def test_a_peering_joins_two_distinct_vpcs():
    peering = PeeringFactory.build()
    _integrity_error(requester_vpc_id=peering.requester_vpc_id, accepter_vpc_id=peering.requester_vpc_id)


def test_the_status_must_be_known():
    _integrity_error(status="LIMBO")


@pytest.mark.parametrize("first", sorted(OPEN_STATUSES))
@pytest.mark.parametrize("second", sorted(OPEN_STATUSES))
@pytest.mark.parametrize("reverse", [False, True])
def test_one_open_peering_per_vpc_pair_in_either_direction(first, second, reverse):
    existing = PeeringFactory(status=first)
    pair = (
        (existing.accepter_vpc_id, existing.requester_vpc_id)
        if reverse
        else (
            existing.requester_vpc_id,
            existing.accepter_vpc_id,
        )
    )
    _integrity_error(status=second, requester_vpc_id=pair[0], accepter_vpc_id=pair[1])


@pytest.mark.parametrize("closed", [S.REJECTED, S.EXPIRED, S.DELETED, S.FAILED])
def test_closed_peerings_do_not_hold_the_pair(closed):
    existing = PeeringFactory(status=closed)
    pair = {"requester_vpc_id": existing.accepter_vpc_id, "accepter_vpc_id": existing.requester_vpc_id}
    PeeringFactory(status=closed, **pair)
    PeeringFactory(status=S.ACTIVE, **pair)
    assert Peering.objects.between(*pair.values()).count() == 3
    assert Peering.objects.between(*pair.values()).open().count() == 1


def test_membership_is_unique_per_user_and_tenant():
    membership = MembershipFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        MembershipFactory(user=membership.user, tenant=membership.tenant, role=Role.APPROVER)
    with pytest.raises(IntegrityError), transaction.atomic():
        MembershipFactory(role="owner")


# --- Status map and scoping -------------------------------------------------------------------------


@pytest.mark.parametrize("old", S.values)
def test_can_transition_to_follows_the_map(old):
    peering = PeeringFactory.build(status=old)
    assert {new for new in S.values if peering.can_transition_to(new)} == set(TRANSITIONS[old])
    assert not peering.can_transition_to(old)
    assert peering.is_open == (old in OPEN_STATUSES)


def test_terminal_statuses_lead_nowhere_and_only_approval_leads_to_submitting():
    assert TRANSITIONS[S.DELETED] == TRANSITIONS[S.FAILED] == TRANSITIONS[S.DECLINED] == frozenset()
    assert {old for old, targets in TRANSITIONS.items() if S.SUBMITTING in targets} == {S.AWAITING_APPROVAL}
    assert all(S.AWAITING_APPROVAL not in targets for targets in TRANSITIONS.values())


def test_history_rows_print_readably():
    change = StatusChangeFactory(old_status="", new_status=S.SUBMITTING)
    call = UpstreamCallFactory(status_code=None)
    assert str(change).endswith("— → SUBMITTING")
    assert str(call).endswith("no response")
    assert not call.succeeded
    assert UpstreamCall.objects.count() == StatusChange.objects.count() == 1
