"""Secrets encrypted at rest (`core.fields.EncryptedCharField`); stored values are encrypted."""

from django.db import migrations

import opora.core.fields


class Migration(migrations.Migration):

    dependencies = [
        ('messengers', '0001_channel_accounts_conversations_queues'),
    ]

    operations = [
        migrations.AlterField(
            model_name='channelaccount',
            name='app_secret',
            field=opora.core.fields.EncryptedCharField(blank=True, max_length=256, verbose_name='app secret'),
        ),
        migrations.AlterField(
            model_name='channelaccount',
            name='token',
            field=opora.core.fields.EncryptedCharField(max_length=300, verbose_name='access token'),
        ),
        migrations.AlterField(
            model_name='channelaccount',
            name='webhook_secret',
            field=opora.core.fields.EncryptedCharField(blank=True, max_length=256, verbose_name='webhook secret'),
        ),
        opora.core.fields.encrypt_existing('messengers', 'channelaccount', 'token', 'webhook_secret', 'app_secret'),
    ]
