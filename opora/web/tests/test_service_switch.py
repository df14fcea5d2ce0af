"""A staff member of several services chooses the one they work in (remembered in the browser and
on their account, checked on every request, audited), and the lists can show all their services."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from opora.accounts.models import Role, User
from opora.accounts.services import SERVICE_CHOSEN, staff_service_choose
from opora.core.errors import PermissionDenied
from opora.core.models import AuditEvent, Service
from opora.demo.factories import (
    make_consultant,
    make_district_service,
    make_service_1411,
    make_user,
)
from opora.intake.models import ServiceRequest
from opora.intake.services import request_create
from opora.mail.tests.factories import make_written_service
from opora.scheduling.models import Booking
from opora.web.selectors import SESSION_SERVICE_KEY, staff_service, staff_services
from opora.web.tests.conftest import make_slots

pytestmark = pytest.mark.django_db


@pytest.fixture
def service(db) -> Service:
    """The 1411 profile without the registry check, so a phone request needs no IIN here."""
    return make_service_1411(eligibility_rule=Service.Eligibility.NONE)


def _foreign(code: str, **kw) -> Service:
    """A service of other people (its own organisation)."""
    return make_written_service(
        code=code, name=f"Чужая служба {code}", allows_anonymous=True, channels=["portal"], **kw
    )


@pytest.fixture
def district(service) -> Service:
    return make_district_service(code="mordovia", name="Районная служба Саранска")


@pytest.fixture
def both(service, district) -> User:
    """An operator of the 1411 service and the district service."""
    user = make_user(Role.OPERATOR, service=service)
    user.services.add(district)
    return user


def _anonymous_request(service: Service) -> ServiceRequest:
    return request_create(
        actor=None,
        service=service,
        full_name="",
        phone="+7 900 000 00 01",
        is_anonymous=True,
        channel="portal",
    )


def _phone_request(service: Service, actor: User, name: str) -> ServiceRequest:
    return request_create(
        actor=actor, service=service, full_name=name, phone="+7 701 000 00 01", channel="phone"
    )


def _switch(client: Client, service: Service, next_url: str = "/operator/queue/"):
    return client.post(reverse("service_switch"), {"service": service.pk, "next": next_url})


def _chosen_events(user: User) -> list[AuditEvent]:
    return list(
        AuditEvent.objects.filter(event_type=SERVICE_CHOSEN, subject_id=str(user.pk)).order_by("pk")
    )


# --- choosing ------------------------------------------------------------------------------------


def test_the_first_service_until_one_is_chosen(both, service, district):
    assert [s.pk for s in staff_services(both)] == [service.pk, district.pk]
    assert staff_service(both) == service


def test_switching_is_remembered_in_the_browser_and_after_signing_out(
    client, both, service, district
):
    client.force_login(both)
    response = _switch(client, district, "/operator/queue/?status=new")

    assert response.status_code == 303
    assert response["Location"] == "/operator/queue/?status=new"  # back to the same page
    assert client.session[SESSION_SERVICE_KEY] == district.pk
    both.refresh_from_db()
    assert both.current_service == district
    page = client.get(reverse("operator_queue")).content.decode()
    assert f'<option value="{district.pk}" selected>' in page
    [event] = _chosen_events(both)
    assert event.actor == both
    assert event.extra == {
        "service_id": district.pk,
        "previous_service_id": service.pk,
        "via": "menu",
    }

    # A new sign-in (a new session) starts in the service chosen last.
    client.logout()
    other_browser = Client()
    other_browser.force_login(both)
    page = other_browser.get(reverse("operator_queue")).content.decode()
    assert f'<option value="{district.pk}" selected>' in page


def test_a_service_the_user_left_or_that_closed_falls_back_to_the_first(
    client, both, service, district
):
    client.force_login(both)
    _switch(client, district)
    assert staff_service(both, client.session) == district

    district.is_active = False
    district.save()
    both.refresh_from_db()
    assert staff_service(both, client.session) == service
    district.is_active = True
    district.save()

    both.services.remove(district)
    both.refresh_from_db()
    assert staff_service(both, client.session) == service
    page = client.get(reverse("operator_queue")).content.decode()
    # One service left: no switcher, the service is named.
    assert 'id="service-select"' not in page
    assert 'id="current-service"' in page and service.name in page


def test_switching_to_a_service_of_someone_else_is_forbidden(client, both, service):
    foreign = _foreign("foreign")
    closed = _foreign("closed", is_active=False)
    both.services.add(closed)
    client.force_login(both)

    for target in (foreign, closed):
        assert _switch(client, target).status_code == 403
    assert client.post(reverse("service_switch"), {"service": "x"}).status_code == 403
    assert SESSION_SERVICE_KEY not in client.session
    both.refresh_from_db()
    assert both.current_service is None and not _chosen_events(both)
    with pytest.raises(PermissionDenied):
        staff_service_choose(actor=both, service=foreign)
    with pytest.raises(PermissionDenied):
        staff_service_choose(actor=both, service=closed)


def test_switching_needs_a_post_and_a_signed_in_staff_member(client, both, district):
    assert _switch(client, district).status_code == 302  # to the sign-in page
    client.force_login(both)
    assert client.get(reverse("service_switch")).status_code == 405
    authority = make_user(Role.AUTHORITY)
    client.force_login(authority)
    assert _switch(client, district).status_code == 403


@pytest.mark.parametrize(
    "next_url",
    ["https://evil.example/phish", "//evil.example/", "/no/such/page/", "javascript:alert(1)"],
)
def test_switching_never_redirects_off_the_site(client, both, district, next_url):
    client.force_login(both)
    response = _switch(client, district, next_url)
    assert response.status_code == 303 and response["Location"] == reverse("home")


def test_switching_away_from_a_request_page_goes_to_the_start_page(client, both, service, district):
    mine = _phone_request(service, both, "Сидорова Анна")
    client.force_login(both)
    response = _switch(client, district, reverse("operator_request", args=[mine.pk]))
    assert response["Location"] == reverse("home")  # not back: it would switch back
    response = _switch(client, service, reverse("operator_request", args=[mine.pk]))
    assert response["Location"] == reverse("operator_request", args=[mine.pk])


def test_the_header_names_the_service_on_every_staff_page(client, service, district):
    consultant = make_consultant(service)
    consultant.services.add(district)
    client.force_login(consultant)
    for url in (reverse("consultant_day"), reverse("referral_list")):
        page = client.get(url).content.decode()
        assert 'id="service-form"' in page and f'action="{reverse("service_switch")}"' in page
        assert f'<option value="{service.pk}" selected>' in page
        assert district.name in page


# --- a request of another service --------------------------------------------------------------


def test_opening_a_request_of_another_service_switches_to_it(client, both, service, district):
    theirs = _anonymous_request(district)
    client.force_login(both)
    response = client.get(reverse("operator_request", args=[theirs.pk]))

    assert response.status_code == 200
    assert response.wsgi_request.service == district
    assert client.session[SESSION_SERVICE_KEY] == district.pk
    assert f'<option value="{district.pk}" selected>' in response.content.decode()
    [event] = _chosen_events(both)
    assert event.extra["via"] == "record" and event.extra["service_id"] == district.pk


def test_a_request_of_a_service_the_user_does_not_work_for_stays_closed(client, both, service):
    foreign = _foreign("foreign")
    theirs = _anonymous_request(foreign)
    client.force_login(both)
    assert client.get(reverse("operator_request", args=[theirs.pk])).status_code == 404
    assert SESSION_SERVICE_KEY not in client.session and not _chosen_events(both)


def test_booking_a_district_request_offers_the_district_slots(
    client, both, service, district, slot_day
):
    psychologist = make_consultant(district)
    kz_slots = make_slots(service, make_consultant(service), slot_day)
    district_slots = make_slots(district, psychologist, slot_day, hours=(15, 16))
    theirs = _anonymous_request(district)
    client.force_login(both)

    page = client.get(reverse("operator_book", args=[theirs.pk])).content.decode()
    assert f'value="{district_slots[0].pk}"' in page
    assert f'value="{kz_slots[0].pk}"' not in page
    response = client.post(
        reverse("operator_book", args=[theirs.pk]), {"slot": district_slots[0].pk}
    )
    assert response.status_code == 303
    assert Booking.objects.get(request=theirs).slot == district_slots[0]


# --- lists of all my services --------------------------------------------------------------------


def test_the_queue_shows_all_my_services_with_a_service_column(client, both, service, district):
    mine = _phone_request(service, both, "Сидорова Анна")
    theirs = _anonymous_request(district)
    client.force_login(both)

    page = client.get(reverse("operator_queue")).content.decode()
    assert f'id="queue-row-{mine.pk}"' in page and f'id="queue-row-{theirs.pk}"' not in page
    assert 'class="queue-service"' not in page
    assert 'name="scope"' in page

    page = client.get(reverse("operator_queue"), {"scope": "all"}).content.decode()
    assert f'id="queue-row-{mine.pk}"' in page and f'id="queue-row-{theirs.pk}"' in page
    row = page[page.index(f'id="queue-row-{theirs.pk}"') :].split("</tr>")[0]
    assert district.name in row and "Анонимно" in row
    assert page.index(f'id="queue-row-{mine.pk}"') < page.index(f'id="queue-row-{theirs.pk}"')
    # Still only new requests: the choice of services does not widen the status filter.
    ServiceRequest.objects.filter(pk=mine.pk).update(status="booked")
    # The choice is remembered in this browser, also in the live refresh.
    page = client.get(
        reverse("operator_queue"), {"status": "new", "partial": "1"}, HTTP_HX_REQUEST="true"
    ).content.decode()
    assert f'id="queue-row-{theirs.pk}"' in page and f'id="queue-row-{mine.pk}"' not in page
    page = client.get(reverse("operator_queue"), {"scope": "current"}).content.decode()
    assert f'id="queue-row-{theirs.pk}"' not in page


def test_all_my_services_is_never_more_than_my_services(client, both, service):
    foreign = _foreign("foreign")
    theirs = _anonymous_request(foreign)
    single = make_user(Role.OPERATOR, service=service)
    for user in (both, single):
        client.force_login(user)
        page = client.get(reverse("operator_queue"), {"scope": "all"}).content.decode()
        assert f'id="queue-row-{theirs.pk}"' not in page
    assert 'name="scope"' not in page  # one service: nothing to choose


def test_the_written_list_shows_all_my_services(client, settings, tmp_path, service, district):
    from opora.mail.services import inbound_store
    from opora.mail.tests.factories import make_letter, make_mailbox

    settings.MEDIA_ROOT = tmp_path
    kz = service
    kz.channels = ["phone", "email"]
    kz.save()
    head = make_user(Role.HEAD, service=kz)
    head.services.add(district)
    letters = [
        inbound_store(
            mailbox=make_mailbox(s, from_address=f"help{s.pk}@opora.test"),
            raw=make_letter(to=f"help{s.pk}@opora.test", subject=f"Вопрос {s.code}").as_bytes(),
        )[0]
        for s in (kz, district)
    ]
    client.force_login(head)
    page = client.get(reverse("mail:written")).content.decode()
    assert letters[0].request.public_code in page
    assert letters[1].request.public_code not in page

    page = client.get(reverse("mail:written"), {"scope": "all"}).content.decode()
    for letter in letters:
        assert letter.request.public_code in page
    assert district.name in page
    # A letter of the other service opens (and the page works in that service).
    response = client.get(reverse("mail:thread", args=[letters[1].request_id]))
    assert response.status_code == 200 and response.wsgi_request.service == district


def test_my_day_lists_consultations_of_every_service_with_its_service(
    client, service, district, slot_day
):
    from opora.scheduling.services import booking_create

    consultant = make_consultant(service)
    consultant.services.add(district)
    operator = make_user(Role.OPERATOR, service=service)
    operator.services.add(district)
    kz_slot = make_slots(service, consultant, slot_day, hours=(14,))[0]
    ru_slot = make_slots(district, consultant, slot_day, hours=(15,))[0]
    for slot, name in ((kz_slot, "Казахова Айгуль"), (ru_slot, "Русакова Анна")):
        request = _phone_request(slot.service, operator, name)
        booking_create(actor=operator, request=request, slot=slot)

    client.force_login(consultant)
    page = client.get(reverse("consultant_day"), {"date": slot_day.isoformat()}).content.decode()
    rows = page[page.index('id="day-table"') :].split("<tr>")[2:]
    assert len(rows) == 2
    by_name = {("Казахова" in r): r for r in rows}
    assert service.name in by_name[True] and "14:00" in by_name[True]
    # Each time in its own service's zone: 15:00 in Moscow, not 17:00 in Almaty.
    assert district.name in by_name[False] and "15:00" in by_name[False]
    assert "17:00" not in by_name[False]


def test_messenger_conversations_of_every_service_name_their_service(client, service, district):
    from django.utils import timezone

    from opora.messengers.models import ChannelAccount, Conversation

    head = make_user(Role.HEAD, service=service)
    head.services.add(district)
    waiting = {}
    for s in (service, district):
        account = ChannelAccount.objects.create(
            service=s, channel="telegram", slug=f"bot-{s.code}", name="Бот", token="t-123"
        )
        waiting[s.code] = Conversation.objects.create(
            account=account,
            external_chat_id=f"chat-{s.code}",
            display_name=f"Клиент {s.code}",
            awaiting_reply_since=timezone.now(),
        )
    client.force_login(head)
    page = client.get(reverse("messengers:conversations")).content.decode()
    for s in (service, district):
        row = page[page.index(f'id="conversation-{waiting[s.code].pk}"') :].split("</tr>")[0]
        assert s.name in row


def test_the_admin_shows_the_service_chosen_last(admin_client, client, both, district):
    client.force_login(both)
    _switch(client, district)
    page = admin_client.get(reverse("admin:accounts_user_change", args=[both.pk]))
    html = page.content.decode()
    field = html[html.index("field-current_service") :].split("</div>\n")[0:3]
    assert page.status_code == 200 and district.name in "".join(field)


def test_a_page_that_answered_a_form_switches_back_to_the_start_page(client, both):
    client.force_login(both)
    page = client.post(reverse("operator_check"), {"iin": "1", "full_name": ""}).content.decode()
    assert 'id="service-form"' in page
    assert '<input type="hidden" name="next" value="">' in page
    page = client.get(reverse("operator_console")).content.decode()
    assert f'<input type="hidden" name="next" value="{reverse("operator_console")}">' in page
