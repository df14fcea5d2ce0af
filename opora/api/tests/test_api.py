"""The REST API end to end: eligibility, slots, requests and bookings, with their error statuses."""

import datetime as dt
import itertools
from zoneinfo import ZoneInfo

import holidays
import pytest
from django.test import Client
from django.utils import timezone

from opora.accounts.models import Role, User
from opora.accounts.services import api_token_create
from opora.core.models import AuditEvent, Service
from opora.demo.factories import make_consultant, make_registry_record, make_user
from opora.intake.models import ServiceRequest
from opora.registry.iin import make_iin
from opora.registry.models import EligibilityCheck
from opora.scheduling.models import Booking, Schedule, SchedulePeriod, Slot

ALMATY = ZoneInfo("Asia/Almaty")
KZ_CALENDAR = holidays.country_holidays("KZ")
_serials = itertools.count(100)

MOTHER = {"last_name": "Сейтқалиева", "first_name": "Әйгерім", "patronymic": "Нұрланқызы"}
MOTHER_NAME = "Сейтқалиева Әйгерім Нұрланқызы"


# --- data -----------------------------------------------------------------------------------------


def new_iin(birth_date: dt.date, sex: str) -> str:
    while True:
        iin = make_iin(birth_date, sex, next(_serials))
        if iin:
            return iin


def local_today() -> dt.date:
    return timezone.now().astimezone(ALMATY).date()


def working_day(*, not_before: int = 3) -> dt.date:
    """A weekday at least `not_before` days ahead that is a working day in Kazakhstan."""
    day = local_today() + dt.timedelta(days=not_before)
    while not (day.weekday() < 5 and KZ_CALENDAR.is_working_day(day)):
        day += dt.timedelta(days=1)
    return day


def public_holiday_on_weekday() -> dt.date:
    day = local_today() + dt.timedelta(days=2)
    while not (day.weekday() < 5 and day in KZ_CALENDAR):
        day += dt.timedelta(days=1)
    return day


def make_slot(service: Service, consultant: User, day: dt.date, hour: int = 14) -> Slot:
    schedule, _ = Schedule.objects.get_or_create(
        service=service,
        consultant=consultant,
        month=day.replace(day=1),
        defaults={"status": Schedule.Status.APPROVED},
    )
    SchedulePeriod.objects.get_or_create(
        schedule=schedule, date=day, start_time=dt.time(14), defaults={"end_time": dt.time(18)}
    )
    starts_at = dt.datetime.combine(day, dt.time(hour), tzinfo=ALMATY)
    return Slot.objects.create(
        service=service,
        consultant=consultant,
        schedule=schedule,
        starts_at=starts_at,
        ends_at=starts_at + dt.timedelta(hours=1),
    )


def api_client(user: User) -> Client:
    _, raw = api_token_create(user=user)
    return Client(HTTP_AUTHORIZATION=f"Bearer {raw}", HTTP_ACCEPT_LANGUAGE="en")


def post(client: Client, url: str, data: dict | None = None):
    return client.post(url, data if data is not None else {}, content_type="application/json")


@pytest.fixture
def mother_iin(db) -> str:
    """An active ЦБД benefit recipient raising a disabled child."""
    iin = new_iin(dt.date(1986, 3, 14), "F")
    make_registry_record(
        source="cbd",
        iin=iin,
        child_iin=new_iin(dt.date(2016, 9, 2), "M"),
        relation="мать",
        status="active",
        **MOTHER,
    )
    return iin


@pytest.fixture
def api(operator) -> Client:
    return api_client(operator)


@pytest.fixture
def day() -> dt.date:
    return working_day()


@pytest.fixture
def slot(service, consultant, day) -> Slot:
    return make_slot(service, consultant, day, hour=15)


@pytest.fixture
def service_request(api, service, mother_iin) -> ServiceRequest:
    response = post(
        api,
        "/api/v1/requests",
        {
            "service": "kz-1411",
            "full_name": MOTHER_NAME,
            "iin": mother_iin,
            "phone": "+7 701 234 56 78",
            "region": "KZ-75",
            "reason": "Ребёнок не спит ночами, нужна консультация психолога.",
        },
    )
    assert response.status_code == 201, response.content
    return ServiceRequest.objects.get(pk=response.json()["id"])


# --- eligibility ----------------------------------------------------------------------------------


def test_eligibility_check_confirms_an_active_recipient(api, service, mother_iin):
    response = post(
        api,
        "/api/v1/eligibility/check",
        {"iin": mother_iin, "full_name": "сейткалиева айгерим нурланкызы"},
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["eligible"] is True
    assert body["reason"] == "eligible_cbd"
    assert "your data have been confirmed" in body["message"]
    check = EligibilityCheck.objects.get(pk=body["check_id"])
    assert check.iin == mother_iin and check.eligible and check.service == service


def test_eligibility_check_refuses_a_wrong_name_politely(api, service, mother_iin):
    response = post(
        api, "/api/v1/eligibility/check", {"iin": mother_iin, "full_name": "Иванова Мария Петровна"}
    )
    assert response.status_code == 200
    body = response.json()
    assert (body["eligible"], body["reason"]) == (False, "name_mismatch")
    assert "does not match the registry" in body["message"]


@pytest.mark.parametrize(
    ("iin", "code", "words"),
    [
        ("86031440", "iin_length", "exactly 12 digits; 8 given"),
        ("8603144OO123", "iin_digits", "only the digits 0–9"),
        ("861314400123", "iin_birth_date", "month 13 does not exist"),
    ],
)
def test_malformed_iin_is_422_naming_the_problem(api, service, iin, code, words):
    response = post(api, "/api/v1/eligibility/check", {"iin": iin, "full_name": MOTHER_NAME})
    assert response.status_code == 422
    assert response.json()["code"] == code
    assert words in response.json()["detail"]


def test_wrong_control_digit_is_422(api, service, mother_iin):
    wrong = mother_iin[:11] + str((int(mother_iin[11]) + 1) % 10)
    response = post(api, "/api/v1/eligibility/check", {"iin": wrong, "full_name": MOTHER_NAME})
    assert response.status_code == 422
    assert response.json()["code"] == "iin_checksum"
    assert "control digit" in response.json()["detail"]


def test_eligibility_without_service_needs_a_single_checking_service(api, service, mother_iin):
    Service.objects.create(
        code="kz-other",
        name="Another registry-checking service",
        country="KZ",
        holiday_calendar="KZ",
        intake_organisation=service.intake_organisation,
        provider_organisation=service.provider_organisation,
        eligibility_rule=Service.Eligibility.KZ_REGISTRY,
    )
    body = {"iin": mother_iin, "full_name": MOTHER_NAME}
    response = post(api, "/api/v1/eligibility/check", body)
    assert response.status_code == 400
    assert response.json()["code"] == "service_required"
    assert "Specify the service" in response.json()["detail"]

    response = post(api, "/api/v1/eligibility/check", {**body, "service": "kz-1411"})
    assert response.status_code == 200
    assert response.json()["eligible"] is True


def test_eligibility_missing_field_is_422_naming_it(api, service):
    response = post(api, "/api/v1/eligibility/check", {"iin": "860314400123"})
    assert response.status_code == 422
    body = response.json()
    assert body["errors"] == [{"field": "full_name", "message": "This field is required."}]
    assert body["detail"] == "full_name: This field is required."


def test_body_that_is_not_json_is_400(api, service):
    response = api.post("/api/v1/eligibility/check", "{not json", content_type="application/json")
    assert response.status_code == 400
    assert response.json()["detail"] == "The request body is not valid JSON."


def test_authority_never_sees_personal_data(service, mother_iin, service_request):
    authority = api_client(make_user(Role.AUTHORITY, service=service))
    check = post(authority, "/api/v1/eligibility/check", {"iin": mother_iin, "full_name": "X Y"})
    assert check.status_code == 403
    assert check.json()["detail"] == "Your role does not allow this operation."
    assert authority.get(f"/api/v1/requests/{service_request.pk}").status_code == 403
    created = post(authority, "/api/v1/requests", {"service": "kz-1411", "full_name": "X Y"})
    assert created.status_code == 403


# --- slots ----------------------------------------------------------------------------------------


def test_free_slots_on_a_date_in_local_time(api, service, consultant, day):
    later = make_slot(service, consultant, day, hour=16)
    earlier = make_slot(service, consultant, day, hour=14)
    other = make_slot(service, make_consultant(service), day, hour=14)
    response = api.get(f"/api/v1/slots?service=kz-1411&date={day.isoformat()}")
    assert response.status_code == 200, response.content
    items = response.json()["items"]
    assert {i["id"] for i in items} == {earlier.pk, later.pk, other.pk}
    first = next(i for i in items if i["id"] == earlier.pk)
    assert first["starts_at"] == f"{day.isoformat()}T14:00:00+05:00"
    assert first["ends_at"] == f"{day.isoformat()}T15:00:00+05:00"
    assert first["consultant"] == {"id": consultant.pk, "name": consultant.display_name}

    mine = api.get(
        f"/api/v1/slots?service=kz-1411&date={day.isoformat()}&consultant={consultant.pk}"
    )
    assert {i["id"] for i in mine.json()["items"]} == {earlier.pk, later.pk}


def test_booked_slot_is_not_free(api, service_request, slot, day):
    assert (
        post(api, "/api/v1/bookings", {"request": service_request.pk, "slot": slot.pk}).status_code
        == 201
    )
    response = api.get(f"/api/v1/slots?service=kz-1411&date={day.isoformat()}")
    assert response.json()["items"] == []


def test_any_staff_role_reads_slots(service, consultant, slot):
    for role in (Role.CONSULTANT, Role.AUTHORITY, Role.HEAD, Role.COORDINATOR):
        response = api_client(make_user(role, service=service)).get(
            "/api/v1/slots/nearest?service=kz-1411"
        )
        assert response.status_code == 200, role


def test_nearest_free_slot(api, service, consultant, day):
    make_slot(service, consultant, day + dt.timedelta(days=7), hour=14)
    nearest = make_slot(service, consultant, day, hour=16)
    response = api.get("/api/v1/slots/nearest?service=kz-1411")
    assert response.status_code == 200, response.content
    assert response.json()["id"] == nearest.pk
    assert response.json()["starts_at"] == f"{day.isoformat()}T16:00:00+05:00"
    assert response.json()["consultant"]["id"] == consultant.pk


def test_no_free_slot_is_404(api, service):
    response = api.get("/api/v1/slots/nearest?service=kz-1411")
    assert response.status_code == 404
    assert response.json()["detail"] == "No free slots"


def test_slots_of_unknown_service_are_404(api, service, day):
    response = api.get(f"/api/v1/slots?service=nope&date={day.isoformat()}")
    assert response.status_code == 404
    assert response.json()["detail"] == "Unknown service “nope”."
    assert api.get("/api/v1/slots/nearest?service=nope").status_code == 404


def test_slots_with_bad_date_are_422(api, service):
    response = api.get("/api/v1/slots?service=kz-1411&date=2025-02-30")
    assert response.status_code == 422
    assert response.json()["errors"] == [
        {"field": "date", "message": "Enter a date as YYYY-MM-DD."}
    ]
    assert api.get("/api/v1/slots?service=kz-1411").status_code == 422


def test_slots_of_unknown_consultant_are_404(api, service):
    response = api.get("/api/v1/slots/nearest?service=kz-1411&consultant=999999")
    assert response.status_code == 404
    assert response.json()["detail"] == "Consultant 999999 not found."


# --- requests -------------------------------------------------------------------------------------


def test_create_and_read_a_request(api, operator, service, mother_iin):
    response = post(
        api,
        "/api/v1/requests",
        {
            "service": "kz-1411",
            "full_name": MOTHER_NAME,
            "iin": mother_iin,
            "phone": "+77012345678",
            "phone_extra": "+77272000000",
            "email": "aigerim@example.org",
            "region": "kz-75",
            "reason": "Консультация психолога",
            "desired_at": f"{working_day().isoformat()}T15:00:00",
        },
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "new"
    assert body["service"] == "kz-1411"
    assert body["region"] == "KZ-75"
    assert body["iin"] == mother_iin
    assert body["desired_at"].endswith("T15:00:00+05:00")
    assert body["created_at"].endswith("+05:00")
    created = ServiceRequest.objects.get(pk=body["id"])
    assert created.created_by == operator and created.channel == "phone"

    read = api.get(f"/api/v1/requests/{body['id']}")
    assert read.status_code == 200
    assert read.json() == body
    # The same read, under the same name, as the operator's page and the admin (one selector).
    [viewed] = AuditEvent.objects.filter(event_type="request.viewed", subject_id=str(body["id"]))
    assert viewed.actor == operator and viewed.extra == {"via": "api"}
    assert mother_iin not in str(viewed.extra)


def test_ineligible_caller_gets_400_with_the_refusal(api, service):
    stranger = new_iin(dt.date(1990, 1, 5), "M")
    response = post(
        api,
        "/api/v1/requests",
        {"service": "kz-1411", "full_name": "Петров Пётр Петрович", "iin": stranger},
    )
    assert response.status_code == 400
    assert response.json()["code"] == "ineligible"
    assert "no child with disability, is registered under this IIN" in response.json()["detail"]
    assert not ServiceRequest.objects.exists()


def test_request_with_unknown_region_is_400_naming_it(api, service, mother_iin):
    response = post(
        api,
        "/api/v1/requests",
        {"service": "kz-1411", "full_name": MOTHER_NAME, "iin": mother_iin, "region": "KZ-99"},
    )
    assert response.status_code == 400
    assert response.json()["code"] == "unknown_region"
    assert "KZ-99" in response.json()["detail"]


def test_request_with_malformed_iin_is_422(api, service):
    response = post(
        api, "/api/v1/requests", {"service": "kz-1411", "full_name": MOTHER_NAME, "iin": "123"}
    )
    assert response.status_code == 422
    assert response.json()["code"] == "iin_length"


def test_request_with_unknown_channel_is_422(api, service, mother_iin):
    response = post(
        api,
        "/api/v1/requests",
        {"service": "kz-1411", "full_name": MOTHER_NAME, "iin": mother_iin, "channel": "pigeon"},
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "channel"
    assert "'phone'" in response.json()["errors"][0]["message"]


def test_request_for_unknown_service_is_404(api, service):
    response = post(api, "/api/v1/requests", {"service": "ru-x", "full_name": MOTHER_NAME})
    assert response.status_code == 404
    assert response.json()["detail"] == "Unknown service “ru-x”."


def test_unknown_request_is_404(api, service):
    response = api.get("/api/v1/requests/424242")
    assert response.status_code == 404
    assert response.json()["detail"] == "Request 424242 not found."
    assert api.get("/api/v1/requests/abc").status_code == 422


def test_consultant_cannot_create_requests(service, consultant, mother_iin):
    response = post(
        api_client(consultant),
        "/api/v1/requests",
        {"service": "kz-1411", "full_name": MOTHER_NAME, "iin": mother_iin},
    )
    assert response.status_code == 403


# --- bookings -------------------------------------------------------------------------------------


def test_book_a_slot(api, service_request, slot, consultant, day):
    response = post(api, "/api/v1/bookings", {"request": service_request.pk, "slot": slot.pk})
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "active"
    assert body["request"] == service_request.pk
    assert body["slot"]["id"] == slot.pk
    assert body["starts_at"] == f"{day.isoformat()}T15:00:00+05:00"
    assert body["ends_at"] == f"{day.isoformat()}T16:00:00+05:00"
    assert body["consultant"] == {"id": consultant.pk, "name": consultant.display_name}
    assert body["replaces"] is None

    read = api.get(f"/api/v1/bookings/{body['id']}")
    assert read.status_code == 200
    assert read.json()["id"] == body["id"]
    # The consultant sees the bookings of their own slots.
    assert api_client(consultant).get(f"/api/v1/bookings/{body['id']}").status_code == 200


def test_taken_slot_is_409(api, service, service_request, slot, mother_iin):
    assert (
        post(api, "/api/v1/bookings", {"request": service_request.pk, "slot": slot.pk}).status_code
        == 201
    )
    second = post(
        api,
        "/api/v1/requests",
        {"service": "kz-1411", "full_name": MOTHER_NAME, "iin": mother_iin},
    ).json()
    response = post(api, "/api/v1/bookings", {"request": second["id"], "slot": slot.pk})
    assert response.status_code == 409
    assert response.json() == {
        "detail": "This time has just been taken; pick another slot",
        "code": "slot_taken",
    }
    assert Booking.objects.filter(slot=slot).count() == 1


def test_booking_outside_consultation_hours_is_400(api, service, service_request, consultant, day):
    morning = make_slot(service, consultant, day, hour=10)
    response = post(api, "/api/v1/bookings", {"request": service_request.pk, "slot": morning.pk})
    assert response.status_code == 400
    assert response.json()["code"] == "outside_hours"
    assert "outside the consultation hours" in response.json()["detail"]
    assert "14:00" in response.json()["detail"]
    assert not Booking.objects.exists()


def test_booking_on_a_public_holiday_is_400(api, service, service_request, consultant):
    holiday = make_slot(service, consultant, public_holiday_on_weekday(), hour=15)
    response = post(api, "/api/v1/bookings", {"request": service_request.pk, "slot": holiday.pk})
    assert response.status_code == 400
    assert response.json()["code"] == "not_working_day"
    assert "is not a working day of the service" in response.json()["detail"]


def test_booking_in_the_past_is_400(api, service, service_request, consultant):
    day = local_today() - dt.timedelta(days=7)
    while not KZ_CALENDAR.is_working_day(day):
        day -= dt.timedelta(days=1)
    past = make_slot(service, consultant, day, hour=15)
    response = post(api, "/api/v1/bookings", {"request": service_request.pk, "slot": past.pk})
    assert response.status_code == 400
    assert response.json()["code"] == "slot_in_past"
    assert "is in the past; pick a future slot" in response.json()["detail"]


def test_booking_unknown_request_or_slot_is_404(api, service_request, slot):
    response = post(api, "/api/v1/bookings", {"request": 987654, "slot": slot.pk})
    assert response.status_code == 404
    assert response.json()["detail"] == "Request 987654 not found."
    response = post(api, "/api/v1/bookings", {"request": service_request.pk, "slot": 987654})
    assert response.status_code == 404
    assert response.json()["detail"] == "Slot 987654 not found."
    assert api.get("/api/v1/bookings/987654").json()["detail"] == "Booking 987654 not found."


def test_reschedule_returns_the_new_booking(api, service, service_request, slot, consultant, day):
    old = post(api, "/api/v1/bookings", {"request": service_request.pk, "slot": slot.pk}).json()
    later = make_slot(service, consultant, day, hour=17)
    response = post(api, f"/api/v1/bookings/{old['id']}/reschedule", {"slot": later.pk})
    assert response.status_code == 200, response.content
    new = response.json()
    assert new["id"] != old["id"]
    assert new["replaces"] == old["id"]
    assert new["status"] == "active"
    assert new["starts_at"] == f"{day.isoformat()}T17:00:00+05:00"
    previous = api.get(f"/api/v1/bookings/{old['id']}").json()
    assert previous["status"] == "rescheduled"
    assert previous["replaced_by"] == new["id"]


def test_reschedule_to_a_taken_slot_is_409(
    api, service, service_request, slot, consultant, day, mother_iin
):
    mine = post(api, "/api/v1/bookings", {"request": service_request.pk, "slot": slot.pk}).json()
    other_slot = make_slot(service, consultant, day, hour=17)
    other_request = post(
        api, "/api/v1/requests", {"service": "kz-1411", "full_name": MOTHER_NAME, "iin": mother_iin}
    ).json()
    assert (
        post(
            api, "/api/v1/bookings", {"request": other_request["id"], "slot": other_slot.pk}
        ).status_code
        == 201
    )
    response = post(api, f"/api/v1/bookings/{mine['id']}/reschedule", {"slot": other_slot.pk})
    assert response.status_code == 409
    assert response.json()["code"] == "slot_taken"
    assert api.get(f"/api/v1/bookings/{mine['id']}").json()["status"] == "active"


def test_cancel_a_booking(api, service_request, slot):
    booking = post(api, "/api/v1/bookings", {"request": service_request.pk, "slot": slot.pk}).json()
    response = post(api, f"/api/v1/bookings/{booking['id']}/cancel", {"reason": "Клиент передумал"})
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "cancelled"
    assert response.json()["cancel_reason"] == "Клиент передумал"
    # The slot is free again.
    assert api.get("/api/v1/slots/nearest?service=kz-1411").json()["id"] == slot.pk


def test_cancel_without_a_body(api, service_request, slot):
    booking = post(api, "/api/v1/bookings", {"request": service_request.pk, "slot": slot.pk}).json()
    response = api.generic("POST", f"/api/v1/bookings/{booking['id']}/cancel")
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "cancelled"


def test_authority_cannot_read_bookings(service, api, service_request, slot):
    booking = post(api, "/api/v1/bookings", {"request": service_request.pk, "slot": slot.pk}).json()
    authority = api_client(make_user(Role.AUTHORITY, service=service))
    response = authority.get(f"/api/v1/bookings/{booking['id']}")
    assert response.status_code == 403
    other_consultant = api_client(make_consultant(service))
    assert other_consultant.get(f"/api/v1/bookings/{booking['id']}").status_code == 403


def test_request_with_a_bad_phone_is_400_naming_it(api, service, mother_iin):
    response = post(
        api,
        "/api/v1/requests",
        {"service": "kz-1411", "full_name": MOTHER_NAME, "iin": mother_iin, "phone": "call me"},
    )
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_phone"
    assert "10 to 15 digits" in response.json()["detail"]


@pytest.mark.parametrize(
    ("method", "url", "body"),
    [
        ("get", "/api/v1/slots?service=%00&date=2030-01-02", None),
        ("get", "/api/v1/requests/99999999999999999999999", None),
        ("post", "/api/v1/bookings", [1, 2]),
        ("post", "/api/v1/bookings", {"request": 99999999999999999999999, "slot": -1}),
        ("post", "/api/v1/eligibility/check", {"iin": "8603\x00144001", "full_name": "a\x00b"}),
        ("post", "/api/v1/requests", {"service": "kz-1411", "full_name": "x", "iin": 5}),
    ],
)
def test_junk_input_is_never_a_server_error(api, service, method, url, body):
    if method == "get":
        response = api.get(url)
    else:
        response = post(api, url, body)
    assert response.status_code in (400, 404, 422), response.content
    assert response.json()["detail"]


def test_a_held_consultation_or_a_closed_request_is_409(
    api, service, service_request, slot, consultant, day
):
    from opora.consultations import services as consultations

    booking = post(api, "/api/v1/bookings", {"request": service_request.pk, "slot": slot.pk}).json()
    consultation = consultations.consultation_for_booking(
        booking=Booking.objects.get(pk=booking["id"])
    )
    consultations.consultation_admit(consultation_id=consultation.pk, actor=consultant)
    consultations.consultation_end(consultation_id=consultation.pk, actor=consultant)
    later = make_slot(service, consultant, day, hour=17)
    response = post(api, f"/api/v1/bookings/{booking['id']}/reschedule", {"slot": later.pk})
    assert response.status_code == 409
    assert response.json()["code"] == "consultation_held"
    assert response.json()["detail"].startswith("The consultation has been held")
    response = post(api, f"/api/v1/bookings/{booking['id']}/cancel", {"reason": ""})
    assert (response.status_code, response.json()["code"]) == (409, "consultation_held")
    ServiceRequest.objects.filter(pk=service_request.pk).update(status="done")
    response = post(api, f"/api/v1/bookings/{booking['id']}/cancel", {"reason": ""})
    assert (response.status_code, response.json()["code"]) == (409, "request_ended")
    assert api.get(f"/api/v1/bookings/{booking['id']}").json()["status"] == "active"
