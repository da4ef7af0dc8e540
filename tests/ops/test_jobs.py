"""The background jobs: sync and expire-and-report, their lease, retries and queueing after commit."""

from __future__ import annotations

import datetime as dt
import logging
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import transaction

from ops.locks import acquire
from peerings import jobs, tasks
from peerings.choices import ChangeSource, PeeringStatus
from peerings.exceptions import CloudUnavailable
from peerings.models import UpstreamCall
from vpcsim import clock

S = PeeringStatus
TTL = dt.timedelta(minutes=5)


def test_sync_task_refreshes_through_the_workflow(pending, settings):
    clock.advance(dt.timedelta(seconds=settings.VPCSIM_PENDING_EXPIRY_SECONDS + 60))

    result = tasks.sync_peerings.apply().get()

    pending.refresh_from_db()
    assert pending.status == S.EXPIRED
    assert pending.status_changes.order_by("-id").first().source == ChangeSource.SYNC
    assert result["changed"] == 1


def test_a_second_run_is_skipped_while_the_lease_is_held(pending):
    held = acquire(tasks.SYNC_LOCK, ttl=TTL)
    before = UpstreamCall.objects.count()

    assert tasks.sync_peerings.apply().get() == {"skipped": "another run holds the lease"}
    with pytest.raises(CommandError, match="Another sync is running"):
        call_command("sync_peerings", stdout=StringIO(), stderr=StringIO())
    assert UpstreamCall.objects.count() == before

    held.release()
    call_command("sync_peerings", stdout=StringIO())
    assert UpstreamCall.objects.count() == before + 1


def test_the_task_retries_while_the_cloud_is_unavailable(pending, closed_port, monkeypatch):
    pending.requester_tenant.endpoint = f"http://127.0.0.1:{closed_port}"
    pending.requester_tenant.save()
    runs = []
    real = jobs.sync_open_peerings
    monkeypatch.setattr(tasks, "sync_open_peerings", lambda **kw: runs.append(1) or real(**kw))
    monkeypatch.setitem(tasks.sync_peerings.app.conf, "task_eager_propagates", False)

    result = tasks.sync_peerings.apply(throw=False)  # eager: the retries run at once, one after another

    assert result.state == "FAILURE"
    assert isinstance(result.result, CloudUnavailable)
    assert len(runs) == 1 + tasks.RETRY["max_retries"]
    assert acquire(tasks.SYNC_LOCK, ttl=TTL) is not None  # every run gave the lease back


def test_expire_job_rereads_only_pending_near_expiry_and_reports(pending, active, settings, caplog):
    caplog.set_level(logging.INFO, logger="peerings.jobs")
    received = []
    jobs.pending_expiring.connect(lambda **kw: received.append(kw), weak=False, dispatch_uid="t")
    try:
        assert tasks.expire_pending.apply().get()["expiring"] == 0  # fresh: nothing to re-read
        calls = UpstreamCall.objects.count()

        # Within the warning window: re-read, still pending, reported as expiring.
        settings.PENDING_EXPIRY_SECONDS = 3600
        settings.PENDING_EXPIRY_WARNING_SECONDS = 3600
        counts = tasks.expire_pending.apply().get()
        assert (counts["expiring"], counts["expired"]) == (1, 0)
        assert UpstreamCall.objects.count() == calls + 1  # the pending one only, not the active one
        assert [p.pk for p in received[-1]["peerings"]] == [pending.pk]

        # Past the cloud's expiry: it expires.
        clock.advance(dt.timedelta(seconds=settings.VPCSIM_PENDING_EXPIRY_SECONDS + 60))
        counts = tasks.expire_pending.apply().get()
        assert (counts["expiring"], counts["expired"]) == (0, 1)
        assert [p.pk for p in received[-1]["expired"]] == [pending.pk]
    finally:
        jobs.pending_expiring.disconnect(dispatch_uid="t")
    pending.refresh_from_db()
    assert pending.status == S.EXPIRED
    summary = [r for r in caplog.records if hasattr(r, "expired")]
    assert summary[-1].expired == 1


@pytest.mark.django_db(transaction=True)
def test_enqueue_waits_for_the_commit(monkeypatch):
    sent = []
    monkeypatch.setattr(tasks.sync_peerings, "apply_async", lambda **kw: sent.append(kw))

    with transaction.atomic():
        tasks.enqueue(tasks.sync_peerings)
        assert sent == []
    assert len(sent) == 1

    def rolled_back() -> None:
        with transaction.atomic():
            tasks.enqueue(tasks.sync_peerings)
            raise RuntimeError("rolled back")

    with pytest.raises(RuntimeError):
        rolled_back()
    assert len(sent) == 1


def test_sync_command_can_queue_the_task(db, monkeypatch, django_capture_on_commit_callbacks):
    sent = []
    monkeypatch.setattr(tasks.sync_peerings, "apply_async", lambda **kw: sent.append(kw))
    out = StringIO()

    with django_capture_on_commit_callbacks(execute=True):
        call_command("sync_peerings", "--enqueue", stdout=out)

    assert "queued" in out.getvalue()
    assert len(sent) == 1


def test_a_queued_task_carries_the_requests_correlation_id(
    db, monkeypatch, django_capture_on_commit_callbacks
):
    from types import SimpleNamespace

    from ops import correlation
    from portal.celery import _reset_correlation_id, _set_correlation_id

    sent = []
    monkeypatch.setattr(tasks.sync_peerings, "apply_async", lambda **kw: sent.append(kw))
    token = correlation.set_current("req-7")
    try:
        with django_capture_on_commit_callbacks(execute=True):
            tasks.enqueue(tasks.sync_peerings)
    finally:
        correlation.reset(token)
    assert sent[0]["headers"] == {correlation.TASK_HEADER: "req-7"}

    # On the worker: the task runs under that id, and under its own id when queued by beat.
    queued = SimpleNamespace(request=SimpleNamespace(**sent[0]["headers"]))
    _set_correlation_id(task_id="t-1", task=queued)
    assert correlation.current() == "req-7"
    _reset_correlation_id(task_id="t-1")
    assert correlation.current() is None
    _set_correlation_id(task_id="5f0c-77", task=SimpleNamespace(request=SimpleNamespace()))
    assert correlation.current() == "5f0c77"
    _reset_correlation_id(task_id="5f0c-77")
