"""The dashboards' figures against hand-counted data; the authority sees no person on the page or
in an export; every export opens; the late-booking sweep tells the head once."""

import csv
import datetime as dt
import io
import itertools
from typing import Any

import openpyxl
import pytest
from django.test import Client as WebClient
from django.urls import reverse
from django.utils import timezone

from opora.accounts.models import Role
from opora.demo.factories import make_consultant, make_user
from opora.intake.models import Client, ServiceRequest
from opora.journals import dashboards as d
from opora.scheduling.models import Booking
from opora.scheduling.tests.factories import make_slot

pytestmark = pytest.mark.django_db

DAY1 = dt.date(2026, 3, 2)  # a Monday
DAY2 = dt.date(2026, 3, 3)
SECRET_NAME = "Секретова"
SECRET_IIN = "850101300123"
SECRET_PHONE = "+77010009999"
_codes = itertools.count(100)


def _at(service, day: dt.date, hour: int = 10) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), tzinfo=service.tz)


def _request(service, day, *, client=None, **kw) -> ServiceRequest:
    kw.setdefault("public_code", f"DSH{next(_codes)}")
    fields = {"full_name": f"{SECRET_NAME} Мария", "iin": SECRET_IIN, "phone": SECRET_PHONE}
    if kw.get("is_anonymous"):
        fields = {"full_name": "", "iin": "", "phone": ""}
    fields.update(kw)
    r = ServiceRequest.objects.create(service=service, client=client, **fields)
    ServiceRequest.objects.filter(pk=r.pk).update(created_at=_at(service, day))
    r.refresh_from_db()
    return r


def _book(service, consultant, request, *, made: dt.date, slot_day: dt.date) -> Booking:
    slot = make_slot(service, consultant, slot_day, dt.time(15), is_booked=True)
    booking = Booking.objects.create(slot=slot, request=request)
    Booking.objects.filter(pk=booking.pk).update(created_at=_at(service, made, 11))
    return booking


@pytest.fixture
def data(service):
    consultant = make_consultant(service, last_name="Консультантова")
    person = Client.objects.create(
        last_name=SECRET_NAME, first_name="Мария", iin=SECRET_IIN, phone=SECRET_PHONE
    )
    r1 = _request(service, DAY1, client=person, channel="phone")
    r2 = _request(service, DAY1, client=person, channel="phone")
    r3 = _request(service, DAY2, client=person, channel="email")
    r4 = _request(
        service,
        DAY2,
        is_anonymous=True,
        channel="portal",
        status="refused",
        refusal_ground="out_of_competence",
    )
    # r1: booked on day 13 for day 14 (late, and served past day 10); r2: booked on day 3 for
    # day 6 (in time); r3: never booked (past its 10 days today); r4 refused (owed nothing).
    _book(
        service,
        consultant,
        r1,
        made=DAY1 + dt.timedelta(days=12),
        slot_day=DAY1 + dt.timedelta(days=13),
    )
    _book(
        service,
        consultant,
        r2,
        made=DAY1 + dt.timedelta(days=2),
        slot_day=DAY1 + dt.timedelta(days=5),
    )
    return {"r1": r1, "r2": r2, "r3": r3, "r4": r4, "consultant": consultant}


def _filter(service, **kw):
    defaults: dict[str, Any] = {
        "date_from": DAY1,
        "date_to": DAY1 + dt.timedelta(days=29),
        "service_ids": (service.pk,),
        "persons": True,
    }
    defaults.update(kw)
    return d.DashboardFilter(**defaults)


def test_requests_per_day_count_distinct_persons(service, data):
    with timezone.override(service.tz):
        rows = d.requests_per_day(_filter(service))
    assert [(r["day"], r["requests"], r["persons"]) for r in rows] == [
        (DAY1, 2, 1),  # one person, two requests
        (DAY2, 2, 2),  # the same person again, and an anonymous one
    ]


def test_requests_per_channel(service, data):
    rows = {r["channel"]: r["requests"] for r in d.requests_per_channel(_filter(service))}
    assert rows == {"phone": 2, "email": 1, "portal": 1}


def test_filters_cut_the_period_and_the_region(service, data):
    with timezone.override(service.tz):
        assert sum(r["requests"] for r in d.requests_per_day(_filter(service, date_to=DAY1))) == 2
    assert d.requests_per_channel(_filter(service, service_ids=())) == []


def test_booking_lead_time_and_late_bookings(service, data):
    with timezone.override(service.tz):
        f = _filter(service)
        assert {r["lead_days"]: r["requests"] for r in d.booking_lead_time(f)} == {2: 1, 12: 1}
        assert list(d.late_bookings(f).values_list("pk", flat=True)) == [data["r1"].pk]


def test_sla_service_within_ten_days(service, data):
    with timezone.override(service.tz):
        sla = d.sla_service_within_days(_filter(service), today=DAY1 + dt.timedelta(days=40))
    assert (sla.due, sla.met, sla.missed) == (3, 1, 2)
    assert sorted(m["pk"] for m in sla.misses) == sorted([data["r1"].pk, data["r3"].pk])
    # Before r3's tenth day it is not yet due.
    with timezone.override(service.tz):
        early = d.sla_service_within_days(_filter(service), today=DAY2 + dt.timedelta(days=5))
    assert (early.due, early.met) == (2, 1)


def test_authority_gets_counts_without_persons(service, data):
    with timezone.override(service.tz):
        sla = d.sla_service_within_days(_filter(service, persons=False))
        load = d.consultant_load(_filter(service, persons=False))
    assert sla.missed == 2 and sla.misses == []
    assert all("Консультантова" not in r["consultant"] for r in load)


def _authority(service):
    return make_user(Role.AUTHORITY, organisation=service.authority)


def _query():
    return {"date_from": DAY1.isoformat(), "date_to": (DAY1 + dt.timedelta(days=29)).isoformat()}


def test_authority_page_and_exports_show_no_person(service, data):
    web = WebClient()
    web.force_login(_authority(service))
    url = reverse("dashboards")
    response = web.get(url, _query())
    assert response.status_code == 200
    html = response.content.decode()
    assert "Заявки по каналам" in html and "Сроки и нормативы" in html
    contents = [html]
    for key in ("per-day", "per-channel", "kinds", "topics", "regions", "load", "lead", "sla"):
        for fmt in ("csv", "xlsx"):
            r = web.get(url, {**_query(), "export": fmt, "chart": key})
            assert r.status_code == 200, (key, fmt)
            if fmt == "csv":
                contents.append(r.content.decode())
            else:
                book = openpyxl.load_workbook(io.BytesIO(r.content))
                contents.append(
                    " ".join(str(c.value) for row in book.active.iter_rows() for c in row)
                )
    for text in contents:
        for secret in (
            SECRET_NAME,
            SECRET_IIN,
            SECRET_PHONE,
            "Консультантова",
            data["r1"].public_code or "\0",
        ):
            assert secret not in text


def test_authority_sees_only_services_it_supervises(service, data):
    from opora.scheduling.tests.factories import other_service

    other = other_service(service, authority=None)
    authority = _authority(service)
    assert list(d.visible_services(authority)) == [service]
    assert other not in d.visible_services(authority)


def test_head_sees_the_list_behind_a_miss_and_exports_open(service, data, head):
    web = WebClient()
    web.force_login(head)
    url = reverse("dashboards")
    response = web.get(url, _query())
    assert response.status_code == 200
    html = response.content.decode()
    assert data["r3"].public_code and data["r3"].public_code in html
    assert 'role="img"' in html and "<desc" in html
    r = web.get(url, {**_query(), "export": "csv", "chart": "per-channel"})
    rows = list(csv.reader(io.StringIO(r.content.decode())))
    assert rows[0] == ["Канал", "Заявки"] and len(rows) == 4
    r = web.get(url, {**_query(), "export": "xlsx", "chart": "per-day"})
    sheet = openpyxl.load_workbook(io.BytesIO(r.content)).active
    assert sheet.max_row == 3


def test_impossible_period_names_the_problem(service, head):
    web = WebClient()
    web.force_login(head)
    response = web.get(reverse("dashboards"), {"date_from": "2026-03-10", "date_to": "2026-03-01"})
    assert response.status_code == 400


def test_operator_and_consultant_are_refused(service, operator, consultant):
    for user in (operator, consultant):
        web = WebClient()
        web.force_login(user)
        assert web.get(reverse("dashboards")).status_code == 403


def test_late_booking_sweep_tells_each_head_once(service, data, head):
    from opora.journals.alerts import late_booking_alert
    from opora.notifications.models import Notification

    head.email = "head@example.org"
    head.save(update_fields=["email"])
    make_user(Role.HEAD, service=service, email="")  # no address: nobody to tell
    now = _at(service, DAY1 + dt.timedelta(days=13))
    assert late_booking_alert(now=now) == 1
    assert late_booking_alert(now=now) == 0
    notes = Notification.objects.filter(kind="late_booking")
    assert [(n.recipient, n.subject_id) for n in notes] == [
        ("head@example.org", str(data["r1"].pk))
    ]
    assert data["r1"].public_code in notes[0].body and SECRET_NAME not in notes[0].body
    # Long after the booking the sweep no longer looks at it.
    assert late_booking_alert(now=now + dt.timedelta(days=30)) == 0


def test_authority_cannot_ask_for_a_service_it_does_not_supervise(service, data):
    from opora.scheduling.tests.factories import other_service

    other = other_service(service, authority=None)
    web = WebClient()
    web.force_login(_authority(service))
    response = web.get(
        reverse("dashboards"),
        {**_query(), "service": other.pk, "export": "csv", "chart": "per-channel"},
    )
    assert response.status_code == 400
