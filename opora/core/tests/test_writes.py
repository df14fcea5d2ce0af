"""`save_together`: rows that belong together, one statement on PostgreSQL, all or nothing."""

import datetime as dt

import pytest
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext

from opora.core.audit import AuditEventType, audit_event
from opora.core.models import AuditEvent, CalendarOverride, Service
from opora.core.writes import NEW_PK, save_together
from opora.demo.factories import make_service_1411

pytestmark = pytest.mark.django_db

DAY = dt.date(2026, 12, 19)


@pytest.fixture
def service():
    return make_service_1411(code="writes-test", name="Before")


def _write(service, date):
    override = CalendarOverride(service=service, date=date, is_working_day=True)
    service.name = "After"
    event = audit_event(
        actor=None, event_type=AuditEventType.ADMIN_CREATED, subject=override, extra={"n": 1}
    )
    save_together(override, updates=[(service, ["name"])], then=[event])
    return override, event


def test_every_row_is_written_and_the_new_id_reaches_the_rows_that_follow(service):
    override, event = _write(service, DAY)

    assert override.pk is not None and not override._state.adding
    assert CalendarOverride.objects.get(pk=override.pk).is_working_day is True
    assert Service.objects.get(pk=service.pk).name == "After"
    stored = AuditEvent.objects.get(pk=event.pk)
    assert stored.subject_type == "core.calendaroverride"
    assert stored.subject_id == str(override.pk) == event.subject_id
    assert stored.extra == {"n": 1} and stored.created_at is not None


@pytest.mark.skipif(connection.vendor != "postgresql", reason="one statement on PostgreSQL")
def test_on_postgresql_it_is_one_statement(service):
    with CaptureQueriesContext(connection) as queries:
        _write(service, DAY)
    assert len(queries) == 1
    assert queries[0]["sql"].startswith('WITH "w_new" AS (INSERT INTO "core_calendaroverride"')


def test_a_violation_writes_nothing(service):
    _write(service, DAY)
    service.refresh_from_db()
    service.name = "Before again"
    service.save(update_fields=["name"])
    events = AuditEvent.objects.count()

    with pytest.raises(IntegrityError), transaction.atomic():
        _write(service, DAY)  # the same day twice: calendar_override_unique_day

    assert Service.objects.get(pk=service.pk).name == "Before again"
    assert AuditEvent.objects.count() == events
    assert CalendarOverride.objects.filter(service=service).count() == 1


def test_an_event_about_a_saved_subject_names_it():
    service = make_service_1411(code="writes-saved")
    event = audit_event(actor=None, event_type=AuditEventType.ADMIN_CHANGED, subject=service)
    assert event.subject_id == str(service.pk)
    unsaved = audit_event(
        actor=None, event_type=AuditEventType.ADMIN_CHANGED, subject=CalendarOverride()
    )
    assert unsaved.subject_id is NEW_PK
