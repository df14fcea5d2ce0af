"""request_create for every channel: anonymity where the service allows it (regulation 004),
never where eligibility is checked; every request gets a short code and a private token."""

import re

import pytest

from opora.core.errors import DomainError
from opora.core.models import Region
from opora.intake.models import Channel, ConsentText, ServiceRequest
from opora.intake.services import request_create

pytestmark = pytest.mark.django_db

CODE = re.compile(r"^[2-9A-HJKMNP-Z]{4}-[2-9A-HJKMNP-Z]{4}$")


@pytest.fixture
def open_service(service):
    """The 1411 profile turned into a service without eligibility that allows anonymity."""
    service.eligibility_rule = service.Eligibility.NONE
    service.allows_anonymous = True
    service.save()
    return service


def test_anonymous_request_is_refused_where_the_service_does_not_allow_it(service):
    service.eligibility_rule = service.Eligibility.NONE
    service.allows_anonymous = False
    service.save()
    with pytest.raises(DomainError) as err:
        request_create(
            actor=None, service=service, full_name="", is_anonymous=True, channel=Channel.PORTAL
        )
    assert err.value.code == "anonymous_not_allowed"
    assert not ServiceRequest.objects.exists()


def test_anonymous_request_is_refused_where_eligibility_is_required(service):
    service.allows_anonymous = True  # even so: 1411 must check the IIN and the name
    service.save()
    with pytest.raises(DomainError) as err:
        request_create(actor=None, service=service, full_name="", is_anonymous=True)
    assert err.value.code == "anonymous_not_allowed"
    assert not ServiceRequest.objects.exists()


def test_anonymous_request_drops_name_iin_and_region(open_service):
    request = request_create(
        actor=None,
        service=open_service,
        full_name="Тестова Анна",
        iin="900101300123",
        region=Region.objects.first(),
        is_anonymous=True,
        reason="Вопрос о школе",
        channel=Channel.PORTAL,
    )
    assert request.is_anonymous
    assert (request.full_name, request.iin, request.region, request.client) == ("", "", None, None)
    assert request.reason == "Вопрос о школе"


def test_named_request_still_needs_a_name(open_service):
    with pytest.raises(DomainError) as err:
        request_create(actor=None, service=open_service, full_name="  ")
    assert err.value.code == "full_name_required"


def test_every_request_gets_a_unique_code_and_token(open_service):
    requests = [
        request_create(
            actor=None,
            service=open_service,
            full_name="" if i % 2 else f"Тестова Анна {i}",
            is_anonymous=bool(i % 2),
            channel=Channel.PORTAL,
        )
        for i in range(40)
    ]
    codes = {r.public_code for r in requests}
    tokens = {r.public_token for r in requests}
    assert len(codes) == len(tokens) == 40
    assert all(code and CODE.match(code) for code in codes)
    assert all(token and len(token) >= 40 for token in tokens)
    # Stored, not only set on the instances.
    assert (
        ServiceRequest.objects.filter(public_code__in=codes, public_token__in=tokens).count() == 40
    )


def test_consent_is_stored_with_its_version_and_time(open_service):
    consent = ConsentText.objects.create(service=open_service, version="v-test", text_ru="Текст")
    request = request_create(
        actor=None, service=open_service, full_name="Тестова Анна", consent=consent
    )
    request.refresh_from_db()
    assert request.consent.version == "v-test" and request.consented_at is not None
