"""Immediate help and a written consultation taken up follow the registry rule of booking
(issue 12): a request registered from a letter before the registry check gets no consultant
until the operator has checked the IIN and full name."""

import pytest
from django.utils import translation

from opora.consultations import services
from opora.core.errors import DomainError
from opora.intake.models import ServiceRequest
from opora.intake.services import request_check_eligibility, request_create
from opora.intake.tests.test_services import MOTHER, NAME, registry  # noqa: F401

pytestmark = pytest.mark.django_db


def _letter(service) -> ServiceRequest:
    return request_create(
        actor=None,
        service=service,
        full_name="parent@example.org",
        email="parent@example.org",
        channel="email",
        defer_eligibility=True,
    )


def test_help_now_waits_for_the_registry_check(operator, service, consultant, registry):  # noqa: F811
    request = _letter(service)
    with translation.override("ru"), pytest.raises(DomainError) as err:
        services.consultation_start_now(
            actor=operator, request=request, consultant=consultant, form="phone"
        )
    assert err.value.code == "eligibility_unchecked"
    assert "ИИН" in str(err.value.message)
    request.refresh_from_db()
    assert request.status == ServiceRequest.Status.NEW and not request.bookings.exists()
    checked = request_check_eligibility(actor=operator, request=request, iin=MOTHER, full_name=NAME)
    started = services.consultation_start_now(
        actor=operator, request=checked, consultant=consultant, form="phone"
    )
    assert started.booking.request_id == request.pk


def test_written_take_up_waits_for_the_registry_check(operator, service, consultant, registry):  # noqa: F811
    request = _letter(service)
    with pytest.raises(DomainError) as err:
        services.consultation_take_written(actor=consultant, request=request, form="email")
    assert err.value.code == "eligibility_unchecked"
    assert not request.bookings.exists()
    checked = request_check_eligibility(actor=operator, request=request, iin=MOTHER, full_name=NAME)
    taken = services.consultation_take_written(actor=consultant, request=checked, form="email")
    assert taken.booking.request_id == request.pk
