"""The public portal: requests from the site (named and anonymous), consent, the private link,
self-booking with its races, eligibility refusals, rescheduling, cancelling and the .ics file."""

import datetime as dt

import icalendar
import pytest
from django.core import mail
from django.urls import reverse

from opora.core.actors import ClientActor
from opora.demo.factories import make_registry_record
from opora.intake.models import Channel, ConsentText, ServiceRequest
from opora.notifications.models import Notification
from opora.portal.consent import DEFAULT_CONSENT_VERSION
from opora.portal.models import PortalSubmission, ReplyChannel
from opora.registry.iin import make_iin
from opora.registry.models import EligibilityCheck
from opora.scheduling import services as scheduling
from opora.scheduling.ics import booking_ics
from opora.scheduling.models import Booking
from opora.scheduling.tests.factories import future_working_day, make_slot

pytestmark = pytest.mark.django_db

NAMED = {
    "full_name": "Тестова Анна Петровна",
    "phone": "+7 927 000 11 22",
    "email": "anna@example.org",
    "reply_channel": "email",
    "requester_kind": "parent",
    "child_age": "7",
    "typical_question": "education",
    "reason": "Как выбрать инклюзивную школу?",
    "preferred_form": "video",
    "consent": "on",
}


def _iin(birth: dt.date, sex: str, serial: int) -> str:
    while (value := make_iin(birth, sex, serial)) is None:
        serial += 1
    return value


def _token(response) -> str:
    assert response.status_code == 303, response.content.decode()[:2000]
    return response["Location"].split("/s/r/")[1].split("/")[0]


def _iso(slot) -> str:
    """A time tile's value: the slot's start in UTC, ISO 8601."""
    return slot.starts_at.astimezone(dt.UTC).isoformat()


def _request(token: str) -> ServiceRequest:
    return ServiceRequest.objects.get(public_token=token)


# --- pages ----------------------------------------------------------------------------------


def test_service_page_leads_with_actions_and_names_no_consultant(client, district, district_slots):
    html = client.get(reverse("portal:service", args=["district"])).content.decode()
    consultant = district_slots[0].consultant
    for text in ("Видео", "Текстовый чат", "Письменный ответ", "Жалобу можно направить"):
        assert text in html, text
    assert "московское время (UTC+3)" in html and "Europe/Moscow" not in html
    # The actions come before the facts and the schedule; the schedule is behind a disclosure.
    actions = html.index('id="book-link"')
    assert actions < html.index('id="request-link"') < html.index('id="facts-title"')
    assert html.index('id="my-booking"') < html.index('<details class="disclosure" id="schedule"')
    assert "14:00–17:00" in html  # the published schedule: days and hours
    assert consultant.last_name not in html  # ... but never the consultants' names
    assert reverse("portal:anonymous", args=["district"]) in html


def test_index_lists_active_services_only(client, district, service):
    service.is_active = False
    service.save()
    html = client.get(reverse("portal:index")).content.decode()
    assert district.name in html and service.name not in html


def test_anonymous_visitor_at_root_goes_to_the_portal(client):
    response = client.get(reverse("home"))
    assert response.status_code == 302 and response.url == reverse("portal:index")


@pytest.mark.parametrize("lang", ["ru", "kk", "en"])
def test_pages_carry_the_chosen_language(client, district, lang):
    client.cookies["django_language"] = lang
    html = client.get(reverse("portal:request", args=["district"])).content.decode()
    assert f'<html lang="{lang}"' in html


# --- requests -------------------------------------------------------------------------------


def test_errors_keep_what_was_typed_and_name_the_field(client, district):
    data = {**NAMED, "phone": "12-34", "reply_channel": "phone"}
    response = client.post(reverse("portal:request", args=["district"]), data)
    html = response.content.decode()
    assert response.status_code == 400
    assert not ServiceRequest.objects.exists()
    assert 'value="Тестова Анна Петровна"' in html
    assert "Как выбрать инклюзивную школу?" in html
    assert 'href="#id_phone"' in html  # the summary links to the field
    assert 'aria-invalid="true"' in html and "10–15 цифр" in html


def test_missing_consent_and_question_are_field_errors(client, district):
    data = {k: v for k, v in NAMED.items() if k not in ("consent", "typical_question", "reason")}
    response = client.post(reverse("portal:request", args=["district"]), data)
    html = response.content.decode()
    assert response.status_code == 400
    assert 'href="#id_consent"' in html and 'href="#id_reason"' in html
    assert not ServiceRequest.objects.exists()


def test_reply_channel_needs_its_contact(client, district):
    data = {**NAMED, "email": "", "reply_channel": "email"}
    response = client.post(reverse("portal:request", args=["district"]), data)
    assert response.status_code == 400
    assert 'href="#id_email"' in response.content.decode()


def test_named_request_is_stored_with_consent_version_before_the_answer(client, district):
    response = client.post(reverse("portal:request", args=["district"]), NAMED)
    token = _token(response)
    # Stored before the "received" page is ever shown.
    req = _request(token)
    assert req.channel == Channel.PORTAL and req.status == ServiceRequest.Status.NEW
    assert (req.requester_kind, req.child_age, req.typical_question) == ("parent", 7, "education")
    assert req.phone == "+79270001122" and req.email == "anna@example.org"
    assert req.consent.version == DEFAULT_CONSENT_VERSION and req.consented_at is not None
    sub = PortalSubmission.objects.get(request=req)
    assert (sub.reply_channel, sub.language) == (ReplyChannel.EMAIL, "ru")

    page = client.get(response["Location"]).content.decode()
    assert req.public_code in page and f"/s/r/{token}/" in page


def test_the_service_own_consent_text_wins(client, district):
    own = ConsentText.objects.create(service=district, version="district-7", text_ru="Согласие")
    token = _token(client.post(reverse("portal:request", args=["district"]), NAMED))
    assert _request(token).consent == own


def test_anonymous_request_keeps_no_personal_data_and_gets_a_code(client, district):
    # Even if personal fields are sent, an anonymous request stores none of them.
    data = {**NAMED, "full_name": "Кто-то", "iin": "900101300123"}
    response = client.post(reverse("portal:anonymous", args=["district"]), data)
    req = _request(_token(response))
    assert req.is_anonymous
    assert (req.full_name, req.iin, req.phone, req.email) == ("", "", "", "")
    assert req.consent is None and req.client_id is None
    assert req.public_code and len(req.public_code) == 9 and req.public_token
    assert req.portal_submission.reply_channel == ReplyChannel.PRIVATE_LINK
    form = client.get(reverse("portal:anonymous", args=["district"])).content.decode()
    assert 'name="full_name"' not in form and 'name="phone"' not in form


def test_anonymous_form_is_closed_where_not_allowed(client, district, service):
    service.allows_anonymous = True  # 1411 checks eligibility: never anonymous
    service.save()
    district.allows_anonymous = False
    district.save()
    for code in ("kz-1411", "district"):
        url = reverse("portal:anonymous", args=[code])
        response = client.post(url, {"requester_kind": "parent", "reason": "Вопрос"})
        assert response.status_code == 404
    assert not ServiceRequest.objects.exists()


# --- the private link -----------------------------------------------------------------------


def test_unknown_token_is_a_plain_404_that_says_what_to_do(client, district):
    token = _token(client.post(reverse("portal:request", args=["district"]), NAMED))
    for bad in ("nope", token[:-1] + ("A" if token[-1] != "A" else "B"), "x" * 80):
        response = client.get(reverse("portal:follow", args=[bad]))
        assert response.status_code == 404
        assert "код" in response.content.decode()  # "give your request code"
    # One page for every unknown token: nothing tells whether a request existed.
    a = client.get(reverse("portal:follow", args=["nope"])).content.decode()
    b = client.get(reverse("portal:ics", args=["nope"])).content.decode()
    assert a.split("<main")[1] == b.split("<main")[1]


def test_private_page_shows_status_but_no_personal_data(client, district):
    token = _token(client.post(reverse("portal:request", args=["district"]), NAMED))
    response = client.get(reverse("portal:follow", args=[token]))
    html = response.content.decode()
    assert response["Cache-Control"] == "no-store"
    req = _request(token)
    assert req.public_code in html and 'id="request-status">Ожидает рассмотрения<' in html
    for secret in ("Тестова", "anna@example.org", "927", "инклюзивную"):
        assert secret not in html, secret


# --- self-booking ---------------------------------------------------------------------------

BOOKER = {
    "full_name": "Тестова Анна Петровна",
    "email": "anna@example.org",
    "phone": "+7 927 000 11 22",
    "consent": "on",
}


def _step1(client, code="district", data=None) -> None:
    response = client.post(reverse("portal:book", args=[code]), data or BOOKER)
    assert response.status_code == 303, response.content.decode()[:2000]
    assert response["Location"] == reverse("portal:book_time", args=[code])


def _book(client, slot, code="district", data=None) -> str:
    """Self-booking, both steps: the details, then the slot's time. Returns the private token."""
    _step1(client, code, data)
    return _token(client.post(reverse("portal:book_time", args=[code]), {"time": _iso(slot)}))


def test_self_booking_happy_path(
    client, district, district_slots, django_capture_on_commit_callbacks
):
    _step1(client)
    assert not ServiceRequest.objects.exists()  # nothing registered before a time is chosen
    page = client.get(reverse("portal:book_time", args=["district"])).content.decode()
    first, second, third = district_slots
    # One tile per time, nearest first, the service's local time on it.
    assert page.index(f'value="{_iso(first)}"') < page.index(f'value="{_iso(second)}"')
    assert ">14:00<" in page and ">15:00<" in page
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("portal:book_time", args=["district"]), {"time": _iso(second)}
        )
    token = _token(response)
    req = _request(token)
    booking = Booking.objects.get(request=req, status=Booking.Status.ACTIVE)
    assert booking.slot == second and req.status == ServiceRequest.Status.BOOKED
    assert req.channel == Channel.PORTAL and req.full_name == "Тестова Анна Петровна"
    # The confirmation went out by e-mail (locmem) and SMS, as stored notifications.
    assert Notification.objects.filter(kind="booking_created", channel="email").exists()
    assert any("anna@example.org" in m.to for m in mail.outbox)
    follow = client.get(reverse("portal:follow", args=[token])).content.decode()
    assert "15:00" in follow and 'id="ics-link"' in follow
    # The slot is days ahead: the page says when the join button appears instead of showing it.
    assert 'id="join-link"' not in follow and 'id="join-later"' in follow


def test_race_loser_gets_a_clear_message_and_no_request(client, district, district_slots):
    from django.test import Client

    other = Client()
    _step1(client)
    _step1(other)
    slot = district_slots[0]
    winner = client.post(reverse("portal:book_time", args=["district"]), {"time": _iso(slot)})
    assert winner.status_code == 303
    response = other.post(reverse("portal:book_time", args=["district"]), {"time": _iso(slot)})
    html = response.content.decode()
    assert response.status_code == 409
    assert "больше не свободно" in html or "уже заняли" in html or "just been taken" in html
    assert f'value="{_iso(slot)}"' not in html
    assert f'value="{_iso(district_slots[1])}"' in html
    assert ServiceRequest.objects.count() == 1  # the loser left nothing in the queue


def test_reschedule_and_cancel_through_the_private_link(client, district, district_slots):
    first, second, _ = district_slots
    token = _book(client, first)
    response = client.post(reverse("portal:choose", args=[token]), {"time": _iso(second)})
    assert response.status_code == 303
    req = _request(token)
    assert Booking.objects.get(request=req, status="active").slot == second
    assert Booking.objects.get(request=req, slot=first).status == Booking.Status.RESCHEDULED

    assert client.get(reverse("portal:cancel", args=[token])).status_code == 200
    assert client.post(reverse("portal:cancel", args=[token])).status_code == 303
    req.refresh_from_db()
    assert req.status == ServiceRequest.Status.CANCELLED
    assert not Booking.objects.filter(request=req, status="active").exists()
    assert "отменена" in client.get(reverse("portal:follow", args=[token])).content.decode()


def test_a_request_sent_by_form_is_booked_by_time_later(client, district, district_slots):
    token = _token(client.post(reverse("portal:request", args=["district"]), NAMED))
    page = client.get(reverse("portal:choose", args=[token])).content.decode()
    assert page.count('name="time"') == 3
    response = client.post(
        reverse("portal:choose", args=[token]), {"time": _iso(district_slots[2])}
    )
    assert response.status_code == 303
    assert Booking.objects.get(request=_request(token)).slot == district_slots[2]
    assert ServiceRequest.objects.count() == 1


def test_booking_is_closed_where_the_service_does_not_allow_it(client, district, district_slots):
    token = _token(client.post(reverse("portal:request", args=["district"]), NAMED))
    district.allows_self_booking = False
    district.save()
    assert client.get(reverse("portal:book", args=["district"])).status_code == 404
    response = client.post(
        reverse("portal:choose", args=[token]), {"time": _iso(district_slots[0])}
    )
    assert response.status_code == 303 and not Booking.objects.exists()
    assert client.get(reverse("portal:book_time", args=["district"])).status_code == 404


def test_1411_self_booking_checks_the_iin_first(client, service, consultant):
    service.allows_self_booking = True
    service.save()
    slot = make_slot(service, consultant, future_working_day(service), dt.time(15))
    parent_iin = _iin(dt.date(1988, 3, 14), "F", 1234)
    make_registry_record(
        source="cbd",
        iin=parent_iin,
        child_iin=_iin(dt.date(2016, 9, 2), "M", 4321),
        last_name="Ахметова",
        first_name="Айгерим",
        patronymic="Сериковна",
        relation="мать",
        status="active",
    )
    stranger = {**BOOKER, "iin": _iin(dt.date(1990, 1, 1), "F", 77), "full_name": "Иванова Ирина"}
    response = client.post(reverse("portal:book", args=["kz-1411"]), stranger)
    html = response.content.decode()
    assert response.status_code == 400 and 'id="refusal"' in html
    assert not ServiceRequest.objects.exists()
    assert EligibilityCheck.objects.filter(eligible=False).count() == 1  # on record
    # A wrong name for a registered IIN gets the same neutral text (nothing about the registry).
    wrong_name = {**BOOKER, "iin": parent_iin, "full_name": "Петрова Мария"}
    html2 = client.post(reverse("portal:book", args=["kz-1411"]), wrong_name).content.decode()
    refusal = html.split('id="refusal"')[1].split("</div>")[0]
    assert refusal == html2.split('id="refusal"')[1].split("</div>")[0]

    ok = {**BOOKER, "iin": parent_iin, "full_name": "Ахметова Айгерим Сериковна"}
    _step1(client, "kz-1411", ok)
    assert not ServiceRequest.objects.exists()  # checked, but nothing registered yet
    token = _token(client.post(reverse("portal:book_time", args=["kz-1411"]), {"time": _iso(slot)}))
    req = _request(token)
    assert req.eligibility_check.eligible and req.channel == Channel.PORTAL
    assert req.status == ServiceRequest.Status.BOOKED
    assert EligibilityCheck.objects.filter(eligible=True).count() == 1  # not run twice


def test_bad_iin_is_a_field_error(client, service):
    service.allows_self_booking = True
    service.save()
    response = client.post(
        reverse("portal:book", args=["kz-1411"]), {**BOOKER, "iin": "123456789012"}
    )
    assert response.status_code == 400 and 'href="#id_iin"' in response.content.decode()
    assert not EligibilityCheck.objects.exists()


# --- .ics -----------------------------------------------------------------------------------


def test_ics_has_the_booking_time_and_nothing_about_the_client(client, district, district_slots):
    slot = district_slots[0]
    token = _book(client, slot)
    response = client.get(reverse("portal:ics", args=[token]))
    assert response.status_code == 200 and response["Content-Type"].startswith("text/calendar")
    body = response.content
    cal = icalendar.Calendar.from_ical(body)
    (event,) = cal.walk("VEVENT")
    assert event.decoded("dtstart") == slot.starts_at
    assert event.decoded("dtend") == slot.ends_at
    assert district.name in str(event["summary"])
    assert "/c/" in str(event["url"])  # the consultation's join link
    for secret in ("Тестова".encode(), b"anna@example.org", b"927"):
        assert secret not in body


def test_ics_of_a_cancelled_booking_is_a_cancelled_event(district, district_slots):
    from opora.scheduling.tests.factories import make_request

    req = make_request(district)
    actor = ClientActor(request_id=req.pk)
    booking = scheduling.booking_create(actor=actor, request=req, slot=district_slots[0])
    booking = scheduling.booking_cancel(actor=actor, booking=booking)
    event = icalendar.Calendar.from_ical(booking_ics(booking)).walk("VEVENT")[0]
    assert str(event["status"]) == "CANCELLED"


def test_ics_without_an_active_booking_is_404(client, district):
    token = _token(client.post(reverse("portal:request", args=["district"]), NAMED))
    assert client.get(reverse("portal:ics", args=[token])).status_code == 404


def test_default_consent_text_is_there_after_migrations():
    consent = ConsentText.objects.get(service=None, version=DEFAULT_CONSENT_VERSION)
    assert consent.text_ru and consent.text_kk and consent.text_en
