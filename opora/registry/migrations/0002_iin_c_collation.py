"""On PostgreSQL compare IINs bytewise (COLLATE "C"): they are digit strings, and the locale-aware
default collation only slows index builds, imports and lookups. SQLite already compares bytewise."""

from django.db import migrations

COLUMNS = [
    ("registry_registryrecord", "iin"),
    ("registry_registryrecord", "child_iin"),
]


def to_c(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table, column in COLUMNS:
        schema_editor.execute(f'ALTER TABLE {table} ALTER COLUMN {column} TYPE varchar(12) COLLATE "C"')


def to_default(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table, column in COLUMNS:
        schema_editor.execute(f"ALTER TABLE {table} ALTER COLUMN {column} TYPE varchar(12) COLLATE \"default\"")


class Migration(migrations.Migration):
    dependencies = [("registry", "0001_initial")]
    operations = [migrations.RunPython(to_c, to_default)]
