"""The files staff attached to their answers, stored in clear before, sealed in place."""

from django.db import migrations


def seal(apps, schema_editor):
    from opora.mail.files import encrypt_stored_files

    encrypt_stored_files(
        apps.get_model("mail", "InboundMessage"),
        apps.get_model("mail", "Attachment"),
        outgoing_model=apps.get_model("mail", "OutgoingAttachment"),
    )


class Migration(migrations.Migration):

    dependencies = [
        ("mail", "0010_encrypt_sent_file_names"),
    ]

    # Sealed files still read after a rollback (the reader unseals); nothing to undo.
    operations = [migrations.RunPython(seal, migrations.RunPython.noop)]
