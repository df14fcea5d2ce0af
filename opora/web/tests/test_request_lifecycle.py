"""The operator's side of the lifecycle: the check's headline and pre-selected refusal ground per
result, the parent's topic on the request page, and a new request / booking again for the client
of a cancelled, closed or no-show request."""

import datetime as dt
import re

import pytest
from django.urls import reverse
from django.utils import translation

from opora.core.models import AuditEvent
from opora.intake.models import ServiceRequest, TypicalQuestion
from opora.registry.models import EligibilityCheck
from opora.scheduling.models import Booking

from .conftest import PARENT_NAME
from .test_operator import FULL_NAME, register_request

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _russian():
    with translation.override("ru"):
        yield


def _checked(html: str) -> list[str]:
    return re.findall(r'<input[^>]*name="ground"[^>]*value="([a-z_]+)"[^>]*checked', html)


def _check(client, iin: str, name: str) -> str:
    response = client.post(reverse("operator_check"), {"iin": iin, "full_name": name})
    assert response.status_code == 200
    return response.content.decode()


def test_name_mismatch_asks_to_check_the_spelling_and_preselects_no_ground(
    operator_client, registry_parent, parent_iin
):
    html = _check(operator_client, parent_iin, f"{PARENT_NAME[0]} Мария Сериковна")
    assert EligibilityCheck.objects.get().reason == "name_mismatch"
    assert "ФИО не совпадает с данными ЦБД — уточните написание" in html
    assert "права на услугу нет" not in html
    assert 'id="check-next"' in html
    assert 'id="refuse-form"' in html and _checked(html) == []


def test_not_found_is_headlined_in_the_regulations_words_with_its_ground(
    operator_client, registry_parent, child_iin
):
    from opora.registry.iin import make_iin

    unknown = make_iin(dt.date(1990, 1, 1), "F", 5) or make_iin(dt.date(1990, 1, 1), "F", 6)
    assert unknown is not None
    html = _check(operator_client, unknown, "Петрова Анна")
    assert EligibilityCheck.objects.get().reason == "not_registered"
    # Regulation 001 §3.3: «по данному ИИН получатель пособия … не зарегистрирован».
    assert "по данному ИИН получатель пособия" in html and "не зарегистрирован" in html
    assert _checked(html) == ["not_registered"]


def test_inactive_recipient_has_its_own_headline(operator_client, registry_parent, parent_iin):
    registry_parent.status = "inactive"
    registry_parent.save()
    html = _check(operator_client, parent_iin, FULL_NAME)
    assert EligibilityCheck.objects.get().reason == "inactive"
    assert "не зарегистрирован активный получатель пособия" in html
    assert _checked(html) == ["not_registered"]


def test_refusal_form_with_errors_keeps_the_headline(operator_client, registry_parent, parent_iin):
    _check(operator_client, parent_iin, f"{PARENT_NAME[0]} Мария Сериковна")
    response = operator_client.post(
        reverse("operator_refuse_check"),
        {"check_id": EligibilityCheck.objects.get().pk, "ground": ""},
    )
    assert response.status_code == 400
    assert "ФИО не совпадает с данными ЦБД — уточните написание" in response.content.decode()


def test_request_page_shows_the_parents_topic(operator_client, service):
    from opora.scheduling.tests.factories import make_request

    req = make_request(
        service,
        typical_question=TypicalQuestion.EDUCATION,
        child_age=7,
        requester_kind="parent",
        reason="",
    )
    html = operator_client.get(reverse("operator_request", args=[req.pk])).content.decode()
    label = str(TypicalQuestion.EDUCATION.label)
    assert f'id="request-topic">{label}<' in html
    assert 'id="request-child-age">7 лет<' in html
    assert 'id="request-requester">Родитель<' in html
    assert "Клиент выбрал типовой вопрос" in html


def test_after_a_cancel_new_request_and_book_again(
    operator_client, registry_parent, parent_iin, slots
):
    first = register_request(operator_client, parent_iin)
    operator_client.post(reverse("operator_book", args=[first.pk]), {"slot": slots[0].pk})
    operator_client.post(reverse("operator_cancel", args=[first.pk]), {"reason": "Заболели"})
    first.refresh_from_db()
    assert first.status == ServiceRequest.Status.CANCELLED
    html = operator_client.get(reverse("operator_request", args=[first.pk])).content.decode()
    assert 'id="new-request-for-client"' in html and 'id="book-again"' in html
    assert 'id="cancel-booking"' not in html

    response = operator_client.post(reverse("operator_again", args=[first.pk]))
    second = ServiceRequest.objects.latest("pk")
    assert response.status_code == 303
    assert response.url == reverse("operator_request", args=[second.pk])
    assert (second.status, second.iin, second.phone, second.region_id) == (
        "new",
        first.iin,
        first.phone,
        first.region_id,
    )

    ServiceRequest.objects.filter(pk=second.pk).update(status="cancelled")
    response = operator_client.post(reverse("operator_again", args=[second.pk]), {"book": "1"})
    third = ServiceRequest.objects.latest("pk")
    assert response.url == reverse("operator_book", args=[third.pk])
    assert AuditEvent.objects.filter(event_type="intake.request_created_from").count() == 2


def test_a_done_request_offers_again_but_no_change_or_cancel(
    operator_client, registry_parent, parent_iin, slots
):
    req = register_request(operator_client, parent_iin)
    operator_client.post(reverse("operator_book", args=[req.pk]), {"slot": slots[0].pk})
    ServiceRequest.objects.filter(pk=req.pk).update(status="done")
    html = operator_client.get(reverse("operator_request", args=[req.pk])).content.decode()
    assert 'id="book-again"' in html
    assert 'id="cancel-booking"' not in html and 'id="change-time"' not in html
    # The held booking stays the record; the cancel page does not act on it.
    operator_client.post(reverse("operator_cancel", args=[req.pk]), {"reason": "x"})
    assert Booking.objects.get(request=req).status == Booking.Status.ACTIVE


def test_a_booked_request_offers_no_again(operator_client, registry_parent, parent_iin, slots):
    req = register_request(operator_client, parent_iin)
    operator_client.post(reverse("operator_book", args=[req.pk]), {"slot": slots[0].pk})
    html = operator_client.get(reverse("operator_request", args=[req.pk])).content.decode()
    assert 'id="book-again"' not in html
    response = operator_client.post(reverse("operator_again", args=[req.pk]))
    assert response.status_code == 303
    assert ServiceRequest.objects.count() == 1


def test_a_held_consultation_is_not_cancelled_while_its_protocol_is_coming(
    operator_client, registry_parent, parent_iin, slots
):
    from opora.consultations import services as consultations

    req = register_request(operator_client, parent_iin)
    operator_client.post(reverse("operator_book", args=[req.pk]), {"slot": slots[0].pk})
    booking = Booking.objects.get(request=req)
    room = consultations.consultation_for_booking(booking=booking)
    consultations.consultation_admit(consultation_id=room.pk, actor=booking.slot.consultant)
    consultations.consultation_end(consultation_id=room.pk, actor=booking.slot.consultant)
    html = operator_client.get(reverse("operator_request", args=[req.pk])).content.decode()
    assert 'id="consultation-held"' in html
    assert 'id="cancel-booking"' not in html and 'id="change-time"' not in html
    operator_client.post(reverse("operator_cancel", args=[req.pk]), {"reason": "x"})
    booking.refresh_from_db()
    req.refresh_from_db()
    assert (booking.status, req.status) == (Booking.Status.ACTIVE, ServiceRequest.Status.BOOKED)
