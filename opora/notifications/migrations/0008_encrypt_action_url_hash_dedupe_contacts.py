"""The private link of a notice encrypted; dedupe keys that named a contact carry its keyed hash."""

import re

import opora.core.fields
from django.db import migrations

CHANNELS = {"sms", "email", "telegram", "whatsapp", "viber", "vk"}


def hash_contacts(apps, schema_editor):
    from opora.core.crypto import BLIND_BYTES, blind_index

    hashed = re.compile(rf"[0-9a-f]{{{2 * BLIND_BYTES}}}")
    Notification = apps.get_model("notifications", "Notification")
    rows = Notification.objects.using(schema_editor.connection.alias).exclude(dedupe_key=None)
    for pk, key in rows.values_list("pk", "dedupe_key").iterator():
        parts = key.split(":", 4)
        if len(parts) < 5 or parts[3] not in CHANNELS or hashed.fullmatch(parts[4]):
            continue
        parts[4] = blind_index("contact", parts[4])
        new = ":".join(parts)[:200]
        rows.filter(pk=pk).update(dedupe_key=new)


class Migration(migrations.Migration):

    dependencies = [
        ('notifications', '0007_encrypt_bodies'),
    ]

    operations = [
        migrations.AlterField(
            model_name='notification',
            name='action_url',
            field=opora.core.fields.EncryptedCharField(blank=True, max_length=500),
        ),
        opora.core.fields.encrypt_existing('notifications', 'notification', 'action_url'),
        # One way: the contact cannot be recovered from its hash (and needs not be: a key only
        # keeps a notice from being stored twice).
        migrations.RunPython(hash_contacts, migrations.RunPython.noop),
    ]
