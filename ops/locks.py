"""A database lease per job: portable (SQLite and PostgreSQL), shared by every host and process.

Taking the lease is one conditional ``UPDATE`` (the row exists and its lease has run out) or,
the first time, one ``INSERT`` that the unique name lets only one run win. Both are atomic in
the database, so two workers, or a worker and ``manage.py sync_peerings``, never both hold it.

Leases are short (``JOB_LOCK_TTL_SECONDS``, a minute) and renewed while the run works: by a
keep-alive thread every third of the lease (:func:`job_lock`), and by :meth:`Lease.heartbeat`
between steps, which also stops a run that lost its lease. A run whose process dies (a worker
killed mid-job) stops renewing, so its lease frees within one lease length.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta

from django.db import DatabaseError, IntegrityError, connections, transaction
from django.utils import timezone

from ops import runs
from ops.models import JobLock

__all__ = ["Lease", "LeaseLost", "acquire", "job_lock"]

logger = logging.getLogger("ops.locks")


def _holder() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"[:255]


class LeaseLost(RuntimeError):
    """The lease ran out and another run took it: this run must stop."""


@dataclass
class Lease:
    """A lease held on ``name`` by the token ``owner``."""

    name: str
    owner: str
    ttl: timedelta
    _extended: float = field(default_factory=time.monotonic, repr=False)
    #: Set by the keep-alive thread when a renewal found the lease taken by another run.
    lost: bool = field(default=False, repr=False)

    def heartbeat(self) -> None:
        """Call often while working: extends the lease once a third of it has passed.

        Raises :class:`LeaseLost` if the lease had run out and was taken by another run.
        """
        if self.lost:
            raise LeaseLost(f"the lease on {self.name} ran out and was taken by another run")
        if time.monotonic() - self._extended < self.ttl.total_seconds() / 3:
            return
        if not self.extend():
            raise LeaseLost(f"the lease on {self.name} ran out and was taken by another run")

    def extend(self) -> bool:
        """Push the expiry ``ttl`` from now; False if the lease was lost (it had expired and was taken)."""
        now = timezone.now()
        self._extended = time.monotonic()
        return bool(
            JobLock.objects.filter(name=self.name, owner=self.owner).update(expires_at=now + self.ttl)
        )

    def release(self) -> None:
        """Give the lease back at once (only if still ours)."""
        JobLock.objects.filter(name=self.name, owner=self.owner).update(expires_at=timezone.now())


class KeepAlive(threading.Thread):
    """Renews ``lease`` every third of its length until stopped, on a database connection of its own.

    A renewal that fails (the database briefly away) is logged and tried again at the next tick;
    one that finds the lease taken marks it :attr:`Lease.lost` and ends.
    """

    def __init__(self, lease: Lease) -> None:
        super().__init__(name=f"lease-keepalive-{lease.name}", daemon=True)
        self.lease = lease
        self.interval = max(lease.ttl.total_seconds() / 3, 0.05)
        self._stopped = threading.Event()

    def run(self) -> None:
        try:
            while not self._stopped.wait(self.interval):
                try:
                    if not self.lease.extend():
                        self.lease.lost = True
                        logger.warning(
                            "job %s lost its lease", self.lease.name, extra={"job": self.lease.name}
                        )
                        return
                except DatabaseError:
                    logger.warning("renewing the lease of job %s failed", self.lease.name, exc_info=True)
        finally:
            connections.close_all()  # this thread's own connections only

    def stop(self) -> None:
        self._stopped.set()
        if self.is_alive():
            self.join(timeout=30)


def acquire(name: str, *, ttl: timedelta) -> Lease | None:
    """Take the lease on ``name`` for ``ttl``, or None if another run holds it."""
    now = timezone.now()
    owner = uuid.uuid4().hex
    fields = {"owner": owner, "holder": _holder(), "acquired_at": now, "expires_at": now + ttl}
    if JobLock.objects.filter(name=name, expires_at__lte=now).update(**fields):
        return Lease(name, owner, ttl)
    try:
        with transaction.atomic():
            JobLock.objects.create(name=name, **fields)
    except IntegrityError:
        return None  # the row exists and its lease is still running: someone holds it
    return Lease(name, owner, ttl)


@contextmanager
def job_lock(name: str, *, ttl: timedelta, keep_alive: bool = True) -> Iterator[Lease | None]:
    """``with job_lock("sync_peerings", ttl=...) as lease:`` — ``lease`` is None when it is taken.

    While the block runs the lease is renewed by a :class:`KeepAlive` thread (unless
    ``keep_alive`` is false), and the run is recorded (:func:`ops.runs.track`): a success when
    the block ends normally, a failure when it raises.
    """
    lease = acquire(name, ttl=ttl)
    if lease is None:
        logger.info("job %s is already running elsewhere; skipped", name, extra={"job": name})
        yield None
        return
    keeper = KeepAlive(lease) if keep_alive else None
    if keeper is not None:
        keeper.start()
    try:
        with runs.track(name):
            yield lease
    finally:
        if keeper is not None:
            keeper.stop()
        lease.release()
