"""A database lease per job: portable (SQLite and PostgreSQL), shared by every host and process.

Taking the lease is one conditional ``UPDATE`` (the row exists and its lease has run out) or,
the first time, one ``INSERT`` that the unique name lets only one run win. Both are atomic in
the database, so two workers, or a worker and ``manage.py sync_peerings``, never both hold it.
A run that dies keeps the lease until it expires; a long run extends it with
:meth:`Lease.extend` while it works.
"""

from __future__ import annotations

import logging
import os
import socket
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

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

    def heartbeat(self) -> None:
        """Call often while working: extends the lease once a third of it has passed.

        Raises :class:`LeaseLost` if the lease had run out and was taken by another run.
        """
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
def job_lock(name: str, *, ttl: timedelta) -> Iterator[Lease | None]:
    """``with job_lock("sync_peerings", ttl=...) as lease:`` — ``lease`` is None when it is taken."""
    lease = acquire(name, ttl=ttl)
    if lease is None:
        logger.info("job %s is already running elsewhere; skipped", name, extra={"job": name})
    try:
        yield lease
    finally:
        if lease is not None:
            lease.release()
