"""The operator's queue: every new request from every channel in one list, oldest first."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from opora.accounts.models import Role
from opora.core.models import Service
from opora.demo.factories import make_user
from opora.intake.models import ServiceRequest
from opora.intake.services import request_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def open_service(service):
    """The 1411 profile without the registry check, taking anonymous requests (regulation 004)."""
    service.eligibility_rule = "none"
    service.allows_anonymous = True
    service.save()
    return service


def _make(service, actor, *, channel, name="Сидорова Анна", anonymous=False, **kw):
    return request_create(
        actor=actor,
        service=service,
        full_name="" if anonymous else name,
        phone="+7 701 000 00 01",
        channel=channel,
        is_anonymous=anonymous,
        **kw,
    )


def _age(request: ServiceRequest, days: int) -> None:
    ServiceRequest.objects.filter(pk=request.pk).update(
        created_at=timezone.now() - dt.timedelta(days=days)
    )


def test_queue_lists_every_channel_oldest_first_with_code_and_anonymous_mark(
    client, operator, open_service
):
    portal = _make(open_service, operator, channel="portal", name="Портальная Мария")
    email = _make(open_service, operator, channel="email", name="Почтовая Ольга")
    anon = _make(open_service, operator, channel="telegram", anonymous=True)
    phone = _make(open_service, operator, channel="phone", name="Телефонная Ирина")
    _age(email, 3)
    _age(portal, 2)
    _age(anon, 1)
    booked = _make(open_service, operator, channel="phone", name="Записанная Нина")
    ServiceRequest.objects.filter(pk=booked.pk).update(status="booked")

    client.force_login(operator)
    response = client.get(reverse("operator_queue"))
    html = response.content.decode()
    assert response.status_code == 200
    order = [html.index(f'id="queue-row-{r.pk}"') for r in (email, portal, anon, phone)]
    assert order == sorted(order)
    assert f'id="queue-row-{booked.pk}"' not in html  # the queue shows what waits: status new
    count = html[html.index('id="queue-count"') :].split("</p>")[0]
    assert ">4 " in count  # the live count: four waiting
    for r in (email, portal, anon, phone):
        assert r.public_code in html
        assert reverse("operator_request", args=[r.pk]) in html
    anon_row = html[html.index(f'id="queue-row-{anon.pk}"') :]
    anon_row = anon_row[: anon_row.index("</tr>")]
    assert "Анонимно" in anon_row and "Telegram" in anon_row


def test_queue_deadline_hint_written_answer_in_working_days_else_service_days(
    client, operator, open_service
):
    email = _make(open_service, operator, channel="email")
    phone = _make(open_service, operator, channel="phone")
    client.force_login(operator)
    html = client.get(reverse("operator_queue")).content.decode()
    from opora.scheduling.calendar import add_working_days, local_now

    today = local_now(open_service).date()
    written_due = add_working_days(open_service, today, open_service.written_answer_working_days)
    service_due = today + dt.timedelta(days=open_service.service_within_days)
    row = lambda r: html[html.index(f'id="queue-row-{r.pk}"') :].split("</tr>")[0]  # noqa: E731
    assert written_due.strftime("%d.%m.%Y") in row(email)
    assert service_due.strftime("%d.%m.%Y") in row(phone)


def test_queue_filters_by_channel_and_status(client, operator, open_service):
    email = _make(open_service, operator, channel="email")
    phone = _make(open_service, operator, channel="phone")
    ServiceRequest.objects.filter(pk=phone.pk).update(
        status="refused", refusal_ground="obscene_language"
    )
    client.force_login(operator)
    html = client.get(
        reverse("operator_queue"), {"channel": "email", "status": "new"}
    ).content.decode()
    assert f'id="queue-row-{email.pk}"' in html and f'id="queue-row-{phone.pk}"' not in html
    html = client.get(reverse("operator_queue"), {"status": "refused"}).content.decode()
    assert f'id="queue-row-{phone.pk}"' in html and f'id="queue-row-{email.pk}"' not in html
    html = client.get(reverse("operator_queue"), {"status": ""}).content.decode()
    assert f'id="queue-row-{phone.pk}"' in html and f'id="queue-row-{email.pk}"' in html


def test_queue_live_refresh_returns_the_list_fragment(client, operator, open_service):
    _make(open_service, operator, channel="vk")
    client.force_login(operator)
    html = client.get(reverse("operator_queue")).content.decode()
    assert 'hx-trigger="every 30s"' in html
    fragment = client.get(
        reverse("operator_queue"), {"status": "new", "partial": "1"}, HTTP_HX_REQUEST="true"
    ).content.decode()
    assert "<!DOCTYPE" not in fragment
    assert 'id="queue-count"' in fragment and 'id="queue-table"' in fragment


def test_queue_is_scoped_to_the_users_service_and_roles(
    client, operator, head, consultant, open_service
):
    other = Service.objects.create(
        code="ru-district",
        name="Районная служба",
        country="RU",
        time_zone="Europe/Moscow",
        holiday_calendar="RU",
        intake_organisation=open_service.intake_organisation,
        provider_organisation=open_service.provider_organisation,
    )
    stranger = make_user(Role.OPERATOR, service=other)
    mine = _make(open_service, operator, channel="phone")
    theirs = _make(other, stranger, channel="phone")
    client.force_login(operator)
    html = client.get(reverse("operator_queue")).content.decode()
    assert f'id="queue-row-{mine.pk}"' in html and f'id="queue-row-{theirs.pk}"' not in html
    client.force_login(head)
    assert client.get(reverse("operator_queue")).status_code == 200
    client.force_login(consultant)
    assert client.get(reverse("operator_queue")).status_code == 403


def test_console_links_to_the_queue(client, operator, open_service):
    client.force_login(operator)
    html = client.get(reverse("operator_console")).content.decode()
    assert reverse("operator_queue") in html and reverse("referral_list") in html


@pytest.mark.django_db
def test_operator_checks_a_written_request_before_booking(client, operator, service):
    """A letter to a registry-checked service: the page asks for the check, a bad IIN is named."""
    from opora.intake.services import request_create

    req = request_create(
        actor=None,
        service=service,
        full_name="parent@example.org",
        email="parent@example.org",
        channel="email",
        defer_eligibility=True,
    )
    client.force_login(operator)
    page = client.get(f"/operator/requests/{req.pk}/")
    assert b'id="deferred-check"' in page.content and b'id="choose-time"' not in page.content
    r = client.post(
        f"/operator/requests/{req.pk}/check/",
        {"deferred-iin": "123", "deferred-full_name": "Иванова Анна"},
    )
    assert r.status_code == 200 and b"deferred-check-errors" in r.content
    req.refresh_from_db()
    assert req.eligibility_check is None
