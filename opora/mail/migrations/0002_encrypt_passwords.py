"""Secrets encrypted at rest (`core.fields.EncryptedCharField`); stored values are encrypted."""

from django.db import migrations

import opora.core.fields


class Migration(migrations.Migration):

    dependencies = [
        ('mail', '0001_mailbox_letters_answers'),
    ]

    operations = [
        migrations.AlterField(
            model_name='mailbox',
            name='imap_password',
            field=opora.core.fields.EncryptedCharField(max_length=255, verbose_name='IMAP password'),
        ),
        migrations.AlterField(
            model_name='mailbox',
            name='smtp_password',
            field=opora.core.fields.EncryptedCharField(blank=True, max_length=255, verbose_name='SMTP password'),
        ),
        opora.core.fields.encrypt_existing('mail', 'mailbox', 'imap_password', 'smtp_password'),
    ]
