"""Regulation 001 §10: the register of responsible persons, a change sent to the other side, and
a change recorded later than one working day after it took effect flagged (issue 12)."""

import datetime as dt

import pytest
from django.urls import reverse

from opora.accounts.models import ResponsiblePerson, ResponsibleSide
from opora.core.errors import DomainError, PermissionDenied
from opora.core.models import AuditEvent
from opora.notifications.models import Notification
from opora.scheduling.calendar import make_aware_local
from opora.scheduling.responsible import responsible_deadline, responsible_person_change

pytestmark = pytest.mark.django_db

# Tuesday 15 December 2026; Wednesday the 16th is Independence Day in Kazakhstan.
BEFORE_HOLIDAY = dt.date(2026, 12, 15)


def _at(service, date, hour=11):
    return make_aware_local(service, date, dt.time(hour))


def _change(service, actor, side, name, valid_from, recorded_on, email=""):
    return responsible_person_change(
        actor=actor,
        service=service,
        side=side,
        full_name=name,
        position="Руководитель",
        phone="+7 701 000 00 01",
        email=email,
        valid_from=valid_from,
        now=_at(service, recorded_on),
    )


def test_the_deadline_skips_the_holiday(service):
    assert responsible_deadline(service=service, valid_from=BEFORE_HOLIDAY) == dt.date(2026, 12, 17)


def test_a_change_on_the_next_working_day_after_a_holiday_is_on_time(service, coordinator):
    person = _change(
        service,
        coordinator,
        ResponsibleSide.INTAKE,
        "Иванова Анна",
        BEFORE_HOLIDAY,
        dt.date(2026, 12, 17),
    )
    assert person.is_late is False


def test_a_change_two_working_days_later_is_flagged(service, coordinator):
    person = _change(
        service,
        coordinator,
        ResponsibleSide.INTAKE,
        "Иванова Анна",
        BEFORE_HOLIDAY,
        dt.date(2026, 12, 18),
    )
    assert person.is_late is True
    event = AuditEvent.objects.get(event_type="responsible.person_changed")
    assert event.extra["late"] is True and "Иванова" not in str(event.extra)


def test_a_change_closes_the_current_row_and_is_sent_to_the_other_side(service, coordinator):
    service.provider_organisation.email = "university@example.org"
    service.provider_organisation.save()
    provider = _change(
        service,
        coordinator,
        ResponsibleSide.PROVIDER,
        "Петров Пётр",
        dt.date(2026, 12, 1),
        dt.date(2026, 12, 1),
        email="petrov@example.org",
    )
    first = _change(
        service,
        coordinator,
        ResponsibleSide.INTAKE,
        "Иванова Анна",
        dt.date(2026, 12, 2),
        dt.date(2026, 12, 2),
    )
    second = _change(
        service,
        coordinator,
        ResponsibleSide.INTAKE,
        "Сидорова Бота",
        dt.date(2026, 12, 10),
        dt.date(2026, 12, 10),
    )
    first.refresh_from_db()
    assert first.valid_to == dt.date(2026, 12, 9) and second.valid_to is None
    assert ResponsiblePerson.objects.filter(service=service).count() == 3
    sent = Notification.objects.filter(
        kind="responsible_changed",
        subject_type="accounts.responsibleperson",
        subject_id=str(second.pk),
    )
    assert sorted(n.recipient for n in sent) == ["petrov@example.org", "university@example.org"]
    assert all("Сидорова Бота" in n.body and "10.12.2026" in n.body for n in sent)
    # The provider's own change went to the intake side, which had no address yet.
    assert not Notification.objects.filter(
        subject_id=str(provider.pk), kind="responsible_changed"
    ).exists()


def test_bad_changes_are_refused_with_the_field_named(service, coordinator, operator):
    _change(
        service,
        coordinator,
        ResponsibleSide.INTAKE,
        "Иванова Анна",
        dt.date(2026, 12, 2),
        dt.date(2026, 12, 2),
    )
    with pytest.raises(DomainError) as err:
        _change(
            service,
            coordinator,
            ResponsibleSide.INTAKE,
            "Б",
            dt.date(2026, 12, 2),
            dt.date(2026, 12, 3),
        )
    assert err.value.code == "valid_from_too_early"
    with pytest.raises(DomainError) as err:
        _change(
            service,
            coordinator,
            ResponsibleSide.INTAKE,
            "Б",
            dt.date(2026, 12, 9),
            dt.date(2026, 12, 3),
        )
    assert err.value.code == "valid_from_future"
    with pytest.raises(DomainError) as err:
        _change(
            service,
            coordinator,
            ResponsibleSide.INTAKE,
            "  ",
            dt.date(2026, 12, 3),
            dt.date(2026, 12, 3),
        )
    assert err.value.code == "full_name_required"
    with pytest.raises(PermissionDenied):
        _change(
            service,
            operator,
            ResponsibleSide.INTAKE,
            "Б",
            dt.date(2026, 12, 3),
            dt.date(2026, 12, 3),
        )


def test_the_page_records_a_change_for_the_coordinator_only(client, service, coordinator, operator):
    client.force_login(operator)
    assert client.get(reverse("responsible_persons")).status_code == 403
    client.force_login(coordinator)
    assert client.get(reverse("responsible_persons")).status_code == 200
    response = client.post(
        reverse("responsible_persons"),
        {"side": "intake", "full_name": "Иванова Анна", "valid_from": "2020-01-01"},
    )
    assert response.status_code == 303
    html = client.get(reverse("responsible_persons")).content.decode()
    assert "Иванова Анна" in html and "late-flag" in html  # recorded years later
    response = client.post(reverse("responsible_persons"), {"side": "intake", "full_name": ""})
    assert response.status_code == 400
