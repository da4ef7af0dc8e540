"""The e-mail of a delivery: its context (need to know: the peer's range only to its members), its
one-line subject, its stable ``Message-ID``, and handing it to the mail server."""

from __future__ import annotations

import logging
from email.utils import parseaddr
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.template.loader import render_to_string
from django.urls import reverse

from notifications.email_text import one_line, quoted
from notifications.models import Delivery, Event, EventKind
from peerings.choices import PeeringStatus as S
from peerings.models import Membership, Peering
from peerings.permissions import peering_cidr_shown

__all__ = ["email_context", "email_subject", "message_id", "render_email", "send_email"]

logger = logging.getLogger("notifications")


def _link(name: str, *args: Any) -> str:
    return settings.PORTAL_BASE_URL + reverse(name, args=args)


def _vpc(peering: Peering | None, side: str, payload: dict[str, Any], cidr_shown: bool) -> dict[str, str]:
    """One side's VPC as the peering keeps it (the name and range the cloud listed): no cloud call."""
    vpc_id = str(payload.get("vpc_id") or (getattr(peering, f"{side}_vpc_id", "") if peering else ""))
    name = one_line(getattr(peering, f"{side}_vpc_name", "") if peering else "")
    cidr = (getattr(peering, f"{side}_vpc_cidr", "") if peering else "") if cidr_shown else ""
    return {"id": vpc_id, "name": name, "cidr": cidr or ""}


def _in_accepter(delivery: Delivery, peering: Peering | None) -> bool:
    if peering is None or delivery.user_id is None:
        return False
    tenant_ids = Membership.objects.filter(user_id=delivery.user_id).values_list("tenant_id", flat=True)
    return peering_cidr_shown(peering, "accepter", set(tenant_ids))


SUBJECTS = {
    EventKind.REQUESTED: "Peering request {name} from {requester} waits for your decision",
    EventKind.EXPIRING: "Reminder: peering request {name} expires soon",
    EventKind.ACCEPTED: "Peering {name} was accepted",
    EventKind.REJECTED: "Peering {name} was rejected",
    EventKind.EXPIRED: "Peering {name} expired without a decision",
    EventKind.FAILED: "Peering {name} failed in the cloud",
    EventKind.DELETED: "Peering {name} was deleted",
    EventKind.HELD: "Peering request {name} from {requester} waits for your approval",
    EventKind.APPROVED: "Peering request {name} was approved and sent to the cloud",
    EventKind.DECLINED: "Peering request {name} was declined",
}

#: Events that ask the recipient to decide.
DECISION_REQUESTS = (EventKind.REQUESTED, EventKind.EXPIRING, EventKind.HELD)


def email_context(event: Event, delivery: Delivery) -> dict[str, Any]:
    data = event.payload.get("peering", {})
    peering = event.peering
    expires_at = None
    if peering is not None and event.kind in (EventKind.REQUESTED, EventKind.EXPIRING):
        expires_at = peering.expires_at
    requester = data.get("requester", {})
    accepter = data.get("accepter", {})
    change = event.payload.get("change") or {}
    requester_name = one_line((requester.get("tenant") or {}).get("name") or requester.get("project_id"))
    accepter_name = one_line((accepter.get("tenant") or {}).get("name") or accepter.get("project_id"))
    return {
        "kind": event.kind,
        "event": event,
        "user": delivery.user,
        "peering": data,
        # Text others wrote: the name on one line, a reason or description quoted (email_text).
        "name": one_line(data.get("name")),
        "description_quoted": quoted(data.get("description")) if data.get("description") else "",
        "reason_quoted": quoted(change.get("reason")) if change.get("reason") else "",
        # A rejection is the accepter's decision; a declined request, the requester's approver's.
        "reason_by": accepter_name if event.kind == EventKind.REJECTED else requester_name,
        "cloud_message": one_line(f"{data.get('error_code') or ''} {data.get('error_message') or ''}"),
        "change": change,
        "requester_name": requester_name,
        "accepter_name": accepter_name,
        # Need to know: the accepter's range only to its own members (permissions.peering_cidr_shown).
        "requester_vpc": _vpc(peering, "requester", requester, cidr_shown=True),
        "accepter_vpc": _vpc(peering, "accepter", accepter, cidr_shown=_in_accepter(delivery, peering)),
        # After an acceptance traffic still needs a route in each VPC: the route plan says what is missing.
        "routes_link": _link("peerings:routes", data.get("id")) if data.get("id") else "",
        "routes_on_accept": bool(getattr(peering, "routes_on_accept", False)),
        "requested_by": (data.get("requested_by") or {}).get("username"),
        "link": _link("peerings:detail", data.get("id")) if data.get("id") else settings.PORTAL_BASE_URL,
        "preferences_link": _link("notifications:preferences"),
        "expires_at": expires_at,
        "is_decision_request": event.kind in DECISION_REQUESTS,
        "status": S(data["status"]).label if data.get("status") in S.values else data.get("status"),
    }


def email_subject(kind: str, **values: Any) -> str:
    """The subject of an e-mail about ``kind``: always one line, whatever the values hold
    (a line break in a header would make Django refuse the whole message)."""
    return one_line(SUBJECTS[kind].format(**{key: one_line(value) for key, value in values.items()}))


def render_email(event: Event, delivery: Delivery) -> EmailMultiAlternatives:
    context = email_context(event, delivery)
    subject = email_subject(event.kind, name=context["name"], requester=context["requester_name"])
    message = EmailMultiAlternatives(
        subject=subject,
        body=render_to_string("notifications/email/event.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[delivery.address],
        headers={
            "Message-ID": message_id(delivery),
            "X-Portal-Event": event.kind,
            "X-Portal-Event-Id": str(event.pk),
            "X-Portal-Delivery": str(delivery.pk),
        },
    )
    message.attach_alternative(render_to_string("notifications/email/event.html", context), "text/html")
    return message


def message_id(delivery: Delivery) -> str:
    """The delivery's own ``Message-ID``: the same on every attempt, so a resent copy is a duplicate."""
    domain = parseaddr(settings.DEFAULT_FROM_EMAIL)[1].rpartition("@")[2] or "portal.invalid"
    return f"<delivery-{delivery.pk}.event-{delivery.event_id}@{domain}>"


def send_email(event: Event, delivery: Delivery) -> None:
    """Hand the e-mail to the mail server; returns once it was accepted (raises otherwise).

    The connection is closed apart: a failure while closing, after the server accepted the
    message, is logged and does not make the delivery fail (and be sent again).
    """
    message = render_email(event, delivery)
    connection = get_connection(fail_silently=False)
    connection.open()
    message.connection = connection
    try:
        sent = message.send(fail_silently=False)
    finally:
        try:
            connection.close()
        except Exception:
            logger.info("closing the mail connection after delivery %s failed", delivery.pk, exc_info=True)
    if not sent:
        raise RuntimeError("the mail backend accepted no message")
