from django.db import migrations
from django.utils import timezone


def forwards(apps, schema_editor):
    # Old "failed" (will retry) is the outbox's "queued" with a time; old "dead" is "failed".
    Message = apps.get_model("messengers", "OutgoingChatMessage")
    Message.objects.filter(status="failed", next_attempt_at__isnull=True).update(
        next_attempt_at=timezone.now()
    )
    Message.objects.filter(status="failed").update(status="queued")
    Message.objects.filter(status="dead").update(status="failed")


def backwards(apps, schema_editor):
    Message = apps.get_model("messengers", "OutgoingChatMessage")
    Message.objects.filter(status="failed").update(status="dead")
    Message.objects.filter(status="sending").update(status="queued")


class Migration(migrations.Migration):
    dependencies = [("messengers", "0004_outgoing_chat_message_outbox_row")]

    operations = [migrations.RunPython(forwards, backwards)]
