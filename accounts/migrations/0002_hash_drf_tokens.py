"""Existing DRF tokens (``authtoken_token``, plain keys) become hashed ApiTokens; the keys keep working.

The old table is read with SQL when it exists (``rest_framework.authtoken`` is no longer
installed) and emptied afterwards, so no plain key stays in the database. The table itself
is left for the operator to drop.
"""

import datetime
import hashlib

from django.db import migrations
from django.utils import timezone
from django.utils.dateparse import parse_datetime

OLD_TABLE = "authtoken_token"


def hash_drf_tokens(apps, schema_editor):
    connection = schema_editor.connection
    if OLD_TABLE not in connection.introspection.table_names():
        return
    ApiToken = apps.get_model("accounts", "ApiToken")
    table = connection.ops.quote_name(OLD_TABLE)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {connection.ops.quote_name('key')}, user_id, created FROM {table}")  # noqa: S608
        rows = cursor.fetchall()
    for key, user_id, created in rows:
        digest = hashlib.sha256(key.encode()).hexdigest()
        if ApiToken.objects.filter(digest=digest).exists():
            continue
        token = ApiToken.objects.create(user_id=user_id, name="migrated DRF token", prefix=key[:8], digest=digest)
        if isinstance(created, str):
            created = parse_datetime(created)
        if created is not None:
            if timezone.is_naive(created):
                created = timezone.make_aware(created, datetime.UTC)
            ApiToken.objects.filter(pk=token.pk).update(created_at=created)
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {table}")  # noqa: S608


class Migration(migrations.Migration):
    dependencies = [("accounts", "0001_initial")]

    operations = [migrations.RunPython(hash_drf_tokens, migrations.RunPython.noop)]
