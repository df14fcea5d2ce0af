"""Every notice carries what the person needs to act, in one tap: the SMS within two parts with
the short link, the e-mail with a button, the link in reminders, the operator's script true to
what the private page offers."""

import datetime as dt

import pytest
from django.core import mail
from django.core.mail import EmailMultiAlternatives
from django.utils import timezone, translation

from opora.accounts.models import Role
from opora.demo.factories import make_district_service, make_service_1411, make_user
from opora.demo.management.commands.demo import DISTRICT_SERVICE
from opora.notifications.models import Notification, ShortLink
from opora.notifications.sms import sms_segments
from opora.scheduling import services
from opora.scheduling.reminders import reminders_send_due
from opora.scheduling.scripts import booking_confirmation_script
from opora.scheduling.tests.factories import future_working_day, make_request, make_slot

pytestmark = pytest.mark.django_db

HOST = "https://opora.example.kz"
KINDS = ["booking_created", "booking_rescheduled", "booking_cancelled"]
REMINDERS = ["reminder_day", "reminder_hour"]


def _demo_1411(**kw):
    # The demo's 1411 service: its long name, self-booking on.
    return make_service_1411(
        name="Служба онлайн поддержки 1411 (демо)", allows_self_booking=True, **kw
    )


def _demo_district(**kw):
    fields = {k: v for k, v in DISTRICT_SERVICE.items() if k not in ("country",)}
    return make_district_service(**{**fields, **kw})


SERVICES = {
    "1411-demo": _demo_1411,
    "1411-phone-only": lambda: make_service_1411(),  # no self-booking: "call 1411" to change
    "district-demo": _demo_district,
    "district-phone-only": lambda: _demo_district(allows_self_booking=False),
}


@pytest.fixture(params=list(SERVICES))
def svc(request):
    return SERVICES[request.param]()


@pytest.fixture
def people(svc):
    operator = make_user(Role.OPERATOR, service=svc, organisation=svc.intake_organisation)
    consultant = make_user(
        Role.CONSULTANT,
        service=svc,
        organisation=svc.provider_organisation,
        last_name="Соцработникова",
        first_name="Ольга",
        patronymic="Ивановна",
    )
    return operator, consultant


def _slots(svc, consultant):
    day = future_working_day(svc, days_ahead=4)
    opens = svc.consultation_opens
    first = make_slot(svc, consultant, day, opens)
    second = make_slot(
        svc, consultant, day, (dt.datetime.combine(day, opens) + dt.timedelta(hours=1)).time()
    )
    return first, second


@pytest.mark.parametrize("language", ["ru", "kk"])
def test_every_sms_notice_fits_two_parts_with_the_link(
    svc, people, language, settings, django_capture_on_commit_callbacks
):
    settings.OPORA_PUBLIC_URL = HOST
    settings.LANGUAGE_CODE = language  # the reminders are written in the site's language
    operator, consultant = people
    first, second = _slots(svc, consultant)
    req = make_request(svc, email="parent@example.org")
    with translation.override(language), django_capture_on_commit_callbacks(execute=True):
        booking = services.booking_create(actor=operator, request=req, slot=first)
        moved = services.booking_reschedule(actor=operator, booking=booking, slot=second)
        starts = moved.slot.starts_at
        assert reminders_send_due(now=starts - dt.timedelta(hours=23)) == 1
        assert reminders_send_due(now=starts - dt.timedelta(minutes=50)) == 1
        services.booking_cancel(actor=operator, booking=moved)
    link = ShortLink.objects.get()
    url = f"{HOST}/l/{link.code}"
    sms = {n.kind: n for n in Notification.objects.filter(channel="sms")}
    assert sorted(sms) == sorted(KINDS + REMINDERS)
    local = timezone.localtime(starts, svc.tz)
    for kind, n in sms.items():
        assert sms_segments(n.body) <= 2, (kind, len(n.body), n.body)
        assert url in n.body, kind  # the same short link in every notice
        assert local.strftime("%H:%M") in n.body or kind == "booking_created", kind
        if kind not in ("reminder_hour",):
            assert "." in n.body and any(ch.isdigit() for ch in n.body)
    assert moved.slot.starts_at.astimezone(svc.tz).strftime("%d.%m") in sms["reminder_day"].body
    # Cyrillic SMS are UCS-2: the whole notice stays within 2 × 67 characters.
    assert all(len(n.body) <= 134 for n in sms.values())


def test_confirmation_carries_service_time_zone_specialist_link_and_change(
    settings, django_capture_on_commit_callbacks
):
    settings.OPORA_PUBLIC_URL = HOST
    svc = _demo_district()
    operator = make_user(Role.OPERATOR, service=svc, organisation=svc.intake_organisation)
    consultant = make_user(
        Role.CONSULTANT,
        service=svc,
        organisation=svc.provider_organisation,
        last_name="Психологова",
    )
    first, _second = _slots(svc, consultant)
    req = make_request(svc, email="parent@example.org")
    with translation.override("ru"), django_capture_on_commit_callbacks(execute=True):
        services.booking_create(actor=operator, request=req, slot=first)
    code = ShortLink.objects.get().code
    url = f"{HOST}/l/{code}"
    sms = Notification.objects.get(channel="sms")
    assert "Дистанционное консультирование" in sms.body  # the service, shortened if need be
    assert "10:00 мск" in sms.body and "Психологова" in sms.body
    assert "Войти, изменить" in sms.body and url in sms.body

    (message,) = mail.outbox
    assert isinstance(message, EmailMultiAlternatives)
    assert svc.name in message.body and "10:00 (московское время)" in message.body
    assert consultant.display_name in message.body
    assert f"перенести или отменить запись — на странице записи: {url}" in message.body
    html, mimetype = message.alternatives[0]
    assert mimetype == "text/html" and isinstance(html, str)
    assert f'href="{url}"' in html and "Открыть мою запись" in html
    row = Notification.objects.get(channel="email")
    assert row.html_body == html and row.action_url == url  # the row is the whole message
    (ics_name, ics, _mime) = message.attachments[0]
    ics = ics.decode() if isinstance(ics, bytes) else ics
    assert ics_name == "consultation.ics" and url in ics.replace("\r\n ", "")


def test_reminders_carry_the_link(settings, django_capture_on_commit_callbacks):
    settings.OPORA_PUBLIC_URL = HOST
    svc = make_service_1411()
    operator = make_user(Role.OPERATOR, service=svc, organisation=svc.intake_organisation)
    consultant = make_user(Role.CONSULTANT, service=svc, organisation=svc.provider_organisation)
    first, _second = _slots(svc, consultant)
    req = make_request(svc, email="parent@example.org")
    with django_capture_on_commit_callbacks(execute=True):
        booking = services.booking_create(actor=operator, request=req, slot=first)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        reminders_send_due(now=booking.slot.starts_at - dt.timedelta(hours=20))
        reminders_send_due(now=booking.slot.starts_at - dt.timedelta(minutes=40))
    url = f"{HOST}/l/{ShortLink.objects.get().code}"
    assert len(mail.outbox) == 2
    for message in mail.outbox:
        assert isinstance(message, EmailMultiAlternatives)
        assert url in message.body and f'href="{url}"' in str(message.alternatives[0][0])
    assert "завтра" in mail.outbox[0].body
    second = mail.outbox[1]
    assert isinstance(second, EmailMultiAlternatives)
    assert "Подключиться к консультации" in str(second.alternatives[0][0])
    for n in Notification.objects.filter(channel="sms", kind__startswith="reminder"):
        assert url in n.body and sms_segments(n.body) <= 2
    # 1411 without self-booking: changes go through the phone.
    assert "тел. 1411" in Notification.objects.get(channel="sms", kind="reminder_day").body


def test_a_request_without_a_private_page_gets_one_with_its_first_notice(
    service, operator, consultant, django_capture_on_commit_callbacks
):
    first, _second = _slots(service, consultant)
    req = make_request(service)  # stored without a token, as before private pages existed
    assert not req.public_token
    services.booking_create(actor=operator, request=req, slot=first)
    req.refresh_from_db()
    assert req.public_token and len(req.public_token) >= 40


class TestOperatorScript:
    def test_says_the_link_comes_now_and_what_the_page_offers(self, people, svc):
        operator, consultant = people
        first, _second = _slots(svc, consultant)
        booking = services.booking_create(actor=operator, request=make_request(svc), slot=first)
        with translation.override("ru"):
            script = booking_confirmation_script(booking)
        assert "Сейчас вам придёт SMS" in script and "в напоминаниях" in script
        assert "за день до" not in script.replace("за день и за час", "")
        if svc.allows_self_booking:
            assert "перенести запись на другое время или отменить" in script
        else:
            assert "перенести" not in script.split("\n")[2]
            assert svc.change_instructions in script

    def test_a_client_without_contacts_is_not_promised_an_sms(self, people, svc):
        """An anonymous portal request (no phone, e-mail or messenger): nothing is sent, so the
        script says so and points to the request's private page."""
        operator, consultant = people
        first, _second = _slots(svc, consultant)
        # (A service that checks eligibility books only a request with an IIN.)
        who = {} if svc.requires_eligibility else {"full_name": "", "iin": "", "is_anonymous": True}
        req = make_request(svc, phone="", channel="portal", **who)
        booking = services.booking_create(actor=operator, request=req, slot=first)
        assert not Notification.objects.exists()
        with translation.override("ru"):
            script = booking_confirmation_script(booking)
        assert "SMS" not in script and "ссылк" not in script.lower()
        assert "ничего не отправляется" in script and "личной странице заявки" in script
        if svc.allows_self_booking:
            assert "перенести запись на другое время или отменить" in script

    def test_a_client_with_only_an_email_is_promised_a_letter(self, people, svc):
        operator, consultant = people
        first, _second = _slots(svc, consultant)
        req = make_request(svc, phone="", email="parent@example.org", channel="portal")
        booking = services.booking_create(actor=operator, request=req, slot=first)
        with translation.override("ru"):
            script = booking_confirmation_script(booking)
        assert "SMS" not in script
        assert "Сейчас вам придёт письмо" in script and "в напоминаниях" in script
