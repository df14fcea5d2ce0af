"""A notification's attachment (a booking's .ics) is encrypted at rest and still sent as the
plain bytes; a value stored before encryption still reads; `rotate_keys` re-seals it."""

import base64
import io
import secrets

import pytest
from django.core import mail
from django.core.management import call_command
from django.db import connection

from opora.core.fields import PREFIX
from opora.notifications.models import NotificationAttachment
from opora.notifications.services import notification_create

ICS = b"BEGIN:VCALENDAR\r\nSUMMARY:Consultation\r\nURL:https://example.org/r/secret-link\r\nEND:VCALENDAR\r\n"


def _key() -> str:
    return base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()


def _raw(pk: int) -> str:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT content FROM notifications_notificationattachment WHERE id = %s", [pk]
        )
        return cursor.fetchone()[0]


def _send(content: bytes) -> NotificationAttachment:
    n = notification_create(
        channel="email",
        recipient="parent@example.org",
        subject="Запись",
        body="Текст",
        kind="booking_created",
        attachments=[("booking.ics", content, "text/calendar")],
    )
    return n.attachments.get()


@pytest.mark.django_db
def test_the_attachment_is_sealed_in_the_database_and_sent_in_clear(
    django_capture_on_commit_callbacks,
):
    with django_capture_on_commit_callbacks(execute=True):
        attachment = _send(ICS)
    raw = _raw(attachment.pk)
    assert raw.startswith(PREFIX)
    assert "VCALENDAR" not in raw and "secret-link" not in raw
    assert base64.b64encode(ICS).decode() not in raw  # not merely base64 of the clear file
    attachment.refresh_from_db()
    assert bytes(attachment.content) == ICS
    (message,) = mail.outbox
    assert message.attachments[0][1] in (ICS, ICS.decode())  # the plain file goes out
    assert message.attachments[0][0] == "booking.ics"


@pytest.mark.django_db
def test_binary_bytes_and_empty_content_round_trip():
    data = bytes(range(256))
    attachment = _send(data)
    attachment.refresh_from_db()
    assert bytes(attachment.content) == data
    empty = _send(b"")
    assert _raw(empty.pk) == ""
    empty.refresh_from_db()
    assert bytes(empty.content) == b""


@pytest.mark.django_db
def test_a_value_stored_before_encryption_still_reads_and_rotation_seals_it(settings):
    settings.OPORA_FIELD_KEY = old = _key()
    attachment = _send(ICS)
    # What the migration leaves before sealing: the plain base64 of the bytes.
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE notifications_notificationattachment SET content = %s WHERE id = %s",
            [base64.b64encode(ICS).decode(), attachment.pk],
        )
    attachment.refresh_from_db()
    assert bytes(attachment.content) == ICS

    call_command("rotate_keys", stdout=io.StringIO())
    sealed_old = _raw(attachment.pk)
    assert sealed_old.startswith(PREFIX) and "VCALENDAR" not in sealed_old

    settings.OPORA_FIELD_KEY, settings.OPORA_FIELD_OLD_KEYS = _key(), [old]
    attachment.refresh_from_db()
    assert bytes(attachment.content) == ICS  # the old key still decrypts
    call_command("rotate_keys", stdout=io.StringIO())
    sealed_new = _raw(attachment.pk)
    assert sealed_new.split(":")[1] != sealed_old.split(":")[1]
    settings.OPORA_FIELD_OLD_KEYS = []
    attachment.refresh_from_db()
    assert bytes(attachment.content) == ICS
