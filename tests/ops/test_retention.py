"""Retention: expired sessions and old simulator request-log rows are purged by the scheduled job."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.conf import settings
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.core.management import call_command
from django.utils import timezone

from ops.models import JobStatus
from ops.tasks import purge_retention
from vpcsim.models import RequestLog

pytestmark = pytest.mark.django_db


def _session(expires_in: dt.timedelta) -> str:
    store = SessionStore()
    store["x"] = 1
    store.create()
    Session.objects.filter(session_key=store.session_key).update(expire_date=timezone.now() + expires_in)
    return store.session_key


def _request_log(age: dt.timedelta) -> int:
    row = RequestLog.objects.create(method="GET", path="/v2.0/vpc/peerings", status=200)
    RequestLog.objects.filter(pk=row.pk).update(created_at=timezone.now() - age)
    return row.pk


def test_the_task_purges_expired_sessions_and_old_request_log_rows_only():
    expired, live = _session(-dt.timedelta(minutes=1)), _session(dt.timedelta(hours=1))
    old, recent = _request_log(dt.timedelta(hours=25)), _request_log(dt.timedelta(hours=1))

    assert purge_retention.apply().get() == {"sessions": 1, "simulator_requests": 1}

    assert list(Session.objects.values_list("session_key", flat=True)) == [live]
    assert expired != live
    assert list(RequestLog.objects.values_list("pk", flat=True)) == [recent]
    assert old != recent
    assert JobStatus.objects.get(name="purge_retention").successes == 1


def test_the_command_does_the_same_with_its_own_retention():
    _request_log(dt.timedelta(hours=3))
    _session(-dt.timedelta(seconds=1))
    out = io.StringIO()

    call_command("purge_retention", "--hours", "2", stdout=out)

    assert out.getvalue().strip() == "1 expired session(s), 1 simulator request(s) deleted."
    assert not RequestLog.objects.exists()


def test_the_beat_schedule_runs_the_purges():
    tasks = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert {"ops.purge_retention", "peerings.purge_idempotency_keys"} <= tasks
