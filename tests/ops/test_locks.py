"""The job lease: one holder at a time, freed on release or expiry, extended while working."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.utils import timezone

from ops.locks import LeaseLost, acquire, job_lock
from ops.models import JobLock

TTL = dt.timedelta(minutes=5)

pytestmark = pytest.mark.django_db


def test_one_holder_at_a_time():
    first = acquire("job", ttl=TTL)
    second = acquire("job", ttl=TTL)

    assert first is not None
    assert second is None
    assert acquire("other-job", ttl=TTL) is not None


def test_released_lease_can_be_taken_again():
    lease = acquire("job", ttl=TTL)
    lease.release()

    again = acquire("job", ttl=TTL)

    assert again is not None
    assert again.owner != lease.owner
    assert JobLock.objects.get(name="job").owner == again.owner


def test_an_expired_lease_is_taken_over_and_the_old_holder_knows():
    stale = acquire("job", ttl=TTL)
    JobLock.objects.filter(name="job").update(expires_at=timezone.now() - dt.timedelta(seconds=1))

    fresh = acquire("job", ttl=TTL)

    assert fresh is not None
    assert stale.extend() is False
    stale.release()  # not its lease any more: changes nothing
    assert acquire("job", ttl=TTL) is None


def test_extend_pushes_the_expiry():
    lease = acquire("job", ttl=TTL)
    JobLock.objects.filter(name="job").update(expires_at=timezone.now() + dt.timedelta(seconds=1))

    assert lease.extend() is True
    assert JobLock.objects.get(name="job").expires_at > timezone.now() + dt.timedelta(minutes=4)


def test_context_manager_releases_even_on_error():
    def fails() -> None:
        with job_lock("job", ttl=TTL) as lease:
            assert lease is not None
            assert acquire("job", ttl=TTL) is None
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        fails()

    with job_lock("job", ttl=TTL) as lease:
        assert lease is not None


@pytest.mark.django_db(transaction=True)
def test_racing_runs_on_separate_connections_get_one_lease():
    """Threads, each on its own database connection, take the lease at once: one wins."""
    import threading

    from django.db import connection, connections

    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: the in-memory SQLite test database is one connection")
    racers = 8
    barrier = threading.Barrier(racers)
    won: list[bool] = []

    def race() -> None:
        try:
            barrier.wait(timeout=10)
            won.append(acquire("raced", ttl=TTL) is not None)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=race) for _ in range(racers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(won) == [False] * (racers - 1) + [True]

    # And once it has expired, racing takers again get exactly one.
    JobLock.objects.filter(name="raced").update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    won.clear()
    barrier.reset()
    threads = [threading.Thread(target=race) for _ in range(racers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(won) == [False] * (racers - 1) + [True]


def test_heartbeat_extends_now_and_then_and_stops_a_run_that_lost_its_lease():
    lease = acquire("job", ttl=dt.timedelta(seconds=30))
    writes = []
    real_extend = lease.extend
    lease.extend = lambda: writes.append(1) or real_extend()

    lease.heartbeat()
    assert writes == []  # fresh: nothing to do
    lease._extended -= 11  # a third of the lease has passed
    lease.heartbeat()
    assert writes == [1]

    JobLock.objects.filter(name="job").update(owner="someone-else")
    lease._extended -= 11
    with pytest.raises(LeaseLost):
        lease.heartbeat()


class _FakeLease:
    """A lease whose renewals answer from a script: no database (the thread has its own connection)."""

    def __init__(self, answers: list[bool]) -> None:
        from ops.locks import Lease

        self.real = Lease("fake", "owner", dt.timedelta(seconds=0.3))
        self.answers = answers
        self.calls = threading.Event()
        self.real.extend = self.extend

    def extend(self) -> bool:
        answer = self.answers.pop(0) if self.answers else True
        if not self.answers:
            self.calls.set()
        return answer


def test_the_keep_alive_thread_renews_until_a_renewal_finds_the_lease_taken():
    from ops.locks import KeepAlive

    fake = _FakeLease([True, True, False])
    keeper = KeepAlive(fake.real)
    keeper.start()

    assert fake.calls.wait(timeout=10)  # three renewals, a tenth of a second apart
    keeper.join(timeout=10)
    assert not keeper.is_alive()  # it ended on its own
    assert fake.real.lost is True
    with pytest.raises(LeaseLost):
        fake.real.heartbeat()  # the run stops at its next step


def test_job_lock_records_the_runs_outcome():
    from ops.models import JobStatus

    with job_lock("recorded", ttl=TTL, keep_alive=False) as lease:
        assert lease is not None
    with pytest.raises(RuntimeError), job_lock("recorded", ttl=TTL, keep_alive=False):
        raise RuntimeError("the cloud went away")
    with job_lock("recorded", ttl=TTL, keep_alive=False), job_lock("recorded", ttl=TTL) as second:
        assert second is None  # a skipped run is no run

    status = JobStatus.objects.get(name="recorded")
    assert (status.successes, status.failures) == (2, 1)
    assert status.last_success_at >= status.last_failure_at
    assert "the cloud went away" in status.last_error


def test_leases_are_short_by_default():
    from django.conf import settings

    assert settings.JOB_LOCK_TTL_SECONDS <= 60
