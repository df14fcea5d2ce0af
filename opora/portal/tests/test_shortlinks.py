"""The short link in a notice: followed with a browser's client it lands on the request's private
page, and inside the join window on the consultation room's join page; a dead code is a kind 404."""

import datetime as dt

import pytest
from django.utils import timezone, translation

from opora.consultations.models import Consultation
from opora.intake.services import request_create
from opora.notifications.models import Notification, ShortLink
from opora.scheduling import services as scheduling
from opora.scheduling.models import Booking
from opora.scheduling.tests.factories import future_working_day, make_slot

pytestmark = pytest.mark.django_db

HOST = "https://opora.example.kz"


@pytest.fixture
def phone_request(service, operator):
    """A request the 1411 operator registers on the phone (registry check not needed here)."""
    service.eligibility_rule = "none"
    service.save()
    return request_create(
        actor=operator,
        service=service,
        full_name="Тестова Дана",
        phone="+7 701 555 44 33",
        channel="phone",
    )


def _short_path(sms: Notification) -> str:
    url = next(word for word in sms.body.split() if word.startswith(HOST))
    return url.removeprefix(HOST)


def test_operator_booking_sms_link_opens_the_private_page(
    client,
    settings,
    service,
    operator,
    consultant,
    phone_request,
    django_capture_on_commit_callbacks,
):
    settings.OPORA_PUBLIC_URL = HOST
    slot = make_slot(service, consultant, future_working_day(service), dt.time(15))
    with translation.override("ru"), django_capture_on_commit_callbacks(execute=True):
        scheduling.booking_create(actor=operator, request=phone_request, slot=slot)
    sms = Notification.objects.get(channel="sms")
    path = _short_path(sms)
    response = client.get(path)
    assert response.status_code == 302
    assert response["Location"] == f"/s/r/{phone_request.public_token}/"
    assert response["Cache-Control"] == "no-store"
    page = client.get(response["Location"])
    assert page.status_code == 200 and phone_request.public_code in page.content.decode()
    # Read from an SMS and typed: lower case and a trailing slash are forgiven.
    assert client.get(path.lower() + "/")["Location"] == response["Location"]


def test_inside_the_join_window_the_link_opens_the_room(
    client, settings, service, consultant, phone_request
):
    settings.OPORA_PUBLIC_URL = HOST
    now = timezone.localtime(timezone.now(), service.tz)
    starts = (now + dt.timedelta(minutes=10)).replace(second=0, microsecond=0)
    slot = make_slot(service, consultant, starts.date(), starts.time())
    booking = Booking.objects.create(slot=slot, request=phone_request)
    url = scheduling.booking_client_link(request=phone_request, booking=booking)
    response = client.get(url.removeprefix(HOST))
    consultation = Consultation.objects.get(booking=booking)
    assert response.status_code == 302
    assert response["Location"] == f"/c/{consultation.client_token}/"
    assert client.get(response["Location"]).status_code == 200

    # Once the booking is cancelled the same link leads to the private page again.
    Booking.objects.filter(pk=booking.pk).update(status=Booking.Status.CANCELLED)
    again = client.get(url.removeprefix(HOST))
    assert again["Location"] == f"/s/r/{phone_request.public_token}/"


def test_unknown_and_expired_codes_get_a_kind_404(client, service, consultant, phone_request):
    slot = make_slot(service, consultant, future_working_day(service), dt.time(15))
    booking = Booking.objects.create(slot=slot, request=phone_request)
    url = scheduling.booking_client_link(request=phone_request, booking=booking)
    code = ShortLink.objects.get().code
    ShortLink.objects.update(expires_at=timezone.now() - dt.timedelta(minutes=1))
    with translation.override("ru"):
        for path in (
            url[url.index("/l/") :],
            "/l/NOSUCHCODE22",
            "/l/" + "Z" * 40,
        ):
            response = client.get(path, HTTP_ACCEPT_LANGUAGE="ru")
            assert response.status_code == 404, path
            assert "Эту страницу нельзя открыть" in response.content.decode()
        # A NUL never reaches the look-up: the input boundary answers 400 and says why.
        response = client.get("/l/%00<script>", HTTP_ACCEPT_LANGUAGE="ru")
        assert response.status_code == 400
        assert "управляющий символ" in response.content.decode()
    assert len(code) >= 10 and not set(code) & set("01OIl")
