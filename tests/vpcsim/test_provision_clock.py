"""The provisioning API, the shared simulator clock and lazy expiry."""

from __future__ import annotations

import datetime as dt
import re
import uuid

import pytest
from django.utils import timezone

from tests.vpcsim.support import pending_peering
from vpcsim import clock, provision
from vpcsim.expiry import expire_pending
from vpcsim.models import AccessKey, Account, PeeringStatus, Project, SimClock, Vpc

pytestmark = pytest.mark.django_db


def test_create_account_generates_keys_and_a_domain_id():
    account = provision.create_account(name="acme")

    key = account.access_keys.get()
    assert re.fullmatch(r"[A-Z0-9]{20}", key.access_key)
    assert re.fullmatch(r"[A-Za-z0-9]{40}", key.secret_key)
    assert re.fullmatch(r"[0-9a-f]{32}", account.domain_id)


def test_create_account_is_idempotent_by_name():
    first = provision.create_account(name="acme")

    assert provision.create_account(name="acme") == first
    assert Account.objects.count() == 1
    assert AccessKey.objects.count() == 1


def test_create_account_with_given_keys():
    account = provision.create_account(name="acme", access_key="AK" * 10, secret_key="S" * 40)
    again = provision.create_account(name="acme", access_key="AK" * 10, secret_key="S" * 40)

    assert again == account
    assert list(account.access_keys.values_list("access_key", "secret_key")) == [("AK" * 10, "S" * 40)]


def test_given_keys_are_added_to_an_existing_account():
    account = provision.create_account(name="acme")

    provision.create_account(name="acme", access_key="EXTRAKEY0000000000AA", secret_key="s" * 40)

    assert account.access_keys.count() == 2


@pytest.mark.parametrize(
    "kwargs",
    [
        {"access_key": "ONLYAK00000000000000"},
        {"secret_key": "s" * 40},
    ],
)
def test_half_a_key_pair_is_refused(kwargs):
    with pytest.raises(ValueError, match="both"):
        provision.create_account(name="acme", **kwargs)


def test_a_key_cannot_move_to_another_account():
    provision.create_account(name="acme", access_key="SHAREDAK000000000000", secret_key="s" * 40)

    with pytest.raises(ValueError, match="already exists"):
        provision.create_account(name="other", access_key="SHAREDAK000000000000", secret_key="s" * 40)


def test_create_project_generates_an_id_and_is_idempotent():
    account = provision.create_account(name="acme")

    project = provision.create_project(account=account, name="main")

    assert re.fullmatch(r"[0-9a-f]{32}", project.project_id)
    assert project.region == "cn-north-4"
    assert provision.create_project(account=account, name="main") == project
    assert provision.create_project(account=account, name="main", project_id=project.project_id) == project
    assert Project.objects.count() == 1


def test_create_project_with_a_given_id_and_region():
    account = provision.create_account(name="acme")
    project_id = uuid.uuid4().hex

    project = provision.create_project(account=account, name="eu", project_id=project_id, region="eu-west-0")

    assert (project.project_id, project.region) == (project_id, "eu-west-0")


@pytest.mark.parametrize("project_id", ["ABCDEF0123456789ABCDEF0123456789", "123", str(uuid.uuid4())])
def test_create_project_refuses_ids_that_are_not_32_lowercase_hex(project_id):
    account = provision.create_account(name="acme")

    with pytest.raises(ValueError, match="32 lower-case hex"):
        provision.create_project(account=account, name="main", project_id=project_id)


def test_create_project_refuses_a_different_id_for_an_existing_name():
    account = provision.create_account(name="acme")
    provision.create_project(account=account, name="main")

    with pytest.raises(ValueError, match="already exists"):
        provision.create_project(account=account, name="main", project_id=uuid.uuid4().hex)


def test_create_vpc_is_idempotent_and_normalises_the_cidr():
    project = provision.create_project(account=provision.create_account(name="acme"), name="main")
    vpc_id = uuid.uuid4()

    vpc = provision.create_vpc(project=project, name="web", cidr="10.0.0.0/16", vpc_id=vpc_id)

    assert (vpc.vpc_id, vpc.cidr, vpc.status) == (vpc_id, "10.0.0.0/16", "OK")
    assert provision.create_vpc(project=project, name="web", cidr="10.0.0.0/16") == vpc
    assert Vpc.objects.count() == 1
    with pytest.raises(ValueError, match="already exists"):
        provision.create_vpc(project=project, name="web", cidr="10.9.0.0/16")
    with pytest.raises(ValueError, match="host bits set"):
        provision.create_vpc(project=project, name="bad", cidr="10.0.0.1/16")


def test_clock_advances_and_resets():
    start = timezone.now()

    moved = clock.advance(dt.timedelta(days=3))
    clock.advance(dt.timedelta(hours=1))

    assert moved - start >= dt.timedelta(days=3)
    assert clock.offset() == dt.timedelta(days=3, hours=1)
    assert SimClock.objects.get().offset == dt.timedelta(days=3, hours=1)
    clock.reset()
    assert clock.offset() == dt.timedelta(0)
    assert abs(clock.now() - timezone.now()) < dt.timedelta(seconds=5)


def test_clock_set_offset():
    clock.set_offset(dt.timedelta(minutes=-5))

    assert clock.offset() == dt.timedelta(minutes=-5)
    assert clock.now() < timezone.now()


def test_expire_pending_only_touches_overdue_pending_peerings(alpha, beta):
    now = clock.now()
    overdue = pending_peering(alpha, beta, created_at=now - dt.timedelta(days=7, seconds=1))
    fresh = pending_peering(alpha, beta, created_at=now - dt.timedelta(days=6))

    assert expire_pending(now=now) == 1
    assert expire_pending(now=now) == 0

    overdue.refresh_from_db()
    fresh.refresh_from_db()
    assert overdue.status == PeeringStatus.EXPIRED
    assert overdue.updated_at == overdue.created_at + dt.timedelta(days=7)
    assert fresh.status == PeeringStatus.PENDING_ACCEPTANCE
