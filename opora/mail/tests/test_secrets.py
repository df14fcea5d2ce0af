"""Mailbox passwords are stored encrypted and used plain."""

import pytest
from django.db import connection

from opora.mail.models import Mailbox
from opora.mail.tests.factories import make_mailbox, make_written_service

pytestmark = pytest.mark.django_db


def test_passwords_are_encrypted_in_the_database_and_plain_in_the_model():
    box = make_mailbox(make_written_service(), imap_password="imap-S3cret", smtp_password="")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT imap_password, smtp_password FROM mail_mailbox WHERE id = %s", [box.pk]
        )
        imap, smtp = cursor.fetchone()
    assert imap.startswith("enc1:") and "S3cret" not in imap
    assert smtp == ""  # empty stays empty
    fresh = Mailbox.objects.get(pk=box.pk)
    assert fresh.imap_password == "imap-S3cret" and fresh.smtp_password == ""


def _raw(box_id: int) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT imap_password FROM mail_mailbox WHERE id = %s", [box_id])
        return cursor.fetchone()[0]


@pytest.mark.django_db(transaction=True)
def test_the_migration_encrypts_what_is_stored_and_back():
    from django.db.migrations.executor import MigrationExecutor

    box = make_mailbox(make_written_service(), imap_password="imap-S3cret")
    latest = MigrationExecutor(connection).loader.graph.leaf_nodes("mail")
    try:
        MigrationExecutor(connection).migrate([("mail", "0001_mailbox_letters_answers")])
        assert _raw(box.pk) == "imap-S3cret"  # backwards: plain again, before the column shrinks
        MigrationExecutor(connection).migrate(latest)
    finally:
        MigrationExecutor(connection).migrate(latest)
    assert _raw(box.pk).startswith("enc1:")
    assert Mailbox.objects.get(pk=box.pk).imap_password == "imap-S3cret"
