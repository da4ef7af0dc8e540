"""The tenant walls: who sees a peering, and which of its sides a user is on. One home for both.

* **Who sees a peering** (:func:`seen_by`): the members of its requester tenant, and those of its
  accepter tenant once it was sent (not :func:`held_back`). ``Peering.objects.visible_to(user)``
  applies it; the pages, the REST API with its feeds and exports, the map, the search, the
  inventory, the admin and the outbox's admin all scope through it.
* **A user's sides** (:func:`sides_of`): the sides of a peering whose tenant they are a member of
  (their routes, their keys).

It reads the models through the app registry, so :mod:`peerings.models` may import it.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from django.apps import apps
from django.db.models import BooleanField, Expression, F, Q, QuerySet

from peerings.choices import NOT_SENT_STATUSES, PeeringStatus, RouteSide

__all__ = [
    "WithdrawnWhileHeld",
    "held_back",
    "is_held_back",
    "on_side",
    "seeing_tenant_ids",
    "seen_by",
    "sides_of",
    "signed_in",
    "user_tenant_ids",
]


def _model(name: str) -> Any:
    return apps.get_model("peerings", name)


def signed_in(user: Any) -> bool:
    """Whether ``user`` is a signed-in user (an anonymous one sees nothing)."""
    return bool(getattr(user, "is_authenticated", False))


def user_tenant_ids(user: Any) -> QuerySet:
    """The ids of ``user``'s tenants, as a subquery."""
    membership = _model("Membership")
    if not signed_in(user):
        return membership.objects.none().values("tenant_id")
    return membership.objects.filter(user=user).values("tenant_id")


class WithdrawnWhileHeld(Expression):
    """Whether the peering whose primary key is ``pk`` (an ``F``) went from awaiting approval to
    deleted: ``EXISTS`` over its status changes (the partial index ``change_withdrawn_while_held``).

    The statement ``Exists(StatusChange.objects.filter(...))`` made, written once: every list's
    walls test it (twice with its count), and building and compiling that subquery was a tenth
    of a one-row page's time."""

    template = 'EXISTS(SELECT 1 AS "a" FROM %(table)s %(alias)s WHERE (%(tests)s = (%(pk)s)) LIMIT 1)'
    output_field = BooleanField()
    conditional = True
    #: Not Django's ``U0``: this may sit inside a subquery whose own rows are ``U0``.
    alias = "withdrawn_while_held"

    def __init__(self, pk: Any) -> None:
        super().__init__()
        self.pk = pk

    def get_source_expressions(self) -> list[Any]:
        return [self.pk]

    def set_source_expressions(self, exprs: list[Any]) -> None:
        (self.pk,) = exprs

    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, tuple[Any, ...]]:
        pk, pk_params = compiler.compile(self.pk)
        changes = _model("StatusChange")._meta
        quote, alias = connection.ops.quote_name, connection.ops.quote_name(self.alias)
        column = {
            name: f"{alias}.{quote(changes.get_field(name).column)}" for name in ("new_status", "old_status")
        }
        tests = (
            f"{column['new_status']} = %s AND {column['old_status']} = %s"
            f" AND {alias}.{quote(changes.get_field('peering').column)}"
        )
        sql = self.template % {"table": quote(changes.db_table), "alias": alias, "tests": tests, "pk": pk}
        return sql, (PeeringStatus.DELETED.value, PeeringStatus.AWAITING_APPROVAL.value, *pk_params)


def held_back(through: str = "") -> Q:
    """Peerings (reached through ``through``, e.g. ``"peering__"``) their peer has not been sent:
    held for approval in the portal, declined there, or withdrawn while held. The cloud never had
    them, so they are the requester tenant's alone (as their webhooks and e-mails are)."""
    held_or_declined = Q(**{f"{through}status__in": sorted(NOT_SENT_STATUSES)})
    # The cheap tests first: the history is read only for a deleted row the cloud never had.
    never_sent = Q(**{f"{through}status": PeeringStatus.DELETED, f"{through}upstream_id__isnull": True})
    return held_or_declined | (never_sent & Q(WithdrawnWhileHeld(F(f"{through}pk"))))


def on_side(side: str, tenant_ids: Any, *, through: str = "") -> Q:
    """Peerings (reached through ``through``) whose ``side`` (``"requester"``, ``"accepter"``)
    tenant is one of ``tenant_ids``: :func:`sides_of` as a filter."""
    return Q(**{f"{through}{side}_tenant__in": tenant_ids})


def seen_by(tenant_ids: Any, *, through: str = "") -> Q:
    """The one rule of who sees a peering (reached through ``through``): the members of its
    requester tenant, and those of its accepter tenant once it was sent (not :func:`held_back`)."""
    requester = on_side(RouteSide.REQUESTER, tenant_ids, through=through)
    accepter = on_side(RouteSide.ACCEPTER, tenant_ids, through=through)
    return requester | (accepter & ~held_back(through))


def seeing_tenant_ids(peering: Any) -> set[int]:
    """The tenants whose members see ``peering`` (:func:`seen_by` for one peering): its requester's,
    and its accepter's unless it is :func:`held_back`."""
    tenants = {peering.requester_tenant_id}
    if peering.accepter_tenant_id is not None and not is_held_back(peering):
        tenants.add(peering.accepter_tenant_id)
    return tenants


def is_held_back(peering: Any) -> bool:
    """Whether ``peering`` is :func:`held_back` now (its peer is not told about it)."""
    return _model("Peering").objects.filter(pk=peering.pk).filter(held_back()).exists()


def sides_of(who: Any, peering: Any) -> list[str]:
    """The sides (``"requester"``, ``"accepter"``) of ``peering`` whose tenant ``who`` is a member of.

    ``who``: a user (their memberships of the two tenants are read), or their tenant ids (any
    collection, e.g. an actor's ``{tenant id: role}``).
    """
    sides = (
        (RouteSide.REQUESTER.value, peering.requester_tenant_id),
        (RouteSide.ACCEPTER.value, peering.accepter_tenant_id),
    )
    tenant_ids: Collection[Any] = who
    if hasattr(who, "is_authenticated"):
        ids = [tenant_id for _, tenant_id in sides if tenant_id is not None]
        tenant_ids = set(user_tenant_ids(who).filter(tenant_id__in=ids).values_list("tenant_id", flat=True))
    return [side for side, tenant_id in sides if tenant_id is not None and tenant_id in tenant_ids]
