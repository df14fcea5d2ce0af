"""Eligibility (regulation 001 §3.1–3.4): who may book, who is refused, and what the operator says."""

import datetime as dt

import pytest
from django.test import override_settings
from django.utils import timezone, translation

from opora.core.errors import DomainError
from opora.core.models import AuditEvent
from opora.demo.factories import make_registry_record
from opora.registry.adapters import RegistryEntry
from opora.registry.iin import IINError, make_iin
from opora.registry.models import EligibilityCheck, RegistryRecord
from opora.registry.scripts import SCRIPTS, eligibility_script
from opora.registry.services import eligibility_check

pytestmark = pytest.mark.django_db
Reason = EligibilityCheck.Reason


def iin(birth: dt.date, sex: str = "F", n: int = 0) -> str:
    found = -1
    for serial in range(10000):
        value = make_iin(birth, sex, serial)
        if value is not None:
            found += 1
            if found == n:
                return value
    raise AssertionError("no IIN")


MOTHER = iin(dt.date(1985, 3, 4), "F")
FATHER = iin(dt.date(1983, 7, 1), "M")
GUARDIAN = iin(dt.date(1970, 1, 2), "F")
CHILD = iin(dt.date(2015, 5, 20), "M")
CHILD2 = iin(dt.date(2018, 8, 8), "F")
STRANGER = iin(dt.date(1990, 10, 10), "M")


def cbd(recipient, child, last, first, patronymic="", status="active") -> RegistryRecord:
    return make_registry_record(
        source="cbd",
        iin=recipient,
        child_iin=child,
        last_name=last,
        first_name=first,
        patronymic=patronymic,
        relation="мать",
        status=status,
    )


def cbdi(person, last, first, patronymic="", valid_until=None) -> RegistryRecord:
    return make_registry_record(
        source="cbdi",
        iin=person,
        last_name=last,
        first_name=first,
        patronymic=patronymic,
        birth_date=dt.date(2015, 5, 20),
        category="ребенок-инвалид",
        valid_until=valid_until,
    )


def check(operator, service, iin_, name):
    with translation.override("en"):
        return eligibility_check(actor=operator, service=service, iin=iin_, full_name=name)


def test_a_active_recipient_by_own_iin(operator, service):
    record = cbd(MOTHER, CHILD, "Иванова", "Мария", "Петровна")
    result = check(operator, service, MOTHER, "Иванова Мария Петровна")
    assert result.eligible and result.reason == Reason.ELIGIBLE_CBD
    assert result.child_iin == CHILD
    stored = result.check
    assert stored.pk and stored.eligible and stored.matched_record == record
    assert (stored.iin, stored.full_name, stored.child_iin) == (
        MOTHER,
        "Иванова Мария Петровна",
        CHILD,
    )
    assert stored.actor == operator and stored.service == service


def test_b_child_iin_of_an_active_recipient_with_the_recipients_name(operator, service):
    record = cbd(MOTHER, CHILD, "Иванова", "Мария", "Петровна")
    result = check(operator, service, CHILD, "иванова  мария петровна")
    assert result.eligible and result.reason == Reason.ELIGIBLE_CBD
    assert result.child_iin == CHILD and result.check.matched_record == record


def test_c_child_in_cbdi_and_name_of_an_active_cbd_recipient(operator, service):
    cbdi(CHILD, "Иванов", "Пётр", valid_until=dt.date(2099, 1, 1))
    record = cbd(MOTHER, CHILD, "Иванова", "Мария", "Петровна")
    result = check(operator, service, CHILD, "Иванова Мария Петровна")
    assert result.eligible and result.check.matched_record == record


def test_c_child_in_cbdi_and_name_of_the_cbdi_record(operator, service):
    record = cbdi(CHILD, "Иванов", "Пётр", "Сергеевич", valid_until=None)
    result = check(operator, service, CHILD, "Иванов Петр Сергеевич")
    assert result.eligible and result.reason == Reason.ELIGIBLE_CBDI
    assert result.child_iin == CHILD and result.check.matched_record == record


def test_not_registered(operator, service):
    cbd(MOTHER, CHILD, "Иванова", "Мария")
    result = check(operator, service, STRANGER, "Иванова Мария")
    assert not result.eligible and result.reason == Reason.NOT_REGISTERED
    assert result.check.matched_record is None and result.child_iin == ""


def test_only_inactive_recipient(operator, service):
    cbd(MOTHER, CHILD, "Иванова", "Мария", "Петровна", status="inactive")
    by_own = check(operator, service, MOTHER, "Иванова Мария Петровна")
    by_child = check(operator, service, CHILD, "Иванова Мария Петровна")
    assert (by_own.eligible, by_own.reason) == (False, Reason.INACTIVE)
    assert (by_child.eligible, by_child.reason) == (False, Reason.INACTIVE)


def test_name_mismatch(operator, service):
    cbd(MOTHER, CHILD, "Иванова", "Мария", "Петровна")
    for name in ["Петрова Мария Петровна", "Мария Иванова", "Иванова М. П.", "Иванова"]:
        result = check(operator, service, MOTHER, name)
        assert (result.eligible, result.reason) == (False, Reason.NAME_MISMATCH), name
    # Patronymic given but different.
    result = check(operator, service, MOTHER, "Иванова Мария Ивановна")
    assert result.reason == Reason.NAME_MISMATCH


def test_never_eligible_through_another_persons_record(operator, service):
    # The mother receives the benefit; the father's record is inactive.
    cbd(MOTHER, CHILD, "Иванова", "Мария", "Петровна", status="active")
    cbd(FATHER, CHILD, "Иванов", "Сергей", "Олегович", status="inactive")
    # The father by the child's IIN: his own record decides, not the mother's.
    result = check(operator, service, CHILD, "Иванов Сергей Олегович")
    assert (result.eligible, result.reason) == (False, Reason.INACTIVE)
    # The father by the mother's IIN with his own name.
    result = check(operator, service, MOTHER, "Иванов Сергей Олегович")
    assert (result.eligible, result.reason) == (False, Reason.NAME_MISMATCH)
    # Somebody else's name with the child's IIN.
    result = check(operator, service, CHILD, "Петрова Анна Ивановна")
    assert (result.eligible, result.reason) == (False, Reason.NAME_MISMATCH)
    # A recipient of another child, by this child's IIN.
    cbd(GUARDIAN, CHILD2, "Сейтова", "Алма", status="active")
    result = check(operator, service, CHILD, "Сейтова Алма")
    assert (result.eligible, result.reason) == (False, Reason.NAME_MISMATCH)
    # The mother, by the same child's IIN, is eligible.
    assert check(operator, service, CHILD, "Иванова Мария Петровна").eligible


def test_disability_expired(operator, service):
    cbdi(CHILD, "Иванов", "Пётр", valid_until=dt.date(2020, 1, 1))
    result = check(operator, service, CHILD, "Иванов Пётр")
    assert (result.eligible, result.reason) == (False, Reason.DISABILITY_EXPIRED)
    assert result.child_iin == CHILD


def test_expired_cbdi_but_active_cbd_recipient_is_eligible(operator, service):
    cbdi(CHILD, "Иванов", "Пётр", valid_until=dt.date(2020, 1, 1))
    cbd(MOTHER, CHILD, "Иванова", "Мария", "Петровна")
    assert check(operator, service, CHILD, "Иванова Мария Петровна").eligible


def test_validity_uses_the_services_calendar_day(operator, service, monkeypatch):
    # 20:00 UTC on 1 June is already 2 June in Almaty (UTC+5).
    now = dt.datetime(2025, 6, 1, 20, 0, tzinfo=dt.UTC)
    monkeypatch.setattr(timezone, "now", lambda: now)
    cbdi(CHILD, "Иванов", "Пётр", valid_until=dt.date(2025, 6, 1))
    cbdi(CHILD2, "Иванова", "Анна", valid_until=dt.date(2025, 6, 2))
    assert check(operator, service, CHILD, "Иванов Пётр").reason == Reason.DISABILITY_EXPIRED
    assert check(operator, service, CHILD2, "Иванова Анна").reason == Reason.ELIGIBLE_CBDI
    service.time_zone = "UTC"
    service.save()
    assert check(operator, service, CHILD, "Иванов Пётр").eligible


@pytest.mark.parametrize(
    ("registry", "said"),
    [
        (("Әбдірахманова", "Айгүл", "Серікқызы"), "АБДИРАХМАНОВА айгул серик кызы"),
        (("Әбдірахманова", "Айгүл", "Серікқызы"), "Әбдірахманова Айгүл"),
        (("Сейітқали", "Ұлжан", ""), "Сейиткали Улжан Болатовна"),
        (("Семёнова", "Алёна", "Фёдоровна"), "семенова алена федоровна"),
        (("Семенова", "Алена", "Федоровна"), "Семёнова Алёна Фёдоровна"),
        (("Ким", "Ирина", ""), "  Ким   Ирина "),
    ],
)
def test_name_tolerance(operator, service, registry, said):
    cbd(MOTHER, CHILD, *registry)
    assert check(operator, service, MOTHER, said).eligible


def test_malformed_iin_raises_and_stores_nothing(operator, service):
    with pytest.raises(IINError):
        check(operator, service, "123", "Иванова Мария")
    assert not EligibilityCheck.objects.exists()


def test_iin_with_spaces_is_normalised(operator, service):
    cbd(MOTHER, CHILD, "Иванова", "Мария")
    spaced = f"{MOTHER[:6]} {MOTHER[6:]}"
    result = check(operator, service, spaced, "Иванова Мария")
    assert result.eligible and result.check.iin == MOTHER


def test_every_check_is_audited_without_personal_data(operator, service):
    cbd(MOTHER, CHILD, "Иванова", "Мария", "Петровна")
    result = check(operator, service, MOTHER, "Иванова Мария Петровна")
    check(operator, service, STRANGER, "Петров Пётр")
    events = AuditEvent.objects.filter(event_type="registry.eligibility_checked").order_by("pk")
    assert events.count() == 2
    first = events[0]
    assert first.actor == operator and first.subject_id == str(result.check.pk)
    assert first.extra == {"service": service.code, "eligible": True, "reason": "eligible_cbd"}
    for event in events:
        text = str(event.extra)
        assert MOTHER not in text and STRANGER not in text and "Иванова" not in text


def test_the_answer_is_the_translated_script(operator, service):
    cbd(MOTHER, CHILD, "Иванова", "Мария")
    ok = check(operator, service, MOTHER, "Иванова Мария")
    no = check(operator, service, STRANGER, "Петров Пётр")
    with translation.override("en"):
        assert ok.message == eligibility_script(Reason.ELIGIBLE_CBD)
        assert no.message == eligibility_script(Reason.NOT_REGISTERED)
    # Regulation 001 §3.3: say that nobody is registered under this IIN, and refuse politely.
    assert (
        "no recipient of the benefit" in no.message and "is registered under this IIN" in no.message
    )
    assert "I am sorry" in no.message and "cannot provide psychological help" in no.message


def test_every_reason_has_a_polite_script():
    assert set(SCRIPTS) == set(Reason.values)
    with translation.override("en"):
        for reason in Reason.values:
            text = eligibility_script(reason)
            assert text and "Thank you" in text
        for reason in (
            Reason.NOT_REGISTERED,
            Reason.INACTIVE,
            Reason.NAME_MISMATCH,
            Reason.DISABILITY_EXPIRED,
        ):
            text = eligibility_script(reason)
            assert text.startswith("I am sorry")
            assert "IIN" in text  # says what was checked, never whose data was found


def test_service_without_actor_and_empty_name(service):
    cbd(MOTHER, CHILD, "Иванова", "Мария")
    with pytest.raises(DomainError):
        eligibility_check(actor=None, service=service, iin=MOTHER, full_name="   ")
    result = eligibility_check(actor=None, service=service, iin=MOTHER, full_name="Иванова Мария")
    assert result.eligible and result.check.actor is None


class FakeRemoteRegistry:
    """A registry service that is not the local tables: no local record ids."""

    def lookup(self, iin: str) -> list[RegistryEntry]:
        if iin != MOTHER:
            return []
        return [
            RegistryEntry(
                source="cbd",
                iin=MOTHER,
                child_iin=CHILD,
                last_name="Удалённая",
                first_name="Мария",
                patronymic="",
                status="active",
                birth_date=None,
                category="",
                valid_until=None,
            )
        ]


@override_settings(
    OPORA_REGISTRY_ADAPTER="opora.registry.tests.test_eligibility.FakeRemoteRegistry"
)
def test_a_remote_registry_replaces_the_tables(operator, service):
    cbd(MOTHER, CHILD, "Иванова", "Мария")  # ignored: the adapter is remote
    assert not check(operator, service, MOTHER, "Иванова Мария").eligible
    result = check(operator, service, MOTHER, "Удаленная Мария")
    assert result.eligible and result.check.matched_record is None and result.child_iin == CHILD
