"""The seven topic classes of regulation 002 and the languages of help, as rows staff can pick."""

from django.db import migrations

TOPICS = ["1", "2", "3", "4", "5", "6", "7"]
LANGUAGES = ["ru", "kk", "en"]


def seed(apps, schema_editor):
    Specialty = apps.get_model("accounts", "Specialty")
    Language = apps.get_model("accounts", "Language")
    for topic in TOPICS:
        Specialty.objects.get_or_create(topic=topic)
    for code in LANGUAGES:
        Language.objects.get_or_create(code=code)


class Migration(migrations.Migration):
    dependencies = [("accounts", "0006_specialties_languages_responsible_persons")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
