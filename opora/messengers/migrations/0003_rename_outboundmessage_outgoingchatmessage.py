from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("messengers", "0002_encrypt_secrets")]

    operations = [
        # Two apps had a model called OutboundMessage: this one is an outgoing chat message.
        migrations.RenameModel("OutboundMessage", "OutgoingChatMessage"),
        migrations.RenameField("OutgoingChatMessage", "error", "last_error"),
    ]
