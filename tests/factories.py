"""factory_boy factories for the portal's models."""

from __future__ import annotations

import uuid

import factory
from django.contrib.auth import get_user_model

from peerings.choices import CallOperation, ChangeSource, PeeringStatus, Role
from peerings.models import Membership, Peering, StatusChange, Tenant, UpstreamCall
from vpcsim import models as sim_models
from vpcsim import provision


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    password = factory.PostGenerationMethodCall("set_password", "correct horse battery staple")

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class TenantFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Tenant

    name = factory.Sequence(lambda n: f"tenant-{n}")
    project_id = factory.LazyFunction(lambda: uuid.uuid4().hex)
    access_key = factory.Sequence(lambda n: f"AKTEST{n:014d}")
    secret_key = factory.LazyFunction(lambda: uuid.uuid4().hex + uuid.uuid4().hex[:8])


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    tenant = factory.SubFactory(TenantFactory)
    role = Role.MEMBER


class PeeringFactory(factory.django.DjangoModelFactory):
    """A mirror row only: nothing is sent to the cloud."""

    class Meta:
        model = Peering

    upstream_id = factory.LazyFunction(lambda: str(uuid.uuid4()))
    name = factory.Sequence(lambda n: f"peering-{n}")
    status = PeeringStatus.PENDING_ACCEPTANCE
    requester_tenant = factory.SubFactory(TenantFactory)
    requester_project_id = factory.SelfAttribute("requester_tenant.project_id")
    requester_vpc_id = factory.LazyFunction(uuid.uuid4)
    accepter_tenant = factory.SubFactory(TenantFactory)
    accepter_project_id = factory.SelfAttribute("accepter_tenant.project_id")
    accepter_vpc_id = factory.LazyFunction(uuid.uuid4)


class UpstreamCallFactory(factory.django.DjangoModelFactory):
    """A history row of a (pretend) call; nothing is sent."""

    class Meta:
        model = UpstreamCall

    tenant = factory.SubFactory(TenantFactory)
    operation = CallOperation.SHOW
    method = "GET"
    url = factory.LazyAttribute(lambda o: f"https://vpc.example.test/v2.0/vpc/peerings/{uuid.uuid4()}")
    status_code = 200
    correlation_id = factory.LazyFunction(lambda: uuid.uuid4().hex)


class StatusChangeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = StatusChange

    peering = factory.SubFactory(PeeringFactory)
    old_status = PeeringStatus.SUBMITTING
    new_status = PeeringStatus.PENDING_ACCEPTANCE
    source = ChangeSource.USER


# --- The simulated cloud (through its provisioning API) and portal tenants for its projects ---


class SimAccountFactory(factory.Factory):
    """A simulated cloud account with one generated AK/SK pair."""

    class Meta:
        model = sim_models.Account

    name = factory.Sequence(lambda n: f"account-{n}")

    @classmethod
    def _create(cls, model_class, **kwargs):
        return provision.create_account(**kwargs)


class SimProjectFactory(factory.Factory):
    class Meta:
        model = sim_models.Project

    account = factory.SubFactory(SimAccountFactory)
    name = factory.Sequence(lambda n: f"project-{n}")

    @classmethod
    def _create(cls, model_class, **kwargs):
        return provision.create_project(**kwargs)


class SimVpcFactory(factory.Factory):
    class Meta:
        model = sim_models.Vpc

    project = factory.SubFactory(SimProjectFactory)
    name = factory.Sequence(lambda n: f"vpc-{n}")
    cidr = factory.Sequence(lambda n: f"10.{100 + n % 150}.0.0/16")

    @classmethod
    def _create(cls, model_class, **kwargs):
        return provision.create_vpc(**kwargs)


class SimTenantFactory(TenantFactory):
    """The portal tenant of a simulated project, holding its account's keys."""

    class Params:
        project = factory.SubFactory(SimProjectFactory)

    name = factory.LazyAttribute(lambda o: o.project.name)
    project_id = factory.LazyAttribute(lambda o: o.project.project_id)
    access_key = factory.LazyAttribute(lambda o: o.project.account.access_keys.first().access_key)
    secret_key = factory.LazyAttribute(lambda o: o.project.account.access_keys.first().secret_key)


def create_body(request_vpc, accept_vpc, *, name="web-to-peer", tenant_id=None, **extra) -> dict:
    """A create body in the cloud's field names, from two simulator VPCs."""
    accept = {"vpc_id": str(accept_vpc.vpc_id), "tenant_id": accept_vpc.project.project_id}
    request = {"vpc_id": str(request_vpc.vpc_id)}
    if tenant_id:
        request["tenant_id"] = tenant_id
    return {"name": name, "request_vpc_info": request, "accept_vpc_info": accept, **extra}


def _inline_management(prefix: str, total: int = 0) -> dict[str, str]:
    return {
        f"{prefix}-TOTAL_FORMS": str(total),
        f"{prefix}-INITIAL_FORMS": "0",
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
    }


def tenant_admin_form(**fields: str) -> dict[str, str]:
    """What the admin's tenant form posts (its fields and empty inlines), with ``fields`` over it."""
    return {
        "name": "new-tenant",
        "project_id": "0123456789abcdef0123456789abcdef",
        "region": "",
        "endpoint": "http://127.0.0.1:8000",
        "approval_policy": "forward",
        "org_unit": "",
        **_inline_management("memberships"),
        **_inline_management("auto_approved_vpcs"),
        **fields,
    }
