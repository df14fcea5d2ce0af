"""`save_together`: rows that belong together, one statement on PostgreSQL, all or nothing."""

import datetime as dt

import pytest
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext

from opora.core.models import Organisation, Service
from opora.core.writes import NEW_PK, save_together
from opora.demo.factories import make_service_1411

pytestmark = pytest.mark.django_db

DAY = dt.date(2026, 12, 19)


@pytest.fixture
def service():
    return make_service_1411(code="writes-test", name="Before")


def _write(service, date):
    # The first row is a new organisation; the service is updated to point at it and a new
    # service that follows names it too (audit events are chained, never written this way).
    organisation = Organisation(name=f"Writes {date}", country="KZ")
    service.name = "After"
    service.provider_organisation_id = NEW_PK
    follower = Service(
        code=f"writes-{date:%Y%m%d}",
        name="Follower",
        country="KZ",
        holiday_calendar="KZ",
        intake_organisation_id=NEW_PK,
        provider_organisation_id=NEW_PK,
    )
    save_together(
        organisation, updates=[(service, ["name", "provider_organisation"])], then=[follower]
    )
    return organisation, follower


def test_every_row_is_written_and_the_new_id_reaches_the_rows_that_follow(service):
    organisation, follower = _write(service, DAY)

    assert organisation.pk is not None and not organisation._state.adding
    stored = Service.objects.get(pk=service.pk)
    assert stored.name == "After" and stored.provider_organisation_id == organisation.pk
    assert follower.pk is not None and not follower._state.adding
    assert Service.objects.get(pk=follower.pk).intake_organisation_id == organisation.pk


@pytest.mark.skipif(connection.vendor != "postgresql", reason="one statement on PostgreSQL")
def test_on_postgresql_it_is_one_statement(service):
    with CaptureQueriesContext(connection) as queries:
        _write(service, DAY)
    assert len(queries) == 1
    assert queries[0]["sql"].startswith('WITH "w_new" AS (INSERT INTO "core_organisation"')


def test_a_violation_writes_nothing(service):
    _write(service, DAY)
    service.refresh_from_db()
    service.name = "Before again"
    service.save(update_fields=["name"])
    services = Service.objects.count()

    with pytest.raises(IntegrityError), transaction.atomic():
        _write(service, DAY)  # the same organisation name twice: unique

    assert Service.objects.get(pk=service.pk).name == "Before again"
    assert Service.objects.count() == services
    assert Organisation.objects.filter(name=f"Writes {DAY}").count() == 1
