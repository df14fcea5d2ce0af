"""Requests held before the lifecycle existed: a consultation with a protocol closes its request
(done), a no-show ends it (no_show). Before this, both stayed «booked» for ever."""

from django.db import migrations


def close_held_requests(apps, schema_editor):
    ServiceRequest = apps.get_model("intake", "ServiceRequest")
    Protocol = apps.get_model("consultations", "Protocol")
    Consultation = apps.get_model("consultations", "Consultation")
    written = Protocol.objects.values("consultation__booking__request_id")
    ServiceRequest.objects.filter(status="booked", pk__in=written).update(status="done")
    missed = Consultation.objects.filter(status="no_show").values("booking__request_id")
    ServiceRequest.objects.filter(status="booked", pk__in=missed).update(status="no_show")


class Migration(migrations.Migration):
    dependencies = [
        ("consultations", "0003_recording_chat_files_next_booking"),
        ("intake", "0004_request_status_no_show"),
    ]

    operations = [migrations.RunPython(close_held_requests, migrations.RunPython.noop)]
