"""Intake reads: client search, one request, the day's requests for the hand-off, request lists."""

import datetime as dt

import pytest

from opora.accounts.models import Role
from opora.core.errors import NotFound, PermissionDenied
from opora.core.models import Service
from opora.demo.factories import make_organisation, make_user
from opora.intake.models import Client, ServiceRequest
from opora.intake.selectors import (
    client_search,
    request_get,
    requests_list,
    requests_registered_on,
)
from opora.registry.iin import make_iin

pytestmark = pytest.mark.django_db


def iin(birth: dt.date, sex: str = "F") -> str:
    return next(v for s in range(100) if (v := make_iin(birth, sex, s)) is not None)


@pytest.fixture
def other_service(service):
    org = make_organisation(name="Районный отдел (синтетический)", country="RU")
    return Service.objects.create(
        code="ru-district",
        name="Районная служба",
        country="RU",
        time_zone="Europe/Moscow",
        holiday_calendar="RU",
        intake_organisation=org,
        provider_organisation=org,
    )


def client_with_request(service, *, last, first, patronymic="", iin_=None, phone=""):
    client = Client.objects.create(
        last_name=last, first_name=first, patronymic=patronymic, iin=iin_, phone=phone
    )
    ServiceRequest.objects.create(
        service=service,
        client=client,
        full_name=client.full_name,
        iin=iin_ or "",
        phone=phone,
    )
    return client


@pytest.fixture
def clients(service):
    return {
        "semenova": client_with_request(
            service,
            last="Семёнова",
            first="Алёна",
            iin_=iin(dt.date(1985, 3, 4)),
            phone="+77012345678",
        ),
        "abdrakhmanova": client_with_request(
            service, last="Әбдірахманова", first="Айгүл", patronymic="Серікқызы"
        ),
        "semenov": client_with_request(service, last="Семенов", first="Иван", phone="87019998877"),
        "ivanova": client_with_request(service, last="Иванова", first="Мария"),
    }


def names(found):
    return [c.last_name for c in found]


def test_search_by_iin(operator, clients):
    target = clients["semenova"]
    assert client_search(actor=operator, query=target.iin) == [target]
    assert client_search(actor=operator, query=f"{target.iin[:6]} {target.iin[6:]}") == [target]
    assert client_search(actor=operator, query=iin(dt.date(1950, 1, 1))) == []


def test_search_by_phone_in_any_notation(operator, clients):
    assert client_search(actor=operator, query="8 701 234-56-78") == [clients["semenova"]]
    assert client_search(actor=operator, query="+7 (701) 999 88 77") == [clients["semenov"]]
    # A fragment of a number is not searchable: phones are encrypted, indexed whole.
    assert client_search(actor=operator, query="99988") == []


def test_search_by_name_is_tolerant(operator, clients):
    assert names(client_search(actor=operator, query="семенов")) == ["Семенов", "Семёнова"]
    assert names(client_search(actor=operator, query="СЕМЁН")) == ["Семенов", "Семёнова"]
    assert names(client_search(actor=operator, query="Семенова Алена")) == ["Семёнова"]
    assert names(client_search(actor=operator, query="семенов ив")) == ["Семенов"]
    assert names(client_search(actor=operator, query="абдирахман")) == ["Әбдірахманова"]
    # Names are encrypted: a word is found by its beginning, not by a part inside it.
    assert client_search(actor=operator, query="рахман") == []
    assert names(client_search(actor=operator, query="Әбдірахманова Айгүл")) == ["Әбдірахманова"]
    assert client_search(actor=operator, query="Петров") == []
    assert client_search(actor=operator, query="   ") == []


def test_search_limit_and_recent_requests(operator, clients, service):
    assert len(client_search(actor=operator, query="се", limit=1)) == 1
    found = client_search(actor=operator, query="Иванова")[0]
    assert [r.service for r in found.requests.all()] == [service]


def test_search_sees_only_the_actors_services(operator, clients, other_service):
    stranger = client_with_request(other_service, last="Иванова", first="Ольга")
    assert names(client_search(actor=operator, query="Иванова")) == ["Иванова"]
    assert stranger not in client_search(actor=operator, query="Иванова")
    admin = make_user(Role.ADMIN)
    assert len(client_search(actor=admin, query="Иванова")) == 2


def test_authority_never_sees_personal_data(service, clients):
    authority = make_user(Role.AUTHORITY, service=service)
    with pytest.raises(PermissionDenied):
        client_search(actor=authority, query="Иванова")
    with pytest.raises(PermissionDenied):
        requests_list(actor=authority, service=service)


def test_request_get(operator, clients, service, other_service):
    request = ServiceRequest.objects.filter(service=service).first()
    assert request_get(actor=operator, pk=request.pk) == request
    foreign = ServiceRequest.objects.create(service=other_service, full_name="Петров Пётр")
    with pytest.raises(NotFound):
        request_get(actor=operator, pk=foreign.pk)
    with pytest.raises(NotFound):
        request_get(actor=operator, pk=999999)


def test_requests_registered_on_the_services_local_day(service):
    # Asia/Almaty is UTC+5: the local day 1 June 2025 runs 31 May 19:00 – 1 June 19:00 UTC.
    def at(utc: dt.datetime) -> ServiceRequest:
        request = ServiceRequest.objects.create(service=service, full_name="Клиент Тест")
        ServiceRequest.objects.filter(pk=request.pk).update(created_at=utc)
        return request

    before = at(dt.datetime(2025, 5, 31, 18, 59, 59, tzinfo=dt.UTC))
    first = at(dt.datetime(2025, 5, 31, 19, 0, tzinfo=dt.UTC))
    last = at(dt.datetime(2025, 6, 1, 18, 59, 59, tzinfo=dt.UTC))
    after = at(dt.datetime(2025, 6, 1, 19, 0, tzinfo=dt.UTC))
    day = list(requests_registered_on(service=service, date=dt.date(2025, 6, 1)))
    assert day == [first, last]
    assert before not in day and after not in day


def test_requests_list(operator, service, other_service, clients):
    request = ServiceRequest.objects.filter(service=service).first()
    ServiceRequest.objects.filter(pk=request.pk).update(
        status="refused", refusal_ground="obscene_language"
    )
    assert requests_list(actor=operator, service=service).count() == 4
    assert list(requests_list(actor=operator, service=service, status="refused")) == [request]
    with pytest.raises(PermissionDenied):
        requests_list(actor=operator, service=other_service)


def test_admin_lists_requests_without_personal_data(client, clients):
    from django.contrib.auth import get_user_model

    from opora.core.models import AuditEvent

    admin = get_user_model().objects.create_superuser("root", "root@example.org", "pw-Strong-1")
    client.force_login(admin)
    html = client.get("/admin/intake/servicerequest/").content.decode()
    assert "Иванова" not in html and "Семёнова" not in html
    target = clients["ivanova"]
    page = client.get(f"/admin/intake/client/{target.pk}/change/")
    assert page.status_code == 200 and "Иванова" in page.content.decode()
    assert AuditEvent.objects.filter(event_type="intake.client_viewed").count() == 1
    assert client.get("/admin/intake/client/add/").status_code == 403
