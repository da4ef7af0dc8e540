"""Text others wrote cannot break an e-mail: subjects always build, reasons are quoted."""

from __future__ import annotations

import pytest
from django.test import override_settings

from notifications.delivery import deliver
from notifications.email_text import one_line, quoted
from notifications.emails import email_subject
from notifications.models import Delivery, DeliveryStatus, Event, EventKind
from peerings.models import Peering
from peerings.workflow import peering_reject

FORGED = "Fine.\r\n\r\nACTION REQUIRED: your keys expire today, renew them at https://evil.example/renew"


@pytest.fixture
def requested(mailbox, globex_approver, acme_approver, pending) -> Peering:
    return pending


def test_a_reason_is_quoted_as_the_deciders_words(requested, mailbox, globex_approver):
    peering_reject(peering=requested, acting_user=globex_approver, reason=FORGED)
    (mail,) = mailbox.to("alice@example.com")
    text = mailbox.text(mail)
    assert "Reason given by globex-main (grace):\n> Fine.\n>\n> ACTION REQUIRED" in text
    lines = text.splitlines()
    assert not any(line.startswith(("ACTION REQUIRED", "https://evil")) for line in lines)
    assert "ACTION REQUIRED" in mailbox.html(mail)  # escaped, in a quote block
    assert "<blockquote>" in mailbox.html(mail)


def test_a_description_is_quoted_too(db, mailbox, globex_approver, acme_approver, request_to_globex):
    request_to_globex(description="Line one\nDecide now: https://evil.example/")
    (mail,) = mailbox.to("grace@example.com")
    text = mailbox.text(mail)
    assert "as its members wrote it:\n> Line one\n> Decide now: https://evil.example/" in text
    assert not any(line.startswith("Decide now: https://evil") for line in text.splitlines())


def test_an_old_row_with_a_line_break_in_its_name_is_still_delivered(requested, mailbox):
    """A name stored before the rule (or renamed in the cloud): the subject is one line, nothing fails."""
    event = Event.objects.get(kind=EventKind.REQUESTED)
    event.payload["peering"]["name"] = "web\r\nBcc: eve@example.com\x85\u2028x"
    event.save(update_fields=["payload"])
    Delivery.objects.filter(event=event).update(status=DeliveryStatus.PENDING, attempts=0, sent_at=None)
    assert deliver(event) == []
    assert set(Delivery.objects.filter(event=event).values_list("status", flat=True)) == {DeliveryStatus.SENT}
    (mail,) = [m for m in mailbox.messages() if "eve@" in m["Subject"]]
    assert mail["Subject"].startswith("Peering request web Bcc: eve@example.com x from")
    assert mail["Bcc"] is None
    assert "Peering:   web Bcc: eve@example.com x\n" in mailbox.text(mail)


def test_links_come_from_the_portal_base_url_not_the_request(requested, mailbox, settings):
    with override_settings(PORTAL_BASE_URL="https://portal.example.com"):
        event = Event.objects.get(kind=EventKind.REQUESTED)
        Delivery.objects.filter(event=event).update(status=DeliveryStatus.PENDING, attempts=0, sent_at=None)
        deliver(event)
    (text,) = [mailbox.text(m) for m in mailbox.messages() if "portal.example.com" in mailbox.text(m)]
    assert f"Decide: https://portal.example.com/peerings/{requested.pk}/" in text
    assert "testserver" not in text


@pytest.mark.parametrize("kind", [k for k in EventKind if k != EventKind.TEST])
def test_every_subject_is_one_line(kind):
    subject = email_subject(kind, name="a\r\nb\tc\x00d", requester="x\ny")
    assert not any(ch in subject for ch in "\r\n\t\x00")


def test_the_text_helpers():
    assert one_line("  a\r\n\r\n b\u2029c\x1bd  ") == "a b c d"
    assert one_line(None) == ""
    assert quoted("one\r\ntwo\n\nthree\u2028four\x07") == "> one\n> two\n>\n> three\n> four"
