"""Load Kazakhstan's regions and cities of republican significance and Russia's federal subjects."""

from django.db import migrations

from opora.core.regions import DATA, load_regions


def forwards(apps, schema_editor):
    load_regions(apps.get_model("core", "Region"))


def backwards(apps, schema_editor):
    import json

    codes = [row["code"] for row in json.loads(DATA.read_text(encoding="utf-8"))]
    apps.get_model("core", "Region").objects.filter(code__in=codes).delete()


class Migration(migrations.Migration):
    dependencies = [("core", "0001_initial")]
    operations = [migrations.RunPython(forwards, backwards)]
