"""factory_boy factories for the portal's models."""

from __future__ import annotations

import uuid

import factory
from django.contrib.auth import get_user_model

from peerings.choices import PeeringStatus, Role
from peerings.models import Membership, Peering, Tenant


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
