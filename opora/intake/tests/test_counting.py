"""Regulation 004: each new request is a new service; both parents consulted on one question
count once; dispatcher and content consulting are counted apart."""

import datetime as dt

import pytest
from django.utils import timezone

from opora.accounts.models import Role
from opora.core.errors import DomainError, PermissionDenied
from opora.core.models import AuditEvent, Service
from opora.demo.factories import make_user
from opora.intake.models import ServiceRequest
from opora.intake.selectors import services_count
from opora.intake.services import (
    referral_create,
    referral_send,
    request_count_separately,
    request_count_with,
    request_create,
    request_redirect,
    request_refuse,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def open_service(service):
    service.eligibility_rule = "none"
    service.save()
    return service


@pytest.fixture
def make(open_service, operator):
    seq = iter(range(1, 1000))

    def make_request(**kw) -> ServiceRequest:
        n = next(seq)
        r = request_create(
            actor=operator,
            service=kw.pop("service", open_service),
            full_name=f"Родитель Номер{n}",
            phone=f"+7 701 000 00 {n:02d}",
            **kw,
        )
        # Registered one minute apart, in creation order.
        ServiceRequest.objects.filter(pk=r.pk).update(
            created_at=timezone.now() - dt.timedelta(hours=1) + dt.timedelta(minutes=n)
        )
        return ServiceRequest.objects.get(pk=r.pk)

    return make_request


def _period():
    now = timezone.now()
    return {"start": now - dt.timedelta(days=1), "end": now + dt.timedelta(days=1)}


def test_each_new_request_is_a_service(open_service, make):
    for _ in range(3):
        make()
    counts = services_count(service=open_service, **_period())
    assert (counts.requests, counts.services, counts.content, counts.dispatcher) == (3, 3, 3, 0)


def test_both_parents_on_one_question_count_once_the_later_points_at_the_earlier(
    open_service, operator, make
):
    mother, father = make(), make()
    root = request_count_with(actor=operator, request=mother, other=father)
    assert root.pk == mother.pk
    assert ServiceRequest.objects.get(pk=father.pk).counted_with_id == mother.pk
    assert ServiceRequest.objects.get(pk=mother.pk).counted_with_id is None
    counts = services_count(service=open_service, **_period())
    assert (counts.requests, counts.services, counts.counted_together) == (2, 1, 1)
    event = AuditEvent.objects.get(event_type="intake.request_counted_with")
    assert event.subject_id == str(mother.pk) and event.extra == {"requests": [father.pk]}


def test_argument_order_does_not_matter_and_repeating_changes_nothing(operator, make):
    mother, father = make(), make()
    assert request_count_with(actor=operator, request=father, other=mother).pk == mother.pk
    assert request_count_with(actor=operator, request=mother, other=father).pk == mother.pk
    assert AuditEvent.objects.filter(event_type="intake.request_counted_with").count() == 1


def test_no_chains_everyone_points_at_the_root(open_service, operator, make):
    first, second, third = make(), make(), make()
    request_count_with(actor=operator, request=third, other=second)
    assert ServiceRequest.objects.get(pk=third.pk).counted_with_id == second.pk
    # Now the group {second, third} joins the earlier first: both point at first, no chain.
    request_count_with(actor=operator, request=third, other=first)
    pointers = dict(ServiceRequest.objects.values_list("pk", "counted_with_id"))
    assert pointers == {first.pk: None, second.pk: first.pk, third.pk: first.pk}
    counts = services_count(service=open_service, **_period())
    assert (counts.services, counts.counted_together) == (1, 2)


def test_not_itself_not_another_service_not_a_refusal(open_service, operator, make):
    mother = make()
    with pytest.raises(DomainError) as err:
        request_count_with(actor=operator, request=mother, other=mother)
    assert err.value.code == "count_with_itself"
    other_service = Service.objects.create(
        code="ru-district",
        name="Районная служба",
        country="RU",
        time_zone="Europe/Moscow",
        holiday_calendar="RU",
        intake_organisation=open_service.intake_organisation,
        provider_organisation=open_service.provider_organisation,
    )
    operator.services.add(other_service)
    elsewhere = make(service=other_service)
    with pytest.raises(DomainError) as err:
        request_count_with(actor=operator, request=mother, other=elsewhere)
    assert err.value.code == "count_other_service"
    refused = make()
    request_refuse(actor=operator, request=refused, ground="obscene_language")
    with pytest.raises(DomainError) as err:
        request_count_with(actor=operator, request=mother, other=refused)
    assert err.value.code == "count_not_a_service"
    assert ServiceRequest.objects.filter(counted_with__isnull=False).count() == 0


def test_the_database_refuses_a_request_counted_with_itself(make):
    from django.db import IntegrityError, transaction

    r = make()
    with pytest.raises(IntegrityError), transaction.atomic():
        ServiceRequest.objects.filter(pk=r.pk).update(counted_with=r.pk)


def test_only_staff_of_the_service_change_counting(open_service, make):
    mother, father = make(), make()
    with pytest.raises(PermissionDenied):
        request_count_with(actor=make_user(Role.OPERATOR), request=mother, other=father)
    with pytest.raises(PermissionDenied):
        request_count_with(
            actor=make_user(Role.AUTHORITY, service=open_service), request=mother, other=father
        )


def test_counted_separately_again(open_service, operator, make):
    mother, father = make(), make()
    request_count_with(actor=operator, request=mother, other=father)
    request_count_separately(actor=operator, request=ServiceRequest.objects.get(pk=father.pk))
    assert services_count(service=open_service, **_period()).services == 2


def test_counts_by_kind_refusals_are_no_service(open_service, operator, head, make):
    entry = referral_create(actor=head, name="Центр", helps_with="Пособия", country="KZ")
    content = [make(), make()]
    referred, redirected, refused, cancelled = make(), make(), make(), make()
    referral_send(actor=operator, request=referred, referral=entry, via="none")
    request_redirect(actor=operator, request=redirected, referral_text="Акимат, тел. 000")
    request_refuse(actor=operator, request=refused, ground="unethical_behaviour")
    ServiceRequest.objects.filter(pk=cancelled.pk).update(status="cancelled")
    request_count_with(actor=operator, request=content[0], other=content[1])
    counts = services_count(service=open_service, **_period())
    assert counts.requests == 6
    assert (counts.content, counts.dispatcher, counts.services) == (1, 2, 3)
    assert (counts.counted_together, counts.not_services) == (1, 2)


def test_a_group_counts_in_the_period_of_its_root_only(open_service, operator, make):
    mother, father = make(), make()
    request_count_with(actor=operator, request=mother, other=father)
    # The father's request was registered later, in the next period.
    later = timezone.now() + dt.timedelta(days=40)
    ServiceRequest.objects.filter(pk=father.pk).update(created_at=later)
    this_period = services_count(service=open_service, **_period())
    next_period = services_count(
        service=open_service, start=later - dt.timedelta(days=1), end=later + dt.timedelta(days=1)
    )
    assert (this_period.services, next_period.services) == (1, 0)
    assert next_period.counted_together == 1
