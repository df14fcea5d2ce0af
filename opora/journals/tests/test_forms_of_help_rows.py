"""Every form of help lands in the journals (issue 12): a walk-in held in person and a written
consultation appear in regulation 002's journal and regulation 004's journal of services."""

import datetime as dt

import pytest
from django.utils import timezone

from opora.consultations import services
from opora.consultations.models import Protocol, Topic
from opora.journals.rows import consultations_row, services_row, services_values
from opora.scheduling import services as scheduling
from opora.scheduling.tests.factories import make_request

pytestmark = pytest.mark.django_db

PROTOCOL = {
    "reason": "Вопрос",
    "topic": Topic.FAMILY,
    "solution": "Совет",
    "kind": Protocol.Kind.PRIMARY,
}


def test_a_walk_in_and_a_letter_in_both_journals(service, consultant, coordinator, operator):
    room = scheduling.place_create(actor=coordinator, service=service, name="Кабинет 3")
    walk_in = make_request(service, channel="in_person")
    c = services.consultation_start_now(
        actor=operator, request=walk_in, consultant=consultant, form="in_person", place=room
    )
    c = services.consultation_mark_held(
        actor=consultant, consultation=c, held=True, now=timezone.now() + dt.timedelta(minutes=45)
    )
    services.protocol_save(
        actor=consultant, consultation=c, **PROTOCOL, duration_minutes=45, child_present=True
    )
    row = consultations_row(1, c)
    assert "45 мин" in row[1] and "очно" in row[1]

    letter = make_request(service, channel="email")
    w = services.consultation_take_written(actor=consultant, request=letter, form="email")
    w = services.consultation_close_written(actor=consultant, consultation=w)
    services.protocol_save(actor=consultant, consultation=w, **PROTOCOL)
    assert "по электронной почте" in consultations_row(2, w)[1]

    today = timezone.localdate()
    rows = {
        r["pk"]: services_row(i, r, service=service)
        for i, r in enumerate(
            services_values(service=service, date_from=today, date_to=today), start=1
        )
    }
    assert rows[walk_in.pk][5] == "очно"
    assert rows[letter.pk][5] == "письменный ответ"
