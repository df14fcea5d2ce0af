"""Staff pages in plain words: the topic on "my day", periods labelled «С»/«По» (never the sender's
«От кого»), months in lower case inside a sentence, Kazakh dates in the Kazakh form."""

import datetime as dt
import re

import pytest
from django.urls import reverse
from django.utils import translation

from opora.core.dates import human_date
from opora.intake.models import ServiceRequest
from opora.scheduling.calendar import local_now
from opora.scheduling.models import Booking

pytestmark = pytest.mark.django_db


def _book(slot, **fields) -> ServiceRequest:
    request = ServiceRequest.objects.create(
        service=slot.service, full_name="Касымова Дана Ерлановна", status="booked", **fields
    )
    Booking.objects.create(slot=slot, request=request)
    return request


def _day(client, consultant, slot_day, lang="ru") -> str:
    client.force_login(consultant)
    client.cookies["django_language"] = lang
    response = client.get(reverse("consultant_day"), {"date": slot_day.isoformat()})
    assert response.status_code == 200
    return response.content.decode()


def _cell(html: str, name: str) -> str:
    row = html[html.index(name) :]
    return row[row.index('<td class="topic">') : row.index("</tr>")]


def test_my_day_shows_the_typical_question_and_the_childs_age(client, consultant, slots, slot_day):
    _book(slots[0], reason="", typical_question="education", child_age=7)
    cell = _cell(_day(client, consultant, slot_day), "Касымова")
    assert "Образование: детский сад, школа, инклюзивное обучение" in cell
    assert "ребёнку 7 лет" in cell and "—" not in cell


def test_my_day_shows_the_clients_words_with_the_question_beside_them(
    client, consultant, slots, slot_day
):
    _book(slots[1], reason="Не спит по ночам", typical_question="development", child_age=1)
    cell = _cell(_day(client, consultant, slot_day), "Касымова")
    assert "Не спит по ночам" in cell and "Развитие и поведение ребёнка" in cell
    assert "ребёнку 1 год" in cell


def test_my_day_without_a_topic_says_so_with_a_dash(client, consultant, slots, slot_day):
    _book(slots[2])
    cell = _cell(_day(client, consultant, slot_day), "Касымова")
    assert "—" in cell and "ребёнку" not in cell


def test_my_day_heading_in_kazakh_form(client, consultant, slots, slot_day):
    html = _day(client, consultant, slot_day, "kk")
    with translation.override("kk"):
        expected = human_date(slot_day, "weekday")
    assert f"{slot_day.year} жылғы {slot_day.day} " in expected
    assert expected in html


def _labels(html: str) -> list[str]:
    return [
        re.sub(r"<[^>]+>", "", m).strip() for m in re.findall(r"<label[^>]*>(.*?)</label>", html)
    ]


def test_period_filters_say_from_and_to_not_from_whom(client, head, consultant):
    client.force_login(head)
    for url in (reverse("consultations:journal"), reverse("registry_requests")):
        html = client.get(url).content.decode()
        labels = _labels(html)
        assert "С" in labels and "По" in labels, url
        assert "От кого" not in html, url


def test_schedule_columns_and_months_in_a_sentence(client, coordinator, consultant, service):
    today = local_now(service).date()
    month = (today.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    client.force_login(coordinator)
    html = client.get(
        reverse("coordinator_schedule_edit", args=[consultant.pk, f"{month:%Y-%m}"])
    ).content.decode()
    assert '<th scope="col">С</th><th scope="col">До</th>' in html
    assert "От кого" not in html
    with translation.override("ru"):
        lower = human_date(month, "month_year")
    assert lower == lower.lower()
    assert f"График: {consultant.display_name}, {lower}" in html
    html = client.get(reverse("coordinator_schedules"), {"month": f"{month:%Y-%m}"}).content
    assert f"Графики на {lower}" in html.decode()


def test_handoff_date_in_kazakh(client, coordinator, service):
    client.force_login(coordinator)
    client.cookies["django_language"] = "kk"
    day = dt.date(2026, 12, 7)
    html = client.get(reverse("coordinator_handoff"), {"date": day.isoformat()}).content.decode()
    assert "2026 жылғы 7 желтоқсан күнгі өтінімдер" in html
    assert "Желтоқсан" not in html


def test_the_operators_booking_dates_in_kazakh_form(client, operator, slots):
    slot = slots[0]
    request = _book(slot, phone="+7 701 000 00 02")
    client.force_login(operator)
    client.cookies["django_language"] = "kk"
    html = client.get(reverse("operator_request", args=[request.pk])).content.decode()
    local = slot.starts_at.astimezone(slot.service.tz)
    with translation.override("kk"):
        expected = human_date(local)
    assert expected.startswith(f"{local.year} жылғы {local.day} ")
    assert f"<strong>{expected}, {local:%H:%M}</strong>" in html
    html = client.get(reverse("operator_cancel", args=[request.pk])).content.decode()
    assert f"{expected}" in html
