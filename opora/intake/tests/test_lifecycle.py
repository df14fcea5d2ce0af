"""A new request for the client of a finished one: what is copied, what is not, who may."""

import datetime as dt

import pytest

from opora.accounts.models import Role
from opora.core.errors import DomainError, PermissionDenied
from opora.core.models import AuditEvent, Region
from opora.demo.factories import make_district_service, make_registry_record, make_user
from opora.intake.models import ServiceRequest, TypicalQuestion
from opora.intake.services import request_create, request_create_from
from opora.registry.iin import make_iin
from opora.registry.models import EligibilityCheck

pytestmark = pytest.mark.django_db


def _iin(birth: dt.date, sex: str = "F") -> str:
    return next(v for s in range(100) if (v := make_iin(birth, sex, s)) is not None)


MOTHER = _iin(dt.date(1986, 4, 5))
CHILD = _iin(dt.date(2016, 6, 21), "M")
NAME = "Тестова Айгүл Серікқызы"


@pytest.fixture
def registry(db):
    return make_registry_record(
        source="cbd",
        iin=MOTHER,
        child_iin=CHILD,
        last_name="Тестова",
        first_name="Айгүл",
        patronymic="Серікқызы",
        relation="мать",
        status="active",
    )


@pytest.fixture
def finished(service, operator, registry):
    region = Region.objects.first()
    req = request_create(
        actor=operator,
        service=service,
        full_name=NAME,
        iin=MOTHER,
        phone="+7 701 555 12 34",
        email="aigul@example.org",
        region=region,
        reason="Ребёнок не говорит",
        typical_question=TypicalQuestion.DEVELOPMENT,
        requester_kind="parent",
        child_age=8,
    )
    ServiceRequest.objects.filter(pk=req.pk).update(
        status=ServiceRequest.Status.CANCELLED, counted_with=None
    )
    req.refresh_from_db()
    return req


def test_copies_the_client_and_contacts_not_the_status_or_topic(finished, operator):
    again = request_create_from(actor=operator, source=finished)
    assert again.pk != finished.pk and again.status == ServiceRequest.Status.NEW
    copied = ("client_id", "full_name", "iin", "phone", "email", "region_id", "requester_kind")
    assert [getattr(again, f) for f in copied] == [getattr(finished, f) for f in copied]
    assert again.client_id is not None
    # The new request is a new question: no reason, no typical question, its own code and link.
    assert (again.reason, again.typical_question) == ("", "")
    assert again.public_token != finished.public_token
    assert again.public_code != finished.public_code
    # The old one is left as it was.
    finished.refresh_from_db()
    assert finished.status == ServiceRequest.Status.CANCELLED
    assert AuditEvent.objects.filter(
        event_type="intake.request_created_from", extra__source=finished.pk
    ).exists()


def test_the_registry_check_of_the_last_hour_is_reused(finished, operator):
    checks = EligibilityCheck.objects.count()
    again = request_create_from(actor=operator, source=finished)
    assert EligibilityCheck.objects.count() == checks
    assert again.eligibility_check_id == finished.eligibility_check_id


def test_an_ineligible_client_is_refused_with_the_script(finished, operator, registry):
    EligibilityCheck.objects.update(created_at=finished.created_at - dt.timedelta(hours=2))
    registry.status = "inactive"
    registry.save()
    with pytest.raises(DomainError) as err:
        request_create_from(actor=operator, source=finished)
    assert err.value.code == "ineligible"
    assert ServiceRequest.objects.count() == 1


@pytest.mark.parametrize("status", ["new", "booked", "refused"])
def test_only_from_a_finished_request(finished, operator, status):
    ServiceRequest.objects.filter(pk=finished.pk).update(
        status=status, refusal_ground="not_registered" if status == "refused" else ""
    )
    finished.refresh_from_db()
    with pytest.raises(DomainError) as err:
        request_create_from(actor=operator, source=finished)
    assert err.value.code == "invalid_status"


def test_staff_of_another_service_may_not(finished):
    other = make_district_service()
    stranger = make_user(Role.OPERATOR, service=other)
    with pytest.raises(PermissionDenied):
        request_create_from(actor=stranger, source=finished)
