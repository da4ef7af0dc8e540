"""The Celery worker's settings for jobs that die: redelivery, time limits, a graceful stop."""

from __future__ import annotations

from django.conf import settings

from notifications import delivery
from peerings.tasks import RETRY
from portal.celery import app


def test_a_task_is_acknowledged_when_it_ends_and_given_back_when_its_worker_dies():
    assert app.conf.task_acks_late is True
    assert app.conf.task_reject_on_worker_lost is True
    assert app.conf.worker_prefetch_multiplier == 1


def test_redis_redelivers_only_after_the_longest_countdown_a_task_is_given():
    """A task waiting on a countdown is unacknowledged: a shorter visibility timeout runs it twice."""
    longest = max(delivery.backoff(attempt) for attempt in range(1, 30))
    assert app.conf.broker_transport_options["visibility_timeout"] > max(longest, RETRY["retry_backoff_max"])


def test_time_limits_and_a_graceful_stop_are_set():
    assert 0 < app.conf.task_soft_time_limit < app.conf.task_time_limit
    assert app.conf.worker_soft_shutdown_timeout > 0
    assert app.conf.worker_enable_soft_shutdown_on_idle is True


def test_a_hung_smtp_send_gives_up_before_its_claim_runs_out():
    assert settings.EMAIL_TIMEOUT < delivery.CLAIM_SECONDS


def test_a_running_task_is_never_handed_to_a_second_worker():
    assert app.conf.task_time_limit < app.conf.broker_transport_options["visibility_timeout"]
