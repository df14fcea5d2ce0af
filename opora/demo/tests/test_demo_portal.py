"""`opora demo` gives the portal something to show: the 1411 page with its public texts and
online booking after the IIN check, and a Russian district service with free slots."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse

from opora.accounts.models import User
from opora.core.models import Service
from opora.scheduling.models import Schedule, Slot
from opora.scheduling.selectors import slot_nearest_free

SMALL = ["--registry-rows", "100", "--consultants", "1"]


def run_demo() -> str:
    out = StringIO()
    call_command("demo", *SMALL, stdout=out)
    return out.getvalue()


@pytest.mark.django_db
def test_demo_district_service_has_free_slots_and_portal_settings(client):
    output = run_demo()
    district = Service.objects.get(code="mordovia")
    assert (district.country, district.time_zone, district.holiday_calendar) == (
        "RU",
        "Europe/Moscow",
        "RU",
    )
    assert district.allows_anonymous and district.allows_self_booking
    assert {"email", "telegram", "portal"} <= set(district.channels)
    assert district.public_description and district.complaint_instructions
    schedules = Schedule.objects.filter(service=district)
    assert schedules.count() == 4  # two consultants × this month and the next
    assert all(s.status == Schedule.Status.APPROVED for s in schedules)
    assert slot_nearest_free(service=district) is not None
    assert "/s/mordovia/" in output

    kz = Service.objects.get(code="kz-1411")
    assert kz.allows_self_booking and kz.requires_eligibility and kz.public_description
    page = client.get(reverse("portal:service", args=["mordovia"]))
    html = page.content.decode()
    # The public page offers times, not names (issue 9); the consultants carry a specialty.
    assert page.status_code == 200 and 'id="free-days"' in html and "Психологова" not in html
    assert set(
        User.objects.filter(username__startswith="district-").values_list("specialty", flat=True)
    ) == {"Психолог", "Специалист по социальной работе"}


@pytest.mark.django_db
def test_demo_second_run_adds_no_district_data_and_keeps_edits():
    run_demo()
    district = Service.objects.get(code="mordovia")
    district.public_description = "Изменено администратором"
    district.save()
    kz = Service.objects.get(code="kz-1411")
    kz.public_description = "Свой текст"
    kz.allows_self_booking = False
    kz.save()
    slots = Slot.objects.count()

    run_demo()

    assert Slot.objects.count() == slots
    assert Service.objects.filter(code="mordovia").count() == 1
    district.refresh_from_db()
    kz.refresh_from_db()
    assert district.public_description == "Изменено администратором"
    assert kz.public_description == "Свой текст" and not kz.allows_self_booking
