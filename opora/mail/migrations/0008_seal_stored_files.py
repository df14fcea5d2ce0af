"""Issue 15: the raw letters (.eml) and attachments already on storage are sealed in place
(`mail.files`); a file already sealed is skipped. Backwards leaves them sealed: they still read."""

from django.db import migrations


def seal_files(apps, schema_editor):
    from opora.mail.files import encrypt_stored_files

    encrypt_stored_files(apps.get_model("mail", "InboundMessage"), apps.get_model("mail", "Attachment"))


class Migration(migrations.Migration):
    dependencies = [
        ("mail", "0007_letter_complaint"),
    ]

    operations = [
        migrations.RunPython(seal_files, migrations.RunPython.noop, elidable=True),
    ]
