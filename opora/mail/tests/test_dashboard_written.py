"""The written answers' SLA on the dashboards: 3 working days of the service's calendar, so a
letter answered after the Nauryz holidays is in time, and a late or missing answer is a miss."""

import datetime as dt

import pytest
from django.utils import timezone

from opora.journals import dashboards as d
from opora.mail.models import InboundMessage, OutgoingLetter
from opora.mail.services import answer_due_on
from opora.mail.tests.factories import make_mailbox
from opora.scheduling.tests.factories import make_request

pytestmark = pytest.mark.django_db

RECEIVED = dt.date(2026, 3, 19)  # a Thursday; 21–25 March are the Nauryz holidays in Kazakhstan


def _letter(service, mailbox, n: int, *, answered: dt.date | None):
    request = make_request(service, channel="email", public_code=f"WR{n}")
    received = dt.datetime.combine(RECEIVED, dt.time(10), tzinfo=service.tz)
    message = InboundMessage.objects.create(
        mailbox=mailbox,
        message_id=f"<{n}@example.org>",
        received_at=received,
        status=InboundMessage.Status.REGISTERED,
        request=request,
        due_on=answer_due_on(service, received),
    )
    if answered is not None:
        at = dt.datetime.combine(answered, dt.time(12), tzinfo=service.tz)
        letter = OutgoingLetter.objects.create(
            request=request,
            mailbox=mailbox,
            message_id=f"<answer-{n}@opora.test>",
            to_address="parent@example.org",
            subject="Ответ",
            body="Ответ",
            status="sent",
            sent_at=at,
        )
        message.answered_by = letter
        message.save(update_fields=["answered_by"])
    return message


def test_three_working_days_skip_the_holidays(service):
    mailbox = make_mailbox(service)
    in_time = _letter(service, mailbox, 1, answered=dt.date(2026, 3, 26))  # after the holidays
    _letter(service, mailbox, 2, answered=dt.date(2026, 3, 30))  # past the due day
    _letter(service, mailbox, 3, answered=None)  # never answered
    # Friday the 20th, then Thursday 26th and Friday 27th: the holidays do not count.
    assert in_time.due_on == dt.date(2026, 3, 27)
    f = d.DashboardFilter(
        date_from=dt.date(2026, 3, 1),
        date_to=dt.date(2026, 3, 31),
        service_ids=(service.pk,),
        persons=True,
    )
    with timezone.override(service.tz):
        sla = next(s for s in d.registered_slas(f) if s.key == "written")
    assert (sla.due, sla.met, sla.missed) == (3, 1, 2)
    assert sorted(m["request__public_code"] for m in sla.misses) == ["WR2", "WR3"]
    with timezone.override(service.tz):
        counted = next(
            s
            for s in d.registered_slas(d.DashboardFilter(**{**f.__dict__, "persons": False}))
            if s.key == "written"
        )
    assert counted.missed == 2 and counted.misses == []
