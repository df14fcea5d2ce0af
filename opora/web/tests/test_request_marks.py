"""Issue 12: the topic of a request that came by e-mail or a messenger is set on its page, and a
request that needs help for the child directly gets regulation 004's scripted explanation and a
referral — a record on the request, a message through the outbox."""

import pytest
from django.urls import reverse
from django.utils import translation

from opora.core.errors import DomainError
from opora.intake.child_help import child_help_refer
from opora.intake.models import ChildHelpReferral, ServiceRequest
from opora.intake.services import referral_create, request_create, request_set_topic
from opora.notifications.models import Notification

pytestmark = pytest.mark.django_db


@pytest.fixture
def open_service(service):
    service.eligibility_rule = "none"
    service.save()
    return service


@pytest.fixture
def centre(head):
    return referral_create(
        actor=head,
        name="ППМС-центр",
        helps_with="Психолого-педагогическая помощь детям, логопед",
        country="KZ",
        phone="+7 727 000 00 00",
    )


def _letter(service) -> ServiceRequest:
    return request_create(
        actor=None,
        service=service,
        full_name="parent@example.org",
        email="parent@example.org",
        channel="email",
    )


def test_the_operator_sets_the_topic_of_a_letter(client, operator, open_service):
    request = _letter(open_service)
    assert request.topic == ""
    client.force_login(operator)
    page = client.get(reverse("operator_request", args=[request.pk])).content.decode()
    assert 'id="topic-form"' in page
    response = client.post(
        reverse("operator_request_topic", args=[request.pk]), {"topic": "5", "language": "kk"}
    )
    assert response.status_code == 303
    request.refresh_from_db()
    assert (request.topic, request.language) == ("5", "kk")
    page = client.get(reverse("operator_request", args=[request.pk])).content.decode()
    assert 'id="request-topic-class"' in page


def test_no_topic_is_named_and_nothing_changes(client, operator, open_service):
    request = _letter(open_service)
    client.force_login(operator)
    with translation.override("en"):
        client.post(reverse("operator_request_topic", args=[request.pk]), {"topic": "9"})
    request.refresh_from_db()
    assert request.topic == ""
    with pytest.raises(DomainError) as err:
        request_set_topic(actor=operator, request=request, topic="")
    assert err.value.code == "topic"


def test_child_help_sends_the_script_and_the_referral(client, operator, open_service, centre):
    request = _letter(open_service)
    client.force_login(operator)
    form = client.get(reverse("operator_request_child_help", args=[request.pk])).content.decode()
    assert 'id="child-help-form"' in form and "ППМС-центр" in form
    missing = client.post(reverse("operator_request_child_help", args=[request.pk]), {})
    assert missing.status_code == 400
    assert not ChildHelpReferral.objects.exists()
    response = client.post(
        reverse("operator_request_child_help", args=[request.pk]),
        {"organisations": [str(centre.pk)], "note": "Нужен логопед"},
    )
    assert response.status_code == 303
    record = ChildHelpReferral.objects.get(request=request)
    assert list(record.organisations.all()) == [centre]
    assert record.sent_via == "email" and record.source == "request"
    note = Notification.objects.get(kind="child_help_referral")
    assert note.recipient == "parent@example.org"
    assert "ППМС-центр" in note.body and "+7 727 000 00 00" in note.body
    # The regulation's rule in the client's words: the service does not help children.
    assert "не оказывает помощь детям" in note.body or "does not give help" in note.body
    request.refresh_from_db()
    assert request.status == ServiceRequest.Status.NEW  # the parent may still be consulted
    page = client.get(reverse("operator_request", args=[request.pk])).content.decode()
    assert 'id="child-help-record"' in page and "ППМС-центр" in page
    with pytest.raises(DomainError) as err:
        child_help_refer(actor=operator, request=request, organisations=[centre])
    assert err.value.code == "already"
    assert Notification.objects.filter(kind="child_help_referral").count() == 1


def test_a_withdrawn_organisation_is_refused(operator, open_service, centre):
    centre.is_active = False
    centre.save()
    with pytest.raises(DomainError) as err:
        child_help_refer(actor=operator, request=_letter(open_service), organisations=[centre])
    assert err.value.code == "organisations"
    assert not ChildHelpReferral.objects.exists()
