from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("notifications", "0003_notice_html_action_link_and_short_links")]

    operations = [
        # The one outbox's field name (notifications.models.OutboxRow).
        migrations.RenameField("Notification", "error", "last_error"),
    ]
