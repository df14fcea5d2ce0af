"""The operator console end to end: check → request → book the nearest → read the script;
a slot taken meanwhile; changing the time; cancelling with a reason."""

import datetime as dt
import re

import pytest
from django.urls import reverse

from opora.core.models import Region
from opora.intake.models import ServiceRequest
from opora.registry.models import EligibilityCheck
from opora.scheduling.models import Booking

from .conftest import PARENT_NAME, make_slots

pytestmark = pytest.mark.django_db
FULL_NAME = " ".join(PARENT_NAME)
HTMX = {"HTTP_HX_REQUEST": "true"}


def register_request(client, iin: str, phone: str = "+7 701 123 45 67") -> ServiceRequest:
    response = client.post(reverse("operator_check"), {"iin": iin, "full_name": FULL_NAME})
    assert response.status_code == 200
    check = EligibilityCheck.objects.latest("pk")
    assert check.eligible
    region = Region.objects.filter(country="KZ").first()
    response = client.post(
        reverse("operator_request_new"),
        {
            "check_id": check.pk,
            "full_name": FULL_NAME,
            "iin": iin,
            "phone": phone,
            "region": region.pk,
            "reason": "Тревога у ребёнка перед школой",
        },
    )
    assert response.status_code == 303, response.content.decode()[:2000]
    request = ServiceRequest.objects.latest("pk")
    assert response.url == reverse("operator_book", args=[request.pk])
    return request


def test_console_shows_booking_hours_and_labelled_check_form(operator_client, service):
    html = operator_client.get(reverse("operator_console")).content.decode()
    assert 'id="booking-hours"' in html and "09:00" in html and "18:00" in html
    assert 'id="check-form"' in html and 'for="id_iin"' in html and 'for="id_full_name"' in html
    assert 'id="check-button"' in html
    assert 'id="client-search"' in html and 'for="client-search"' in html
    assert 'role="search"' in html
    assert 'aria-live="polite"' in html


def test_full_flow_check_request_book_nearest_confirmation(
    operator_client, registry_parent, parent_iin, slots, slot_day
):
    response = operator_client.post(
        reverse("operator_check"), {"iin": parent_iin, "full_name": FULL_NAME}, **HTMX
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html  # an htmx fragment
    assert "verdict--yes" in html and 'id="check-script"' in html
    assert 'id="request-form"' in html and f'value="{parent_iin}"' in html
    assert 'hx-swap-oob="innerHTML"' in html  # the result is announced in the live region

    request = register_request(operator_client, parent_iin)
    book = operator_client.get(reverse("operator_book", args=[request.pk]))
    html = book.content.decode()
    assert book.status_code == 200
    assert 'id="book-nearest"' in html and 'id="nearest-slot"' in html
    assert "14:00" in html
    assert f'value="{slots[0].pk}"' in html

    response = operator_client.post(
        reverse("operator_book", args=[request.pk]), {"slot": slots[0].pk}
    )
    assert response.status_code == 303
    assert response.url == reverse("operator_confirmation", args=[request.pk])
    html = operator_client.get(response.url).content.decode()
    assert 'id="confirmation-script"' in html
    assert slot_day.strftime("%d.%m.%Y") in html and "14:00" in html
    request.refresh_from_db()
    assert request.status == ServiceRequest.Status.BOOKED


def test_date_picker_lists_that_days_slots_never_before_the_nearest(
    operator_client, registry_parent, parent_iin, service, consultant, slots, slot_day
):
    request = register_request(operator_client, parent_iin)
    later = slot_day + dt.timedelta(days=1)
    from opora.scheduling.calendar import is_working_day

    while not is_working_day(service, later):
        later += dt.timedelta(days=1)
    later_slots = make_slots(service, consultant, later, hours=(15,))
    url = reverse("operator_book", args=[request.pk])

    response = operator_client.get(url, {"date": later.isoformat()}, **HTMX)
    html = response.content.decode()
    assert "<html" not in html
    assert f'id="slot-{later_slots[0].pk}"' in html
    assert f'id="slot-{slots[0].pk}"' not in html

    earlier = slot_day - dt.timedelta(days=1)
    html = operator_client.get(url, {"date": earlier.isoformat()}).content.decode()
    assert 'id="too-early"' in html
    assert f'id="slot-{slots[0].pk}"' in html
    assert f'min="{slot_day.isoformat()}"' in html

    response = operator_client.get(url, {"consultant": consultant.pk, "date": later.isoformat()})
    assert response.status_code == 200


def test_taken_slot_gives_polite_conflict_and_refreshed_list(
    operator_client, registry_parent, parent_iin, slots
):
    first = register_request(operator_client, parent_iin)
    second = register_request(operator_client, parent_iin, phone="+7 702 000 00 00")
    url_first = reverse("operator_book", args=[first.pk])
    url_second = reverse("operator_book", args=[second.pk])
    # Both operators saw 14:00 as the nearest; the first one books it.
    assert operator_client.post(url_first, {"slot": slots[0].pk}).status_code == 303
    response = operator_client.post(url_second, {"slot": slots[0].pk})
    html = response.content.decode()
    assert response.status_code == 409
    assert 'id="book-conflict"' in html and 'role="alert"' in html
    assert "Traceback" not in html
    # The list is fresh: the nearest is now 15:00, and 14:00 is not offered.
    assert f'name="slot" value="{slots[1].pk}"' in html
    assert f'name="slot" value="{slots[0].pk}"' not in html
    assert not second.bookings.exists()


def test_reschedule_from_the_request_page(operator_client, registry_parent, parent_iin, slots):
    request = register_request(operator_client, parent_iin)
    book_url = reverse("operator_book", args=[request.pk])
    operator_client.post(book_url, {"slot": slots[0].pk})

    page = operator_client.get(reverse("operator_request", args=[request.pk])).content.decode()
    assert 'id="change-time"' in page and 'id="cancel-booking"' in page

    html = operator_client.get(book_url).content.decode()
    assert 'id="current-booking"' in html
    response = operator_client.post(book_url, {"slot": slots[2].pk})
    assert response.status_code == 303
    html = operator_client.get(response.url).content.decode()
    assert "16:00" in html

    statuses = list(request.bookings.order_by("pk").values_list("status", flat=True))
    assert statuses == [Booking.Status.RESCHEDULED, Booking.Status.ACTIVE]
    page = operator_client.get(reverse("operator_request", args=[request.pk])).content.decode()
    assert 'id="booking-history"' in page and page.count("badge--rescheduled") == 1


def test_cancel_needs_a_reason_and_a_confirmation(
    operator_client, registry_parent, parent_iin, slots
):
    request = register_request(operator_client, parent_iin)
    operator_client.post(reverse("operator_book", args=[request.pk]), {"slot": slots[0].pk})
    url = reverse("operator_cancel", args=[request.pk])

    html = operator_client.get(url).content.decode()
    assert 'id="cancel-confirm"' in html and 'id="cancel-keep"' in html
    assert request.bookings.get().status == Booking.Status.ACTIVE  # asking is not cancelling

    response = operator_client.post(url, {"reason": ""})
    html = response.content.decode()
    assert response.status_code == 400
    assert 'aria-describedby="id_reason-error"' in html and 'id="id_reason-error"' in html

    response = operator_client.post(url, {"reason": "Клиент заболел"})
    assert response.status_code == 303
    booking = request.bookings.get()
    assert booking.status == Booking.Status.CANCELLED
    page = operator_client.get(response.url).content.decode()
    assert 'id="active-booking"' not in page and "Клиент заболел" in page


def test_bad_iin_error_is_tied_to_the_field_and_keeps_input(operator_client):
    response = operator_client.post(
        reverse("operator_check"), {"iin": "12345", "full_name": "Иванова Мария"}, **HTMX
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert 'id="id_iin-error"' in html
    assert 'aria-describedby="id_iin-hint id_iin-error"' in html
    assert 'aria-invalid="true"' in html
    assert 'value="Иванова Мария"' in html
    assert 'id="check-errors"' in html
    assert not EligibilityCheck.objects.exists()


def test_ineligible_caller_sees_script_refusal_grounds_and_referral(
    operator_client, registry_parent
):
    from opora.registry.iin import make_iin

    unknown = make_iin(dt.date(1990, 1, 1), "F", 5) or make_iin(dt.date(1990, 1, 1), "F", 6)
    response = operator_client.post(
        reverse("operator_check"), {"iin": unknown, "full_name": "Петрова Анна"}
    )
    html = response.content.decode()
    assert "verdict--no" in html and 'id="check-script"' in html
    assert 'id="refuse-form"' in html and html.count('name="ground"') == 4
    assert 'id="redirect-form"' in html and 'name="referral_text"' in html
    assert 'id="request-form"' not in html
    check_id = EligibilityCheck.objects.latest("pk").pk

    # Outside the competence needs the referral: the error keeps the page and what was typed.
    response = operator_client.post(
        reverse("operator_refuse_check"),
        {"check_id": check_id, "ground": "out_of_competence", "note": ""},
    )
    html = response.content.decode()
    assert response.status_code == 400
    assert 'id="refuse-errors"' in html and "verdict--no" in html
    assert 'id="id_note-error"' in html  # the service's message sits on the field it is about
    assert re.search(r'<input[^>]*value="out_of_competence"[^>]*checked', html)
    assert not ServiceRequest.objects.exists()

    response = operator_client.post(
        reverse("operator_refuse_check"), {"check_id": check_id, "ground": "not_registered"}
    )
    assert response.status_code == 303
    refused = ServiceRequest.objects.get()
    assert refused.status == ServiceRequest.Status.REFUSED
    assert refused.refusal_ground == "not_registered"


def test_referral_after_a_negative_check_is_recorded(operator_client, registry_parent):
    from opora.registry.iin import make_iin

    unknown = make_iin(dt.date(1991, 2, 2), "M", 7) or make_iin(dt.date(1991, 2, 2), "M", 8)
    operator_client.post(reverse("operator_check"), {"iin": unknown, "full_name": "Омаров Ержан"})
    response = operator_client.post(
        reverse("operator_redirect_check"),
        {
            "check_id": EligibilityCheck.objects.latest("pk").pk,
            "referral_text": "Отдел занятости и социальных программ, тел. 1414",
        },
    )
    assert response.status_code == 303
    redirected = ServiceRequest.objects.get()
    assert redirected.status == ServiceRequest.Status.REDIRECTED
    assert "1414" in redirected.referral_text


def test_request_form_errors_keep_what_was_typed(operator_client, registry_parent, parent_iin):
    operator_client.post(reverse("operator_check"), {"iin": parent_iin, "full_name": FULL_NAME})
    check = EligibilityCheck.objects.latest("pk")
    response = operator_client.post(
        reverse("operator_request_new"),
        {
            "check_id": check.pk,
            "full_name": FULL_NAME,
            "iin": parent_iin,
            "phone": "",
            "reason": "Нужна консультация",
            "desired_time": "15:00",
        },
        **HTMX,
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert 'id="request_phone-error"' in html and 'id="request_desired_date-error"' in html
    assert 'aria-describedby="request_phone-hint request_phone-error"' in html
    assert f'value="{FULL_NAME}"' in html and "Нужна консультация" in html
    assert not ServiceRequest.objects.exists()


def test_client_search_finds_the_caller_with_last_requests(
    operator_client, registry_parent, parent_iin
):
    request = register_request(operator_client, parent_iin)
    response = operator_client.post(reverse("operator_client_search"), {"q": parent_iin}, **HTMX)
    html = response.content.decode()
    assert response.status_code == 200
    assert PARENT_NAME[0] in html and 'id="client-results-status"' in html
    assert reverse("operator_request", args=[request.pk]) in html
    short = operator_client.post(reverse("operator_client_search"), {"q": "Ах"}, **HTMX)
    assert PARENT_NAME[0] not in short.content.decode()


def test_refuse_a_request_with_a_ground(operator_client, registry_parent, parent_iin):
    request = register_request(operator_client, parent_iin)
    url = reverse("operator_request_refuse", args=[request.pk])
    response = operator_client.post(url, {})
    assert response.status_code == 200
    assert 'id="id_ground-error"' in response.content.decode()
    response = operator_client.post(url, {"ground": "obscene_language", "note": ""})
    assert response.status_code == 303
    request.refresh_from_db()
    assert request.status == ServiceRequest.Status.REFUSED
    assert request.refusal_ground == "obscene_language"


def test_unknown_request_is_a_404_page(operator_client):
    response = operator_client.get(reverse("operator_request", args=[999999]))
    assert response.status_code == 404


def test_key_labels_are_russian_by_default(operator_client, registry_parent, parent_iin, slots):
    html = operator_client.get(reverse("operator_console")).content.decode()
    assert '<html lang="ru"' in html
    assert ">ИИН" in html and ">Проверить<" in html and "Поиск клиента" in html
    request = register_request(operator_client, parent_iin)
    html = operator_client.get(reverse("operator_book", args=[request.pk])).content.decode()
    assert "Записать на ближайшее время" in html and ">Записать<" in html
    operator_client.post(reverse("operator_book", args=[request.pk]), {"slot": slots[0].pk})
    html = operator_client.get(reverse("operator_confirmation", args=[request.pk])).content.decode()
    assert "Прочитайте клиенту" in html


def test_service_error_on_the_phone_is_tied_to_the_phone_field(
    operator_client, registry_parent, parent_iin
):
    operator_client.post(reverse("operator_check"), {"iin": parent_iin, "full_name": FULL_NAME})
    check = EligibilityCheck.objects.latest("pk")
    response = operator_client.post(
        reverse("operator_request_new"),
        {"check_id": check.pk, "full_name": FULL_NAME, "iin": parent_iin, "phone": "позвонить"},
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert 'id="request_phone-error"' in html and 'value="позвонить"' in html
    assert not ServiceRequest.objects.exists()
