"""The month's schedule of planned consultations as the service publishes it (regulation 003 §3.6,
Appendix 1): a page and a Word document with the form's headings, read live from the approved
schedules, so a change of the schedule is published at once."""

import datetime as dt
import io

import pytest
from django.urls import reverse
from docx import Document

from opora.journals.catalogue import FORMS
from opora.scheduling.calendar import local_now
from opora.scheduling.models import Schedule, SchedulePeriod

pytestmark = pytest.mark.django_db


def _month(district, day: dt.date) -> str:
    return f"{day:%Y-%m}"


def test_the_page_and_the_docx_carry_the_planned_consultations(client, district, district_slots):
    period = SchedulePeriod.objects.get(schedule=district_slots[0].schedule)
    period.topic = "Адаптация ребёнка в школе"
    period.target_group = "Родители детей с РАС"
    period.save()
    Schedule.objects.filter(pk=period.schedule_id).update(status=Schedule.Status.APPROVED)
    month = _month(district, period.date)

    html = client.get(reverse("portal:service", args=["district"])).content.decode()
    page_url = reverse("portal:schedule_month", args=["district", month])
    docx_url = reverse("portal:schedule_docx", args=["district", month])
    assert page_url in html and docx_url in html

    html = client.get(page_url).content.decode()
    assert "Адаптация ребёнка в школе" in html and "Родители детей с РАС" in html
    assert "Психологова Вера/консультант" in html  # the form's «ФИО специалиста/должность»
    assert f"{period.date:%d.%m.%Y}, 14:00–17:00" in html

    response = client.get(docx_url)
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment")
    document = Document(io.BytesIO(b"".join(response.streaming_content)))
    text = "\n".join(p.text for p in document.paragraphs)
    assert FORMS["schedule-003"].title in text
    table = document.tables[0]
    assert [c.text for c in table.rows[0].cells] == list(FORMS["schedule-003"].columns)
    assert [c.text for c in table.rows[1].cells] == [
        "Адаптация ребёнка в школе",
        "Родители детей с РАС",
        "Психологова Вера/консультант",
        table.rows[1].cells[3].text,
        f"{period.date:%d.%m.%Y}, 14:00–17:00",
    ]

    # The schedule changes (another approved day): the page and the file show it at once.
    SchedulePeriod.objects.create(
        schedule=period.schedule,
        date=period.date,
        start_time=dt.time(17),
        end_time=dt.time(18),
        topic="Нарушения сна",
    )
    assert "Нарушения сна" in client.get(page_url).content.decode()
    document = Document(io.BytesIO(b"".join(client.get(docx_url).streaming_content)))
    assert len(document.tables[0].rows) == 3


def test_a_draft_schedule_is_not_published(client, district, district_slots):
    period = SchedulePeriod.objects.get(schedule=district_slots[0].schedule)
    Schedule.objects.filter(pk=period.schedule_id).update(status=Schedule.Status.DRAFT)
    html = client.get(
        reverse("portal:schedule_month", args=["district", _month(district, period.date)])
    ).content.decode()
    assert "Психологова" not in html and 'id="schedule-empty"' in html


def test_a_month_not_published_is_not_found(client, district):
    today = local_now(district).date()
    far = (today.replace(day=1) + dt.timedelta(days=70)).strftime("%Y-%m")
    for month in (far, "2020-01", "2026-13", "next", "1-1-1"):
        response = client.get(reverse("portal:schedule_month", args=["district", month]))
        assert response.status_code == 404, month
        assert (
            client.get(reverse("portal:schedule_docx", args=["district", month])).status_code == 404
        )
    assert (
        client.get(reverse("portal:schedule_month", args=["nowhere", f"{today:%Y-%m}"])).status_code
        == 404
    )
