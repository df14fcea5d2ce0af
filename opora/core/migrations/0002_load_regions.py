"""Load Kazakhstan's regions and cities of republican significance and Russia's federal subjects."""

import json
from pathlib import Path

from django.db import migrations

DATA = Path(__file__).resolve().parent.parent / "data" / "regions.json"


def load_regions(apps, schema_editor):
    Region = apps.get_model("core", "Region")
    for row in json.loads(DATA.read_text(encoding="utf-8")):
        Region.objects.update_or_create(code=row["code"], defaults=row)


def unload_regions(apps, schema_editor):
    Region = apps.get_model("core", "Region")
    codes = [row["code"] for row in json.loads(DATA.read_text(encoding="utf-8"))]
    Region.objects.filter(code__in=codes).delete()


class Migration(migrations.Migration):
    dependencies = [("core", "0001_initial")]
    operations = [migrations.RunPython(load_regions, unload_regions)]
