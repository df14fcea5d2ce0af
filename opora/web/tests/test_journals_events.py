"""The events in the journals: the group consultations' participants registry (regulation 002
Appendix 3) and every participant as a service in the journal of services (regulation 004) —
read through the journals, as the files carry them, named in the service copy and coded for
the authority."""

import datetime as dt

import pytest
from django.utils import timezone
from openpyxl import load_workbook

from opora.accounts.models import Role
from opora.demo.factories import make_consultant, make_user
from opora.events import services as event_services
from opora.events.models import Attendance, Event
from opora.events.tests.factories import make_event, phone
from opora.journals.documents import journal_document
from opora.journals.selectors import journal_read

pytestmark = pytest.mark.django_db


def _attend(event: Event, registration, minutes: int = 50) -> None:
    Attendance.objects.create(
        event=event,
        registration=registration,
        joined_at=event.starts_at,
        left_at=event.starts_at + dt.timedelta(minutes=minutes),
    )


@pytest.fixture
def held(service, head):
    """A held group consultation (both parents on one place, one invited who did not come) and
    a webinar with one participant, the same day."""
    lead = make_consultant(service, last_name="Сидорова", first_name="Мария")
    group = make_event(service, lead, kind=Event.Kind.GROUP, starts_in=dt.timedelta(minutes=1))
    Event.objects.filter(pk=group.pk).update(topic="1")
    both = event_services.registration_create(
        actor=lead,
        event=group,
        full_name="Иванова Анна",
        second_full_name="Иванов Пётр",
        phone=phone(1),
    ).registration
    absent = event_services.registration_create(
        actor=lead, event=group, full_name="Петрова Ольга", phone=phone(2)
    ).registration
    _attend(group, both)
    event_services.registration_note_set(actor=lead, registration=both, note="пришли вдвоём")
    webinar = make_event(service, lead, starts_in=dt.timedelta(minutes=2))
    listener = event_services.registration_create(
        actor=None, event=webinar, full_name="Смирнова Зоя", phone=phone(3)
    ).registration
    _attend(webinar, listener)
    day = timezone.localtime(group.starts_at, service.tz).date()
    return {"day": day, "both": both, "absent": absent, "listener": listener, "lead": lead}


def test_the_participants_registry_lists_who_came(service, head, held):
    journal = journal_read(
        actor=head,
        service=service,
        form="participants-002",
        date_from=held["day"],
        date_to=held["day"],
    )
    rows = list(journal.rows)
    assert journal.count == 1
    assert rows == [[1, "Иванова Анна, Иванов Пётр", "пришли вдвоём"]]
    assert journal.header["ФИО специалиста"] == "Сидорова Мария"
    assert journal.header["Дата консультации"].startswith(held["day"].strftime("%d.%m.%Y"))
    assert journal.header["Тематика консультирования"]  # topic 1 of regulation 002, in words

    # The file carries the same: the form's headings, then the row.
    journal = journal_read(
        actor=head,
        service=service,
        form="participants-002",
        date_from=held["day"],
        date_to=held["day"],
        export="xlsx",
    )
    sheet = load_workbook(journal_document(journal, "xlsx")).active
    cells = [[c for c in row if c is not None] for row in sheet.iter_rows(values_only=True)]
    assert ["№ п/п", "Фамилия, имя, отчество клиента", "Примечание"] in cells
    assert [1, "Иванова Анна, Иванов Пётр", "пришли вдвоём"] in cells
    assert not any("Петрова" in str(c) for row in cells for c in row)


def test_the_authority_reads_the_registry_coded(service, held):
    authority = make_user(Role.AUTHORITY, organisation=service.authority)
    journal = journal_read(
        actor=authority,
        service=service,
        form="participants-002",
        date_from=held["day"],
        date_to=held["day"],
    )
    rows = list(journal.rows)
    assert rows == [[1, f"код {held['both'].code}", ""]]  # no name, no note about the client
    assert "Сидорова" not in " ".join(journal.header.values())


def test_every_participant_is_one_service_in_the_journal_of_services(service, head, held):
    journal = journal_read(
        actor=head,
        service=service,
        form="services-004",
        date_from=held["day"],
        date_to=held["day"],
        service_copy=True,
    )
    rows = list(journal.rows)
    assert journal.count == len(rows) == 2  # both parents count once; who did not come, not at all
    group_row, webinar_row = rows
    assert group_row[0] == 1 and webinar_row[0] == 2
    assert group_row[2] == f"код {held['both'].code}"
    assert group_row[3] == "Иванова Анна, Иванов Пётр"
    assert group_row[5] == "дистанционно (групповая консультация)"
    assert webinar_row[3] == "Смирнова Зоя"
    assert webinar_row[4] == "Образовательное мероприятие"
    assert webinar_row[5] == "дистанционно (вебинар)"
    assert group_row[7] == "Сидорова Мария"

    coded = list(
        journal_read(
            actor=head,
            service=service,
            form="services-004",
            date_from=held["day"],
            date_to=held["day"],
        ).rows
    )
    assert (
        coded[0][3] == f"код {held['both'].code}" and coded[1][3] == f"код {held['listener'].code}"
    )
    assert not any("Иванова" in str(c) or "Сидорова" in str(c) for row in coded for c in row)


def test_a_consultant_reads_the_events_they_lead(service, held):
    other = make_consultant(service)
    mine = journal_read(
        actor=held["lead"],
        service=service,
        form="participants-002",
        date_from=held["day"],
        date_to=held["day"],
    )
    assert mine.count == 1
    theirs = journal_read(
        actor=other,
        service=service,
        form="participants-002",
        date_from=held["day"],
        date_to=held["day"],
    )
    assert theirs.count == 0 and list(theirs.rows) == []
