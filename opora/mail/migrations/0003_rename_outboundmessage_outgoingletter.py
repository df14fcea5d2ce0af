from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("mail", "0002_encrypt_passwords")]

    operations = [
        # Two apps had a model called OutboundMessage: the written answer is an outgoing letter.
        migrations.RenameModel("OutboundMessage", "OutgoingLetter"),
    ]
