"""Retention (issue 15) of the texts kept beside the counted records: consultation protocols
(names and texts blanked, the journal's counted columns unchanged), raw messenger deliveries
(deleted once handled), notifications (recipient and texts blanked, status and dates kept). Each:
a record past the term purged, one within it kept, a re-run handles nothing, audited with counts
only. Here (demo's rank) because it spans the apps that register the purgers. Synthetic data."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from opora.consultations import services as room
from opora.consultations.models import Protocol, Topic
from opora.consultations.tests.factories import make_live_consultation
from opora.core.models import AuditEvent, RetentionRule
from opora.core.retention import retention_run
from opora.demo.factories import make_consultant
from opora.journals.rows import consultations_queryset, consultations_row
from opora.mail.tests.factories import make_written_service
from opora.messengers.adapters.base import InboundMessage
from opora.messengers.models import (
    ChannelAccount,
    Conversation,
    ConversationMessage,
    InboundUpdate,
)
from opora.messengers.services import MAX_PROCESS_ATTEMPTS, inbound_process, inbound_store
from opora.notifications.models import Notification, NotificationAttachment, OutboxStatus

pytestmark = pytest.mark.django_db

OLD = dt.timedelta(days=40)
TERM = 30
SECRET = "Синтетический текст протокола 7731"


def _handled(kind: str, service, **kw) -> int:
    (result,) = [r for r in retention_run(**kw) if r.service == service.code and r.kind == kind]
    return result.handled


def _protocol(service, consultant, age: dt.timedelta) -> Protocol:
    live = make_live_consultation(service, consultant)
    room.consultation_admit(consultation_id=live.pk, actor=consultant)
    room.consultation_end(consultation_id=live.pk, actor=consultant)
    protocol = room.protocol_save(
        actor=consultant,
        consultation=live,
        child_name="Синтетикова Алия",
        child_age=7,
        reason=SECRET,
        topic=Topic.FAMILY,
        solution=SECRET,
        materials=SECRET,
        kind=Protocol.Kind.PRIMARY,
        next_consultation="через месяц",
        note=SECRET,
    )
    Protocol.objects.filter(pk=protocol.pk).update(created_at=timezone.now() - age)
    return Protocol.objects.get(pk=protocol.pk)


def _counted(service) -> list[list]:
    """The journal's columns a report counts: all but the child's name, reason and note."""
    rows = [consultations_row(n, c) for n, c in enumerate(consultations_queryset(service=service))]
    return [[v for i, v in enumerate(row) if i not in (3, 7, 9)] for row in rows]


def test_protocols_past_the_term_lose_their_texts_and_keep_what_the_journal_counts(service):
    consultant = make_consultant(service)
    old = _protocol(service, consultant, OLD)
    new = _protocol(service, make_consultant(service), dt.timedelta(days=2))
    RetentionRule.objects.create(service=None, kind="protocols", days=TERM)
    counted = _counted(service)
    assert len(counted) == 2

    assert _handled("protocols", service, dry_run=True) == 1
    assert Protocol.objects.get(pk=old.pk).solution == SECRET  # a dry run changes nothing
    assert _handled("protocols", service, batch_size=1) == 1

    old.refresh_from_db()
    assert old.child_name == old.reason == old.solution == old.materials == old.note == ""
    assert old.next_consultation == ""
    assert (old.kind, old.topic, old.child_age) == ("primary", Topic.FAMILY, 7)
    assert _counted(service) == counted
    new.refresh_from_db()
    assert new.solution == SECRET and new.child_name
    (event,) = AuditEvent.objects.filter(event_type="retention.applied")
    assert event.extra == {"kind": "protocols", "days": TERM, "count": 1}
    assert _handled("protocols", service) == 0  # idempotent
    assert AuditEvent.objects.filter(event_type="retention.applied").count() == 1


def _delivery(account, n: int, age: dt.timedelta, **status) -> InboundUpdate:
    (update,) = inbound_store(
        account=account,
        messages=[InboundMessage(external_id=f"u{n}", chat_id="501", text=f"{SECRET} {n}")],
    )
    if not status:
        inbound_process(update_id=update.pk)
    InboundUpdate.objects.filter(pk=update.pk).update(received_at=timezone.now() - age, **status)
    return update


def test_raw_messenger_deliveries_past_the_term_are_deleted_once_handled(service):
    account = ChannelAccount.objects.create(
        service=service, channel="telegram", slug="ret-bot", name="bot", token="t"
    )
    old = _delivery(account, 1, OLD)
    new = _delivery(account, 2, dt.timedelta(days=1))
    retried = _delivery(account, 3, OLD, status="failed", attempts=1)  # the sweep retries it
    given_up = _delivery(account, 4, OLD, status="failed", attempts=MAX_PROCESS_ATTEMPTS)
    RetentionRule.objects.create(service=service, kind="messenger_updates", days=TERM)
    line = ConversationMessage.objects.get(inbound_update=old)

    assert _handled("messenger_updates", service, batch_size=1) == 2
    left = set(InboundUpdate.objects.values_list("pk", flat=True))
    assert left == {new.pk, retried.pk}
    assert not InboundUpdate.objects.filter(pk=given_up.pk).exists()
    # The history line stays (its own term is "messenger_messages"); only its link goes.
    line.refresh_from_db()
    assert line.inbound_update is None and line.text.startswith(SECRET)
    assert _handled("messenger_updates", service) == 0
    (event,) = AuditEvent.objects.filter(event_type="retention.applied")
    assert event.extra == {"kind": "messenger_updates", "days": TERM, "count": 2}


def _notification(booking, age: dt.timedelta, status: str) -> Notification:
    n = Notification.objects.create(
        channel="email",
        recipient="synthetic.parent@example.org",
        subject="Запись подтверждена",
        body=SECRET,
        html_body=f"<p>{SECRET}</p>",
        action_url="https://opora.example/s/abc",
        kind="booking_confirmed",
        subject_type="scheduling.booking",
        subject_id=str(booking.pk),
        status=status,
        sent_at=timezone.now() - age if status == OutboxStatus.SENT else None,
    )
    NotificationAttachment.objects.create(notification=n, filename="a.ics", content=b"ics")
    Notification.objects.filter(pk=n.pk).update(created_at=timezone.now() - age)
    return n


def test_notifications_past_the_term_lose_recipient_and_texts_per_service(service, consultant):
    booking = make_live_consultation(service, consultant).booking
    other = make_written_service(country="KZ")
    other_booking = make_live_consultation(other, make_consultant(other)).booking
    old = _notification(booking, OLD, OutboxStatus.SENT)
    failed = _notification(booking, OLD, OutboxStatus.FAILED)
    queued = _notification(booking, OLD, OutboxStatus.QUEUED)  # still to be sent: kept
    new = _notification(booking, dt.timedelta(days=1), OutboxStatus.SENT)
    elsewhere = _notification(other_booking, OLD, OutboxStatus.SENT)
    RetentionRule.objects.create(service=service, kind="notifications", days=TERM)

    assert _handled("notifications", service, dry_run=True) == 2
    assert _handled("notifications", service, batch_size=1) == 2
    for n in (old, failed):
        n.refresh_from_db()
        assert n.recipient == n.subject == n.body == n.html_body == n.action_url == ""
        assert n.recipient_bidx == "" and not n.attachments.exists()
        assert n.status in ("sent", "failed") and n.kind == "booking_confirmed"
    assert old.sent_at is not None
    assert not Notification.objects.filter(recipient="synthetic.parent@example.org").filter(
        pk__in=[old.pk, failed.pk]
    )
    for n in (queued, new, elsewhere):  # not due, or another service's term (none)
        n.refresh_from_db()
        assert n.body == SECRET and n.recipient and n.attachments.exists()
    assert _handled("notifications", service) == 0
    (event,) = AuditEvent.objects.filter(event_type="retention.applied")
    assert event.extra == {"kind": "notifications", "days": TERM, "count": 2}


def test_messenger_history_lines_past_the_term_lose_text_and_sealed_attachments(service):
    account = ChannelAccount.objects.create(
        service=service, channel="telegram", slug="hist-bot", name="bot", token="t"
    )
    conversation = Conversation.objects.create(account=account, external_chat_id="601")
    files = [{"type": "document", "file_name": "Синтетикова_справка.pdf"}]
    old = ConversationMessage.objects.create(
        conversation=conversation, direction="in", text=SECRET, attachments=files
    )
    bare = ConversationMessage.objects.create(conversation=conversation, direction="out", text="")
    new = ConversationMessage.objects.create(
        conversation=conversation, direction="in", text=SECRET, attachments=files
    )
    ConversationMessage.objects.filter(pk__in=[old.pk, bare.pk]).update(
        created_at=timezone.now() - OLD
    )
    RetentionRule.objects.create(service=None, kind="messenger_messages", days=TERM)

    assert _handled("messenger_messages", service, batch_size=1) == 2
    old.refresh_from_db()
    bare.refresh_from_db()
    assert (old.text, old.attachments, bare.attachments) == ("", None, None)
    assert old.direction == "in" and old.created_at < timezone.now() - OLD / 2
    new.refresh_from_db()
    assert new.text == SECRET and new.attachments == files
    assert _handled("messenger_messages", service) == 0
