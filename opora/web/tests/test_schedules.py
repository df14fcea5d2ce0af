"""Coordinator: month entry, XLSX import, submission, the day's hand-off.
Head: approve or return. Consultant: my day."""

import datetime as dt
import io

import openpyxl
import pytest
from django.urls import reverse

from opora.demo.factories import make_consultant
from opora.intake.models import ServiceRequest
from opora.scheduling.calendar import local_now, make_aware_local, working_days_in_month
from opora.scheduling.models import Booking, HandoffRun, Schedule, SchedulePeriod

pytestmark = pytest.mark.django_db


@pytest.fixture
def month(service) -> dt.date:
    today = local_now(service).date()
    return (today.replace(day=28) + dt.timedelta(days=4)).replace(day=1)


def edit_url(consultant, month) -> str:
    return reverse("coordinator_schedule_edit", args=[consultant.pk, f"{month:%Y-%m}"])


def test_schedule_list_shows_consultants_and_status(client, coordinator, consultant, month):
    client.force_login(coordinator)
    response = client.get(reverse("coordinator_schedules"), {"month": f"{month:%Y-%m}"})
    html = response.content.decode()
    assert response.status_code == 200
    assert consultant.display_name in html and f'id="consultant-{consultant.pk}"' in html
    assert 'id="import-form"' in html and 'for="id_file"' in html
    assert 'id="overdue-warning"' in html or 'id="due-note"' in html


def test_month_entry_prefilled_then_error_tied_to_the_row(client, coordinator, consultant, month):
    client.force_login(coordinator)
    url = edit_url(consultant, month)
    days = working_days_in_month(consultant.services.first(), month)
    html = client.get(url).content.decode()
    first = f"d{days[0]:%Y%m%d}"
    assert f'name="{first}_from"' in html and 'value="14:00"' in html and 'value="18:00"' in html

    data = {f"d{d:%Y%m%d}_{p}": "" for d in days for p in ("from", "to")}
    data[f"{first}_from"], data[f"{first}_to"] = "18:00", "14:00"
    response = client.post(url, data)
    html = response.content.decode()
    assert response.status_code == 400
    assert 'id="schedule-errors"' in html and 'role="alert"' in html
    assert f'id="id_{first}_to-error"' in html
    assert f'aria-describedby="id_{first}_to-error"' in html
    assert not Schedule.objects.exists()


def test_month_entry_outside_hours_shows_the_service_message(
    client, coordinator, consultant, month
):
    client.force_login(coordinator)
    days = working_days_in_month(consultant.services.first(), month)
    data = {f"d{days[0]:%Y%m%d}_from": "08:00", f"d{days[0]:%Y%m%d}_to": "12:00"}
    response = client.post(edit_url(consultant, month), data)
    html = response.content.decode()
    assert response.status_code == 400
    assert 'id="schedule-errors"' in html and days[0].strftime("%d.%m.%Y") in html
    assert not SchedulePeriod.objects.exists()


def test_month_entry_saved_then_submitted(client, coordinator, consultant, month):
    client.force_login(coordinator)
    days = working_days_in_month(consultant.services.first(), month)
    data = {f"d{d:%Y%m%d}_{p}": "" for d in days for p in ("from", "to")}
    data.update({f"d{days[0]:%Y%m%d}_from": "14:00", f"d{days[0]:%Y%m%d}_to": "18:00"})
    data.update({f"d{days[1]:%Y%m%d}_from": "15:00", f"d{days[1]:%Y%m%d}_to": "17:00"})
    response = client.post(edit_url(consultant, month), data)
    assert response.status_code == 303
    schedule = Schedule.objects.get()
    assert schedule.status == Schedule.Status.DRAFT
    assert schedule.periods.count() == 2

    response = client.post(reverse("coordinator_schedule_submit", args=[schedule.pk]))
    assert response.status_code == 303
    schedule.refresh_from_db()
    assert schedule.status == Schedule.Status.SUBMITTED
    html = client.get(response.url).content.decode()
    assert "badge--submitted" in html


def _xlsx(rows) -> io.BytesIO:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["Консультант", "Дата", "С", "До"])
    for row in rows:
        ws.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    buf.seek(0)
    buf.name = "schedule.xlsx"
    return buf


def test_xlsx_import_lists_row_errors_then_imports(client, coordinator, consultant, month):
    client.force_login(coordinator)
    day = working_days_in_month(consultant.services.first(), month)[0]
    url = reverse("coordinator_schedule_import")
    bad = _xlsx(
        [
            [consultant.username, day.strftime("%d.%m.%Y"), "14:00", "18:00"],
            ["Несуществующий Консультант", day.strftime("%d.%m.%Y"), "14:00", "18:00"],
        ]
    )
    response = client.post(url, {"month": f"{month:%Y-%m}", "file": bad})
    html = response.content.decode()
    assert response.status_code == 400
    assert 'id="import-errors"' in html
    assert "Несуществующий Консультант" in html and "3" in html
    assert not Schedule.objects.exists()

    good = _xlsx([[consultant.username, day.strftime("%d.%m.%Y"), "14:00", "18:00"]])
    response = client.post(url, {"month": f"{month:%Y-%m}", "file": good})
    assert response.status_code == 303
    assert Schedule.objects.get().periods.count() == 1


def test_import_rejects_a_non_xlsx_file_with_a_field_error(client, coordinator, month):
    client.force_login(coordinator)
    f = io.BytesIO(b"a,b,c")
    f.name = "schedule.csv"
    response = client.post(
        reverse("coordinator_schedule_import"), {"month": f"{month:%Y-%m}", "file": f}
    )
    assert response.status_code == 400
    assert 'id="id_file-error"' in response.content.decode()


def _submitted(service, consultant, month, coordinator) -> Schedule:
    schedule = Schedule.objects.create(
        service=service,
        consultant=consultant,
        month=month,
        status=Schedule.Status.SUBMITTED,
        created_by=coordinator,
    )
    day = working_days_in_month(service, month)[0]
    SchedulePeriod.objects.create(
        schedule=schedule, date=day, start_time=dt.time(14), end_time=dt.time(18)
    )
    return schedule


def test_head_approves_a_submitted_schedule(client, head, coordinator, consultant, service, month):
    schedule = _submitted(service, consultant, month, coordinator)
    client.force_login(head)
    html = client.get(reverse("head_schedules")).content.decode()
    assert f'id="approve-{schedule.pk}"' in html and consultant.display_name in html
    assert "14:00" in html and "18:00" in html
    response = client.post(reverse("head_schedule_approve", args=[schedule.pk]))
    assert response.status_code == 303
    schedule.refresh_from_db()
    assert schedule.status == Schedule.Status.APPROVED
    assert schedule.slots.count() == 4  # 14–18 in 60-minute slots, open for booking


def test_head_returns_with_a_comment(client, head, coordinator, consultant, service, month):
    schedule = _submitted(service, consultant, month, coordinator)
    client.force_login(head)
    url = reverse("head_schedule_return", args=[schedule.pk])
    response = client.post(url, {f"s{schedule.pk}-comment": ""})
    html = response.content.decode()
    assert response.status_code == 400
    assert f'id="id_s{schedule.pk}-comment-error"' in html
    response = client.post(url, {f"s{schedule.pk}-comment": "Добавьте пятницы"})
    assert response.status_code == 303
    schedule.refresh_from_db()
    assert schedule.status == Schedule.Status.RETURNED and schedule.comment == "Добавьте пятницы"
    client.force_login(coordinator)
    html = client.get(
        reverse("coordinator_schedules"), {"month": f"{month:%Y-%m}"}
    ).content.decode()
    assert "Добавьте пятницы" in html


def test_handoff_page_lists_the_day_and_sends_once(client, coordinator, service):
    # Yesterday: its 17:00 close has passed whatever the hour the test runs at.
    today = local_now(service).date() - dt.timedelta(days=1)
    req = ServiceRequest.objects.create(
        service=service, full_name="Сидорова Алия", phone="+77010000001", status="new"
    )
    ServiceRequest.objects.filter(pk=req.pk).update(
        created_at=make_aware_local(service, today, dt.time(10, 0))
    )
    client.force_login(coordinator)
    url = reverse("coordinator_handoff")
    html = client.get(url, {"date": today.isoformat()}).content.decode()
    assert "Сидорова Алия" in html and 'id="handoff-send"' in html
    response = client.post(url, {"date": today.isoformat()})
    assert response.status_code == 303
    run = HandoffRun.objects.get(service=service, date=today)
    assert run.sent_at is not None and run.request_count == 1
    html = client.get(response.url).content.decode()
    assert 'id="handoff-send"' not in html and 'id="handoff-status"' in html
    client.post(url, {"date": today.isoformat()})
    assert HandoffRun.objects.count() == 1


def test_consultant_day_lists_the_booking(client, consultant, service, slots, slot_day):
    request = ServiceRequest.objects.create(
        service=service,
        full_name="Касымова Дана Ерлановна",
        phone="+7 701 555 44 33",
        reason="Ребёнок не спит ночами",
        status="booked",
    )
    Booking.objects.create(slot=slots[1], request=request)
    other = make_consultant(service)
    client.force_login(consultant)
    response = client.get(reverse("consultant_day"), {"date": slot_day.isoformat()})
    html = response.content.decode()
    assert response.status_code == 200
    assert "Касымова Дана Ерлановна" in html and "+7 701 555 44 33" in html
    assert "Ребёнок не спит ночами" in html and "15:00" in html
    assert 'id="prev-day"' in html and 'id="next-day"' in html
    client.force_login(other)
    html = client.get(reverse("consultant_day"), {"date": slot_day.isoformat()}).content.decode()
    assert "Касымова" not in html and 'id="no-bookings"' in html


def test_handoff_page_says_when_the_mail_server_refused_the_list(
    client, coordinator, service, settings, django_capture_on_commit_callbacks
):
    # A real SMTP connection to a port where nothing listens: the stored mail ends "failed".
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 1, 5
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    today = local_now(service).date()
    client.force_login(coordinator)
    url = reverse("coordinator_handoff")
    with django_capture_on_commit_callbacks(execute=True):
        client.post(url, {"date": today.isoformat()})
    html = client.get(url, {"date": today.isoformat()}).content.decode()
    assert "Не доставлено" in html and "попыток: 1" in html
    assert "✓</span> Отправлено" not in html


def test_month_entry_keeps_the_planned_topic_and_target_group(
    client, coordinator, consultant, month
):
    """Regulation 003 Appendix 1: a day's planned consultation has a topic and a target group,
    published with the schedule; they come back in the form when it is opened again."""
    client.force_login(coordinator)
    days = working_days_in_month(consultant.services.first(), month)
    key = f"d{days[0]:%Y%m%d}"
    data = {f"d{d:%Y%m%d}_{p}": "" for d in days for p in ("from", "to", "topic", "group")}
    data.update({f"{key}_from": "14:00", f"{key}_to": "18:00"})
    data.update({f"{key}_topic": "Агрессия у подростков", f"{key}_group": "Родители подростков"})
    assert client.post(edit_url(consultant, month), data).status_code == 303
    period = SchedulePeriod.objects.get()
    assert (period.topic, period.target_group) == ("Агрессия у подростков", "Родители подростков")
    html = client.get(edit_url(consultant, month)).content.decode()
    assert 'value="Агрессия у подростков"' in html and 'value="Родители подростков"' in html
    assert f'id="id_{key}_topic"' in html and f'for="id_{key}_topic"' in html
