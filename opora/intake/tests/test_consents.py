"""Consents as records: given with the request (processing, the separate health-data consent),
in the room (recording); withdrawal by staff or the client stops what each covers. PostgreSQL:
the partial unique index and the check constraint are the database's."""

import datetime as dt

import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone, translation

from opora.core.errors import DomainError
from opora.core.models import AuditEvent
from opora.demo.factories import make_registry_record
from opora.intake import consents
from opora.intake.models import Child, ConsentRecord, ConsentText, ServiceRequest
from opora.intake.services import request_check_eligibility, request_create
from opora.registry.iin import make_iin

pytestmark = pytest.mark.django_db


def iin(birth: dt.date, sex: str = "F") -> str:
    return next(v for s in range(100) if (v := make_iin(birth, sex, s)) is not None)


MOTHER = iin(dt.date(1986, 3, 4))
CHILD = iin(dt.date(2016, 5, 20), "M")
NAME = "Тестова Айгерім Маратқызы"


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


@pytest.fixture
def registry(db):
    return make_registry_record(
        source="cbd",
        iin=MOTHER,
        child_iin=CHILD,
        last_name="Тестова",
        first_name="Айгерім",
        patronymic="Маратқызы",
        relation="мать",
        status="active",
    )


@pytest.fixture
def text(db):
    return ConsentText.objects.create(version="t-1", text_ru="Согласие")


def _create(operator, service, **kw):
    return request_create(
        actor=operator, service=service, full_name=NAME, iin=MOTHER, phone="+77012345678", **kw
    )


def test_request_consents_become_records_with_version_time_and_channel(
    operator, service, registry, text
):
    req = _create(operator, service, consent=text, special_consent=True)
    records = {r.kind: r for r in consents.consent_records_for_request(request=req)}
    assert set(records) == {"processing", "special"}
    processing = records["processing"]
    assert processing.text == text and processing.text_version == "t-1"
    assert processing.channel == "phone" and processing.client == req.client
    assert processing.recorded_by == operator and processing.given_at is not None
    assert records["special"].text_version == consents.SPECIAL_CONSENT_VERSION
    assert req.child is not None and req.child.iin == CHILD
    events = AuditEvent.objects.filter(event_type="consent.given")
    assert events.count() == 2 and MOTHER not in str([e.extra for e in events])


def test_without_the_special_consent_no_child_record_is_kept(operator, service, registry):
    req = _create(operator, service)
    assert req.child is None and not Child.objects.filter(client=req.client).exists()
    with pytest.raises(DomainError) as exc:
        consents.child_upsert(client=req.client, iin=CHILD)
    assert exc.value.code == "special_consent_required"


def test_withdrawing_the_special_consent_deletes_the_child_record(operator, service, registry):
    req = _create(operator, service, special_consent=True)
    record = ConsentRecord.objects.get(request=req, kind="special")
    consents.consent_withdraw(actor=operator, record=record, channel="phone")
    req.refresh_from_db()
    assert req.child is None and not Child.objects.filter(client=req.client).exists()
    record.refresh_from_db()
    assert record.withdrawn_at and record.withdrawn_channel == "phone"
    assert record.withdrawn_by == operator
    event = AuditEvent.objects.get(event_type="consent.withdrawn")
    assert event.extra["children_deleted"] == 1
    # And no new child record until a new consent is given.
    with pytest.raises(DomainError):
        consents.child_upsert(client=req.client, iin=CHILD)
    with pytest.raises(DomainError) as twice:
        consents.consent_withdraw(actor=operator, record=record, channel="phone")
    assert twice.value.code == "consent_already_withdrawn"


def test_a_deferred_check_keeps_the_child_only_under_the_consent(operator, service, registry):
    req = request_create(
        actor=operator,
        service=service,
        full_name=NAME,
        email="p@example.org",
        channel="email",
        defer_eligibility=True,
        special_consent=True,
    )
    checked = request_check_eligibility(actor=operator, request=req, iin=MOTHER, full_name=NAME)
    checked.refresh_from_db()
    assert checked.child is not None
    assert ConsentRecord.objects.get(request=req, kind="special").client == checked.client


def test_one_active_consent_per_kind_and_a_complete_withdrawal(operator, service, text, registry):
    req = _create(operator, service, consent=text)
    again = consents.consent_give(
        actor=operator, request=req, kind="processing", channel="phone", text=text
    )
    assert ConsentRecord.objects.filter(request=req).count() == 1 and again.kind == "processing"
    now = timezone.now()
    with pytest.raises(IntegrityError), transaction.atomic():
        ConsentRecord.objects.create(
            kind="processing", request=req, text_version="x", given_at=now, channel="phone"
        )
    with pytest.raises(IntegrityError), transaction.atomic():
        ConsentRecord.objects.filter(request=req).update(withdrawn_at=now)  # no channel


def test_bad_channel_is_a_clear_error(operator, service, text, registry):
    req = _create(operator, service, consent=text)
    record = ConsentRecord.objects.get(request=req)
    with pytest.raises(DomainError) as exc:
        consents.consent_withdraw(actor=operator, record=record, channel="pigeon")
    assert exc.value.code == "consent_channel_invalid"


def test_staff_withdraw_on_the_request_page(client, operator, service, text, registry):
    req = _create(operator, service, consent=text)
    record = ConsentRecord.objects.get(request=req)
    client.force_login(operator)
    page = client.get(reverse("operator_request", args=[req.pk]))
    assert f'id="consent-withdraw-{record.pk}"' in page.content.decode()
    url = reverse("operator_consent_withdraw", args=[req.pk, record.pk])
    response = client.post(url, {"channel": "phone"})
    assert response.status_code in (302, 303)
    record.refresh_from_db()
    assert record.withdrawn_channel == "phone" and record.withdrawn_by == operator


def test_client_withdraws_on_the_private_page(client, operator, service, text, registry):
    req = _create(operator, service, consent=text)
    record = ConsentRecord.objects.get(request=req)
    token = ServiceRequest.objects.get(pk=req.pk).public_token
    page = client.get(reverse("portal:follow", args=[token]))
    assert f'id="consent-withdraw-{record.pk}"' in page.content.decode()
    response = client.post(reverse("portal:consent_withdraw", args=[token, record.pk]))
    assert response.status_code in (302, 303)
    record.refresh_from_db()
    assert record.withdrawn_channel == "portal" and record.withdrawn_by is None
    # Another request's token cannot reach this consent.
    other = _create(operator, service, consent=text)
    other_token = ServiceRequest.objects.get(pk=other.pk).public_token
    response = client.post(reverse("portal:consent_withdraw", args=[other_token, record.pk]))
    assert response.status_code == 404
