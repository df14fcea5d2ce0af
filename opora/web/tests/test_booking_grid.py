"""The operator's booking grid: a day x consultant table with specialties, the nearest free
slot marked, filters by specialty and consultant, and arrows to the days with free times."""

import datetime as dt

import pytest
from django.urls import reverse

from opora.demo.factories import make_consultant
from opora.scheduling.models import Booking
from opora.scheduling.selectors import slot_grid
from opora.scheduling.tests.factories import future_working_day, make_request, make_slot

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def team(service):
    return {
        "psy": make_consultant(service, last_name="Абаева", first_name="Ася", specialty="Психолог"),
        "law": make_consultant(service, last_name="Бекова", first_name="Бота", specialty="Юрист"),
    }


@pytest.fixture
def week(service, team):
    days = [future_working_day(service, nth=n) for n in range(3)]
    slots = {
        (key, day, h): make_slot(service, c, day, dt.time(h))
        for key, c in team.items()
        for day in (days[0], days[2])
        for h in (14, 15, 16)
    }
    return days, slots


def test_grid_rows_are_consultants_and_columns_times(service, team, week):
    days, slots = week
    Booking.objects.create(slot=slots[("law", days[0], 15)], request=make_request(service))
    grid = slot_grid(service=service, date=days[0])
    assert [r.consultant for r in grid.rows] == [team["psy"], team["law"]]
    assert len(grid.times) == 3 and grid.count == 5
    law = grid.rows[1].cells
    assert law[1] is None and law[0] == slots[("law", days[0], 14)]  # the booked 15:00 is a gap
    assert grid.previous_date is None and grid.next_date == days[2]  # days[1] has nothing free


def test_grid_filters_by_specialty_and_consultant(service, team, week):
    days, _ = week
    only_law = slot_grid(service=service, date=days[0], specialty="Юрист")
    assert [r.consultant for r in only_law.rows] == [team["law"]]
    only_psy = slot_grid(service=service, date=days[0], consultant=team["psy"])
    assert [r.consultant for r in only_psy.rows] == [team["psy"]]
    assert slot_grid(service=service, date=days[0], specialty="Дефектолог").rows == []


def test_book_page_shows_the_grid_with_specialties_and_the_nearest_marked(
    operator_client, service, team, week
):
    days, slots = week
    req = make_request(service)
    url = reverse("operator_book", args=[req.pk])
    html = operator_client.get(url).content.decode()
    assert 'id="slot-grid"' in html and "Психолог" in html and "Юрист" in html
    assert 'name="specialty"' in html
    nearest = slots[("psy", days[0], 14)]
    assert f'slot-cell slot-cell--nearest" for="slot-{nearest.pk}"' in html
    assert html.count('class="slot-grid__time"') == 3  # one column a time, not a card a slot
    filtered = operator_client.get(url, {"specialty": "Юрист"}, **HTMX).content.decode()
    assert "<html" not in filtered and "Абаева" not in filtered and "Бекова" in filtered
    next_day = operator_client.get(url, {"date": days[2].isoformat()}).content.decode()
    assert 'id="day-previous"' in next_day and f"date={days[0]:%Y-%m-%d}" in next_day
    response = operator_client.post(url, {"slot": slots[("law", days[2], 16)].pk})
    assert response.status_code == 303
    assert Booking.objects.get(request=req).slot.consultant == team["law"]
