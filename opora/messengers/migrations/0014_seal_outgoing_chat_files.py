"""The files staff sent through a messenger, stored in clear before, sealed in place under a
neutral name (`messengers.reply_files`); a file already sealed is skipped."""

from django.db import migrations


def seal(apps, schema_editor):
    from opora.messengers.reply_files import seal_stored_reply_files

    seal_stored_reply_files(apps.get_model("messengers", "OutgoingChatMessage"))


class Migration(migrations.Migration):

    dependencies = [
        ("messengers", "0013_encrypt_sent_file_names"),
    ]

    # Sealed files still read after a rollback (the reader unseals); nothing to undo.
    operations = [migrations.RunPython(seal, migrations.RunPython.noop)]
