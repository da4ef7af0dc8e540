"""``manage.py rotate_encryption_keys``: re-encrypt every tenant's AK/SK under the first key.

Rotation: put the new key first in ``PORTAL_ENCRYPTION_KEYS`` (the old ones after it),
deploy, run this command, then drop the old keys from the variable. Each row is read with
any of the keys and written back encrypted with the first; a row no key can decrypt stops
the command before anything is written.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand
from django.db import transaction

from peerings.models import Tenant


class Command(BaseCommand):
    help = "Re-encrypt every tenant's access and secret keys with the first key of PORTAL_ENCRYPTION_KEYS."

    def handle(self, *args: Any, **options: Any) -> None:
        count = 0
        with transaction.atomic():
            for tenant in Tenant.objects.select_for_update().order_by("pk"):
                # update() encrypts through EncryptedSecretField with the first key; updated_at stays.
                Tenant.objects.filter(pk=tenant.pk).update(
                    access_key=tenant.access_key, secret_key=tenant.secret_key
                )
                count += 1
        self.stdout.write(f"{count} tenant(s) re-encrypted with the first key of PORTAL_ENCRYPTION_KEYS.")
