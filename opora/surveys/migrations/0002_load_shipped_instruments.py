"""Data: the shipped questionnaires (PHQ-9, GAD-7, PSS-10, Parental Stress Scale), version 1."""

from typing import Any

from django.db import migrations


def load(apps: Any, schema_editor: Any) -> None:
    from opora.surveys.loader import load_shipped

    load_shipped(apps.get_model("surveys", "Instrument"), apps.get_model("surveys", "InstrumentVersion"))


class Migration(migrations.Migration):
    dependencies = [("surveys", "0001_instruments_assignments_responses")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
