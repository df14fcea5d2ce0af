"""Intake writes: registering a request after the registry check, refusals and referrals."""

import datetime as dt
from typing import Any

import pytest
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone, translation

from opora.core.errors import DomainError, PermissionDenied
from opora.core.models import AuditEvent, Region, Service
from opora.demo.factories import make_registry_record
from opora.intake.models import Child, Client, RefusalGround, ServiceRequest
from opora.intake.services import (
    client_upsert_from_request,
    normalise_phone,
    request_create,
    request_redirect,
    request_refuse,
    request_refuse_check,
)
from opora.registry.iin import make_iin
from opora.registry.models import EligibilityCheck
from opora.registry.scripts import eligibility_script
from opora.registry.services import eligibility_check

pytestmark = pytest.mark.django_db


def iin(birth: dt.date, sex: str = "F") -> str:
    return next(v for s in range(100) if (v := make_iin(birth, sex, s)) is not None)


MOTHER = iin(dt.date(1985, 3, 4))
CHILD = iin(dt.date(2015, 5, 20), "M")
STRANGER = iin(dt.date(1990, 10, 10), "M")
NAME = "Әбдірахманова Айгүл Серікқызы"


@pytest.fixture
def registry(db):
    return make_registry_record(
        source="cbd",
        iin=MOTHER,
        child_iin=CHILD,
        last_name="Әбдірахманова",
        first_name="Айгүл",
        patronymic="Серікқызы",
        relation="мать",
        status="active",
    )


@pytest.fixture
def open_service(service):
    """A service without the registry check (e.g. a Russian district office)."""
    service.eligibility_rule = Service.Eligibility.NONE
    service.save()
    return service


def create(operator, service, **kw):
    defaults: dict[str, Any] = {"full_name": NAME, "iin": MOTHER, "phone": "+7 701 234 56 78"}
    defaults.update(kw)
    return request_create(actor=operator, service=service, **defaults)


def test_eligible_caller_gets_a_new_request_with_client(operator, service, registry):
    region = Region.objects.filter(country="KZ").first()
    desired = dt.datetime(2025, 6, 2, 15, 0)
    request = create(
        operator,
        service,
        phone="8 (701) 234-56-78",
        phone_extra="+7 727 000 11 22",
        email="parent@example.org",
        region=region,
        desired_at=desired,
        reason="Консультация психолога",
        special_consent=True,
    )
    assert request.pk and request.status == ServiceRequest.Status.NEW
    assert (request.full_name, request.iin, request.phone) == (NAME, MOTHER, "87012345678")
    assert request.phone_extra == "+77270001122" and request.region == region
    assert request.desired_at == timezone.make_aware(desired, service.tz)
    assert request.created_by == operator and request.channel == "phone"
    check = request.eligibility_check
    assert check.eligible and check.iin == MOTHER and check.matched_record == registry
    client = request.client
    assert (client.iin, client.last_name, client.first_name, client.patronymic) == (
        MOTHER,
        "Әбдірахманова",
        "Айгүл",
        "Серікқызы",
    )
    assert client.phone == "87012345678" and client.email == "parent@example.org"
    assert request.child.iin == CHILD and request.child.client == client
    assert request.child.birth_date == dt.date(2015, 5, 20)
    events = AuditEvent.objects.filter(
        subject_id=str(request.pk), event_type="intake.request_created"
    )
    assert events.count() == 1 and MOTHER not in str(events[0].extra)


def test_child_iin_links_the_parent_as_client(operator, service, registry):
    request = create(operator, service, iin=CHILD, special_consent=True)
    assert request.iin == CHILD
    assert request.client.iin == MOTHER and request.child.iin == CHILD


def test_ineligible_caller_is_refused_with_the_script_and_only_the_check_is_kept(
    operator, service, registry
):
    with translation.override("en"), pytest.raises(DomainError) as excinfo:
        create(operator, service, iin=STRANGER, full_name="Петров Пётр")
    assert excinfo.value.code == "ineligible"
    with translation.override("en"):
        assert str(excinfo.value.message) == eligibility_script("not_registered")
    assert not ServiceRequest.objects.exists() and not Client.objects.exists()
    stored = EligibilityCheck.objects.get()
    assert not stored.eligible and stored.reason == "not_registered"


def test_name_mismatch_is_refused(operator, service, registry):
    with pytest.raises(DomainError) as excinfo:
        create(operator, service, full_name="Иванова Мария")
    assert excinfo.value.code == "ineligible"
    assert EligibilityCheck.objects.get().reason == "name_mismatch"


def test_fresh_positive_check_is_reused(operator, service, registry):
    result = eligibility_check(actor=operator, service=service, iin=MOTHER, full_name=NAME)
    request = create(
        operator, service, full_name="Абдирахманова Айгул Серикқызы", eligibility_check=result.check
    )
    assert request.eligibility_check == result.check
    assert EligibilityCheck.objects.count() == 1


@pytest.mark.parametrize("problem", ["stale", "other_iin", "negative", "other_service"])
def test_unusable_check_is_run_again(operator, service, registry, problem):
    given = eligibility_check(actor=operator, service=service, iin=MOTHER, full_name=NAME).check
    if problem == "stale":
        EligibilityCheck.objects.filter(pk=given.pk).update(
            created_at=timezone.now() - dt.timedelta(hours=1, minutes=1)
        )
    elif problem == "other_iin":
        given = eligibility_check(actor=operator, service=service, iin=CHILD, full_name=NAME).check
    elif problem == "negative":
        given = eligibility_check(
            actor=operator, service=service, iin=MOTHER, full_name="Другая Фамилия"
        ).check
    else:
        given = eligibility_check(actor=operator, service=None, iin=MOTHER, full_name=NAME).check
    given.refresh_from_db()
    before = EligibilityCheck.objects.count()
    request = create(operator, service, eligibility_check=given)
    assert request.eligibility_check != given and request.eligibility_check.eligible
    assert EligibilityCheck.objects.count() == before + 1


def test_iin_is_required_and_validated_where_the_registry_is_checked(operator, service, registry):
    with pytest.raises(DomainError) as excinfo:
        create(operator, service, iin="")
    assert excinfo.value.code == "iin_required"
    with translation.override("en"), pytest.raises(DomainError) as excinfo:
        create(operator, service, iin=MOTHER[:11] + str((int(MOTHER[11]) + 1) % 10))
    assert excinfo.value.code == "invalid_iin" and "control digit" in str(excinfo.value.message)
    assert not EligibilityCheck.objects.exists()


def test_service_without_eligibility(operator, open_service):
    anonymous = create(operator, open_service, iin="", full_name="Анонимно", phone="")
    assert anonymous.client is None and anonymous.eligibility_check is None
    known = create(operator, open_service, iin=STRANGER, full_name="Петров Пётр")
    assert known.client.iin == STRANGER and known.child is None
    assert not EligibilityCheck.objects.exists()


def test_same_client_for_repeated_requests_and_the_card_keeps_its_contacts(
    operator, service, registry
):
    first = create(operator, service)
    # A portal (no actor) request about the same client with another phone: it stays on the
    # request, the card keeps what it had (issue 10 §9).
    second = request_create(
        actor=None,
        service=service,
        full_name=NAME,
        iin=CHILD,
        phone="+7 702 111 22 33",
        special_consent=True,
    )
    assert first.client == second.client and Client.objects.count() == 1
    assert Child.objects.count() == 1
    assert second.phone == "+77021112233"
    assert Client.objects.get().phone == "+77012345678"
    assert not AuditEvent.objects.filter(event_type="intake.client_updated").exists()
    assert ServiceRequest.objects.count() == 2  # each new request is a new service


def test_operator_on_the_phone_may_update_the_card(operator, service, registry):
    create(operator, service)
    create(operator, service, phone="+7 702 111 22 33", update_client_contacts=True)
    assert Client.objects.get().phone == "+77021112233"
    event = AuditEvent.objects.get(event_type="intake.client_updated")
    assert event.actor == operator and event.extra == {"fields": ["phone"], "via": "phone"}


def test_only_staff_may_update_the_card(service, registry):
    with pytest.raises(PermissionDenied):
        request_create(
            actor=None,
            service=service,
            full_name=NAME,
            iin=MOTHER,
            phone="+7 702 111 22 33",
            update_client_contacts=True,
        )
    assert not Client.objects.exists() and not ServiceRequest.objects.exists()


def test_concurrent_client_creation_settles_on_one_row(operator, open_service, monkeypatch):
    # Another operator's transaction inserts the client between our lookup and our insert.
    existing = Client.objects.create(iin=STRANGER, last_name="Петров", first_name="Пётр")
    real_first = QuerySet.first
    calls = {"n": 0}

    def first_misses_once(self):
        if self.model is Client and calls["n"] == 0:
            calls["n"] += 1
            return None
        return real_first(self)

    monkeypatch.setattr(QuerySet, "first", first_misses_once)
    client = client_upsert_from_request(
        actor=operator, iin=STRANGER, full_name="Петров Пётр", phone="+77010000000"
    )
    assert calls["n"] == 1
    assert client.pk == existing.pk and Client.objects.count() == 1
    assert client.phone == ""  # the winner's row as it is: the loser's phone stays on its request


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("+7 (701) 234-56-78", "+77012345678"),
        ("8 701 234 56 78", "87012345678"),
        ("7012345678", "7012345678"),
        ("+998 90 123 45 67", "+998901234567"),
        ("", ""),
    ],
)
def test_phone_normalisation(given, stored):
    assert normalise_phone(given) == stored


@pytest.mark.parametrize("bad", ["12345", "+7 701 ABC 56 78", "1234567890123456", "++77012345678"])
def test_bad_phone_is_a_clear_error(bad, operator, service, registry):
    with translation.override("en"), pytest.raises(DomainError) as excinfo:
        create(operator, service, phone=bad)
    assert excinfo.value.code == "invalid_phone"
    assert "10 to 15 digits" in str(excinfo.value.message)
    assert not ServiceRequest.objects.exists()


def test_full_name_needs_last_and_first_name(operator, open_service):
    with pytest.raises(DomainError) as excinfo:
        create(operator, open_service, iin=STRANGER, full_name="Пётр")
    assert excinfo.value.code == "full_name_incomplete"
    with pytest.raises(DomainError):
        create(operator, open_service, iin="", full_name="  ")


@pytest.mark.parametrize("ground", [g for g in RefusalGround.values if g != "out_of_competence"])
def test_refuse_on_each_ground(operator, service, registry, ground):
    request = create(operator, service)
    refused = request_refuse(actor=operator, request=request, ground=ground, note="")
    refused.refresh_from_db()
    assert refused.status == ServiceRequest.Status.REFUSED and refused.refusal_ground == ground
    event = AuditEvent.objects.get(event_type="intake.request_refused")
    assert event.extra == {"ground": ground}


def test_refusal_outside_competence_keeps_the_referral(operator, service, registry):
    request = create(operator, service)
    with pytest.raises(DomainError) as excinfo:
        request_refuse(actor=operator, request=request, ground="out_of_competence")
    assert excinfo.value.code == "referral_required"
    refused = request_refuse(
        actor=operator,
        request=request,
        ground="out_of_competence",
        note="Отдел занятости и социальных программ акимата, тел. 109",
    )
    assert refused.referral_text.startswith("Отдел занятости")


def test_refuse_with_unknown_ground(operator, service, registry):
    request = create(operator, service)
    with pytest.raises(DomainError) as excinfo:
        request_refuse(actor=operator, request=request, ground="rude")
    assert excinfo.value.code == "invalid_ground"


def test_only_new_requests_can_be_refused_or_redirected(operator, service, registry):
    request = create(operator, service)
    request_refuse(actor=operator, request=request, ground="obscene_language")
    with translation.override("en"), pytest.raises(DomainError) as excinfo:
        request_refuse(actor=operator, request=request, ground="unethical_behaviour")
    assert excinfo.value.code == "invalid_status" and "Refused" in str(excinfo.value.message)
    with pytest.raises(DomainError):
        request_redirect(actor=operator, request=request, referral_text="ЦОН")
    request.refresh_from_db()
    assert request.refusal_ground == "obscene_language"


def test_redirect_needs_a_referral(operator, service, registry):
    request = create(operator, service)
    with pytest.raises(DomainError) as excinfo:
        request_redirect(actor=operator, request=request, referral_text="  ")
    assert excinfo.value.code == "referral_required"
    redirected = request_redirect(
        actor=operator, request=request, referral_text="Управление образования, тел. 1414"
    )
    redirected.refresh_from_db()
    assert redirected.status == ServiceRequest.Status.REDIRECTED
    assert redirected.referral_text == "Управление образования, тел. 1414"
    assert redirected.refusal_ground == "out_of_competence"
    assert AuditEvent.objects.filter(event_type="intake.request_redirected").count() == 1


def test_refusal_after_a_negative_check_is_a_refused_request(operator, service, registry):
    check = eligibility_check(
        actor=operator, service=service, iin=STRANGER, full_name="Петров Пётр"
    ).check
    request = request_refuse_check(
        actor=operator, service=service, eligibility_check=check, ground="not_registered"
    )
    assert request.status == "refused" and request.refusal_ground == "not_registered"
    assert request.client is None and request.iin == STRANGER and request.eligibility_check == check


def test_database_refuses_a_refusal_without_ground(operator, service, registry):
    request = create(operator, service)
    with pytest.raises(IntegrityError), transaction.atomic():
        ServiceRequest.objects.filter(pk=request.pk).update(status="refused", refusal_ground="")
    with pytest.raises(IntegrityError), transaction.atomic():
        ServiceRequest.objects.filter(pk=request.pk).update(status="lost")


def test_refusal_keeps_the_operators_note(operator, service, registry):
    request = create(operator, service)
    refused = request_refuse(
        actor=operator, request=request, ground="obscene_language", note="Звонок прерван клиентом"
    )
    refused.refresh_from_db()
    assert refused.refusal_note == "Звонок прерван клиентом"
    assert refused.referral_text == ""
