"""The demo world: simulated cloud accounts and the portal tenants, users and tokens that match them.

Everything is looked up by name before it is created, so seeding twice changes
nothing. Project and VPC ids are derived from names (UUID5), so they are the same
on every machine; keys and passwords' hashes are generated once. API tokens are stored
hashed, so a demo user's key is derived from ``SECRET_KEY`` and the username: seeding
again prints the same working key (see :func:`demo_token_key`).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import uuid
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction

from accounts.groups import APPROVERS, ensure_approvers_group
from accounts.models import PREFIX_LENGTH, ApiToken, digest
from peerings.choices import ApprovalPolicy, Role
from peerings.models import Membership, Tenant

__all__ = ["DEMO_PASSWORD", "demo_token_key", "seed"]

# A published demo sign-in, never used outside the demo.
DEMO_PASSWORD = "peering-demo-2026"
_NAMESPACE = uuid.UUID("5b0c6a9e-7a43-4f0e-9d62-1f6f3f6c2a10")


@dataclass(frozen=True)
class DemoVpc:
    name: str
    cidr: str


@dataclass(frozen=True)
class DemoProject:
    account: str
    name: str
    tenant: str
    vpcs: tuple[DemoVpc, ...]
    org_unit: str = ""
    #: The tenant's approval policy: hold new requests for its approvers, except within its org unit.
    hold: bool = False


# Two accounts, so cross-account (pending acceptance) flows work; two projects in
# one account, so same-account (active at once) flows work too. acme-dev/dev-apps
# repeats acme-prod/prod-web's range and globex-lab sits inside prod-data: both on purpose.
# Acme Staging holds its requests for approval in the portal, except those to other Acme tenants.
PROJECTS = (
    DemoProject(
        "acme",
        "acme-prod",
        "Acme Production",
        (DemoVpc("prod-web", "10.10.0.0/16"), DemoVpc("prod-data", "10.20.0.0/16")),
        org_unit="Acme",
    ),
    DemoProject(
        "acme",
        "acme-dev",
        "Acme Development",
        (DemoVpc("dev-apps", "10.10.0.0/16"), DemoVpc("dev-tools", "10.30.0.0/16")),
        org_unit="Acme",
    ),
    DemoProject(
        "globex",
        "globex-main",
        "Globex",
        (DemoVpc("globex-core", "172.16.0.0/16"), DemoVpc("globex-lab", "10.20.128.0/17")),
    ),
    DemoProject(
        "acme",
        "acme-staging",
        "Acme Staging",
        (DemoVpc("stage-web", "10.40.0.0/16"),),
        org_unit="Acme",
        hold=True,
    ),
)

# username -> (is_superuser, {tenant name: role})
USERS: dict[str, tuple[bool, dict[str, str]]] = {
    "admin": (
        True,
        {
            "Acme Production": Role.APPROVER,
            "Acme Development": Role.APPROVER,
            "Globex": Role.APPROVER,
            "Acme Staging": Role.APPROVER,
        },
    ),
    "alice": (
        False,
        {"Acme Production": Role.MEMBER, "Acme Development": Role.MEMBER, "Acme Staging": Role.MEMBER},
    ),
    "bob": (False, {"Acme Production": Role.APPROVER, "Acme Staging": Role.APPROVER}),
    "carol": (False, {"Globex": Role.APPROVER}),
    "dave": (False, {"Globex": Role.MEMBER}),
}


#: Staff approvers: they open the admin too, as members of the "Approvers" group (accounts.groups),
#: and see and decide there what their tenant roles allow.
STAFF_APPROVERS = {"bob"}

DEMO_TOKEN_NAME = "demo"


def demo_token_key(username: str) -> str:
    """The demo user's API key: an HMAC of the username under ``SECRET_KEY`` (demo only)."""
    mac = hmac.new(settings.SECRET_KEY.encode(), f"demo-api-token:{username}".encode(), hashlib.sha256)
    return base64.urlsafe_b64encode(mac.digest()).decode().rstrip("=")


def _demo_token(user: Any) -> str:
    key = demo_token_key(user.get_username())
    ApiToken.objects.update_or_create(
        digest=digest(key),
        defaults={
            "user": user,
            "name": DEMO_TOKEN_NAME,
            "prefix": key[:PREFIX_LENGTH],
            "expires_at": None,
            "revoked_at": None,
        },
    )
    return key


def _uuid(*parts: str) -> uuid.UUID:
    return uuid.uuid5(_NAMESPACE, "/".join(parts))


@transaction.atomic
def seed() -> dict[str, Any]:
    """Create (or find) the demo world and describe it as one JSON-ready document."""
    from vpcsim import provision  # the demo is the one place that knows both sides

    accounts: dict[str, dict[str, Any]] = {}
    tenants: list[dict[str, Any]] = []
    for spec in PROJECTS:
        account = provision.create_account(name=spec.account)
        key = account.access_keys.order_by("pk").first()
        entry = accounts.setdefault(
            spec.account,
            {
                "name": account.name,
                "domain_id": account.domain_id,
                "access_key": key.access_key,
                "secret_key": key.secret_key,
                "projects": [],
            },
        )
        project = provision.create_project(account=account, name=spec.name, project_id=_uuid(spec.name).hex)
        vpcs = [
            provision.create_vpc(project=project, name=v.name, cidr=v.cidr, vpc_id=_uuid(spec.name, v.name))
            for v in spec.vpcs
        ]
        entry["projects"].append(
            {
                "name": project.name,
                "project_id": project.project_id,
                "region": project.region,
                "vpcs": [{"name": v.name, "id": str(v.vpc_id), "cidr": v.cidr} for v in vpcs],
            }
        )
        tenant, _ = Tenant.objects.update_or_create(
            project_id=project.project_id,
            defaults={
                "name": spec.tenant,
                "access_key": key.access_key,
                "secret_key": key.secret_key,
                "org_unit": spec.org_unit,
                "approval_policy": ApprovalPolicy.HOLD if spec.hold else ApprovalPolicy.FORWARD,
                "auto_approve_same_org_unit": spec.hold,
            },
        )
        tenants.append(
            {
                "name": tenant.name,
                "project_id": tenant.project_id,
                "account": account.name,
                # Added for scripts (every earlier key stays): the portal's tenant id, for
                # /api/v1/tenants/{id}/ and ?tenant=, and the tenant's VPCs by name.
                "id": tenant.pk,
                "vpcs": [{"name": v.name, "id": str(v.vpc_id), "cidr": v.cidr} for v in vpcs],
                "approval_policy": tenant.approval_policy,
                "org_unit": tenant.org_unit,
            }
        )

    users = [_seed_user(username, *spec) for username, spec in USERS.items()]
    return {"accounts": list(accounts.values()), "tenants": tenants, "users": users}


def _seed_user(username: str, is_superuser: bool, roles: dict[str, str]) -> dict[str, Any]:
    user, created = get_user_model().objects.get_or_create(
        username=username,
        defaults={"email": f"{username}@example.com", "is_staff": is_superuser, "is_superuser": is_superuser},
    )
    if created:
        user.set_password(DEMO_PASSWORD)
        user.save(update_fields=["password"])
    if username in STAFF_APPROVERS and not user.is_staff:
        user.is_staff = True
        user.save(update_fields=["is_staff"])
    if username in STAFF_APPROVERS:
        ensure_approvers_group()
        user.groups.add(Group.objects.get(name=APPROVERS))
    for tenant_name, role in roles.items():
        Membership.objects.update_or_create(
            user=user, tenant=Tenant.objects.get(name=tenant_name), defaults={"role": role}
        )
    return {
        "username": username,
        "email": user.email,
        "password": DEMO_PASSWORD,
        "is_superuser": is_superuser,
        "is_staff": user.is_staff,
        "roles": [{"tenant": t, "role": str(r)} for t, r in roles.items()],
        "token": _demo_token(user),
    }
