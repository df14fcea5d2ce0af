"""A written request to a service that checks eligibility (1411) is registered on the day it
arrives and checked by the operator later; it cannot be booked before the check."""

import datetime as dt

import pytest

from opora.core.errors import DomainError
from opora.intake.models import ServiceRequest
from opora.intake.services import request_check_eligibility, request_create
from opora.intake.tests.test_services import MOTHER, NAME, STRANGER, registry  # noqa: F401
from opora.registry.models import EligibilityCheck
from opora.scheduling import services as scheduling
from opora.scheduling.tests.factories import future_working_day, make_slot

pytestmark = pytest.mark.django_db


def letter(operator, service) -> ServiceRequest:
    return request_create(
        actor=None,
        service=service,
        full_name="parent@example.org",
        email="parent@example.org",
        channel="email",
        defer_eligibility=True,
    )


def test_registered_without_a_check_and_not_bookable(operator, service, consultant):
    request = letter(operator, service)
    assert request.status == ServiceRequest.Status.NEW and request.eligibility_check is None
    assert not EligibilityCheck.objects.exists()
    slot = make_slot(service, consultant, future_working_day(service), dt.time(15))
    with pytest.raises(DomainError) as err:
        scheduling.booking_create(actor=operator, request=request, slot=slot)
    assert err.value.code == "eligibility_unchecked"


def test_operator_checks_then_books(operator, service, consultant, registry):  # noqa: F811
    request = letter(operator, service)
    checked = request_check_eligibility(actor=operator, request=request, iin=MOTHER, full_name=NAME)
    assert checked.eligibility_check.eligible and checked.client.iin == MOTHER
    slot = make_slot(service, consultant, future_working_day(service), dt.time(15))
    booking = scheduling.booking_create(actor=operator, request=checked, slot=slot)
    assert booking.request_id == request.pk


def test_ineligible_check_is_stored_and_request_stays_unchecked(operator, service, registry):  # noqa: F811
    request = letter(operator, service)
    with pytest.raises(DomainError) as err:
        request_check_eligibility(actor=operator, request=request, iin=STRANGER, full_name=NAME)
    assert err.value.code == "ineligible"
    assert EligibilityCheck.objects.filter(eligible=False).count() == 1
    request.refresh_from_db()
    assert request.eligibility_check is None and request.iin == ""
