"""Provisioning of the simulated cloud: accounts with keys, projects and VPCs.

Used by tests and the demo seed; every function is idempotent (calling it again
with the same name returns the existing object).
"""

from __future__ import annotations

import ipaddress
import re
import secrets
import string
import uuid

from django.db import transaction

from vpcsim import clock
from vpcsim.models import AccessKey, Account, Project, Vpc
from vpcsim.store import DB

__all__ = ["create_account", "create_project", "create_vpc", "generate_access_key", "generate_secret_key"]

PROJECT_ID_RE = re.compile(r"^[0-9a-f]{32}$")
_AK_ALPHABET = string.ascii_uppercase + string.digits
_SK_ALPHABET = string.ascii_letters + string.digits


def generate_access_key() -> str:
    """20 upper-case alphanumerics, like a Huawei AK."""
    return "".join(secrets.choice(_AK_ALPHABET) for _ in range(20))


def generate_secret_key() -> str:
    """40 alphanumerics, like a Huawei SK."""
    return "".join(secrets.choice(_SK_ALPHABET) for _ in range(40))


@transaction.atomic(using=DB)
def create_account(*, name: str, access_key: str | None = None, secret_key: str | None = None) -> Account:
    """Return the account called ``name``, creating it (and a key pair) if needed.

    Given keys are added to an existing account when it does not have them yet;
    a new account without given keys gets a generated pair.
    """
    account, created = Account.objects.get_or_create(name=name, defaults={"domain_id": uuid.uuid4().hex})
    if access_key is None and secret_key is None:
        if created:
            AccessKey.objects.create(
                account=account, access_key=generate_access_key(), secret_key=generate_secret_key()
            )
        return account
    if not access_key or not secret_key:
        raise ValueError("give both access_key and secret_key, or neither")
    key, _ = AccessKey.objects.get_or_create(
        access_key=access_key, defaults={"account": account, "secret_key": secret_key}
    )
    if key.account_id != account.pk or key.secret_key != secret_key:
        raise ValueError(f"access key {access_key} already exists with another account or secret")
    return account


@transaction.atomic(using=DB)
def create_project(
    *, account: Account, name: str, project_id: str | None = None, region: str = "cn-north-4"
) -> Project:
    """Return the account's project called ``name``, creating it if needed."""
    if project_id is not None and not PROJECT_ID_RE.match(project_id):
        raise ValueError(f"project_id must be 32 lower-case hex characters, not {project_id!r}")
    project = Project.objects.filter(account=account, name=name).first()
    if project is None:
        return Project.objects.create(
            account=account, name=name, project_id=project_id or uuid.uuid4().hex, region=region
        )
    if project_id is not None and project.project_id != project_id:
        raise ValueError(f"project {name!r} already exists with id {project.project_id}")
    return project


@transaction.atomic(using=DB)
def create_vpc(*, project: Project, name: str, cidr: str, vpc_id: str | uuid.UUID | None = None) -> Vpc:
    """Return the project's VPC called ``name``, creating it if needed."""
    cidr = str(ipaddress.ip_network(cidr, strict=True))
    vpc_uuid = uuid.UUID(str(vpc_id)) if vpc_id is not None else None
    vpc = Vpc.objects.filter(project=project, name=name).first()
    if vpc is None:
        now = clock.now()
        return Vpc.objects.create(
            project=project,
            vpc_id=vpc_uuid or uuid.uuid4(),
            name=name,
            cidr=cidr,
            created_at=now,
            updated_at=now,
        )
    if (vpc_uuid is not None and vpc.vpc_id != vpc_uuid) or vpc.cidr != cidr:
        raise ValueError(f"VPC {name!r} already exists with id {vpc.vpc_id} and CIDR {vpc.cidr}")
    return vpc
