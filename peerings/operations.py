"""The operation engine: the one path from the portal's workflows to the cloud.

Every change of a peering (:mod:`peerings.workflow`), of its routes
(:mod:`peerings.routes.workflow`) and every read of a tenant's VPCs (:mod:`peerings.vpcs`)
runs on it, in steps that **never hold a transaction (or a row lock) open while the cloud is
called**: the embedded simulator may answer from the same database, and anywhere else rows
would stay locked for the length of a network call.

1. **Begin** (:func:`begin`): a short transaction locks the peering's row, asks the caller's
   ``authorize`` whether this user may act on the peering as it is now (and with whose keys),
   claims a slot of the process's bulkhead and takes the peering's lease for a write.
2. **Send** (:meth:`Operation.send`, :meth:`Operation.send_and_record`): one call with the
   keys of the operation's tenant, through the client the factory builds (its history row
   is committed before the request goes out: :mod:`peerings.history`); the lease is pushed
   out before every call after the first.
3. **Commit** (:meth:`Operation.commit`): one transaction re-reads the row under lock,
   writes the call's outcome into its history row, applies the caller's change and gives the
   lease back. A failed call is committed too (:meth:`Operation.fail`); when its answer was
   lost the lease is held until the request can no longer land.

Lists (the peerings a lost create may have made, a VPC's routes) are read page by page
with :func:`list_pages`, each page a recorded call.

Clients come from one factory: ``settings.VPC_CLIENT_FACTORY`` (a callable or its dotted
path; by default :func:`peerings.upstream.tenant_client`), called as
``factory(tenant, acting_user=..., peering=...)``. Tests inject a fake cloud there.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

from django.conf import settings
from django.db import transaction
from django.utils.module_loading import import_string

from peerings import bulkhead, leases, permissions
from peerings.call_record import CallRecord
from peerings.choices import ChangeSource
from peerings.cloud import CloudResponse, VpcApiClient
from peerings.exceptions import CloudError, CloudRefused, CloudUnavailable
from peerings.history import record_call
from peerings.models import Peering, Tenant
from peerings.upstream import tenant_client

__all__ = [
    "Call",
    "Change",
    "ClientFactory",
    "Operation",
    "answer_lost",
    "begin",
    "client_factory",
    "list_pages",
    "lock",
    "next_marker",
    "take_lease",
]

#: Builds the client of one call: ``factory(tenant, acting_user=..., peering=...)``.
ClientFactory = Callable[..., VpcApiClient]
#: One call to the cloud, given the client.
Call = Callable[[VpcApiClient], CloudResponse]
#: A change of the peering, applied under lock in a commit.
Change = Callable[[Peering], Any]
#: Who may act and with whose keys: raises a ``PortalError`` or returns the tenant.
Authorize = Callable[[permissions.Actor], Tenant]

#: Relations a re-read under lock keeps when their ids did not change (tenants, users).
_KEPT_RELATIONS = ("requester_tenant", "accepter_tenant", "requested_by", "decided_by")


def client_factory() -> ClientFactory:
    """The configured client factory (``settings.VPC_CLIENT_FACTORY``), else :func:`tenant_client`."""
    factory = settings.VPC_CLIENT_FACTORY or tenant_client
    return import_string(factory) if isinstance(factory, str) else factory


def lock(peering: Peering, *, keep_related: bool = False) -> None:
    """Re-read ``peering`` into the same instance, locking its row (call inside a transaction).

    With ``keep_related`` (after a call), related tenants and users already loaded are kept
    when the row still points at them (the history and the event payload name them), so the
    lock reads one row and nothing else; a begin reads them afresh (the keys to send with).
    """
    fields = [Peering._meta.get_field(name) for name in _KEPT_RELATIONS] if keep_related else []
    kept = [(f, f.get_cached_value(peering)) for f in fields if f.is_cached(peering)]
    peering.refresh_from_db(from_queryset=Peering.objects.select_for_update())
    for relation, related in kept:
        if related is not None and getattr(peering, relation.attname) == related.pk:
            relation.set_cached_value(peering, related)


def answer_lost(exc: CloudError) -> bool:
    """Whether the request may have been carried out, or may still be, without an answer."""
    return isinstance(exc, CloudUnavailable) and exc.outcome_unknown


def take_lease(peering: Peering, operation: str, *, retryable: bool) -> str:
    """Claim a bulkhead slot, then the lease of ``peering`` (free, locked or new; the caller saves).

    A request finding no slot free gets ``CloudBusy`` with nothing taken."""
    bulkhead.claim()
    return leases.acquire(peering, operation, seconds=leases.call_bound(retryable=retryable))


@dataclass
class Operation:
    """One operation: who acts, with which tenant's keys, on which peering, under which lease.

    A read of a tenant's VPCs has no peering; a read of a peering (a refresh, a route plan)
    has no lease and remembers the peering's ``revision`` so that its answer is dropped if
    another operation began meanwhile.
    """

    tenant: Tenant
    acting_user: Any = None
    source: str = ChangeSource.SYNC
    peering: Peering | None = None
    token: str = ""  # the lease, for a write
    revision: int = 0  # the peering's revision when a read (no lease) began
    sent: int = 0
    clients: ClientFactory = field(default_factory=client_factory, repr=False)

    # --- Step 2: sending ---------------------------------------------------------------------------

    def call(self, call: Call) -> CloudResponse:
        """Send ``call`` with the operation's keys and return the answer; nothing is committed.

        The one place a client is built. Before every call after the first the lease is pushed
        out by one call's length, so a long run (pages, routes) never outlives it.
        """
        if self.token and self.sent and self.peering is not None:
            leases.extend(self.peering, self.token, seconds=leases.call_bound())
        self.sent += 1
        return call(self.clients(self.tenant, acting_user=self.acting_user, peering=self.peering))

    def record(self, record: CallRecord | None) -> None:
        """Write a call's outcome into its history row (outside a commit: a read's pages)."""
        if record is not None:
            record_call(record, tenant=self.tenant, acting_user=self.acting_user, peering=self.peering)

    def send(
        self,
        call: Call,
        *,
        gone: Change | None = None,
        refused: Callable[[Peering, CloudRefused], Any] | None = None,
        store_error: bool = True,
        keep_lease: bool = False,
    ) -> CloudResponse | None:
        """Send ``call`` for the peering; a failure is committed on the peering, then raised.

        A failure commits its call, the error on the peering (unless ``store_error`` is false)
        and ``refused(peering, exc)`` for a refusal; the exception carries the peering. With
        ``gone``, the cloud's 404 commits ``gone`` as the cloud's answer and returns None.
        The answer of a successful call is the caller's to commit.
        """
        try:
            return self.call(call)
        except CloudRefused as exc:
            if gone is not None and exc.status == 404 and exc.record is not None:
                self.commit(exc.record, gone, settle=True)
                return None
            change = None if refused is None else (lambda p, exc=exc: refused(p, exc))
            self.fail(exc, change=change, store_error=store_error, keep_lease=keep_lease)
            raise
        except CloudError as exc:
            self.fail(exc, store_error=store_error, keep_lease=keep_lease)
            raise

    def send_and_record(
        self,
        call: Call,
        *,
        done: Callable[[CloudResponse], Any] | None = None,
        failed: Callable[[CloudError], Any] | None = None,
    ) -> CloudResponse:
        """Send ``call``; its history row and its outcome (``done``/``failed``) in one transaction.

        For calls whose outcome lives beside the peering (a route's row) or nowhere else (a VPC
        list): the peering itself is not touched. The exception carries the peering.
        """
        try:
            response = self.call(call)
        except CloudError as exc:
            with transaction.atomic():
                self.record(exc.record)
                if failed is not None:
                    failed(exc)
            exc.peering = self.peering
            raise
        with transaction.atomic():
            self.record(response.record)
            if done is not None:
                done(response)
        return response

    # --- Step 3: committing --------------------------------------------------------------------------

    def _stale(self, peering: Peering) -> bool:
        """A read whose peering moved on since it began (a write began, or is in flight)."""
        return not self.token and (peering.revision != self.revision or leases.held(peering))

    def commit(
        self, record: CallRecord | None, change: Change, *, release: bool = True, settle: bool = False
    ) -> Peering:
        """In one transaction: re-read the row under lock, record the call, apply ``change``.

        A read's ``change`` is dropped if the peering moved on since the read began. ``settle``:
        ``change`` is the cloud's answer to a read; a lease left behind by an operation whose
        outcome was unknown (expired, since the read was not stale) is cleared: the cloud has now
        said what became of it. ``release`` gives the operation's lease back.
        """
        peering = self._peering()
        with transaction.atomic():
            lock(peering, keep_related=True)
            self.record(record)
            if not self._stale(peering):
                change(peering)
                if settle and not self.token:
                    leases.release(peering, peering.inflight_token)
            if release:
                leases.release(peering, self.token)
            peering.save()
        return peering

    def fail(
        self,
        exc: CloudError,
        *,
        change: Change | None = None,
        store_error: bool = True,
        keep_lease: bool = False,
        recorded: bool = False,
    ) -> None:
        """Commit a failed call (unless ``recorded``) and the error on the peering; attach the peering.

        When the answer was lost the lease is held (unless ``keep_lease``: the caller goes on
        and decides) until the request can no longer land.
        """

        def failed(peering: Peering) -> None:
            if store_error:
                code = exc.code or (str(exc.status) if exc.status else type(exc).__name__)
                peering.error_code = code[:64]
                peering.error_message = exc.message
            if change is not None:
                change(peering)
            if answer_lost(exc) and not keep_lease:
                leases.hold(peering, self.token, seconds=leases.landing_bound())

        self.commit(None if recorded else exc.record, failed, release=not (keep_lease or answer_lost(exc)))
        exc.peering = self.peering

    def hold_until_landed(self) -> None:
        """Keep the lease until a request whose answer was lost can no longer land."""
        seconds = leases.landing_bound()
        self.commit(None, lambda p: leases.hold(p, self.token, seconds=seconds), release=False)

    def end(self, *, hold: bool = False) -> None:
        """Give the lease back; or, with ``hold``, keep it while a lost request may still land."""
        if hold:
            self.hold_until_landed()
        else:
            self.commit(None, lambda p: None)

    def _peering(self) -> Peering:
        if self.peering is None:
            raise TypeError("this operation has no peering to commit")
        return self.peering


def begin(
    peering: Peering,
    *,
    acting_user: Any,
    source: str,
    authorize: Authorize,
    lease: str | Callable[[Peering], str] = "",
    retryable: bool = True,
    change: Change | None = None,
) -> Operation:
    """Step 1: lock the row, authorize the user on it as it is now, take the lease.

    ``authorize(actor)`` raises the refusal or returns the tenant whose keys the operation
    uses (``actor`` is :data:`peerings.permissions.SYSTEM` for the portal's jobs). ``lease``
    names the write (or, given the locked peering, returns its name, or ``""`` for none);
    a write claims a bulkhead slot first (after the checks, so racing writes still get their
    409), and a request refused there (``CloudBusy``) saved nothing. ``retryable``: whether the
    write's call is retried (the lease lasts for every attempt). ``change``: a portal-only
    change saved in the same transaction (approving, declining).
    """
    actor = permissions.SYSTEM if acting_user is None else permissions.actor_for(acting_user, peering)
    with transaction.atomic():
        lock(peering)
        operation = Operation(
            tenant=authorize(actor),
            acting_user=acting_user,
            source=source,
            peering=peering,
            revision=peering.revision,
        )
        name = lease(peering) if callable(lease) else lease
        if name:
            operation.token = take_lease(peering, name, retryable=retryable)
        if change is not None:
            change(peering)
            peering.save()
        elif name:
            peering.save(update_fields=[*leases.LEASE_FIELDS, "updated_at"])
    return operation


# --- Lists -----------------------------------------------------------------------------------------------


def next_marker(data: dict, items: list, *, links: str, page_size: int) -> str | None:
    """The ``marker`` of the next page: from the ``next`` link in ``data[links]``, else after a
    full page the last item's id; None at the end."""
    for link in data.get(links) or []:
        if isinstance(link, dict) and link.get("rel") == "next":
            markers = parse_qs(urlsplit(str(link.get("href") or "")).query).get("marker")
            if markers:
                return markers[-1]
    if len(items) >= page_size and isinstance(items[-1], dict) and items[-1].get("id"):
        return str(items[-1]["id"])
    return None


def list_pages(
    send: Callable[[Call], CloudResponse],
    page: Callable[[VpcApiClient, str | None], CloudResponse],
    *,
    items: str,
    links: str,
    page_size: int,
    max_pages: int,
) -> list:
    """Every item of a paged list: ``page(client, marker)`` asks one page, ``send`` sends and
    records it (each page a recorded call). At most ``max_pages`` pages are read (a guard
    against a cloud that loops). A failed page is raised."""
    found: list = []
    marker: str | None = None
    for _ in range(max_pages):
        response = send(lambda client, marker=marker: page(client, marker))
        batch = response.data.get(items) or []
        found += batch
        marker = next_marker(response.data, batch, links=links, page_size=page_size) if batch else None
        if marker is None:
            break
    return found
