from django.db import migrations
from django.utils import timezone

# notifications.outbox.MAX_ATTEMPTS when this was written (a migration keeps its own copy).
MAX_ATTEMPTS = 10


def forwards(apps, schema_editor):
    # "failed" used to mean "this attempt failed, the task retries"; in the one outbox a row
    # waiting for another attempt is "queued" with a time, and "failed" means it gave up.
    Notification = apps.get_model("notifications", "Notification")
    Notification.objects.filter(status="failed", attempts__lt=MAX_ATTEMPTS).update(
        status="queued", next_attempt_at=timezone.now()
    )


class Migration(migrations.Migration):
    dependencies = [("notifications", "0005_notification_outbox_row")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
