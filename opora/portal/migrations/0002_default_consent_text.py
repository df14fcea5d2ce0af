"""The default consent to personal-data processing the portal shows where a service has none."""

from django.db import migrations


def create_default_consent(apps, schema_editor):
    from opora.portal.consent import default_consent_get_or_create

    default_consent_get_or_create(apps.get_model("intake", "ConsentText"))


class Migration(migrations.Migration):
    dependencies = [
        ("portal", "0001_portal_submission"),
        ("intake", "0003_request_channels_anonymity_consent_referrals"),
    ]

    # Backwards keeps the text: requests that agreed to it still point at it.
    operations = [migrations.RunPython(create_default_consent, migrations.RunPython.noop)]
