"""The registry row's sealed value: the two dates sealed with the rest (migration 0004, both
ways), rows sealed before them, COPY's text escapes. Synthetic data only."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from opora.core.fields import decrypt_text
from opora.registry.models import RegistryRecord
from opora.registry.sealing import AAD, SEALED, SEP, copy_text, index_of, sealer, unseal
from opora.registry.tests.test_importer import CHILD

BEFORE = [("registry", "0003_encrypt_registry")]
AFTER = [("registry", "0005_natural_key_by_iin_first")]
OLD_SIX = (CHILD, "", "Иванов", "Пётр", "", "ребенок-инвалид")  # as migration 0003 sealed a row


def test_a_row_sealed_before_the_dates_reads_without_them():
    stored = sealer()(OLD_SIX)
    assert len(decrypt_text(stored, aad=AAD).split(SEP)) == 6
    values = unseal(stored)
    assert (values["category"], values["birth_date"], values["valid_until"]) == (
        "ребенок-инвалид",
        "",
        "",
    )
    record = RegistryRecord(source="cbdi", sealed=stored)
    assert record.birth_date is None and record.valid_until is None and record.iin == CHILD


@pytest.mark.django_db
def test_dates_are_set_and_read_through_the_seal():
    fields: dict[str, Any] = {  # the sealed values are properties, not fields
        "source": "cbdi",
        "iin": CHILD,
        "last_name": "Иванов",
        "first_name": "Пётр",
        "birth_date": dt.date(2015, 5, 20),
        "valid_until": "2027-05-31",
    }
    record = RegistryRecord.objects.create(**fields)
    stored = RegistryRecord.objects.get(pk=record.pk)
    assert (stored.birth_date, stored.valid_until) == (dt.date(2015, 5, 20), dt.date(2027, 5, 31))
    assert "2015-05-20" not in stored.sealed
    stored.valid_until = None
    stored.save()
    assert RegistryRecord.objects.get(pk=record.pk).valid_until is None


def test_copy_text_escapes_what_copy_reads_specially():
    assert copy_text("мать\\опекун\tи\nещё\r") == "мать\\\\опекун\\tи\\nещё\\r"
    assert copy_text("мать") == "мать"


@pytest.mark.django_db(transaction=True)
def test_migration_seals_the_dates_and_unseals_them_back():
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    try:
        old = executor.loader.project_state(BEFORE).apps.get_model("registry", "RegistryRecord")
        row = old.objects.create(
            source="cbdi",
            sealed=sealer()(OLD_SIX),
            iin_bidx=index_of(CHILD),
            birth_date=dt.date(2015, 5, 20),
            valid_until=dt.date(2027, 5, 31),
        )
        executor = MigrationExecutor(connection)
        executor.migrate(AFTER)
        record = RegistryRecord.objects.get(pk=row.pk)
        assert (record.birth_date, record.valid_until) == (
            dt.date(2015, 5, 20),
            dt.date(2027, 5, 31),
        )
        assert (record.iin, record.category) == (CHILD, "ребенок-инвалид")
        assert len(decrypt_text(record.sealed, aad=AAD).split(SEP)) == len(SEALED)

        executor = MigrationExecutor(connection)
        executor.migrate(BEFORE)
        old = executor.loader.project_state(BEFORE).apps.get_model("registry", "RegistryRecord")
        back = old.objects.get(pk=row.pk)
        assert (back.birth_date, back.valid_until) == (dt.date(2015, 5, 20), dt.date(2027, 5, 31))
        assert decrypt_text(back.sealed, aad=AAD).split(SEP) == list(OLD_SIX)
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())
