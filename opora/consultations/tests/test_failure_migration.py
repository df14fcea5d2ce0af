"""The data step of migration 0005: failures the system moved before the head decided are taken
as accepted with their new time (their new consultation a re-provision); one without a new
booking still waits for the head's decision."""

import datetime as dt

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from opora.consultations.tests.factories import make_live_consultation
from opora.scheduling.models import Booking
from opora.scheduling.tests.factories import future_working_day, make_slot

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("consultations", "0004_close_requests_held_before_the_lifecycle")]
AFTER = [("consultations", "0005_failure_decided_by_head_and_preparation")]


def test_system_moves_become_rebooked_and_the_rest_waits(service, consultant):
    moved = make_live_consultation(service, consultant)
    waiting = make_live_consultation(service, consultant, starts_in=dt.timedelta(hours=2))
    later = make_slot(service, consultant, future_working_day(service), dt.time(16))
    Booking.objects.filter(pk=moved.booking_id).update(status="rescheduled")
    new_booking = Booking.objects.create(slot=later, request=moved.booking.request)
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    try:
        old = executor.loader.project_state(BEFORE).apps
        Failure = old.get_model("consultations", "TechnicalFailure")
        Failure.objects.create(
            consultation_id=moved.pk,
            cause="platform",
            reported_by_id=consultant.pk,
            reported_at=timezone.now(),
            rebooked_id=new_booking.pk,
        )
        Failure.objects.create(
            consultation_id=waiting.pk,
            cause="equipment",
            reported_by_id=consultant.pk,
            reported_at=timezone.now(),
        )
        again = old.get_model("consultations", "Consultation").objects.create(
            booking_id=new_booking.pk, client_token="migration-test-token"
        )
    finally:
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate(AFTER)
    try:
        # The models as of 0005 (later migrations add columns the current models read).
        new = executor.loader.project_state(AFTER).apps
        Consultation = new.get_model("consultations", "Consultation")
        TechnicalFailure = new.get_model("consultations", "TechnicalFailure")
        done = TechnicalFailure.objects.get(consultation_id=moved.pk)
        assert done.state == "rebooked" and done.decided_at is not None
        assert Consultation.objects.get(pk=again.pk).reprovision_of_id == done.pk
        assert TechnicalFailure.objects.get(consultation_id=waiting.pk).state == "reported"
    finally:
        # Back to the latest schema for the tests that follow.
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate(executor.loader.graph.leaf_nodes())
