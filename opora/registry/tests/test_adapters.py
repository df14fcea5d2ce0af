"""Registry adapters: the local tables by default, any class named by OPORA_REGISTRY_ADAPTER."""

import datetime as dt

import pytest
from django.test import override_settings

from opora.demo.factories import make_registry_record
from opora.registry.adapters import (
    LocalRegistryAdapter,
    RegistryAdapter,
    RegistryEntry,
    get_registry_adapter,
)
from opora.registry.iin import IINError, make_iin
from opora.registry.models import ImportRun
from opora.registry.selectors import import_runs, registry_lookup

pytestmark = pytest.mark.django_db


def iin(birth: dt.date, sex: str = "F") -> str:
    return next(v for s in range(100) if (v := make_iin(birth, sex, s)) is not None)


MOTHER = iin(dt.date(1985, 3, 4))
FATHER = iin(dt.date(1983, 7, 1), "M")
CHILD = iin(dt.date(2015, 5, 20), "M")
OTHER_CHILD = iin(dt.date(2016, 6, 6))


@pytest.fixture
def records():
    mother = make_registry_record(
        source="cbd",
        iin=MOTHER,
        child_iin=CHILD,
        last_name="Иванова",
        first_name="Мария",
        patronymic="Петровна",
        relation="мать",
        status="active",
    )
    father = make_registry_record(
        source="cbd",
        iin=FATHER,
        child_iin=CHILD,
        last_name="Иванов",
        first_name="Сергей",
        status="inactive",
    )
    child = make_registry_record(
        source="cbdi",
        iin=CHILD,
        last_name="Иванов",
        first_name="Пётр",
        birth_date=dt.date(2015, 5, 20),
        category="ребенок-инвалид",
        valid_until=dt.date(2030, 1, 1),
    )
    make_registry_record(
        source="cbdi",
        iin=OTHER_CHILD,
        last_name="Петрова",
        first_name="Анна",
        birth_date=dt.date(2016, 6, 6),
    )
    return mother, father, child


def test_lookup_matches_the_person_or_the_child(records):
    mother, father, child = records
    adapter = LocalRegistryAdapter()
    by_mother = adapter.lookup(MOTHER)
    assert by_mother == [
        RegistryEntry(
            source="cbd",
            iin=MOTHER,
            child_iin=CHILD,
            last_name="Иванова",
            first_name="Мария",
            patronymic="Петровна",
            status="active",
            birth_date=None,
            category="",
            valid_until=None,
            record_id=mother.pk,
        )
    ]
    by_child = adapter.lookup(CHILD)
    assert {(e.source, e.record_id) for e in by_child} == {
        ("cbd", mother.pk),
        ("cbd", father.pk),
        ("cbdi", child.pk),
    }
    cbdi = next(e for e in by_child if e.source == "cbdi")
    assert cbdi.valid_until == dt.date(2030, 1, 1) and cbdi.child_iin == ""


def test_lookup_of_nothing(records):
    adapter = LocalRegistryAdapter()
    assert adapter.lookup(iin(dt.date(1950, 1, 1))) == []
    # ЦБДИ rows have child_iin="": an empty key must not match them.
    assert adapter.lookup("") == []


def test_default_adapter_is_the_local_tables():
    adapter = get_registry_adapter()
    assert isinstance(adapter, LocalRegistryAdapter)
    assert isinstance(adapter, RegistryAdapter)


class StaticRegistry:
    def lookup(self, iin: str) -> list[RegistryEntry]:
        return [RegistryEntry("cbdi", iin, "", "Тестова", "Анна", "", "", None, "", None)]


@override_settings(OPORA_REGISTRY_ADAPTER="opora.registry.tests.test_adapters.StaticRegistry")
def test_setting_replaces_the_adapter(records):
    assert isinstance(get_registry_adapter(), StaticRegistry)
    entries = registry_lookup(iin=MOTHER)
    assert [(e.last_name, e.record_id) for e in entries] == [("Тестова", None)]


def test_registry_lookup_validates_the_iin(records):
    assert len(registry_lookup(iin=f" {CHILD[:6]}-{CHILD[6:]} ")) == 3
    with pytest.raises(IINError):
        registry_lookup(iin="12345")


def test_import_runs_newest_first_and_filtered():
    a = ImportRun.objects.create(source="cbd", file_name="a.csv", status="done")
    b = ImportRun.objects.create(source="cbdi", file_name="b.csv", status="failed")
    c = ImportRun.objects.create(source="cbd", file_name="c.csv", status="failed")
    assert list(import_runs()) == [c, b, a]
    assert list(import_runs(source="cbd")) == [c, a]
    assert list(import_runs(source="cbd", status="failed")) == [c]


def test_admin_is_read_only_and_audits_opening_a_record(client, records):
    from django.contrib.auth import get_user_model

    from opora.core.models import AuditEvent

    admin = get_user_model().objects.create_superuser("root", "root@example.org", "pw-Strong-1")
    client.force_login(admin)
    mother = records[0]
    listing = client.get("/admin/registry/registryrecord/")
    assert listing.status_code == 200 and MOTHER not in listing.content.decode()
    assert client.get("/admin/registry/registryrecord/add/").status_code == 403
    page = client.get(f"/admin/registry/registryrecord/{mother.pk}/change/")
    assert page.status_code == 200 and MOTHER in page.content.decode()
    event = AuditEvent.objects.get(event_type="registry.record_viewed")
    assert event.actor == admin and event.subject_id == str(mother.pk)
    for url in ("/admin/registry/importrun/", "/admin/registry/eligibilitycheck/"):
        assert client.get(url).status_code == 200
