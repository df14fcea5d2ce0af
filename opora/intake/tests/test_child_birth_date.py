"""A child's birth date is encrypted at rest (`core.fields.EncryptedDateField`): it reads back as a
date, a value stored before encryption still reads, and a database comparison is refused (it
would silently compare ciphertexts)."""

import datetime as dt

import pytest
from django.core.exceptions import FieldError
from django.db import connection

from opora.intake.models import Child, Client

pytestmark = pytest.mark.django_db


def _raw(child: Child) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT birth_date FROM intake_child WHERE id = %s", [child.pk])
        (value,) = cursor.fetchone() or ("missing",)
        return "" if value is None else str(value)


def test_a_birth_date_is_sealed_and_reads_back_as_a_date():
    client = Client.objects.create(last_name="Датова", first_name="Дана")
    child = Child.objects.create(client=client, birth_date=dt.date(2017, 3, 8))
    undated = Child.objects.create(client=client, full_name="Без даты")
    raw = _raw(child)
    assert raw.startswith("enc1:") and "2017" not in raw
    assert Child.objects.get(pk=child.pk).birth_date == dt.date(2017, 3, 8)
    assert _raw(undated) == "" and Child.objects.get(pk=undated.pk).birth_date is None
    with connection.cursor() as cursor:  # as a row held it before the migration
        cursor.execute(
            "UPDATE intake_child SET birth_date = '2016-01-02' WHERE id = %s", [child.pk]
        )
    assert Child.objects.get(pk=child.pk).birth_date == dt.date(2016, 1, 2)
    with pytest.raises(FieldError, match="encrypted"):
        list(Child.objects.filter(**{"birth_date__gte": dt.date(2015, 1, 1)}))
