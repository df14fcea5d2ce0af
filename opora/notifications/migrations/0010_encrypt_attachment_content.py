import base64

import opora.core.fields
from django.db import migrations


def _rows(schema_editor):
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SELECT id, content FROM notifications_notificationattachment")
        return cursor.fetchall()


def _update(schema_editor, pk, value):
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            "UPDATE notifications_notificationattachment SET content = %s WHERE id = %s",
            [value, pk],
        )


def bytes_to_base64(apps, schema_editor):
    """After the column became text: PostgreSQL cast the bytes to their hex escape ('\\x…'),
    SQLite kept them as a blob; either becomes the base64 text the encrypted field reads (and
    `encrypt_existing` then seals)."""
    for pk, value in _rows(schema_editor):
        if isinstance(value, str) and value.startswith("\\x"):
            data = bytes.fromhex(value[2:])
        elif isinstance(value, (bytes, memoryview)):
            data = bytes(value)
        else:
            continue
        _update(schema_editor, pk, base64.b64encode(data).decode("ascii"))


def base64_to_bytes(apps, schema_editor):
    """Backwards, before the column becomes bytea again: base64 → the hex escape PostgreSQL casts
    back to the bytes (SQLite: the bytes themselves)."""
    postgres = schema_editor.connection.vendor == "postgresql"
    for pk, value in _rows(schema_editor):
        if not isinstance(value, str):
            continue
        data = base64.b64decode(value)
        _update(schema_editor, pk, "\\x" + data.hex() if postgres else data)


class Migration(migrations.Migration):

    dependencies = [
        ('notifications', '0009_encrypt_sent_file_names'),
    ]

    operations = [
        migrations.AlterField(
            model_name='notificationattachment',
            name='content',
            field=opora.core.fields.EncryptedBinaryField(),
        ),
        opora.core.fields.settle_constraints(),
        migrations.RunPython(bytes_to_base64, base64_to_bytes),
        opora.core.fields.encrypt_existing('notifications', 'notificationattachment', 'content'),
    ]
