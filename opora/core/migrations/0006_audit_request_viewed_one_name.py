"""One name for the read of a request: the admin's `intake.request_viewed` rows become
`request.viewed`, the name the operator's page and the API record (core.audit.AuditEventType)."""

from django.db import migrations


def forwards(apps, schema_editor):
    AuditEvent = apps.get_model("core", "AuditEvent")
    AuditEvent.objects.filter(event_type="intake.request_viewed").update(
        event_type="request.viewed"
    )


class Migration(migrations.Migration):
    dependencies = [("core", "0005_service_allows_choosing_consultant")]

    # Not reversed: after the rename the admin's rows cannot be told from the others.
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
