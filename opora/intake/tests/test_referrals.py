"""The referral directory and dispatcher consulting (regulation 000 §10, regulation 004)."""

from typing import Any

import pytest
from django.db import transaction

from opora.accounts.models import Role
from opora.core.errors import DomainError, PermissionDenied
from opora.core.models import AuditEvent, Region
from opora.demo.factories import make_user
from opora.intake.models import Referral, ServiceKind, ServiceRequest
from opora.intake.selectors import referral_search
from opora.intake.services import (
    referral_create,
    referral_send,
    referral_update,
    request_create,
    request_redirect,
)
from opora.notifications.models import Notification

pytestmark = pytest.mark.django_db


@pytest.fixture
def open_service(service):
    service.eligibility_rule = "none"
    service.allows_anonymous = True
    service.save()
    return service


@pytest.fixture
def almaty():
    return Region.objects.filter(country="KZ").order_by("pk").first()


@pytest.fixture
def entry(head, almaty):
    return referral_create(
        actor=head,
        name="Центр ранней помощи (синтетический)",
        helps_with="Ранняя помощь детям с аутизмом, логопед, ЛФК",
        country="kz",
        region=almaty,
        phone="+7 727 000 00 00",
        email="help@example.org",
        hours="Пн–Пт 9–18",
    )


def _request(service, actor, **kw):
    defaults: dict[str, Any] = {
        "full_name": "Сидорова Анна",
        "phone": "+7 701 000 00 01",
        "channel": "phone",
    }
    defaults.update(kw)
    return request_create(actor=actor, service=service, **defaults)


def test_only_the_head_or_admin_edits_the_directory(operator, consultant, head, entry):
    assert entry.country == "KZ"  # normalised
    for actor in (operator, consultant):
        with pytest.raises(PermissionDenied):
            referral_create(actor=actor, name="X", helps_with="Y")
        with pytest.raises(PermissionDenied):
            referral_update(actor=actor, referral=entry, is_active=False)
    updated = referral_update(actor=head, referral=entry, hours="Пн–Сб 9–18")
    assert updated.hours == "Пн–Сб 9–18"
    events = AuditEvent.objects.filter(subject_type="intake.referral", subject_id=str(entry.pk))
    assert {e.event_type for e in events} == {"intake.referral_created", "intake.referral_updated"}
    with pytest.raises(DomainError):
        referral_create(actor=head, name="", helps_with="")  # full_clean: required fields


def test_search_by_topic_words_case_and_yo_insensitive_and_region(operator, head, almaty, entry):
    other_region = Region.objects.filter(country="KZ").exclude(pk=almaty.pk).first()
    nationwide = referral_create(
        actor=head, name="Горячая линия по пособиям", helps_with="Пособия, льготы", country="KZ"
    )
    elsewhere = referral_create(
        actor=head,
        name="Реабилитационный центр",
        helps_with="Аутизм: занятия с дефектологом",
        country="KZ",
        region=other_region,
    )
    referral_create(
        actor=head, name="Российский центр", helps_with="Аутизм, ранняя помощь", country="RU"
    )
    found = referral_search(actor=operator, query="АУТИЗМ", country="KZ")
    assert {r.pk for r in found} == {entry.pk, elsewhere.pk}
    found = referral_search(actor=operator, query="аутизм", country="KZ", region=almaty)
    assert [r.pk for r in found] == [entry.pk]
    found = referral_search(actor=operator, query="пособия", country="KZ", region=almaty)
    assert [r.pk for r in found] == [nationwide.pk]  # country-wide entries everywhere
    assert referral_search(actor=operator, query="ранняя логопед", country="KZ") == [entry]
    referral_update(actor=head, referral=entry, is_active=False)
    assert entry not in referral_search(actor=operator, query="логопед", country="KZ")
    authority = make_user(Role.AUTHORITY)
    with pytest.raises(PermissionDenied):
        referral_search(actor=authority, query="аутизм")


def test_referral_send_records_a_dispatcher_service_and_tells_the_client_by_sms(
    operator, open_service, entry, django_capture_on_commit_callbacks
):
    request = _request(open_service, operator)
    with django_capture_on_commit_callbacks(execute=False):
        done = referral_send(actor=operator, request=request, referral=entry)
    stored = ServiceRequest.objects.get(pk=request.pk)
    assert stored.status == ServiceRequest.Status.REDIRECTED
    assert stored.kind == ServiceKind.DISPATCHER
    assert stored.referral_id == entry.pk
    assert entry.name in stored.referral_text and entry.phone in stored.referral_text
    assert done.notified
    sms = Notification.objects.get(kind="request_referral")
    assert sms.channel == "sms" and sms.recipient == request.phone
    assert entry.phone in sms.body and request.public_code in sms.body
    event = AuditEvent.objects.get(event_type="intake.request_referred")
    assert event.extra == {"referral": entry.pk, "via": "channel", "notified": "sms"}
    assert "Сидорова" not in str(event.extra)


def test_an_email_request_is_answered_by_email(operator, open_service, entry):
    request = _request(
        open_service, operator, channel="email", email="parent@example.org", phone=""
    )
    referral_send(actor=operator, request=request, referral=entry)
    note = Notification.objects.get(kind="request_referral")
    assert (note.channel, note.recipient) == ("email", "parent@example.org")
    assert note.subject


def test_no_address_or_told_on_the_phone_sends_nothing_but_records(operator, open_service, entry):
    anonymous = _request(open_service, operator, full_name="", phone="", is_anonymous=True)
    done = referral_send(actor=operator, request=anonymous, referral=entry)
    assert not done.notified and done.status == ServiceRequest.Status.REDIRECTED
    told = _request(open_service, operator)
    done = referral_send(actor=operator, request=told, referral=entry, via="none")
    assert not done.notified
    assert not Notification.objects.filter(kind="request_referral").exists()


def test_only_a_new_request_is_referred_and_only_to_an_active_entry(
    operator, head, open_service, entry
):
    request = _request(open_service, operator)
    referral_send(actor=operator, request=request, referral=entry)
    with pytest.raises(DomainError) as err:
        referral_send(actor=operator, request=request, referral=entry)
    assert err.value.code == "invalid_status"
    fresh = _request(open_service, operator)
    referral_update(actor=head, referral=entry, is_active=False)
    with pytest.raises(DomainError) as err:
        referral_send(actor=operator, request=fresh, referral=entry)
    assert err.value.code == "referral_inactive"
    assert ServiceRequest.objects.get(pk=fresh.pk).status == ServiceRequest.Status.NEW


def test_staff_of_another_service_cannot_refer(open_service, entry):
    request = _request(open_service, make_user(Role.OPERATOR, service=open_service))
    outsider = make_user(Role.OPERATOR)
    with pytest.raises(PermissionDenied):
        referral_send(actor=outsider, request=request, referral=entry)


def test_an_unknown_way_to_tell_is_refused_before_anything_is_written(
    operator, open_service, entry
):
    request = _request(open_service, operator)
    with pytest.raises(DomainError), transaction.atomic():
        referral_send(actor=operator, request=request, referral=entry, via="teleport")
    assert ServiceRequest.objects.get(pk=request.pk).status == ServiceRequest.Status.NEW


def test_the_free_text_redirect_still_works_and_counts_as_dispatcher(operator, open_service):
    request = _request(open_service, operator)
    done = request_redirect(
        actor=operator, request=request, referral_text="Управление образования, тел. 000"
    )
    assert done.status == ServiceRequest.Status.REDIRECTED
    assert done.kind == ServiceKind.DISPATCHER and done.referral is None
    assert Referral.objects.count() == 0


def test_demo_referrals_are_idempotent_and_searchable(operator):
    from opora.demo.referrals import demo_referrals

    first = demo_referrals()
    again = demo_referrals()
    assert [e.pk for e in first] == [e.pk for e in again]
    assert {e.country for e in first} == {"KZ", "RU"}
    found = referral_search(actor=operator, query="инвалидность", country="RU")
    assert found and all(e.country == "RU" for e in found)
