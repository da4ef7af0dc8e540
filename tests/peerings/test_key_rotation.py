"""``rotate_encryption_keys``: after it, the old key can be dropped and every tenant still reads."""

from __future__ import annotations

from io import StringIO

import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.db import connection

from peerings.models import Tenant
from tests.factories import TenantFactory

pytestmark = pytest.mark.django_db


def _raw(tenant: Tenant) -> tuple[str, str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT access_key, secret_key FROM peerings_tenant WHERE id = %s", [tenant.pk])
        return cursor.fetchone()


def test_rotate_then_drop_the_old_key(settings):
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.FIELD_ENCRYPTION_KEYS = [old]
    tenants = [TenantFactory(access_key=f"AK{n}", secret_key=f"SK-secret-{n}") for n in range(3)]
    before = {t.pk: _raw(t) for t in tenants}

    settings.FIELD_ENCRYPTION_KEYS = [new, old]
    out = StringIO()
    call_command("rotate_encryption_keys", stdout=out)
    assert "3 tenant(s) re-encrypted" in out.getvalue()

    settings.FIELD_ENCRYPTION_KEYS = [new]
    for n, tenant in enumerate(tenants):
        fresh = Tenant.objects.get(pk=tenant.pk)
        assert fresh.access_key.reveal() == f"AK{n}"
        assert fresh.secret_key.reveal() == f"SK-secret-{n}"
        access, secret = _raw(tenant)
        assert (access, secret) != before[tenant.pk]
        assert Fernet(new).decrypt(secret.encode()).decode() == f"SK-secret-{n}"
        assert f"SK-secret-{n}" not in secret


def test_without_rotation_dropping_the_old_key_fails_loudly(settings):
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.FIELD_ENCRYPTION_KEYS = [old]
    tenant = TenantFactory()
    settings.FIELD_ENCRYPTION_KEYS = [new]
    with pytest.raises(ImproperlyConfigured, match="cannot be decrypted"):
        Tenant.objects.get(pk=tenant.pk)
