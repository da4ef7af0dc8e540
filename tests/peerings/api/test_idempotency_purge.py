"""Idempotency-Key records are purged after IDEMPOTENCY_RETENTION (a function and a command)."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from peerings.api.idempotency import STALE_AFTER
from peerings.jobs import purge_idempotency_keys as purge_expired
from peerings.models import IdempotencyKey
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def _record(user, key: str, age: timedelta) -> IdempotencyKey:
    record = IdempotencyKey.objects.create(
        user=user,
        key=key,
        method="POST",
        path="/api/v1/peerings/",
        request_fingerprint="f" * 64,
        response_status=201,
        response_body={"id": 1},
    )
    IdempotencyKey.objects.filter(pk=record.pk).update(created_at=timezone.now() - age)
    return record


def test_purge_deletes_only_records_past_the_retention(settings):
    settings.IDEMPOTENCY_RETENTION = timedelta(hours=24)
    user = UserFactory()
    old = _record(user, "old", timedelta(hours=25))
    recent = _record(user, "recent", timedelta(hours=23))
    assert purge_expired() == 1
    assert not IdempotencyKey.objects.filter(pk=old.pk).exists()
    assert IdempotencyKey.objects.filter(pk=recent.pk).exists()


def test_purge_never_takes_a_request_still_running(settings):
    settings.IDEMPOTENCY_RETENTION = timedelta(seconds=1)
    running = _record(UserFactory(), "running", STALE_AFTER - timedelta(seconds=30))
    assert purge_expired() == 0
    assert IdempotencyKey.objects.filter(pk=running.pk).exists()


def test_command_uses_the_setting_or_hours(settings):
    settings.IDEMPOTENCY_RETENTION = timedelta(hours=24)
    user = UserFactory()
    _record(user, "two-days", timedelta(hours=48))
    _record(user, "two-hours", timedelta(hours=2))
    out = StringIO()
    call_command("purge_idempotency_keys", stdout=out)
    assert "1 idempotency record(s) deleted" in out.getvalue()
    call_command("purge_idempotency_keys", "--hours", "1", stdout=out)
    assert not IdempotencyKey.objects.exists()


def test_a_purged_key_is_a_new_request(acme_api, settings):
    """After the purge the same key and body are answered afresh (here: the same 400 again)."""
    headers = {"HTTP_IDEMPOTENCY_KEY": "purge-me"}
    first = acme_api.post("/api/v1/peerings/", {}, format="json", **headers)
    assert first.status_code == 400
    IdempotencyKey.objects.update(created_at=timezone.now() - timedelta(days=2))
    purge_expired()
    again = acme_api.post("/api/v1/peerings/", {}, format="json", **headers)
    assert again.status_code == 400
    assert "Idempotent-Replayed" not in again


def test_the_scheduled_job_purges_too(settings):
    from peerings.tasks import purge_idempotency_keys

    settings.IDEMPOTENCY_RETENTION = timedelta(hours=24)
    user = UserFactory()
    _record(user, "old", timedelta(hours=25))
    _record(user, "recent", timedelta(hours=1))
    assert purge_idempotency_keys.delay().get() == {"deleted": 1}
    assert list(IdempotencyKey.objects.values_list("key", flat=True)) == ["recent"]
    assert "purge-idempotency-keys" in settings.CELERY_BEAT_SCHEDULE
